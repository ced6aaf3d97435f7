"""Read what the tool lifecycle sweep needs: the reminder issues (one request, by label).

Requests: GET /repos/{o}/{r}/issues?state=all&labels=LABEL (ceil(reminders / 100) pages),
and GET .../issues/{n}/comments for each open reminder that has comments (its closing
comment may be there already).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from automation.rules.tool_lifecycle import is_reminder
from automation.snapshot.collect import (
    is_pull_request,
    issue_from_json,
    own_login,
    raws,
    repo_identity,
    with_comments,
)
from automation.snapshot.models import Snapshot

if TYPE_CHECKING:
    from automation.github import Repository
    from automation.policy.policies import Policies


def collect_tool_lifecycle(
    repo: Repository, policies: Policies, numbers: tuple[int, ...] | None, now: dt.datetime
) -> Snapshot:
    """Read every reminder issue (open and closed: one closed by a person stays closed)."""
    name, branch = repo_identity(repo)
    snapshot = Snapshot(repo=name, default_branch=branch, taken_at=now)
    tools = policies.tools
    # Read even when no tool is on its way out: a withdrawn deprecation's reminder closes.
    listing = repo.get_issues(state="all", labels=[tools.reminder_label])
    issues = []
    for data in raws(listing):
        if is_pull_request(data):
            continue
        issue = issue_from_json(data)
        if not is_reminder(tools, issue):
            continue
        issues.append(with_comments(repo, issue) if issue.state == "open" else issue)
    issues.sort(key=lambda i: i.number)
    bot = own_login(issues, snapshot.bot_login)
    return snapshot.model_copy(update={"issues": tuple(issues), "bot_login": bot})

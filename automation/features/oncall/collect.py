"""Read what the on-call handoff needs: the pinned on-call issue and the open regressions."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from automation.markers import marker
from automation.rules.triage import is_regression
from automation.snapshot.collect import (
    open_issues,
    own_login,
    read_events,
    repo_identity,
    with_comments,
)
from automation.snapshot.models import Issue, Snapshot

if TYPE_CHECKING:
    from automation.github import Repository
    from automation.policy.policies import Policies


def collect_oncall(
    repo: Repository, policies: Policies, numbers: tuple[int, ...] | None, now: dt.datetime
) -> Snapshot:
    """Read the pinned on-call issue and the open regressions the handoff reports on."""
    from automation.rules.oncall import needs_events, note_pending

    name, branch = repo_identity(repo)
    snapshot = Snapshot(repo=name, default_branch=branch, taken_at=now)
    handoff = policies.oncall.handoff
    if handoff is None:
        return snapshot
    # One listing of open issues finds both the on-call issue (by its marker, even if a
    # person took its label off) and the regressions.
    issues: list[Issue] = []
    regressions: list[Issue] = []
    for issue in open_issues(repo):
        if marker("oncall", "handoff") in issue.body:
            issues.append(with_comments(repo, issue))
        elif is_regression(policies.triage, issue):
            regressions.append(with_comments(repo, issue))
    snapshot = snapshot.model_copy(update={"bot_login": own_login(issues, snapshot.bot_login)})
    if snapshot.bot_login == Snapshot.model_fields["bot_login"].default:
        snapshot = snapshot.model_copy(
            update={"bot_login": own_login(regressions, snapshot.bot_login)}
        )
    pinned = min(issues, key=lambda i: i.number) if issues else None
    note = note_pending(policies, pinned, now)
    for issue in regressions:
        if needs_events(policies, snapshot, issue, now, note):
            issue = issue.model_copy(update={"events": read_events(repo, issue.number)})
        issues.append(issue)
    return snapshot.model_copy(update={"issues": tuple(sorted(issues, key=lambda i: i.number))})

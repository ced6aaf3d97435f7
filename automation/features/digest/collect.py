"""Read what the weekly digest needs, with few requests.

Requests for one run (n = items, 100 per page):
- GET /repos/{o}/{r}/issues?state=open: every open issue and PR (the backlog, open
  regressions, open release PRs, stale warnings); ceil(open / 100) pages.
- GET /repos/{o}/{r}/issues?state=closed&since=T: what was closed during the trend's weeks
  (`since` filters on updated_at, which a close moves); issues-list items of PRs carry
  `pull_request.merged_at`, so no pulls call is needed for the release trains.
- GET /repos/{o}/{r}/issues/{n}/timeline for each eval regression whose acknowledgement may
  fall in the week (labels and comments in one answer).
- GET /repos/{o}/{r}/pulls?state=closed&sort=updated&direction=desc, stopping at the first PR
  not updated since the week began; for each PR merged in the week its files, and for each
  that touches a protected path the owner-approval check runs on its head commit.
- GET /repos/{o}/{r}/releases, first page only (newest first).
- GET /repos/{o}/{r} for the default branch the runbook links point at.
The search API is never used: it lags behind writes and allows 30 requests a minute.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from automation.rules.digest import protected_groups, report_week, sla_hours, trend_start
from automation.snapshot.collect import (
    check_run_from_json,
    event_from_json,
    file_from_json,
    is_pull_request,
    issue_from_json,
    parse_time,
    pull_from_json,
    raw,
    raws,
    release_from_json,
)
from automation.snapshot.models import CheckRun, Issue, PullRequest, Release, Snapshot

if TYPE_CHECKING:
    from automation.github import Repository
    from automation.policy.policies import Policies


def _merged_at(data: Any) -> dt.datetime | None:
    # Issues-list items of PRs carry the merge time under `pull_request`.
    nested = data.get("pull_request")
    value = nested.get("merged_at") if isinstance(nested, dict) else data.get("merged_at")
    return None if value is None else parse_time(value)


def _read_incidents(
    repo: Repository,
    policies: Policies,
    issues: dict[int, Issue],
    start: dt.datetime,
    end: dt.datetime,
) -> None:
    """Comments (and reactions, when it has some) of each incident touched in the week:
    acknowledgements and escalation steps are comments there. One or two GETs each."""
    from automation.rules.incidents import is_incident
    from automation.snapshot.collect import read_reactions, with_comments

    for number, issue in sorted(issues.items()):
        if not is_incident(policies.incidents, issue) or issue.created_at >= end:
            continue
        if issue.updated_at < start:
            continue  # untouched in the week: nothing of it can fall in the week
        issue = with_comments(repo, issue)
        if issue.reactions_count:
            issue = issue.model_copy(update={"reactions": read_reactions(repo, number)})
        issues[number] = issue


def collect_digest(
    repo: Repository, policies: Policies, numbers: tuple[int, ...] | None, now: dt.datetime
) -> Snapshot:
    """Read the issues, PRs, check runs and releases the week's digest is computed from."""
    week = report_week(now)
    since = trend_start(now)
    issues: dict[int, Issue] = {}
    pulls: dict[int, PullRequest] = {}

    def add(data: Any) -> None:
        if is_pull_request(data):
            merged_at = _merged_at(data)
            pulls[int(data["number"])] = pull_from_json(
                data, merged_at=merged_at, merged=merged_at is not None
            )
        else:
            issue = issue_from_json(data)
            issues[issue.number] = issue

    for data in raws(repo.get_issues(state="open")):
        add(data)
    for data in raws(repo.get_issues(state="closed", since=since)):
        add(data)

    # Only regressions whose acknowledgement or SLA deadline can fall in the week need their
    # timeline: opened before the week ended, and touched in the week or due in it.
    longest = dt.timedelta(hours=max(sla_hours(policies).values(), default=0.0))
    for number, issue in sorted(issues.items()):
        if policies.triage.label not in issue.labels or issue.created_at >= week.end:
            continue
        if issue.updated_at >= week.start or issue.created_at + longest >= week.start:
            events = tuple(event_from_json(d) for d in raws(repo.get_issue(number).get_timeline()))
            issues[number] = issue.model_copy(update={"events": events})

    if policies.off_reason(("incidents",)) is None:
        _read_incidents(repo, policies, issues, week.start, week.end)

    check_runs: list[CheckRun] = []

    for pr in repo.get_pulls(state="closed", sort="updated", direction="desc"):
        data = raw(pr)
        if parse_time(data["updated_at"]) < week.start:
            break  # sorted by update time: nothing further can have merged in the week
        merged_at = _merged_at(data)
        if merged_at is None or not week.start <= merged_at < week.end:
            continue
        number = int(data["number"])
        files = tuple(file_from_json(d) for d in raws(pr.get_files()))
        pull = pull_from_json(data, files=files, merged=True)
        pulls[number] = pull
        if protected_groups(policies, pull):
            runs = repo.get_commit(pull.head_sha).get_check_runs(
                check_name=policies.ownership.check_name
            )
            check_runs.extend(check_run_from_json(d) for d in raws(runs))

    releases: list[Release] = []
    for data in raws(repo.get_releases()):
        release = release_from_json(data)
        releases.append(release)
        if release.published_at is not None and release.published_at < since:
            break  # newest first: the rest are older than the trend
        if len(releases) >= 100:
            break  # one page

    # One GET /repos/{owner}/{repo} (the client is lazy): the digest links runbooks on the
    # default branch, which need not be `main`.
    return Snapshot(
        repo=repo.full_name,
        default_branch=repo.default_branch,
        taken_at=now,
        issues=tuple(sorted(issues.values(), key=lambda i: i.number)),
        pulls=tuple(sorted(pulls.values(), key=lambda p: p.number)),
        check_runs=tuple(check_runs),
        releases=tuple(releases),
    )

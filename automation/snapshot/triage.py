"""Collectors for triage (eval regressions) and the on-call handoff.

Reads are few on purpose (the issue asks for at most 3 on the event path): one GET of the
issue; its comments only when it has some; the open regressions only when the issue was
never triaged (duplicates are decided once); its events only when the plan would change
labels or assignees of an issue triaged before (to know whether a person undid us).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from automation.markers import MARKER_PREFIX, marker
from automation.rules.triage import (
    is_fresh,
    is_regression,
    may_lift_needs_info,
    parse_report,
)
from automation.snapshot.collect import (
    SnapshotError,
    is_pull_request,
    issue_from_json,
    raw,
    raws,
    read_comments,
    read_events,
)
from automation.snapshot.models import Issue, Snapshot

if TYPE_CHECKING:
    from automation.github import Repository
    from automation.policy.policies import Policies


def repo_identity(repo: Repository) -> tuple[str, str]:
    """OWNER/NAME and the default branch, without completing a lazy repository."""
    data = raw(repo)
    name = data.get("full_name")
    if not isinstance(name, str):
        url = str(data.get("url") or "")
        if "/repos/" not in url:
            raise SnapshotError("cannot tell which repository this is")
        name = url.split("/repos/", 1)[1].strip("/")
    branch = data.get("default_branch")
    return name, branch if isinstance(branch, str) else "main"


def _own_login(issues: list[Issue] | tuple[Issue, ...], default: str) -> str:
    """The bot's login, taken from a comment or issue it marked (GitHub App or Actions token).

    Who is the bot matters only once it has written something, and then this costs no read.
    """
    for issue in issues:
        if issue.author_is_bot and MARKER_PREFIX in issue.body:
            return issue.author
        for comment in issue.comments or ():
            if comment.author_is_bot and MARKER_PREFIX in comment.body:
                return comment.author
    return default


def _with_comments(repo: Repository, issue: Issue) -> Issue:
    if issue.comments_count == 0:
        return issue.model_copy(update={"comments": ()})
    return issue.model_copy(update={"comments": read_comments(repo, issue.number)})


def _open_issues(repo: Repository, label: str | None = None) -> list[Issue]:
    """GET /repos/{owner}/{repo}/issues?state=open[&labels=...] (every page), PRs left out."""
    listing = (
        repo.get_issues(state="open", labels=[label]) if label else repo.get_issues(state="open")
    )
    return [issue_from_json(d) for d in raws(listing) if not is_pull_request(d)]


def _read_events_if_needed(repo: Repository, policies: Policies, issue: Issue) -> Issue:
    # Reads the rules alone decide; the planner asks for the events its edits rest on
    # (Plan.wants), and the engine reads them with read_wanted_events, then plans again.
    if issue.events is not None or is_fresh(issue):
        return issue
    if may_lift_needs_info(policies.triage, issue):
        return issue.model_copy(update={"events": read_events(repo, issue.number)})
    return issue


def read_wanted_events(repo: Repository, snapshot: Snapshot, numbers: Sequence[int]) -> Snapshot:
    """Add the events of the issues a plan wants (GET /repos/{owner}/{repo}/issues/{n}/events)."""
    for number in numbers:
        current = snapshot.issue(number)
        if isinstance(current, Issue) and current.events is None:
            updated = current.model_copy(update={"events": read_events(repo, number)})
            snapshot = _replace(snapshot, updated)
    return snapshot


def _replace(snapshot: Snapshot, issue: Issue) -> Snapshot:
    others = tuple(i for i in snapshot.issues if i.number != issue.number)
    return snapshot.model_copy(
        update={"issues": tuple(sorted((*others, issue), key=lambda i: i.number))}
    )


def collect_triage(
    repo: Repository, policies: Policies, numbers: tuple[int, ...] | None, now: dt.datetime
) -> Snapshot:
    """Read the eval regressions to triage: the event's issues, or every open one."""
    policy = policies.triage
    name, branch = repo_identity(repo)
    snapshot = Snapshot(repo=name, default_branch=branch, taken_at=now)
    if numbers is None:
        listed = [i for i in _open_issues(repo) if is_regression(policy, i)]
        subjects = [_with_comments(repo, i) for i in listed]
        snapshot = snapshot.model_copy(update={"issues": tuple(subjects)})
    else:
        subjects = []
        for number in numbers:
            data = raw(repo.get_issue(number).complete())
            if is_pull_request(data):
                continue
            issue = issue_from_json(data)
            if not is_regression(policy, issue):
                continue
            subjects.append(_with_comments(repo, issue))
        snapshot = snapshot.model_copy(update={"issues": tuple(subjects)})
        needs_peers = any(
            is_fresh(i) and parse_report(policy, i.body).duplicate_key for i in subjects
        )
        if needs_peers and policy.duplicates.enabled:
            peers = [
                i
                for i in _open_issues(repo, policy.label)
                if i.number not in {s.number for s in subjects}
            ]
            snapshot = snapshot.model_copy(
                update={"issues": tuple(sorted((*subjects, *peers), key=lambda i: i.number))}
            )
    snapshot = snapshot.model_copy(update={"bot_login": _own_login(subjects, snapshot.bot_login)})
    for subject in subjects:
        current = snapshot.issue(subject.number)
        assert isinstance(current, Issue)
        updated = _read_events_if_needed(repo, policies, current)
        if updated is not current:
            snapshot = _replace(snapshot, updated)
    return snapshot


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
    for issue in _open_issues(repo):
        if marker("oncall", "handoff") in issue.body:
            issues.append(_with_comments(repo, issue))
        elif is_regression(policies.triage, issue):
            regressions.append(_with_comments(repo, issue))
    snapshot = snapshot.model_copy(update={"bot_login": _own_login(issues, snapshot.bot_login)})
    if snapshot.bot_login == Snapshot.model_fields["bot_login"].default:
        snapshot = snapshot.model_copy(
            update={"bot_login": _own_login(regressions, snapshot.bot_login)}
        )
    pinned = min(issues, key=lambda i: i.number) if issues else None
    note = note_pending(policies, pinned, now)
    for issue in regressions:
        if needs_events(policies, snapshot, issue, now, note):
            issue = issue.model_copy(update={"events": read_events(repo, issue.number)})
        issues.append(issue)
    return snapshot.model_copy(update={"issues": tuple(sorted(issues, key=lambda i: i.number))})

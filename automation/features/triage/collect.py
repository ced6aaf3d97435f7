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

from automation.rules.triage import (
    is_fresh,
    is_regression,
    may_lift_needs_info,
    parse_report,
)
from automation.snapshot.collect import (
    is_pull_request,
    issue_from_json,
    open_issues,
    own_login,
    raw,
    read_events,
    repo_identity,
    with_comments,
)
from automation.snapshot.models import Issue, Snapshot

if TYPE_CHECKING:
    from automation.github import Repository
    from automation.policy.policies import Policies


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
        listed = [i for i in open_issues(repo) if is_regression(policy, i)]
        subjects = [with_comments(repo, i) for i in listed]
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
            subjects.append(with_comments(repo, issue))
        snapshot = snapshot.model_copy(update={"issues": tuple(subjects)})
        needs_peers = any(
            is_fresh(i) and parse_report(policy, i.body).duplicate_key for i in subjects
        )
        if needs_peers and policy.duplicates.enabled:
            peers = [
                i
                for i in open_issues(repo, policy.label)
                if i.number not in {s.number for s in subjects}
            ]
            snapshot = snapshot.model_copy(
                update={"issues": tuple(sorted((*subjects, *peers), key=lambda i: i.number))}
            )
    snapshot = snapshot.model_copy(update={"bot_login": own_login(subjects, snapshot.bot_login)})
    for subject in subjects:
        current = snapshot.issue(subject.number)
        assert isinstance(current, Issue)
        updated = _read_events_if_needed(repo, policies, current)
        if updated is not current:
            snapshot = _replace(snapshot, updated)
    return snapshot

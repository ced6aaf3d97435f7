"""Collector for incidents: the event's issue (or every open incident on a sweep), its
comments, and only the reads the rules say a decision rests on: reactions when an assignee's
reaction may be what acknowledged it, events when the acknowledged label's time goes into a
postmortem's timeline, and the postmortems when a closed incident may need one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from automation.rules.incidents import (
    acknowledgement,
    is_incident,
    needs_reactions,
    postmortem_due_of,
    postmortem_for,
    postmortem_overdue,
    severity_of,
    steps,
    wants_postmortem,
)
from automation.snapshot.collect import (
    is_pull_request,
    issue_from_json,
    open_issues,
    own_login,
    raw,
    raws,
    read_events,
    read_reactions,
    repo_identity,
    with_comments,
)
from automation.snapshot.models import Issue, Snapshot

if TYPE_CHECKING:
    from automation.github import Repository
    from automation.policy.policies import Policies

# A close whose webhook was missed is caught by a sweep within this many days.
CLOSED_LOOKBACK = dt.timedelta(days=14)


def listed_issues(
    repo: Repository, label: str, state: str, since: dt.datetime | None = None
) -> list[Issue]:
    """GET /repos/{owner}/{repo}/issues?labels=...&state=...[&since=...] (every page)."""
    if since is None:
        listing = repo.get_issues(state=state, labels=[label])
    else:
        listing = repo.get_issues(state=state, labels=[label], since=since)
    return [issue_from_json(d) for d in raws(listing) if not is_pull_request(d)]


def _ours(issue: Issue) -> bool:
    return issue.author_is_bot and postmortem_due_of(issue) is not None


def _needs_reactions(policies: Policies, issue: Issue, now: dt.datetime) -> bool:
    """Read reactions only when a decision rests on them: a step is due (open) or the
    postmortem's timeline is to be written (closed)."""
    policy = policies.incidents
    if not needs_reactions(policy, issue):
        return False
    if issue.state == "closed":
        return True
    if acknowledgement(policy, issue) is not None:
        return False
    severity = severity_of(policies, issue)[0]
    return any(s.due <= now and s.done is None for s in steps(policies, issue, severity))


def _complete(repo: Repository, policies: Policies, issue: Issue, now: dt.datetime) -> Issue:
    issue = with_comments(repo, issue)
    if _needs_reactions(policies, issue, now):
        issue = issue.model_copy(update={"reactions": read_reactions(repo, issue.number)})
    label = policies.incidents.acknowledgement.label
    if issue.state == "closed" and label in issue.labels:
        issue = issue.model_copy(update={"events": read_events(repo, issue.number)})
    return issue


def collect_incidents(
    repo: Repository, policies: Policies, numbers: tuple[int, ...] | None, now: dt.datetime
) -> Snapshot:
    """Read the incidents to plan: the event's issues, or every open one on a sweep."""
    policy = policies.incidents
    name, branch = repo_identity(repo)
    snapshot = Snapshot(repo=name, default_branch=branch, taken_at=now)
    found: list[Issue] = []
    if numbers is None:
        found = [i for i in open_issues(repo) if is_incident(policy, i) or _ours(i)]
        found += listed_issues(repo, policy.labels.incident, "closed", now - CLOSED_LOOKBACK)
    else:
        for number in numbers:
            data = raw(repo.get_issue(number).complete())
            if is_pull_request(data):
                continue
            issue = issue_from_json(data)
            if is_incident(policy, issue) or _ours(issue):
                found.append(issue)
    context: list[Issue] = []
    if any(wants_postmortem(policies, i) for i in found):
        context = listed_issues(repo, policy.postmortem.label, "all")
    subjects: list[Issue] = []
    for issue in found:
        if issue.state == "closed" and (
            not wants_postmortem(policies, issue) or postmortem_for(context, issue.number)
        ):
            continue  # nothing to do for it: not read further
        if _ours(issue) and not postmortem_overdue(issue, now) and numbers is None:
            continue
        subjects.append(_complete(repo, policies, issue, now))
    numbers_read = {i.number for i in subjects}
    others = [i for i in context if i.number not in numbers_read]
    issues = tuple(sorted((*subjects, *others), key=lambda i: i.number))
    return snapshot.model_copy(
        update={"issues": issues, "bot_login": own_login(subjects, snapshot.bot_login)}
    )


def read_wanted(repo: Repository, snapshot: Snapshot, wants: Sequence[tuple[str, int]]) -> Snapshot:
    """Add the reactions or events of the issues a plan wants."""
    issues = list(snapshot.issues)
    for index, issue in enumerate(issues):
        kinds = {kind for kind, number in wants if number == issue.number}
        update: dict[str, object] = {}
        if "reactions" in kinds and issue.reactions is None:
            update["reactions"] = read_reactions(repo, issue.number)
        if "events" in kinds and issue.events is None:
            update["events"] = read_events(repo, issue.number)
        if update:
            issues[index] = issue.model_copy(update=update)
    return snapshot.model_copy(update={"issues": tuple(issues)})

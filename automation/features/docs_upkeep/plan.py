"""Documentation upkeep: one "review due" issue per overdue document, closed when the review
lands. Pure.

The issue of a document is found by its marker (a bot's issue carrying the policy's first
label). Due and none: open one, assigned to the owning area's people and labelled. Due and
open: keep its text current. Due and closed before the document fell due: reopen it for
this cycle (one issue per document, ever). Due and closed after it fell due: a person closed
it on purpose; leave it. Not due and open: the review landed (a newer commit or Reviewed
line): close it as completed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

from automation.actions import Action, EditIssue, Plan, UpsertIssue
from automation.rules.docs_upkeep import FEATURE, due_on, is_due, issue_marker, last_review
from automation.snapshot.models import DocumentState, Issue, Snapshot

if TYPE_CHECKING:
    from automation.policy.docs import Document
    from automation.policy.policies import Policies

MAX_ASSIGNEES = 10  # GitHub's limit per issue


def owners_of(policies: Policies, document: Document) -> tuple[str, ...]:
    """The people of the document's owning area (teams expanded), at most MAX_ASSIGNEES."""
    area = policies.owners.area(document.area)
    if area is None:
        return ()
    return policies.owners.expand(area.owners)[:MAX_ASSIGNEES]


def issue_title(document: Document) -> str:
    """The review-due issue's title."""
    return f"Review due: {document.path}"


def issue_body(policies: Policies, document: Document, state: DocumentState) -> str:
    """The review-due issue's text: only facts of the document (stable between runs)."""
    policy = policies.docs
    last = last_review(policy, state)
    due = due_on(policy, document, state)
    changed = state.last_change.date().isoformat() if state.last_change else "unknown"
    line = state.reviewed.isoformat() if state.reviewed else "none"
    recorded = f", Reviewed line {line}" if state.text_read else ""
    owners = ", ".join(f"@{o}" for o in owners_of(policies, document)) or "nobody"
    counted = (
        "a commit to the file or a newer `Reviewed: YYYY-MM-DD` line"
        if policy.changes_count_as_review
        else "a newer `Reviewed: YYYY-MM-DD` line"
    )
    since = last.isoformat() if last else "never"
    return (
        f"{issue_marker(document.path)}\n"
        f"`{document.path}` is due for review: it is reviewed every "
        f"{policy.period(document)} days, and was last reviewed {since} "
        f"(last change {changed}{recorded}); due since "
        f"{due.isoformat() if due and due != dt.date.min else 'now'}.\n\n"
        f"Owners (area `{document.area}`): {owners}\n\n"
        f"Read it against how we work today, fix what is out of date, and record the review "
        f"with a line `Reviewed: YYYY-MM-DD` in the document. This issue closes itself once "
        f"{counted} lands on the default branch.\n"
    )


def _found(snapshot: Snapshot, path: str, label: str) -> Issue | None:
    tag = issue_marker(path)
    mine = [
        i
        for i in snapshot.issues
        if tag in i.body.split("\n", 1)[0] and i.author_is_bot and label in i.labels
    ]
    return max(mine, key=lambda i: i.number, default=None)


def plan_document(
    policies: Policies,
    document: Document,
    state: DocumentState,
    snapshot: Snapshot,
    now: dt.datetime,
) -> tuple[list[Action], list[str]]:
    """The writes for one document, and notes."""
    policy = policies.docs
    issue = _found(snapshot, document.path, policy.labels[0])
    if not state.exists:
        return [], [f"{document.path}: not on the default branch (docs check names it)"]
    due = is_due(policy, document, state, now)
    if not due:
        if issue is not None and issue.state == "open":
            return [
                EditIssue(
                    reason=f"{document.path} was reviewed ({last_review(policy, state)})",
                    number=issue.number,
                    state="closed",
                    state_reason="completed",
                )
            ], []
        return [], []
    title, body = issue_title(document), issue_body(policies, document, state)
    owners = owners_of(policies, document)
    reason = f"{document.path} is due for review"
    write = UpsertIssue(
        reason=reason,
        marker=issue_marker(document.path),
        title=title,
        body=body,
        labels=policy.labels,
    )
    if issue is None:
        return [dataclasses.replace(write, assignees=owners)], []
    actions: list[Action] = []
    if issue.state == "closed":
        due_from = due_on(policy, document, state) or dt.date.min
        closed = issue.closed_at.astimezone(dt.UTC).date() if issue.closed_at else dt.date.min
        if closed >= due_from:
            return [], [
                f"{document.path}: due, but #{issue.number} was closed by hand; left closed"
            ]
        actions.append(
            EditIssue(
                reason=f"{reason} again",
                number=issue.number,
                state="open",
                state_reason="reopened",
                assignees=owners,
            )
        )
    if (issue.title, issue.body) != (title, body):
        actions.append(dataclasses.replace(write, number=issue.number))
    return actions, []


def plan_docs_upkeep(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Plan the review-due issues of every listed document."""
    actions: list[Action] = []
    notes: list[str] = []
    states = {s.path: s for s in snapshot.documents}
    for document in policies.docs.documents:
        state = states.get(document.path)
        if state is None:
            continue  # not read (a snapshot without it): nothing to decide
        more, said = plan_document(policies, document, state, snapshot, now)
        actions.extend(more)
        notes.extend(said)
    due = sum(
        1
        for d in policies.docs.documents
        if d.path in states and is_due(policies.docs, d, states[d.path], now)
    )
    notes.append(f"documents: {len(states)} read, {due} due for review")
    return Plan(FEATURE, tuple(actions), tuple(notes))

"""The review loop: remind a requested owner once, then ask the area's secondary. Pure.

A PR that waits on a requested owner (a reviewer or team owning an area whose paths it
touches) for more than `remind_after_hours` working hours, counted in that reviewer's own
time zone, gets one comment naming every overdue owner (marker-identified, edited in place).
Past `escalate_after_hours` the area's secondary is requested too, unless a person removed
that request before. Drafts, PRs with changes requested and exempt labels are left alone.
The text depends only on the snapshot's facts (request dates), never on `now`, so a second
run, or a late one, writes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from jinja2 import TemplateError

from automation.actions import Action, Plan, RequestReviewers, UpsertComment
from automation.policy.templating import render_template
from automation.rules.reviews import (
    FEATURE,
    AreaFigures,
    Waiting,
    overdue,
    reminder_marker,
    review_figures,
    secondaries,
    to_request,
)
from automation.snapshot.models import Comment, PullRequest, Snapshot

if TYPE_CHECKING:
    from automation.policy.policies import Policies


def _local_date(item: Waiting) -> str:
    return item.since.astimezone(ZoneInfo(item.timezone)).date().isoformat()


def reminder_body(
    policies: Policies, pull: PullRequest, late: list[Waiting], asked: list[str]
) -> str:
    """The reminder comment: its marker, then the policy's template."""
    policy = policies.reviews
    reviewers = [
        {"handle": w.mention, "area": ", ".join(w.areas), "since": _local_date(w)} for w in late
    ]
    context = {
        "number": pull.number,
        "title": pull.title,
        "author": pull.author,
        "reviewers": reviewers,
        "since": min(_local_date(w) for w in late),
        "secondaries": asked,
        "remind_after_hours": f"{policy.remind_after_hours:g}",
        "escalate_after_hours": f"{policy.escalate_after_hours or 0:g}",
    }
    return f"{reminder_marker(pull.number)}\n{render_template(policy.reminder_comment, context)}"


def _own_comment(pull: PullRequest) -> Comment | None:
    tag = reminder_marker(pull.number)
    return next(
        (c for c in pull.comments or () if tag in c.body and c.author_is_bot),
        None,
    )


def plan_pull(
    policies: Policies, pull: PullRequest, now: dt.datetime
) -> tuple[list[Action], list[str]]:
    """The reminder and escalation of one PR, and notes."""
    late = overdue(policies, pull, now)
    if not late:
        return [], []
    actions: list[Action] = []
    notes: list[str] = []
    names = ", ".join(w.mention for w in late)
    asked = secondaries(policies, pull, now)
    try:
        body = reminder_body(policies, pull, late, asked)
    except TemplateError as exc:
        return [], [f"#{pull.number}: reviews.yaml reminder_comment does not render: {exc}"]
    if pull.locked:
        notes.append(f"#{pull.number}: locked; no reminder for {names}")
    elif pull.comments is None:
        notes.append(f"#{pull.number}: comments not read; the next run reminds {names}")
    else:
        mine = _own_comment(pull)
        if mine is None or mine.body != body:
            actions.append(
                UpsertComment(
                    reason=f"waiting on {names} past {policies.reviews.remind_after_hours:g} "
                    "working hours",
                    number=pull.number,
                    marker=reminder_marker(pull.number),
                    body=body,
                    comment_id=mine.id if mine else None,
                )
            )
    wanted = to_request(policies, pull, now)
    if wanted:
        actions.append(
            RequestReviewers(
                reason=f"waiting on {names} past {policies.reviews.escalate_after_hours:g} "
                "working hours: the area's secondary",
                number=pull.number,
                reviewers=tuple(wanted),
            )
        )
    return actions, notes


def figures_notes(rows: list[AreaFigures]) -> list[str]:
    """One line per area: time to first owner review and to approval (median, p90)."""

    def h(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1f} h"

    return [
        f"review figures {r.area}: first owner review median {h(r.first_review_median)}, "
        f"p90 {h(r.first_review_p90)} (n={r.reviewed}); approval median "
        f"{h(r.approval_median)}, p90 {h(r.approval_p90)} (n={r.approved})"
        for r in rows
    ]


def plan_reviews(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Plan reminders and escalations for the snapshot's open PRs (or the subjects)."""
    actions: list[Action] = []
    notes: list[str] = []
    for pull in sorted(snapshot.pulls, key=lambda p: p.number):
        if snapshot.subjects is not None and pull.number not in snapshot.subjects:
            continue
        more, said = plan_pull(policies, pull, now)
        actions.extend(more)
        notes.extend(said)
    if snapshot.subjects is None:
        notes.extend(figures_notes(review_figures(policies, snapshot.pulls)))
    return Plan(FEATURE, tuple(actions), tuple(notes))

"""Pure on-call rules shared by the handoff collector and planner: which reads it needs."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from automation.markers import marker
from automation.rules.triage import acknowledged, is_regression

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.snapshot.models import Issue, Snapshot

FEATURE = "oncall"


def note_pending(policies: Policies, pinned: Issue | None, now: dt.datetime) -> bool:
    """Whether this shift's handoff note is still to be written on the pinned issue."""
    handoff = policies.oncall.handoff
    if handoff is None or pinned is None or pinned.comments is None:
        return False
    rotation = policies.oncall.rotation(handoff.rotation)
    if rotation is None:
        return False
    shift_start = rotation.shift_start(now)
    tag = marker(FEATURE, f"handoff-{shift_start.date().isoformat()}")
    return pinned.created_at < shift_start and not any(tag in c.body for c in pinned.comments)


def needs_events(
    policies: Policies, snapshot: Snapshot, issue: Issue, now: dt.datetime, note: bool = False
) -> bool:
    """Whether the collector must read who assigned whom: a hand-over is possible, or (while
    this shift's note is pending) one may have been made already by a run that then failed."""
    handoff = policies.oncall.handoff
    triage = policies.triage
    if handoff is None or not handoff.reassign_unacknowledged or not issue.assignees:
        return False
    if not is_regression(triage, issue) or triage.labels.duplicate in issue.labels:
        return False
    if acknowledged(triage, issue):
        return False
    rotation = policies.oncall.rotation(triage.rotation)
    if rotation is None:
        return False
    primary = rotation.member_at(now)
    members = {m.lower() for m in rotation.members} | {o.member.lower() for o in rotation.overrides}
    assignees = {a.lower() for a in issue.assignees}
    if primary.lower() in assignees:
        return note
    return bool(assignees & members)

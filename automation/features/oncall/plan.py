"""The scheduled on-call handoff: the pinned roster issue, one handoff note per shift, and
open unacknowledged regressions moved from the outgoing on-call to the incoming one.

Pure: no PyGithub, no environment, no clock.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automation.actions import Action, EditIssue, Plan, UpsertComment, UpsertIssue
from automation.markers import marker
from automation.policy.templating import render_template
from automation.rules.triage import acknowledged, due_at, inert, is_regression, severity_label

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.snapshot.models import Issue, Snapshot

FEATURE = "oncall"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
UPCOMING_WEEKS = 4


def _template(name: str, context: dict[str, Any]) -> str:
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    return render_template(source, context).strip() + "\n"


def _local(at: dt.datetime) -> str:
    return at.strftime("%a %Y-%m-%d %H:%M %Z")


def _runbook(snapshot: Snapshot, policies: Policies) -> str:
    base = policies.triage.server_url.rstrip("/")
    return f"{base}/{snapshot.repo}/blob/{snapshot.default_branch}/docs/runbooks/oncall-handoff.md"


def handoff_issue(snapshot: Snapshot) -> Issue | None:
    """The pinned on-call issue (found by its marker)."""
    tag = marker(FEATURE, "handoff")
    found = [i for i in snapshot.issues if tag in i.body and i.state == "open"]
    return min(found, key=lambda i: i.number) if found else None


def hand_over(
    policies: Policies, snapshot: Snapshot, issue: Issue, now: dt.datetime
) -> tuple[str, str] | None:
    """(outgoing, incoming) when this regression should move to the new on-call, else None.

    Only an assignment the bot made to whoever was on call at that time moves; an
    assignment a person made, or re-made, stays (people win).
    """
    handoff = policies.oncall.handoff
    triage = policies.triage
    if handoff is None or not handoff.reassign_unacknowledged or issue.events is None:
        return None
    if triage.labels.duplicate in issue.labels or acknowledged(triage, issue):
        return None
    primary = policies.oncall.on_call(triage.rotation, now)
    if primary.lower() in (a.lower() for a in issue.assignees):
        return None
    bot = snapshot.bot_login.lower()
    for login in issue.assignees:
        last = None
        for event in issue.events:
            if event.event in ("assigned", "unassigned") and event.assignee == login:
                last = event
        if last is None or last.event != "assigned" or last.actor.lower() != bot:
            continue
        # GitHub logins are case-insensitive; the policy may spell one differently.
        if policies.oncall.on_call(triage.rotation, last.created_at).lower() == login.lower():
            return login, primary
    return None


def handed_this_shift(
    policies: Policies, snapshot: Snapshot, issue: Issue, shift_start: dt.datetime, now: dt.datetime
) -> bool:
    """Whether the bot already handed this regression to the on-call during this shift.

    A handoff edit replaces an assignee: the bot unassigned someone and assigned the current
    on-call since the shift started. Triage only ever adds assignees, so it never looks so.
    """
    if issue.events is None:
        return False
    bot = snapshot.bot_login.lower()
    primary = policies.oncall.on_call(policies.triage.rotation, now).lower()  # as hand_over
    ours = [e for e in issue.events if e.actor.lower() == bot and e.created_at >= shift_start]
    return any(e.event == "unassigned" for e in ours) and any(
        e.event == "assigned" and (e.assignee or "").lower() == primary for e in ours
    )


def _sla_state(policies: Policies, issue: Issue, now: dt.datetime) -> str:
    triage = policies.triage
    if acknowledged(triage, issue):
        return "acknowledged"
    due = due_at(triage, issue)
    if due is None:
        return "no severity yet"
    hours = abs(int((due - now).total_seconds() // 3600))
    return f"overdue by {hours} h" if now >= due else f"due in {hours} h"


def plan_oncall(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Post the roster and this shift's handoff; move unacknowledged regressions."""
    oncall = policies.oncall
    handoff = oncall.handoff
    if handoff is None:
        return Plan(FEATURE, notes=("no handoff configured in policies/oncall.yaml",))
    rotation = oncall.rotation(handoff.rotation)
    assert rotation is not None  # cross_check guarantees it
    shift_start = rotation.shift_start(now)
    next_handoff = rotation.next_handoff(now)
    primary = oncall.on_call(rotation.name, now)
    secondary = oncall.secondary_on_call(rotation.name, now)
    actions: list[Action] = []

    roster = []
    for r in oncall.rotations:
        roster.append(
            {
                "name": r.name,
                "primary": r.member_at(now),
                "secondary": oncall.secondary_on_call(r.name, now),
                "shift_start": _local(r.shift_start(now)),
                "next_handoff": _local(r.next_handoff(now)),
            }
        )
    upcoming = [
        {
            "start": _local(s.start),
            "end": _local(s.end.astimezone(rotation.zone)),
            "primary": s.primary,
            "secondary": s.secondary,
        }
        for s in oncall.schedule(
            rotation.name, shift_start, shift_start + dt.timedelta(weeks=UPCOMING_WEEKS)
        )
    ]
    tag = marker(FEATURE, "handoff")
    body = (
        tag
        + "\n"
        + _template(
            "oncall_issue.md.j2",
            {
                "rotations": roster,
                "upcoming": upcoming,
                "handoff_rotation": rotation.name,
                "runbook_url": _runbook(snapshot, policies),
            },
        )
    )
    title = f"{handoff.issue_title}: @{primary}"
    pinned = handoff_issue(snapshot)
    if pinned is None or pinned.title != title or pinned.body != body:
        actions.append(
            UpsertIssue(
                reason="the on-call roster changed" if pinned else "no on-call issue yet",
                marker=tag,
                title=title,
                body=body,
                labels=(handoff.issue_label,),
                number=pinned.number if pinned else None,
            )
        )

    regressions = [
        i
        for i in sorted(snapshot.issues, key=lambda i: i.number)
        if i is not pinned
        and is_regression(policies.triage, i)
        and policies.triage.labels.duplicate not in i.labels
    ]
    handed: list[int] = []
    owners: dict[int, tuple[str, ...]] = {}  # the assignees once the hand-over is done
    for issue in regressions:
        move = hand_over(policies, snapshot, issue, now)
        if move is None:
            owners[issue.number] = issue.assignees
            if handed_this_shift(policies, snapshot, issue, shift_start, now):
                handed.append(issue.number)  # by a run whose note did not go out
            continue
        outgoing, incoming = move
        assignees = tuple(dict.fromkeys(incoming if a == outgoing else a for a in issue.assignees))
        owners[issue.number] = assignees
        handed.append(issue.number)
        actions.append(
            EditIssue(
                reason=f"handoff: @{outgoing} is off call and nobody acknowledged it",
                number=issue.number,
                assignees=assignees,
            )
        )

    # One handoff note per shift, written once; the shift in which the issue was created
    # has none (the issue is new and carries the roster). Its text is the state at the
    # handoff, whichever of this plan's writes landed before: owners after the hand-over,
    # SLA figures at the shift's start, so a run resumed later writes the same note.
    note_key = f"handoff-{shift_start.date().isoformat()}"
    note_tag = marker(FEATURE, note_key)
    if pinned is not None and pinned.created_at < shift_start:
        if pinned.comments is None and pinned.comments_count:
            return Plan(FEATURE, tuple(actions), ("on-call issue comments were not read",))
        if not any(note_tag in c.body for c in pinned.comments or ()):
            rows = [
                {
                    "number": i.number,
                    "title": inert(i.title),
                    "severity": severity_label(policies.triage, i) or "none",
                    "assignees": list(owners[i.number]),
                    "due": (d.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
                    if (d := due_at(policies.triage, i))
                    else "n/a",
                    "state": _sla_state(policies, i, shift_start),
                }
                for i in regressions
            ]
            note = (
                note_tag
                + "\n"
                + _template(
                    "oncall_handoff.md.j2",
                    {
                        "shift_start": _local(shift_start),
                        "next_handoff": _local(next_handoff),
                        "primary": primary,
                        "secondary": secondary,
                        "regressions": rows,
                        "handed": handed,
                        "runbook_url": _runbook(snapshot, policies),
                    },
                )
            )
            actions.append(
                UpsertComment(
                    reason=f"handoff to @{primary} at {_local(shift_start)}",
                    number=pinned.number,
                    marker=note_tag,
                    body=note,
                )
            )
    return Plan(FEATURE, tuple(actions))

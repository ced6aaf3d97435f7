"""The scheduled handoff: the pinned on-call issue, one note per shift, and regressions
nobody acknowledged moving from the outgoing on-call to the incoming one."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from automation.actions import EditIssue, Plan, UpsertComment, UpsertIssue
from automation.features.oncall.plan import plan_oncall
from automation.markers import marker
from automation.policy.loader import Policies
from automation.simulate import simulate
from automation.snapshot.models import Issue, Snapshot
from tests.triage_factories import BOT, NOW, comment, event, issue, policies, snapshot

WEEK = dt.timedelta(days=7)
NEXT = NOW + WEEK  # Tue 2026-12-01: raj-iyer's shift (from Mon 2026-11-30 10:00 GMT)
HANDOFF = marker("oncall", "handoff")


def plan(snap: Snapshot, now: dt.datetime, pols: Policies | None = None) -> Plan:
    return plan_oncall(pols or policies(), snap.model_copy(update={"taken_at": now}), now)


def pinned(created: dt.datetime = NOW - WEEK) -> Issue:
    """The on-call issue as the bot wrote it during the shift before NOW's."""
    snap = snapshot(now=created)
    first = plan(snap, created)
    after = simulate(snap, first).issues[0]
    return after.model_copy(update={"number": 7, "created_at": created, "comments": ()})


def regression(**overrides: object) -> Issue:
    """#101: sev2, assigned by the bot to sam-okafor, on call when it was filed."""
    fields: dict[str, object] = {
        "labels": ("eval-regression", "severity:sev2", "area:mcp-server"),
        "assignees": ("sam-okafor",),
        "events": (event("assigned", BOT, assignee="sam-okafor", at=NOW - dt.timedelta(hours=1)),),
    }
    fields.update(overrides)
    return issue(**fields)


def converges(snap: Snapshot, now: dt.datetime, pols: Policies | None = None) -> None:
    after = simulate(snap, plan(snap, now, pols))
    assert plan(after, now, pols).actions == ()


def test_creates_the_on_call_issue_once() -> None:
    p = plan(snapshot(), NOW)
    assert [type(a) for a in p.actions] == [UpsertIssue]
    action = p.actions[0]
    assert isinstance(action, UpsertIssue)
    assert action.title == "On call: @sam-okafor" and action.labels == ("on-call",)
    assert action.body.startswith(HANDOFF)
    assert "| ai-primary | @sam-okafor | @dev-patel | Mon 2026-11-23 10:00 GMT |" in action.body
    converges(snapshot(), NOW)


def test_within_the_shift_that_created_the_issue_nothing_more() -> None:
    issue_now = pinned(created=NOW - dt.timedelta(hours=2))
    assert plan(snapshot(issue_now, regression()), NOW).actions == ()


def test_the_next_shift_updates_the_roster_and_posts_one_note_and_hands_over() -> None:
    snap = snapshot(pinned(), regression())
    p = plan(snap, NEXT)
    assert [(type(a).__name__, getattr(a, "number", None)) for a in p.actions] == [
        ("UpsertIssue", 7),
        ("EditIssue", 101),
        ("UpsertComment", 7),
    ]
    edit = p.actions[1]
    assert isinstance(edit, EditIssue) and edit.assignees == ("raj-iyer",)
    assert edit.labels is None  # only the assignment moves
    note = p.actions[2]
    assert isinstance(note, UpsertComment)
    assert note.marker == marker("oncall", "handoff-2026-11-30")
    assert "@raj-iyer is on call, @maya-chen is secondary" in note.body
    # The state at the handoff: the owner after the hand-over, the SLA at the shift's start.
    assert "| #101 Eval regression: tool-calling accuracy | sev2 | @raj-iyer " in note.body
    assert "| 2026-11-25 11:00 UTC | overdue by 119 h |" in note.body
    assert "Handed to @raj-iyer (nobody had acknowledged them): #101" in note.body
    converges(snap, NEXT)


@pytest.mark.parametrize(
    ("case", "overrides"),
    [
        (
            "a person assigned the on-call",
            {"events": (event("assigned", "maya-chen", assignee="sam-okafor"),)},
        ),
        (
            "a person re-assigned after the bot",
            {
                "events": (
                    event("assigned", BOT, assignee="sam-okafor"),
                    event("unassigned", "sam-okafor", assignee="sam-okafor"),
                    event("assigned", "sam-okafor", assignee="sam-okafor"),
                )
            },
        ),
        (
            "acknowledged with the triaged label",
            {"labels": ("eval-regression", "severity:sev2", "triaged")},
        ),
        (
            "acknowledged by the assignee's comment",
            {"comments": (comment(5, "on it", author="sam-okafor"),)},
        ),
        ("a duplicate", {"labels": ("eval-regression", "duplicate")}),
        (
            "the bot assigned an area owner, not the on-call",
            {
                "assignees": ("dev-patel",),
                "events": (event("assigned", BOT, assignee="dev-patel"),),
            },
        ),
        ("events were not read", {"events": None}),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_no_hand_over(case: str, overrides: dict[str, object]) -> None:
    snap = snapshot(pinned(), regression(**overrides))
    assert [a for a in plan(snap, NEXT).actions if isinstance(a, EditIssue)] == []
    converges(snap, NEXT)


def test_no_hand_over_when_the_policy_says_so() -> None:
    base = policies()
    assert base.oncall.handoff is not None
    handoff = base.oncall.handoff.model_copy(update={"reassign_unacknowledged": False})
    pols = dataclasses.replace(base, oncall=base.oncall.model_copy(update={"handoff": handoff}))
    snap = snapshot(pinned(), regression())
    assert [a for a in plan(snap, NEXT, pols).actions if isinstance(a, EditIssue)] == []


def test_a_cover_mid_shift_changes_the_roster_and_hands_over() -> None:
    # Thu 2026-12-10 00:00 GMT: raj-iyer covers maya-chen until the Monday handoff.
    before = dt.datetime(2026, 12, 9, 12, 0, tzinfo=dt.UTC)
    during = dt.datetime(2026, 12, 10, 12, 0, tzinfo=dt.UTC)
    filed = regression(
        created_at=before - dt.timedelta(hours=1),
        assignees=("maya-chen",),
        events=(event("assigned", BOT, assignee="maya-chen", at=before - dt.timedelta(hours=1)),),
    )
    snap = snapshot(pinned(created=before - WEEK), filed)
    snap = simulate(snap, plan(snap, before))
    p = plan(snap, during)
    assert [(type(a).__name__, getattr(a, "assignees", None)) for a in p.actions] == [
        ("UpsertIssue", ()),  # the roster issue exists: no assignees to set
        ("EditIssue", ("raj-iyer",)),
    ]
    converges(snap, during)


def test_hand_over_when_github_spells_the_login_in_another_case() -> None:
    # GitHub answers with the account's own spelling; the policy says sam-okafor.
    moved = regression(
        assignees=("Sam-Okafor",),
        events=(event("assigned", BOT, assignee="Sam-Okafor", at=NOW - dt.timedelta(hours=1)),),
    )
    edits = [a for a in plan(snapshot(pinned(), moved), NEXT).actions if isinstance(a, EditIssue)]
    assert [(e.number, e.assignees) for e in edits] == [(101, ("raj-iyer",))]


def test_a_marker_in_a_regression_title_does_not_pass_for_next_shifts_note() -> None:
    # The note lists titles: a title carrying next shift's marker made that note look posted.
    nxt = marker("oncall", "handoff-2026-12-07")
    titled = regression(title=f"Eval regression: tool-calling accuracy {nxt}")
    snap = snapshot(pinned(), titled)
    after = simulate(snap, plan(snap, NEXT))
    later = NEXT + WEEK
    notes = [a for a in plan(after, later).actions if isinstance(a, UpsertComment)]
    assert [n.marker for n in notes] == [nxt]

"""The stale planner at the edges issues 18 and 12 found: locked items, warning cycles,
the slack for the sweep's own writes, adopting another tool's warnings, and writes whose
halves landed apart (each comment's text must follow from the snapshot, not the run time)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from automation.actions import EditIssue, UpsertComment
from automation.features.stale.plan import plan_stale
from automation.policy.stale import StalePolicy
from automation.rules.stale import OWN_WRITE_SLACK, closing_marker
from automation.snapshot.models import Issue
from tests.factories import BOT, NOW, ago, make_snapshot
from tests.test_stale_planner import (
    RULE,
    comment,
    describe,
    event,
    issue,
    metered,
    policies,
    shipped,
    warned,
)


def plan_for(*items: Issue, budget: int = 50, now: dt.datetime = NOW, **rule: Any) -> Any:
    pols = policies({**RULE, **rule}, budget=budget)
    return plan_stale(pols, make_snapshot(issues=items), now)


# --- issue 18 case 4: locked items -------------------------------------------------------


def test_a_locked_item_is_skipped_reported_and_not_charged_to_the_budget() -> None:
    locked = issue(1, updated=300, read=False, locked=True)  # the oldest: first in line
    other = issue(2, updated=90, read=False)
    plan = plan_for(locked, other, budget=2)
    assert [a.number for a in plan.actions] == [2, 2]
    assert any("#1" in n and "locked" in n for n in plan.notes)
    assert not any("deferred" in n for n in plan.notes)


def test_a_locked_item_due_for_closing_is_never_closed_without_its_comment() -> None:
    comments, events = warned(7, 20)
    item = issue(7, updated=20, labels=("stale", "inactive"), locked=True, comments=comments)
    item = item.model_copy(update={"events": events})
    plan = plan_for(item)
    assert plan.actions == ()
    assert any("locked" in n for n in plan.notes)


def test_a_locked_item_a_person_answered_is_still_unstaled() -> None:
    """Labels still go on and off a locked issue: only comments are refused."""
    comments, events = warned(7, 10)
    item = issue(
        7,
        updated=2,
        labels=("stale", "inactive"),
        locked=True,
        comments=(*comments, comment("maya-chen", 2)),
        events=events,
    )
    assert [a.describe() for a in plan_for(item).actions] == [
        "#7: remove label inactive",
        "#7: remove label stale",
    ]


# --- issue 18 case 5: markers per warning cycle ------------------------------------------


def test_the_closing_marker_names_the_warning_cycle() -> None:
    """A closing comment of an earlier cycle never passes for this cycle's."""
    old_close = comment(BOT, 60, f"Closed.\n\n{closing_marker(7, ago(days=75))}\n")
    comments, events = warned(7, 20)
    item = issue(
        7,
        updated=20,
        labels=("stale", "inactive"),
        comments=(*warned(7, 75)[0], old_close, *comments),
        events=(*warned(7, 75)[1], event("reopened", "maya-chen", 40), *events),
    )
    plan = plan_for(item)
    posted = [a for a in plan.actions if isinstance(a, UpsertComment)]
    assert len(posted) == 1
    assert posted[0].marker == closing_marker(7, ago(days=20))
    assert posted[0].marker != closing_marker(7, ago(days=75))
    assert isinstance(plan.actions[-1], EditIssue)


def test_this_cycles_closing_comment_is_recognised_and_not_posted_again() -> None:
    comments, events = warned(7, 20)
    done = comment(BOT, 1, f"Closed.\n\n{closing_marker(7, ago(days=20))}\n")
    item = issue(7, updated=1, labels=("stale", "inactive"), comments=(*comments, done))
    item = item.model_copy(update={"events": events})
    assert [type(a) for a in plan_for(item).actions] == [EditIssue]


# --- issue 18 case 6: the slack for the sweep's own writes ------------------------------


def test_the_sweeps_own_labelling_61_seconds_late_is_no_activity() -> None:
    comments, events = warned(7, 5)
    item = issue(7, updated=5, labels=("stale", "inactive"), comments=comments, events=events)
    late = item.model_copy(update={"updated_at": ago(days=5) + dt.timedelta(seconds=61)})
    assert plan_for(late).actions == ()


def test_the_slack_is_inclusive_and_a_later_edit_counts() -> None:
    comments, events = warned(7, 5)
    item = issue(7, updated=5, labels=("stale", "inactive"), comments=comments, events=events)
    edge = item.model_copy(update={"updated_at": ago(days=5) + OWN_WRITE_SLACK})
    assert plan_for(edge).actions == ()
    beyond = OWN_WRITE_SLACK + dt.timedelta(seconds=1)
    edited = item.model_copy(update={"updated_at": ago(days=5) + beyond})
    assert [a.describe() for a in plan_for(edited).actions][-1] == "#7: remove label stale"


# --- issue 18 case 7: adopting actions/stale's warnings ----------------------------------

ACTIONS_STALE_WARNING = (
    "This issue is stale because it has been open 30 days with no activity. "
    "Remove stale label or comment or this will be closed in 5 days."
)


def migrated(days: float) -> Issue:
    """An issue actions/stale warned `days` ago: its `Stale` label and its comment."""
    return issue(
        7,
        updated=days,
        labels=("Stale",),
        comments=(comment("github-actions[bot]", days, ACTIONS_STALE_WARNING),),
        events=(event("labeled", "github-actions[bot]", days, "Stale"),),
    )


def adopting() -> Any:
    stale = StalePolicy.model_validate(
        {
            "rules": [{**RULE, "on_stale": {}, "on_close": {}}],
            "adopt_warnings": {
                "labels": ["Stale"],
                "comments": ["is stale because it has been open"],
            },
        }
    )
    return dataclasses.replace(shipped(), stale=stale)


def test_another_tools_warning_keeps_its_clock() -> None:
    plan = plan_stale(adopting(), make_snapshot(issues=(migrated(15),)), NOW)
    assert [type(a).__name__ for a in plan.actions] == ["UpsertComment", "EditIssue"]
    assert "closed" in plan.actions[-1].describe()
    recent = plan_stale(adopting(), make_snapshot(issues=(migrated(3),)), NOW)
    assert recent.actions == ()  # warned 3 days ago: no fresh warning restarting the clock


def test_the_shipped_policy_adopts_actions_stale_defaults() -> None:
    adopt = shipped().stale.adopt_warnings
    assert adopt is not None
    assert "stale" in {label.casefold() for label in adopt.labels}
    assert any(text in ACTIONS_STALE_WARNING for text in adopt.comments)


# --- issue 12 case 2/3: a warning's halves landing apart ----------------------------------


def test_a_warning_comment_whose_label_was_lost_gets_its_label_not_a_second_comment() -> None:
    body = "Stale issue #7\n\n<!-- dataface-ops:stale:warning-7 -->\n"
    item = issue(7, updated=0.01, labels=("triaged",), comments=(comment(BOT, 0.01, body),))
    assert describe(plan_for(item)) == [
        "#7: remove label triaged",
        "#7: add labels stale, inactive",
    ]


def test_the_warning_comment_goes_before_the_label_the_next_run_keys_on() -> None:
    item = issue(7, updated=90, read=False, labels=("triaged",))
    assert describe(plan_for(item)) == [
        "#7: comment stale:warning-7",
        "#7: remove label triaged",
        "#7: add labels stale, inactive",
    ]


def test_a_late_warning_comment_says_what_the_clean_run_would_have_said() -> None:
    """The label landed on day 0 and the comment failed: the run three days later writes
    the text the first run planned (close date and figures from the label, not its clock)."""
    rule = {"warning_comment": "Idle {{ days_inactive }} days; closes on {{ close_on }}."}
    clean = plan_for(issue(7, updated=90, read=False), **rule)
    first = next(a for a in clean.actions if isinstance(a, UpsertComment))
    later = NOW + dt.timedelta(days=3)
    labelled = issue(
        7,
        updated=0,
        labels=("stale", "inactive"),
        comments=(),
        events=(event("labeled", BOT, 0, "stale"),),
    ).model_copy(update={"created_at": ago(days=400), "updated_at": NOW})
    # Last activity: the item's update 90 days before the label, as in the clean run.
    labelled = labelled.model_copy(
        update={"comments": (comment("dev-patel", 90),), "updated_at": NOW}
    )
    repaired = plan_for(labelled, now=later, **rule)
    second = next(a for a in repaired.actions if isinstance(a, UpsertComment))
    assert second.body == first.body


def test_a_closing_comment_planned_days_later_says_the_same() -> None:
    rule = {"closing_comment": "Idle {{ days_inactive }} days."}
    comments, events = warned(7, 15)
    item = issue(7, updated=15, labels=("stale", "inactive"), comments=comments, events=events)
    on_time = plan_for(item, **rule).actions[0]
    late = plan_for(item, now=NOW + dt.timedelta(days=4), **rule).actions[0]
    assert isinstance(on_time, UpsertComment) and isinstance(late, UpsertComment)
    assert on_time.body == late.body


def test_an_unstale_for_an_unlisted_edit_is_not_undone_by_the_next_run() -> None:
    """Un-staling for an edit or push the timeline does not list moves `updated_at` with the
    label removal, hiding the edit: the removal must stand for the activity, or the next run
    warns again (or puts the label back) and the two runs flip-flop."""
    comments, events = warned(7, 10)
    edited = issue(7, updated=2, labels=("stale", "inactive"), comments=comments, events=events)
    assert describe(plan_for(edited)) == ["#7: remove label inactive", "#7: remove label stale"]
    after = issue(
        7,
        updated=0,
        labels=(),
        comments=comments,
        events=(
            *events,
            event("unlabeled", BOT, 0, "inactive"),
            event("unlabeled", BOT, 0, "stale"),
        ),
    )
    assert plan_for(after).actions == ()


def test_a_budget_smaller_than_one_warning_still_writes_its_first_half() -> None:
    """Issue 18: each run writes something while work remains. One write left and only
    warnings (two writes each) to make: the comment goes out, and the next run, seeing a
    current warning without its label, adds the label."""
    item = issue(7, updated=90, read=False)
    snapshot = make_snapshot(issues=(item,)).model_copy(update={"writes_left": 1})
    plan = plan_stale(policies({**RULE, "on_stale": {}}), snapshot, NOW)
    assert (plan.budget, plan.budget_source) == (1, "lowered to what the rate limit allows")
    written, notes = metered(plan)
    assert describe(written) == ["#7: comment stale:warning-7"]
    assert any("deferred" in note and "rate limit" in note for note in notes)

"""One write budget, metered by the executor: a plan's own budget and `--max-writes` alike."""

from __future__ import annotations

from automation.actions import AddLabels, Plan, Report, UpsertComment
from automation.execute import execute
from automation.markers import marker
from automation.render import DEFERRED_SHOWN, render_markdown, render_text


def _warn(number: int) -> tuple[UpsertComment, AddLabels]:
    return (
        UpsertComment(
            reason="inactive", number=number, marker=marker("stale", f"w-{number}"), body="stale"
        ),
        AddLabels(reason="inactive", number=number, labels=("stale",)),
    )


def _plan(*numbers: int, budget: int | None = None, source: str = "") -> Plan:
    actions = tuple(a for n in numbers for a in _warn(n))
    return Plan("stale", actions, budget=budget, budget_source=source)


def _written(report: Report) -> list[str]:
    return [o.action.describe() for o in report.outcomes if o.status == "dry-run"]


def test_whole_subjects_in_plan_order_and_never_half_of_the_next() -> None:
    # Five writes of room, two per item: items 1 and 2 go, item 3 waits whole, and a later
    # item never jumps the queue (the plan's order is the policy's priority).
    plan = _plan(1, 2, 3, 4, budget=5, source="stale.yaml max_writes_per_run")
    report = execute([plan], None, dry_run=True)
    assert _written(report) == [
        "#1: comment stale:w-1",
        "#1: add labels stale",
        "#2: comment stale:w-2",
        "#2: add labels stale",
    ]
    assert [o.detail for o in report.outcomes[4:]] == ["write budget of 5 reached"] * 4
    assert report.notes == [
        "stale: 2 item(s) deferred to the next run by the write budget of 5 writes "
        "(stale.yaml max_writes_per_run)"
    ]


def test_first_subject_larger_than_the_budget_writes_its_first_part() -> None:
    report = execute([_plan(1, 2, budget=1)], None, dry_run=True)
    assert _written(report) == ["#1: comment stale:w-1"]
    assert report.notes == [
        "stale: 2 item(s) deferred to the next run by the write budget of 1 writes"
    ]


def test_max_writes_spans_plans_and_binds_before_a_larger_plan_budget() -> None:
    first = Plan("triage", _warn(9))
    report = execute([first, _plan(1, 2, budget=50)], None, dry_run=True, max_writes=3)
    # Triage takes two writes; one is left, and the stale plan has written nothing yet, so
    # its first item's comment goes out and the rest waits.
    assert _written(report) == [
        "#9: comment stale:w-9",
        "#9: add labels stale",
        "#1: comment stale:w-1",
    ]
    assert report.metered == 3
    assert report.notes == [
        "stale: 2 item(s) deferred to the next run by the write budget of 3 writes (--max-writes)"
    ]


def test_no_budget_writes_everything_and_notes_nothing() -> None:
    report = execute([_plan(1, 2, 3)], None, dry_run=True)
    assert len(_written(report)) == 6 and report.notes == []


def test_reports_list_a_few_deferred_writes_and_count_the_rest() -> None:
    plan = _plan(*range(1, 501), budget=4)
    report = execute([plan], None, dry_run=True)
    hidden = 996 - DEFERRED_SHOWN
    text = render_text([plan], report)
    assert f"... and {hidden:,} more deferred to the next run by the write budget" in text
    assert text.count("(write budget of 4 reached)") == DEFERRED_SHOWN
    markdown = render_markdown([plan], report)
    assert f"| ... and {hidden:,} more deferred to the next run by the write budget | | |" in (
        markdown
    )
    assert len(markdown) < 5_000

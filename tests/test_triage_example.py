"""The README's example snapshot: triage and the handoff have sensible work, then converge."""

from __future__ import annotations

from automation.actions import EditIssue, UpsertComment
from automation.features.oncall.plan import plan_oncall
from automation.features.triage.plan import plan_triage
from automation.simulate import simulate
from automation.snapshot.models import Snapshot
from tests.triage_factories import NOW, ROOT, policies


def _example() -> Snapshot:
    return Snapshot.model_validate_json((ROOT / "examples" / "snapshot.json").read_text())


def test_example_plans_are_sensible_and_converge() -> None:
    snap = _example()
    triage = plan_triage(policies(), snap, NOW)
    oncall = plan_oncall(policies(), snap, NOW)
    assert {a.number for a in triage.actions if isinstance(a, EditIssue)} == {101, 102, 103}
    assert any(
        isinstance(a, UpsertComment) and a.marker.endswith("escalation-104 -->")
        for a in triage.actions
    )
    assert [(a.number, a.assignees) for a in oncall.actions if isinstance(a, EditIssue)] == [
        (104, ("sam-okafor",))
    ]
    after = simulate(simulate(snap, triage), oncall)
    # A handed-over regression keeps its summary: the owner is on the issue itself.
    assert plan_triage(policies(), after, NOW).actions == ()
    assert plan_oncall(policies(), after, NOW).actions == ()


def test_a_new_assignee_alone_does_not_rewrite_the_summary() -> None:
    snap = _example()
    issue = snap.issue(105)
    assert issue is not None and issue.assignees
    moved = issue.model_copy(update={"assignees": ("lena-fischer",)})
    others = tuple(i for i in snap.issues if i.number != 105)
    changed = snap.model_copy(update={"issues": (*others, moved)})
    assert [a for a in plan_triage(policies(), changed, NOW).actions if a.number == 105] == []  # type: ignore[attr-defined]

"""The README's first command: the release part of examples/snapshot.json plans sensibly."""

from __future__ import annotations

from automation.plan import RequestReviewers, SetBranch, UpsertPullRequest, simulate
from automation.planners.release import plan_release
from automation.snapshot.models import Snapshot
from tests.release_helpers import ROOT, policies, t

AT = t("2026-11-24T12:00")


def example() -> Snapshot:
    return Snapshot.model_validate_json((ROOT / "examples" / "snapshot.json").read_text())


def test_example_updates_the_open_train_in_place() -> None:
    snap = example()
    plan = plan_release(policies(), snap, AT)
    assert [type(a) for a in plan.actions] == [SetBranch, UpsertPullRequest, RequestReviewers]
    update = plan.actions[1]
    assert isinstance(update, UpsertPullRequest) and update.number == 360
    assert update.body.startswith("Captain's note: holding for the prompt-eng sign-off")
    assert "**12 PRs**" in update.body
    assert "Shorten the chart-suggestion prompt ([#308]" in update.body
    after = simulate(snap, plan)
    assert plan_release(policies(), after, AT).actions == ()


def test_example_release_numbers_stay_in_the_release_range() -> None:
    numbers = [p.number for p in example().pulls if p.head_ref.startswith(("topic/", "release-"))]
    assert numbers and all(300 <= n <= 399 for n in numbers)

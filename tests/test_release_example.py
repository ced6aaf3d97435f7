"""The README's first command: the release part of examples/snapshot.json plans sensibly."""

from __future__ import annotations

from automation.actions import CreateRelease, SetBranch, UpsertPullRequest
from automation.features.release.plan import plan_release
from automation.simulate import simulate
from automation.snapshot.models import Snapshot
from tests.release_helpers import ROOT, policies, t

AT = t("2026-11-24T12:00")


def example() -> Snapshot:
    return Snapshot.model_validate_json((ROOT / "examples" / "snapshot.json").read_text())


def test_example_publishes_the_merged_trains_release() -> None:
    snap = example()
    plan = plan_release(policies(), snap, AT)
    assert [type(a) for a in plan.actions] == [CreateRelease]
    release = plan.actions[0]
    assert isinstance(release, CreateRelease)
    assert (release.tag, release.name) == ("train-2026-11-17", "Release train 2026-11-17")
    assert release.target_sha == snap.pull(360).merge_commit_sha  # type: ignore[union-attr]
    assert "Rename describe_table.columns[].type to data_type ([#306]" in release.body
    assert "Captain's note" not in release.body  # people's notes stay in the PR
    assert plan.notes == (
        "not due: the next train leaves Tue 2026-11-24 15:00 Europe/London (15:00 UTC)",
    )
    assert plan_release(policies(), simulate(snap, plan), AT).actions == ()


def test_example_at_departure_opens_the_next_train() -> None:
    snap = example()
    plan = plan_release(policies(), snap, t("2026-11-24T15:00"))
    kinds = [type(a) for a in plan.actions]
    assert kinds == [CreateRelease, SetBranch, UpsertPullRequest]
    pr = plan.actions[2]
    assert isinstance(pr, UpsertPullRequest)
    assert pr.head == "release-train/2026-11-24" and "**5 PRs**" in pr.body


def test_example_release_numbers_stay_in_the_release_range() -> None:
    numbers = [
        p.number for p in example().pulls if p.head_ref.startswith(("topic/", "release-train/"))
    ]
    assert numbers and all(300 <= n <= 399 for n in numbers)

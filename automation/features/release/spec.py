"""The release feature's spec: its triggers, its order, its collector and its planner."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from automation.features import Feature

if TYPE_CHECKING:
    from automation.actions import Plan
    from automation.github import Repository
    from automation.policy.policies import Policies
    from automation.snapshot.models import Snapshot


def collect(
    repo: Repository, policies: Policies, numbers: tuple[int, ...] | None, now: dt.datetime
) -> Snapshot:
    """Read what the release planner needs (imported on use, so listing specs stays cheap)."""
    from automation.features.release.collect import collect_release

    return collect_release(repo, policies, numbers, now)


def plan(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Plan the release feature (pure)."""
    from automation.features.release.plan import plan_release

    return plan_release(policies, snapshot, now)


SPEC = Feature(
    name="release",
    summary="release trains on a cadence: one train PR with a changelog, then the tag and release",
    order=30,
    collect=collect,
    plan=plan,
    routes=(
        "pull_request_target.closed",
        "pull_request.closed",
    ),
    sweeps=True,
    policy_files=("release",),
)

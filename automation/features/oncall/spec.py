"""The oncall feature's spec: its triggers, its order, its collector and its planner."""

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
    """Read what the oncall planner needs (imported on use, so listing specs stays cheap)."""
    from automation.features.oncall.collect import collect_oncall

    return collect_oncall(repo, policies, numbers, now)


def plan(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Plan the oncall feature (pure)."""
    from automation.features.oncall.plan import plan_oncall

    return plan_oncall(policies, snapshot, now)


SPEC = Feature(
    name="oncall",
    summary="keep the pinned on-call issue current and hand regressions to the new on-call",
    order=50,
    collect=collect,
    plan=plan,
    sweeps=True,
    policy_files=("oncall",),
    uses_files=("owners",),
)

"""The digest feature's spec: its triggers, its order, its collector and its planner."""

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
    """Read what the digest planner needs (imported on use, so listing specs stays cheap)."""
    from automation.features.digest.collect import collect_digest

    return collect_digest(repo, policies, numbers, now)


def plan(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Plan the digest feature (pure)."""
    from automation.features.digest.plan import plan_digest

    return plan_digest(policies, snapshot, now)


SPEC = Feature(
    name="digest",
    summary="one issue per ISO week with the operating figures and the merge audit",
    order=60,
    collect=collect,
    plan=plan,
    sweeps=True,
    policy_files=("digest",),
)

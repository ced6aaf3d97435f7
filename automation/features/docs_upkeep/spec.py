"""Documentation upkeep's spec: its triggers, its order, its collector and its planner."""

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
    """Read what documentation upkeep needs (imported on use, so listing specs stays cheap)."""
    from automation.features.docs_upkeep.collect import collect_docs_upkeep

    return collect_docs_upkeep(repo, policies, numbers, now)


def plan(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Plan documentation upkeep (pure)."""
    from automation.features.docs_upkeep.plan import plan_docs_upkeep

    return plan_docs_upkeep(policies, snapshot, now)


SPEC = Feature(
    name="docs_upkeep",
    summary="open one review-due issue per overdue runbook for its owners; close it on review",
    order=55,
    collect=collect,
    plan=plan,
    # Schedule only: a `push` names no subject, so routing it would sweep every document on
    # every push to any branch (n requests each); a daily sweep closes a landed review a day
    # later at most.
    routes=(),
    sweeps=True,
    policy_files=("docs",),
    uses_files=("owners",),
)

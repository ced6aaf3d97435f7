"""The stale feature's spec: its triggers, its order, its collector and its planner."""

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
    """Read what the stale planner needs (imported on use, so listing specs stays cheap)."""
    from automation.features.stale.collect import collect_stale

    return collect_stale(repo, policies, numbers, now)


def plan(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Plan the stale feature (pure)."""
    from automation.features.stale.plan import plan_stale

    return plan_stale(policies, snapshot, now)


SPEC = Feature(
    name="stale",
    summary="warn, then close, backlog items no person touches; un-stale on a person's activity",
    order=40,
    collect=collect,
    plan=plan,
    routes=(
        "issues.opened",
        "issues.edited",
        "issues.reopened",
        "issues.labeled",
        "issues.unlabeled",
        "issue_comment.created",
        "issue_comment.edited",
    ),
    sweeps=True,
    policy_files=("stale",),
)

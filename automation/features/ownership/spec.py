"""The ownership feature's spec: its triggers, its order, its collector and its planner."""

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
    """Read what the ownership planner needs (imported on use, so listing specs stays cheap)."""
    from automation.features.ownership.collect import collect_ownership

    return collect_ownership(repo, policies, numbers, now)


def plan(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Plan the ownership feature (pure)."""
    from automation.features.ownership.plan import plan_ownership

    return plan_ownership(policies, snapshot, now)


SPEC = Feature(
    name="ownership",
    summary=(
        "require CODEOWNERS owners' approval for protected paths; report the owner-approval check"
    ),
    order=20,
    collect=collect,
    plan=plan,
    routes=(
        "pull_request_target.opened",
        "pull_request_target.synchronize",
        "pull_request_target.reopened",
        "pull_request_target.ready_for_review",
        "pull_request_target.edited",
        "pull_request_review.submitted",
        "pull_request_review.dismissed",
        "pull_request_review.edited",
    ),
    sweeps=False,
    policy_files=("ownership",),
    uses_files=("owners",),
)

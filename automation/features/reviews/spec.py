"""The review loop's spec: its triggers, its order, its collector and its planner."""

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
    """Read what the review loop needs (imported on use, so listing specs stays cheap)."""
    from automation.features.reviews.collect import collect_reviews

    return collect_reviews(repo, policies, numbers, now)


def plan(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Plan the review loop (pure)."""
    from automation.features.reviews.plan import plan_reviews

    return plan_reviews(policies, snapshot, now)


SPEC = Feature(
    name="reviews",
    summary="remind a requested owner once past the working hours, then ask the area's secondary",
    order=45,
    collect=collect,
    plan=plan,
    # An event re-checks its PR at once (a reminder due while the sweep was late); the
    # reminder itself is time-based, so the schedule's sweep is what finds most of them.
    routes=(
        "pull_request.opened",
        "pull_request.ready_for_review",
        "pull_request.review_requested",
        "pull_request.review_request_removed",
        "pull_request.converted_to_draft",
        "pull_request.synchronize",
        # What the shipped workflows subscribe to, and what the app makes of a pull_request
        # webhook (a fork's pull_request gets a read-only token); the hourly sweep finds
        # whatever no event named.
        "pull_request_target.opened",
        "pull_request_target.ready_for_review",
        "pull_request_target.review_requested",
        "pull_request_target.review_request_removed",
        "pull_request_target.converted_to_draft",
        "pull_request_target.synchronize",
        "pull_request_review.submitted",
    ),
    sweeps=True,
    policy_files=("reviews",),
    uses_files=("owners",),
)

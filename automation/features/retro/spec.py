"""The retrospective's spec: a scheduled sweep that runs only when its period is due."""

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
    """Read what the retrospective needs (imported on use, so listing specs stays cheap)."""
    from automation.features.retro.collect import collect_retro

    return collect_retro(repo, policies, numbers, now)


def plan(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Plan the retrospective (pure)."""
    from automation.features.retro.plan import plan_retro

    return plan_retro(policies, snapshot, now)


SPEC = Feature(
    name="retro",
    summary="after each period, one PR proposing the policy changes the figures call for",
    # After the digest: the digest of the same run links the PR of the run before.
    order=70,
    collect=collect,
    plan=plan,
    sweeps=True,
    policy_files=("retro",),
)

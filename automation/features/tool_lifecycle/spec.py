"""The tool lifecycle feature's spec: a scheduled sweep over policies/tools.yaml."""

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
    """Read the reminder issues (imported on use, so listing specs stays cheap)."""
    from automation.features.tool_lifecycle.collect import collect_tool_lifecycle

    return collect_tool_lifecycle(repo, policies, numbers, now)


def plan(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Plan the tool lifecycle sweep (pure)."""
    from automation.features.tool_lifecycle.plan import plan_tool_lifecycle

    return plan_tool_lifecycle(policies, snapshot, now)


SPEC = Feature(
    name="tool_lifecycle",
    summary="a reminder issue to a deprecated tool's owners before its sunset; closed once removed",
    order=70,
    collect=collect,
    plan=plan,
    sweeps=True,
    policy_files=("tools",),
    uses_files=("owners",),
)

"""The incidents feature's spec: its triggers, its order, its collector and its planner."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from automation.features import Feature

if TYPE_CHECKING:
    from automation.actions import Plan, Want
    from automation.github import Repository
    from automation.policy.policies import Policies
    from automation.snapshot.models import Snapshot


def collect(
    repo: Repository, policies: Policies, numbers: tuple[int, ...] | None, now: dt.datetime
) -> Snapshot:
    """Read what the incidents planner needs (imported on use)."""
    from automation.features.incidents.collect import collect_incidents

    return collect_incidents(repo, policies, numbers, now)


def plan(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Plan the incidents feature (pure)."""
    from automation.features.incidents.plan import plan_incidents

    return plan_incidents(policies, snapshot, now)


def refine(repo: Repository, snapshot: Snapshot, wants: tuple[Want, ...]) -> Snapshot:
    """Read the reactions or events the plan's decisions rest on."""
    from automation.features.incidents.collect import read_wanted

    return read_wanted(repo, snapshot, [(w.kind, w.number) for w in wants])


SPEC = Feature(
    name="incidents",
    summary="label, assign and escalate MCP tool incidents; status reminders; postmortems",
    order=12,
    collect=collect,
    plan=plan,
    routes=(
        "issues.opened",
        "issues.edited",
        "issues.reopened",
        "issues.labeled",
        "issues.unlabeled",
        "issues.assigned",
        "issues.closed",
        "issue_comment.created",
    ),
    sweeps=True,
    refine=refine,
    policy_files=("incidents",),
    uses_files=("owners", "oncall", "tools"),
)

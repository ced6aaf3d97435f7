"""The triage feature's spec: its triggers, its order, its collector and its planner."""

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
    """Read what the triage planner needs (imported on use, so listing specs stays cheap)."""
    from automation.features.triage.collect import collect_triage

    return collect_triage(repo, policies, numbers, now)


def plan(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Plan the triage feature (pure)."""
    from automation.features.triage.plan import plan_triage

    return plan_triage(policies, snapshot, now)


def refine(repo: Repository, snapshot: Snapshot, wants: tuple[Want, ...]) -> Snapshot:
    """Read the events the plan's edits rest on (whether a person undid us)."""
    from automation.features.triage.collect import read_wanted_events

    return read_wanted_events(repo, snapshot, [w.number for w in wants if w.kind == "events"])


SPEC = Feature(
    name="triage",
    summary="label, assign and comment on eval regressions; escalate past the SLA",
    order=10,
    collect=collect,
    plan=plan,
    routes=(
        "issues.opened",
        "issues.edited",
        "issues.reopened",
        "issues.labeled",
        "issue_comment.created",
    ),
    sweeps=True,
    refine=refine,
    policy_files=("triage",),
    uses_files=("owners", "oncall"),
)

"""The feature registry: each feature's collector and planner, imported only when used."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from github.Repository import Repository

    from automation.plan import Plan
    from automation.policy.loader import Policies
    from automation.snapshot.models import Snapshot

    Collector = Callable[[Repository, Policies, tuple[int, ...] | None, dt.datetime], Snapshot]
    Planner = Callable[[Policies, Snapshot, dt.datetime], Plan]


@dataclass(frozen=True)
class Feature:
    """A feature: how to read what it needs, and how to plan from it."""

    name: str
    summary: str
    collector: str
    planner: str

    def load_collector(self) -> Collector:
        """Import the collector: (repo, policies, numbers or None for all, now) -> Snapshot."""
        return cast("Collector", _load(self.collector))

    def load_planner(self) -> Planner:
        """Import the pure planner: (policies, snapshot, now) -> Plan."""
        return cast("Planner", _load(self.planner))


def _load(target: str) -> object:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


# Each feature adds its entry here; FEATURE_ORDER in routing.py decides the running order.
FEATURES: dict[str, Feature] = {
    "release": Feature(
        "release",
        "release trains on a cadence: one train PR with a changelog, then the tag and release",
        "automation.snapshot.release:collect_release",
        "automation.planners.release:plan_release",
    ),
    "ownership": Feature(
        "ownership",
        "require CODEOWNERS owners' approval for protected paths; report the owner-approval check",
        "automation.snapshot.ownership:collect_ownership",
        "automation.planners.ownership:plan_ownership",
    ),
    "digest": Feature(
        "digest",
        "one issue per ISO week with the operating figures and the merge audit",
        "automation.snapshot.digest:collect_digest",
        "automation.planners.digest:plan_digest",
    ),
    "triage": Feature(
        "triage",
        "label, assign and comment on eval regressions; escalate past the SLA",
        "automation.snapshot.triage:collect_triage",
        "automation.planners.triage:plan_triage",
    ),
    "oncall": Feature(
        "oncall",
        "keep the pinned on-call issue current and hand regressions to the new on-call",
        "automation.snapshot.triage:collect_oncall",
        "automation.planners.oncall:plan_oncall",
    ),
    "stale": Feature(
        "stale",
        "warn, then close, backlog items no person touches; un-stale on a person's activity",
        "automation.snapshot.stale:collect_stale",
        "automation.planners.stale:plan_stale",
    ),
}


def get(name: str) -> Feature:
    """Return a registered feature or raise UsageError with the known names."""
    from automation.errors import UsageError

    try:
        return FEATURES[name]
    except KeyError:
        known = ", ".join(FEATURES) or "none"
        raise UsageError(f"unknown feature {name!r} (known: {known})") from None

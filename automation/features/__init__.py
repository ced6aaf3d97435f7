"""Features as typed units: each package under automation/features/ declares one spec.

A spec names the feature, the events it re-checks, whether a schedule sweeps it, its place
in the running order, and its collector and planner as real callables. The callables
import their modules when called, so listing the specs (routing, `--help`) stays cheap.
Adding a feature is adding one package with a `spec.py` that defines `SPEC`.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from automation.actions import Plan, Want
    from automation.github import Repository
    from automation.policy.policies import Policies
    from automation.snapshot.models import Snapshot

Collector: TypeAlias = (
    "Callable[[Repository, Policies, tuple[int, ...] | None, dt.datetime], Snapshot]"
)
Planner: TypeAlias = "Callable[[Policies, Snapshot, dt.datetime], Plan]"
Refiner: TypeAlias = "Callable[[Repository, Snapshot, tuple[Want, ...]], Snapshot]"


@dataclass(frozen=True)
class Feature:
    """A feature: what triggers it, how to read what it needs, and how to plan from it."""

    name: str
    summary: str
    # Lower runs first for one trigger (triage before the on-call handoff reads its labels).
    order: int
    # (repo, policies, numbers or None for all, now) -> Snapshot
    collect: Collector
    # The pure planner: (policies, snapshot, now) -> Plan
    plan: Planner
    # `event.action` keys this feature re-checks. Events only name what to re-check: every
    # decision is recomputed from fresh state, so a late or duplicate delivery does no harm.
    routes: tuple[str, ...] = ()
    # Whether a schedule (or a dispatch naming no feature) sweeps it.
    sweeps: bool = False
    # (repo, snapshot, what a plan wants) -> a richer snapshot; the engine plans again.
    refine: Refiner | None = None
    # The policy files (names under policies/, no suffix) that turn this feature on: it runs
    # only when each exists and none says `enabled: false`.
    policy_files: tuple[str, ...] = ()
    # Other files its policy refers into (owners.yaml's people, oncall.yaml's rotations):
    # `init` writes them too, with `enabled: false` when their own feature was not chosen.
    uses_files: tuple[str, ...] = ()


def _discover() -> dict[str, Feature]:
    """Every `automation.features.<name>.spec.SPEC`, in running order."""
    specs = []
    for module in pkgutil.iter_modules(__path__):
        if module.ispkg:
            spec = importlib.import_module(f"{__name__}.{module.name}.spec").SPEC
            assert isinstance(spec, Feature) and spec.name == module.name, module.name
            specs.append(spec)
    return {spec.name: spec for spec in sorted(specs, key=lambda s: (s.order, s.name))}


# The spec packages as discovered, and the registry the engine and router read (a copy:
# tests swap the registry for probes; views of the real features keep to DISCOVERED).
DISCOVERED: dict[str, Feature] = _discover()
FEATURES: dict[str, Feature] = dict(DISCOVERED)


def get(name: str) -> Feature:
    """Return a registered feature or raise UsageError with the known names."""
    from automation.errors import UsageError

    try:
        return FEATURES[name]
    except KeyError:
        known = ", ".join(FEATURES) or "none"
        raise UsageError(f"unknown feature {name!r} (known: {known})") from None

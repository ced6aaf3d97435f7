"""Which features an event re-checks, in a fixed order. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from automation import features
from automation.events import Event, EventError
from automation.features import Feature


def _specs(registry: dict[str, Feature] | None = None) -> list[Feature]:
    # Read at call time: the registry is the one source (tests swap it for probes).
    chosen = features.FEATURES if registry is None else registry
    return sorted(chosen.values(), key=lambda f: (f.order, f.name))


def feature_order(registry: dict[str, Feature] | None = None) -> tuple[str, ...]:
    """Every registered feature, in the order they run for one trigger."""
    return tuple(f.name for f in _specs(registry))


def routes(registry: dict[str, Feature] | None = None) -> dict[str, tuple[str, ...]]:
    """`event.action` keys -> the features that re-check them, in running order."""
    table: dict[str, tuple[str, ...]] = {}
    for spec in _specs(registry):
        for key in spec.routes:
            table[key] = (*table.get(key, ()), spec.name)
    return table


def scheduled(registry: dict[str, Feature] | None = None) -> tuple[str, ...]:
    """What a schedule or a manual dispatch runs when no feature is named."""
    return tuple(f.name for f in _specs(registry) if f.sweeps)


# Views of the real features, from the discovered specs: never of a registry a test swapped
# in when this module happened to be imported first.
FEATURE_ORDER: tuple[str, ...] = feature_order(features.DISCOVERED)
ROUTES: dict[str, tuple[str, ...]] = routes(features.DISCOVERED)
SCHEDULED: tuple[str, ...] = scheduled(features.DISCOVERED)


@dataclass(frozen=True)
class Route:
    """The features to run and the subjects to re-check (None: sweep everything)."""

    features: tuple[str, ...]
    numbers: tuple[int, ...] | None


def route(event: Event, requested: Sequence[str] = ()) -> Route:
    """Return the features and subjects this event re-checks."""
    if event.name in ("schedule", "workflow_dispatch"):
        order = feature_order()
        dispatched = _dispatch_features(event)
        unknown = [name for name in dispatched if name not in order]
        if unknown:
            # A typo in the dispatch form would otherwise run nothing and report success.
            raise EventError(
                f"unknown feature(s) in the workflow_dispatch input: {', '.join(unknown)} "
                f"(known: {', '.join(order)})"
            )
        wanted = tuple(requested) or dispatched or scheduled()
        return Route(tuple(f for f in order if f in wanted), None)
    chosen = routes().get(event.key, ())
    if requested:
        chosen = tuple(f for f in chosen if f in requested)
    number = event.number
    return Route(chosen, (number,) if number else ())


def _dispatch_features(event: Event) -> tuple[str, ...]:
    raw = event.inputs.get("features")
    if not isinstance(raw, str):
        return ()
    names = tuple(part for part in raw.replace(",", " ").split() if part)
    # "all" is the dispatch form's default choice: every scheduled feature.
    return () if names == ("all",) else names

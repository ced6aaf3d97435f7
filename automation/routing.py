"""Which features an event re-checks, in a fixed order. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from automation.events import Event, EventError

# Every feature, in the order they run for one trigger.
FEATURE_ORDER: tuple[str, ...] = ("triage", "ownership", "release", "stale", "oncall", "digest")

# `event.action` keys -> features. Events only name what to re-check: every decision is
# recomputed from fresh state, so a late or duplicate delivery does no harm.
ROUTES: dict[str, tuple[str, ...]] = {
    "issues.opened": ("triage", "stale"),
    "issues.edited": ("triage", "stale"),
    "issues.reopened": ("triage", "stale"),
    "issues.labeled": ("triage", "stale"),
    "issues.unlabeled": ("stale",),
    "issue_comment.created": ("triage", "stale"),
    "issue_comment.edited": ("stale",),
    "pull_request_target.opened": ("ownership",),
    "pull_request_target.synchronize": ("ownership",),
    "pull_request_target.reopened": ("ownership",),
    "pull_request_target.ready_for_review": ("ownership",),
    "pull_request_target.edited": ("ownership",),
    "pull_request_target.closed": ("release",),
    "pull_request.closed": ("release",),
    "pull_request_review.submitted": ("ownership",),
    "pull_request_review.dismissed": ("ownership",),
    "pull_request_review.edited": ("ownership",),
}

# What a schedule or a manual dispatch runs when no feature is named.
SCHEDULED: tuple[str, ...] = ("triage", "release", "stale", "oncall", "digest")


@dataclass(frozen=True)
class Route:
    """The features to run and the subjects to re-check (None: sweep everything)."""

    features: tuple[str, ...]
    numbers: tuple[int, ...] | None


def route(event: Event, requested: Sequence[str] = ()) -> Route:
    """Return the features and subjects this event re-checks."""
    if event.name in ("schedule", "workflow_dispatch"):
        dispatched = _dispatch_features(event)
        unknown = [name for name in dispatched if name not in FEATURE_ORDER]
        if unknown:
            # A typo in the dispatch form would otherwise run nothing and report success.
            raise EventError(
                f"unknown feature(s) in the workflow_dispatch input: {', '.join(unknown)} "
                f"(known: {', '.join(FEATURE_ORDER)})"
            )
        wanted = tuple(requested) or dispatched or SCHEDULED
        return Route(tuple(f for f in FEATURE_ORDER if f in wanted), None)
    features = ROUTES.get(event.key, ())
    if requested:
        features = tuple(f for f in features if f in requested)
    number = event.number
    return Route(tuple(f for f in FEATURE_ORDER if f in features), (number,) if number else ())


def _dispatch_features(event: Event) -> tuple[str, ...]:
    raw = event.inputs.get("features")
    if not isinstance(raw, str):
        return ()
    names = tuple(part for part in raw.replace(",", " ").split() if part)
    # "all" is the dispatch form's default choice: every scheduled feature.
    return () if names == ("all",) else names

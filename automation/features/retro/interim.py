"""Review waits and incident clocks, computed here from GitHub's record until the review
loop (policies/reviews.yaml) and the incidents feature (policies/incidents.yaml) land; then
these two functions give way to theirs. Pure, and nothing else in the retrospective
depends on how they compute.

- Review wait: from a review request for a person (a `review_requested` event) to that
  person's first review (a `reviewed` event), or to the snapshot for one still waiting. The
  area is the PR's `area:` label, else the one area the reviewer owns.
- Incidents (label `incident`, `severity:sevN`): acknowledged by an assignee's comment or
  reaction, or a person adding the `acknowledged` label; resolved when closed. MTTA and
  MTTR are means in hours.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from automation.features.retro.figures import hours, is_person, percentile, severity_of
from automation.rules.retro import Period
from automation.snapshot.models import Snapshot

if TYPE_CHECKING:
    from automation.policy.policies import Policies

ACK_LABEL = "acknowledged"
NO_AREA = "(no area)"


@dataclass(frozen=True)
class ReviewRow:
    """Waits for a requested reviewer in one area."""

    area: str
    requests: int
    waiting: int  # not reviewed yet
    median_hours: float | None
    p90_hours: float | None


def _owned_areas(policies: Policies, login: str) -> list[str]:
    return [
        a.name
        for a in policies.owners.areas
        if login.casefold() in {m.casefold() for m in policies.owners.expand(a.owners)}
    ]


def review_rows(policies: Policies, snapshot: Snapshot, period: Period) -> list[ReviewRow]:
    """Per area: how long requested reviewers took to review PRs opened in the period."""
    prefix = policies.triage.labels.area_prefix
    waits: dict[str, list[float]] = {}
    waiting: dict[str, int] = {}
    for pull in snapshot.pulls:
        if pull.created_at not in period or pull.events is None or pull.author_is_bot:
            continue
        labelled = [x.removeprefix(prefix) for x in pull.labels if x.startswith(prefix)]
        events = sorted(pull.events, key=lambda e: e.created_at)
        for index, event in enumerate(events):
            reviewer = event.requested_reviewer
            if event.event != "review_requested" or reviewer is None:
                continue
            owned = _owned_areas(policies, reviewer)
            area = labelled[0] if labelled else (owned[0] if len(owned) == 1 else NO_AREA)
            review = next(
                (
                    e
                    for e in events[index:]
                    if e.event == "reviewed" and e.actor.casefold() == reviewer.casefold()
                ),
                None,
            )
            end = review.created_at if review is not None else snapshot.taken_at
            waits.setdefault(area, []).append(hours(end - event.created_at))
            if review is None:
                waiting[area] = waiting.get(area, 0) + 1
    return [
        ReviewRow(
            area,
            len(values),
            waiting.get(area, 0),
            statistics.median(values),
            percentile(values, 0.9),
        )
        for area, values in sorted(waits.items())
    ]


@dataclass(frozen=True)
class IncidentRow:
    """Incidents of one severity: how fast they were acknowledged and resolved."""

    severity: str
    incidents: int
    acknowledged: int
    resolved: int
    mtta_hours: float | None
    mttr_hours: float | None


def incident_rows(policies: Policies, snapshot: Snapshot, period: Period) -> list[IncidentRow]:
    """Per severity: incidents opened in the period, MTTA and MTTR in hours."""
    bot = snapshot.bot_login
    label = policies.retro.incident_label
    prefix = policies.triage.labels.severity_prefix
    ttas: dict[str, list[float]] = {}
    ttrs: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for item in snapshot.issues:
        if label not in item.labels or item.created_at not in period or item.events is None:
            continue
        severity = severity_of(prefix, item.labels) or "none"
        counts[severity] = counts.get(severity, 0) + 1
        assignees = {a.casefold() for a in item.assignees} | {
            (e.assignee or "").casefold() for e in item.events if e.event == "assigned"
        }
        acks = [
            e.created_at
            for e in item.events
            if is_person(e, bot)
            and (
                (e.event in ("commented", "reacted") and e.actor.casefold() in assignees)
                or (e.event == "labeled" and (e.label or "").casefold() == ACK_LABEL)
            )
        ]
        if acks:
            ttas.setdefault(severity, []).append(hours(min(acks) - item.created_at))
        if item.state == "closed" and item.closed_at is not None:
            ttrs.setdefault(severity, []).append(hours(item.closed_at - item.created_at))
    return [
        IncidentRow(
            severity,
            counts[severity],
            len(ttas.get(severity, [])),
            len(ttrs.get(severity, [])),
            statistics.fmean(ttas[severity]) if ttas.get(severity) else None,
            statistics.fmean(ttrs[severity]) if ttrs.get(severity) else None,
        )
        for severity in sorted(counts)
    ]

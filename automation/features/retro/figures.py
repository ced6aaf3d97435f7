"""What the policies produced over a period, as figures (pure): triage SLAs and escalations,
on-call load, stale closes people undid, and trains. Review waits and incidents' MTTA and
MTTR are the review loop's and the incidents feature's own figures (`automation.rules.reviews`,
`automation.rules.incidents`).

Everything is read from GitHub's record of the items: labels, assignments, comments,
closes and reopens in their timelines (`Issue.events`), and the policies' own schedules.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from automation.rules.incidents import is_incident
from automation.rules.retro import Period
from automation.rules.stats import percentile as percentile
from automation.snapshot.models import Issue, IssueEvent, PullRequest, Snapshot

if TYPE_CHECKING:
    from automation.policy.policies import Policies

# A train merged later than this after its departure counts as late (as in the digest).
LATE_AFTER = dt.timedelta(hours=24)
# Night in a person's own time zone: from 22:00 to 07:00.
NIGHT_FROM, NIGHT_UNTIL = 22, 7


def gini(values: Sequence[float]) -> float | None:
    """The Gini coefficient of a load (0: everyone equal; near 1: one person carries all)."""
    if not values or sum(values) == 0:
        return None
    ordered = sorted(values)
    n = len(ordered)
    weighted = sum((index + 1) * value for index, value in enumerate(ordered))
    return (2 * weighted) / (n * sum(ordered)) - (n + 1) / n


def hours(delta: dt.timedelta) -> float:
    """A duration in hours."""
    return delta.total_seconds() / 3600


def is_person(event: IssueEvent, bot: str) -> bool:
    """An event done by a person (not the project, not any other bot)."""
    return not (event.actor_is_bot or event.actor == bot or event.actor.endswith("[bot]"))


def is_bot_event(event: IssueEvent, bot: str) -> bool:
    """An event the project (or another bot) did."""
    return not is_person(event, bot)


def severity_of(prefix: str, labels: Iterable[str]) -> str | None:
    """The severity of a `<prefix><name>` label."""
    return next((x.removeprefix(prefix) for x in labels if x.startswith(prefix)), None)


# --- triage --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TriageRow:
    """Acknowledgement against the SLA for one severity."""

    severity: str
    sla_hours: float | None
    regressions: int
    decided: int  # acknowledged, or past the deadline without it
    met: int
    escalated: int
    median_hours: float | None
    p90_hours: float | None
    # The hours within which the policy's share (sla_share) was acknowledged.
    share_hours: float | None

    @property
    def met_rate(self) -> float | None:
        """Share of decided regressions acknowledged within the SLA."""
        return self.met / self.decided if self.decided else None


def acknowledged_at(policies: Policies, item: Issue, bot: str) -> dt.datetime | None:
    """When a person first acknowledged a regression: triage.yaml's acknowledgement label,
    or a comment by an assignee (the rule escalation applies)."""
    ack = policies.triage.acknowledgement
    label = ack.label.casefold() if ack.label else None
    assignees = {a.casefold() for a in item.assignees} | {
        (e.assignee or "").casefold() for e in item.events or () if e.event == "assigned"
    }
    times = [
        e.created_at
        for e in item.events or ()
        if is_person(e, bot)
        and (
            (e.event == "labeled" and label is not None and (e.label or "").casefold() == label)
            or (e.event == "commented" and ack.assignee_comment and e.actor.casefold() in assignees)
        )
    ]
    return min(times, default=None)


def triage_rows(
    policies: Policies, snapshot: Snapshot, period: Period, share: float
) -> list[TriageRow]:
    """Per severity: regressions opened in the period, how many met the SLA, escalations."""
    triage = policies.triage
    bot = snapshot.bot_login
    slas = {str(k): float(v) for k, v in triage.sla_hours.items()}
    regressions = [
        i
        for i in snapshot.issues
        if triage.label in i.labels and i.created_at in period and i.events is not None
    ]
    by_severity: dict[str, list[Issue]] = {}
    for item in regressions:
        severity = severity_of(triage.labels.severity_prefix, item.labels) or "none"
        by_severity.setdefault(severity, []).append(item)
    rows = []
    for severity in sorted({*slas, *by_severity}):
        items = by_severity.get(severity, [])
        limit = slas.get(severity)
        waits: list[float] = []
        decided = met = escalated = 0
        for item in items:
            acked = acknowledged_at(policies, item, bot)
            if any(
                e.event == "labeled" and e.label == triage.labels.escalated and is_bot_event(e, bot)
                for e in item.events or ()
            ):
                escalated += 1
            if acked is not None:
                waits.append(hours(acked - item.created_at))
            if limit is None:
                continue
            deadline = item.created_at + dt.timedelta(hours=limit)
            if acked is not None and acked <= deadline:
                decided += 1
                met += 1
            elif acked is not None or (
                # Never acknowledged and the deadline passed (closed unacknowledged before
                # the deadline: a duplicate or a false alarm, not counted).
                deadline <= snapshot.taken_at
                and (item.closed_at is None or item.closed_at > deadline)
            ):
                decided += 1
        rows.append(
            TriageRow(
                severity,
                limit,
                len(items),
                decided,
                met,
                escalated,
                statistics.median(waits) if waits else None,
                percentile(waits, 0.9),
                percentile(waits, share),
            )
        )
    return rows


# --- on call -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One regression or incident assigned to a person by the project."""

    number: int
    login: str
    at: dt.datetime
    on_call: bool  # the person was the rotation's on-call then (else: the area's owner)
    area: str | None
    night_or_weekend: bool


@dataclass(frozen=True)
class LoadRow:
    """One person's on-call load over the period."""

    login: str
    pages: int
    on_call_pages: int
    area_pages: int
    nights_and_weekends: int
    hours_on_call: float
    weekend_hours_on_call: float


@dataclass(frozen=True)
class Load:
    """Everyone's load and how evenly it is spread."""

    rotation: str | None
    rows: list[LoadRow]
    median_pages: float | None
    max_over_median: float | None
    gini: float | None
    pages: list[Page] = field(default_factory=list)

    @property
    def busiest(self) -> LoadRow | None:
        """The person with the most pages."""
        return max(self.rows, key=lambda r: (r.pages, r.login), default=None)


def _night_or_weekend(policies: Policies, login: str, at: dt.datetime) -> bool:
    person = policies.owners.person(login)
    zone = ZoneInfo(person.timezone) if person is not None and person.timezone else dt.UTC
    local = at.astimezone(zone)
    return local.weekday() >= 5 or local.hour >= NIGHT_FROM or local.hour < NIGHT_UNTIL


def _shift_hours(
    policies: Policies, rotation: str, period: Period
) -> tuple[dict[str, float], dict[str, float]]:
    """Hours on call as primary per person, and the part of them on a local weekend."""
    found = policies.oncall.rotation(rotation)
    total: dict[str, float] = {}
    weekend: dict[str, float] = {}
    if found is None:
        return total, weekend
    zone = found.zone
    for shift in policies.oncall.schedule(rotation, period.since, period.until):
        start = max(shift.start.astimezone(dt.UTC), period.since)
        end = min(shift.end.astimezone(dt.UTC), period.until)
        if end <= start:
            continue
        total[shift.primary] = total.get(shift.primary, 0.0) + hours(end - start)
        # Weekend hours: step through the local days the shift spans.
        day = start.astimezone(zone).date()
        while True:
            day_start = dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
            if day_start >= end:
                break
            day_end = dt.datetime.combine(
                day + dt.timedelta(days=1), dt.time(0), tzinfo=zone
            ).astimezone(dt.UTC)
            if day.weekday() >= 5:
                overlap = min(end, day_end) - max(start, day_start)
                if overlap > dt.timedelta(0):
                    weekend[shift.primary] = weekend.get(shift.primary, 0.0) + hours(overlap)
            day += dt.timedelta(days=1)
    return total, weekend


def oncall_load(policies: Policies, snapshot: Snapshot, period: Period) -> Load:
    """Pages per person (the project assigning them a regression or an incident), hours on
    call from the rotation's schedule, pages at night or on a weekend in their own zone."""
    bot = snapshot.bot_login
    rotation = None if "oncall" in policies.absent else policies.triage.rotation
    if rotation is not None and policies.oncall.rotation(rotation) is None:
        rotation = None
    area_prefix = policies.triage.labels.area_prefix
    pages: list[Page] = []
    for item in snapshot.issues:
        paged = policies.triage.label in item.labels or is_incident(policies.incidents, item)
        if not paged or item.events is None or item.created_at not in period:
            continue
        area = next(
            (x.removeprefix(area_prefix) for x in item.labels if x.startswith(area_prefix)), None
        )
        seen: set[str] = set()
        for event in item.events:
            if event.event != "assigned" or event.assignee is None or is_person(event, bot):
                continue
            if event.assignee in seen or event.created_at not in period:
                continue
            seen.add(event.assignee)
            on_call = rotation is not None and (
                policies.oncall.on_call(rotation, event.created_at).casefold()
                == event.assignee.casefold()
            )
            pages.append(
                Page(
                    item.number,
                    event.assignee,
                    event.created_at,
                    on_call,
                    area,
                    _night_or_weekend(policies, event.assignee, event.created_at),
                )
            )
    on_call_hours, weekend_hours = (
        _shift_hours(policies, rotation, period) if rotation is not None else ({}, {})
    )
    members = list(policies.oncall.rotation(rotation).members) if rotation else []  # type: ignore[union-attr]
    people = sorted({*members, *(p.login for p in pages)})
    rows = [
        LoadRow(
            login,
            sum(1 for p in pages if p.login == login),
            sum(1 for p in pages if p.login == login and p.on_call),
            sum(1 for p in pages if p.login == login and not p.on_call),
            sum(1 for p in pages if p.login == login and p.night_or_weekend),
            round(on_call_hours.get(login, 0.0), 1),
            round(weekend_hours.get(login, 0.0), 1),
        )
        for login in people
    ]
    counts = [float(r.pages) for r in rows]
    median = statistics.median(counts) if counts else None
    top = max(counts, default=0.0)
    ratio = top / median if median else None
    return Load(rotation, rows, median, ratio, gini(counts), pages)


# --- stale ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaleRow:
    """One stale rule's closes in the period and how many a person reopened."""

    rule: str
    index: int
    days_until_stale: int
    closed: list[int]
    reopened: list[int]

    @property
    def false_close_rate(self) -> float | None:
        """Share of the rule's closes a person undid."""
        return len(self.reopened) / len(self.closed) if self.closed else None


def stale_closes(policies: Policies, item: Issue, bot: str) -> list[tuple[dt.datetime, bool]]:
    """Each close of the item by the sweep (a bot closing it while it carried a stale label),
    and whether a person reopened it afterwards."""
    stale_labels = {r.stale_label.casefold() for r in policies.stale.rules}
    labels: set[str] = set()
    out: list[tuple[dt.datetime, bool]] = []
    for event in sorted(item.events or (), key=lambda e: e.created_at):
        name = (event.label or "").casefold()
        if event.event == "labeled":
            labels.add(name)
        elif event.event == "unlabeled":
            labels.discard(name)
        elif event.event == "closed" and is_bot_event(event, bot) and labels & stale_labels:
            out.append((event.created_at, False))
        elif event.event == "reopened" and is_person(event, bot) and out and not out[-1][1]:
            out[-1] = (out[-1][0], True)
    return out


def _rule_for(policies: Policies, item: Issue) -> int | None:
    from automation.rules.stale import select_rule

    rule = select_rule(policies.stale, item)
    if rule is None:  # its labels changed since: the first rule of its kind
        is_pull = isinstance(item, PullRequest)
        rule = next((r for r in policies.stale.rules if r.covers_kind(is_pull, False)), None)
    return None if rule is None else policies.stale.rules.index(rule)


def stale_rows(policies: Policies, snapshot: Snapshot, period: Period) -> list[StaleRow]:
    """Per rule: items it closed in the period, and those a person reopened since."""
    if "stale" in policies.absent:
        return []
    closed: dict[int, list[int]] = {i: [] for i in range(len(policies.stale.rules))}
    reopened: dict[int, list[int]] = {i: [] for i in range(len(policies.stale.rules))}
    for item in (*snapshot.issues, *snapshot.pulls):
        closes = [c for c in stale_closes(policies, item, snapshot.bot_login) if c[0] in period]
        if not closes:
            continue
        index = _rule_for(policies, item)
        if index is None:
            continue
        closed[index].append(item.number)
        if any(again for _, again in closes):
            reopened[index].append(item.number)
    return [
        StaleRow(rule.name, i, rule.days_until_stale, sorted(closed[i]), sorted(reopened[i]))
        for i, rule in enumerate(policies.stale.rules)
    ]


# --- trains --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainRow:
    """One scheduled train of the period and what became of it."""

    slot: dt.date
    departs: dt.datetime | None
    held_by: str | None
    number: int | None
    merged_at: dt.datetime | None

    @property
    def late(self) -> bool:
        """Merged over a day after its departure."""
        return (
            self.departs is not None
            and self.merged_at is not None
            and self.merged_at - self.departs > LATE_AFTER
        )


@dataclass(frozen=True)
class Trains:
    """The period's trains: late, skipped (nothing merged for a departure), held."""

    rows: list[TrainRow]

    @property
    def late(self) -> list[TrainRow]:
        """Trains merged over a day after departure."""
        return [r for r in self.rows if r.late]

    @property
    def skipped(self) -> list[TrainRow]:
        """Departures no train was merged for (nothing to ship, a closed train PR)."""
        return [r for r in self.rows if r.departs is not None and r.merged_at is None]

    @property
    def held(self) -> list[TrainRow]:
        """Trains a freeze or a blackout date moved (or, without catch-up, cancelled)."""
        return [r for r in self.rows if r.held_by is not None]


def _train_day(policies: Policies, pull: PullRequest) -> dt.date | None:
    """The train date a train PR carries: in its branch (the pulls list) or its title (the
    issues list has no branch)."""
    from automation.policy.release import parse_name

    policy = policies.release
    return parse_name(policy.branch_pattern, pull.head_ref) or parse_name(
        policy.title_pattern, pull.title
    )


def trains(policies: Policies, snapshot: Snapshot, period: Period) -> Trains:
    """Every train the cadence scheduled in the period, matched to its merged train PR."""
    if "release" in policies.absent:
        return Trains([])
    from automation.rules.release import blocked, departure_of, is_train_day, local_time

    policy = policies.release
    zone = ZoneInfo(policy.timezone)
    merged: dict[dt.date, PullRequest] = {}
    for pull in snapshot.pulls:
        day = _train_day(policies, pull)
        if not (set(policy.labels) & set(pull.labels) and pull.merged_at and day):
            continue
        if day not in merged or pull.merged_at < (merged[day].merged_at or pull.merged_at):
            merged[day] = pull  # the first merged train of the day
    rows: list[TrainRow] = []
    day = period.since.astimezone(zone).date()
    last = period.until.astimezone(zone).date()
    departed: set[dt.date] = set()
    while day <= last:
        if is_train_day(policy, day) and local_time(policy, day) in period:
            departure = departure_of(policy, day)
            # Held trains that catch up together leave as one: the first slot counts; one
            # leaving after the period is not judged yet.
            leaving = departure.day if departure is not None else None
            at = departure.at if departure is not None else None
            if leaving in departed or at not in period:
                at = None
            found = merged.get(leaving or day) or merged.get(day)
            rows.append(
                TrainRow(
                    day,
                    at,
                    blocked(policy, day),
                    found.number if found else None,
                    found.merged_at if found else None,
                )
            )
            if leaving is not None:
                departed.add(leaving)
        day += dt.timedelta(days=1)
    return Trains(rows)

"""The weekly digest: one issue per ISO week with the operating figures. Pure.

The digest reports the last complete ISO week (UTC) before `now`, so every run during a
week, scheduled or dispatched, writes the same issue (found by its marker) with the same
figures, and a Monday run sees the whole of the week before.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from automation import markers as plan
from automation.actions import Plan, UpsertIssue
from automation.rules.digest import (
    TREND_WEEKS,
    Week,
    protected_groups,
    report_week,
    sla_hours,
)
from automation.rules.retro import open_retro_pull
from automation.rules.stats import percentile as percentile
from automation.snapshot.models import Issue, PullRequest, Snapshot

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.rules.incidents import SeverityFigures

FEATURE = "digest"
LABEL = "ops-digest"
RELEASE_LABEL = "release-train"
SERVER_URL = "https://github.com"
# A train merged later than this after its departure counts as late.
LATE_AFTER = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Ack:
    """One eval regression and when (if ever) it was acknowledged."""

    number: int
    severity: str | None
    created_at: dt.datetime
    acked_at: dt.datetime | None
    sla: dt.timedelta | None
    closed_at: dt.datetime | None = None

    @property
    def deadline(self) -> dt.datetime | None:
        """When the SLA to acknowledge runs out."""
        return self.created_at + self.sla if self.sla is not None else None

    @property
    def time_to_ack(self) -> dt.timedelta | None:
        """How long acknowledging took."""
        return self.acked_at - self.created_at if self.acked_at else None


@dataclass(frozen=True)
class SeverityRow:
    """Time to acknowledge against the SLA for one severity."""

    severity: str
    sla_hours: float | None
    acknowledged: int
    median_hours: float | None
    p90_hours: float | None
    within_sla: int


@dataclass(frozen=True)
class AuditRow:
    """A PR merged into protected paths without a passing owner-approval check."""

    number: int
    title: str
    author: str
    merged_at: dt.datetime
    groups: tuple[str, ...]
    check: str


@dataclass(frozen=True)
class TrendRow:
    """Figures of one week of the trend."""

    week: str
    backlog: int
    opened: int
    resolved: int


@dataclass
class Figures:
    """Every figure of one week's digest."""

    week: Week
    regressions_opened: list[int] = field(default_factory=list)
    regressions_acknowledged: list[int] = field(default_factory=list)
    regressions_resolved: list[int] = field(default_factory=list)
    median_hours: float | None = None
    p90_hours: float | None = None
    by_severity: list[SeverityRow] = field(default_factory=list)
    breaches: list[int] = field(default_factory=list)
    trains_due: int = 0
    trains_shipped: list[int] = field(default_factory=list)
    trains_late: list[int] = field(default_factory=list)
    trains_skipped: int = 0
    trains_closed_unmerged: list[int] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)
    stale_warned: list[int] = field(default_factory=list)
    stale_closed: list[int] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)
    audit_checked: int = 0
    backlog: int = 0
    backlog_before: int = 0
    trend: list[TrendRow] = field(default_factory=list)
    incidents: IncidentFigures | None = None  # None: the incidents feature is off

    # The retrospective's open PR, if any (its proposals wait for a person's decision).
    retro_pr: int | None = None


@dataclass(frozen=True)
class IncidentFigures:
    """MCP tool incidents in the week (the pure figures live in rules/incidents.py)."""

    opened: list[int]
    closed: list[int]
    rows: list[SeverityFigures]
    escalations: int
    postmortems_overdue: list[int]


def incident_figures(policies: Policies, snapshot: Snapshot, week: Week) -> IncidentFigures:
    """Incidents opened and closed in the week, MTTA and MTTR per severity, escalation steps
    taken in it, and our postmortems still open past their due time at its end."""
    from automation.rules.incidents import figures, is_incident, postmortem_overdue

    policy = policies.incidents
    incidents = [i for i in snapshot.issues if is_incident(policy, i)]
    rows = figures(policies, incidents, week.start, week.end)
    return IncidentFigures(
        opened=_numbers(i for i in incidents if i.created_at in week),
        closed=_numbers(i for i in incidents if i.state == "closed" and i.closed_at in week),
        rows=rows,
        escalations=sum(r.escalations for r in rows),
        postmortems_overdue=_numbers(
            i for i in snapshot.issues if i.author_is_bot and postmortem_overdue(i, week.end)
        ),
    )


# --- pieces --------------------------------------------------------------------------------


def severity_of(policies: Policies, item: Issue) -> str | None:
    """The severity from a `<severity_prefix><name>` label (triage.yaml's labels)."""
    prefix = policies.triage.labels.severity_prefix
    for label in item.labels:
        if label.startswith(prefix):
            return label.removeprefix(prefix)
    return None


def acknowledged_at(policies: Policies, item: Issue) -> dt.datetime | None:
    """When a person first acknowledged the regression, as triage.yaml's `acknowledgement`
    defines it (its label, or a comment by an assignee), the same rule escalation applies.

    Read from the issue's timeline (`events`); None when not acknowledged or not read.
    """
    ack = policies.triage.acknowledgement
    label = ack.label.casefold() if ack.label else None
    assignees = {a.casefold() for a in item.assignees} if ack.assignee_comment else set()
    times = [
        e.created_at
        for e in item.events or ()
        if not (e.actor_is_bot or e.actor.endswith("[bot]"))
        and (
            (e.event == "labeled" and label is not None and (e.label or "").casefold() == label)
            or (e.event == "commented" and e.actor.casefold() in assignees)
        )
    ]
    return min(times, default=None)


def departures(policies: Policies, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Scheduled train departures in [start, end), from the release cadence."""
    from automation.rules.release import is_train_day

    if "release" in policies.absent:
        return []  # no release.yaml: no train runs, so none departs
    release = policies.release
    zone = ZoneInfo(release.timezone)
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date() + dt.timedelta(days=1)
    out = []
    while day <= last:
        # The weekdays, and every_weeks counted from the anchor: an off week has no train.
        if is_train_day(release, day):
            when = dt.datetime.combine(day, release.time, tzinfo=zone)
            if start <= when < end:
                out.append(when)
        day += dt.timedelta(days=1)
    return out


def _hours(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 3600


def _numbers(items: Iterable[Issue]) -> list[int]:
    return sorted(i.number for i in items)


def _backlog_at(items: Sequence[Issue], when: dt.datetime) -> int:
    return sum(
        1 for i in items if i.created_at < when and (i.closed_at is None or i.closed_at >= when)
    )


# --- figures -------------------------------------------------------------------------------


def compute_figures(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Figures:
    """Compute every figure of the digest for the week before `now`."""
    week = report_week(now)
    figures = Figures(week)
    label = policies.triage.label
    regressions = [i for i in snapshot.issues if label in i.labels]
    figures.regressions_opened = _numbers(i for i in regressions if i.created_at in week)
    figures.regressions_resolved = _numbers(
        i for i in regressions if i.state == "closed" and i.closed_at in week
    )
    slas = sla_hours(policies)
    acks = [
        Ack(
            i.number,
            severity_of(policies, i),
            i.created_at,
            acknowledged_at(policies, i),
            dt.timedelta(hours=slas[s]) if (s := severity_of(policies, i)) in slas else None,
            i.closed_at,
        )
        for i in regressions
        if i.events is not None
    ]
    acked = [a for a in acks if a.acked_at in week]
    figures.regressions_acknowledged = sorted(a.number for a in acked)
    hours = [_hours(a.time_to_ack) for a in acked if a.time_to_ack is not None]
    figures.median_hours = statistics.median(hours) if hours else None
    figures.p90_hours = percentile(hours, 0.9)
    for severity in sorted({*slas, *(a.severity for a in acked if a.severity)}):
        rows = [a for a in acked if a.severity == severity]
        values = [_hours(a.time_to_ack) for a in rows if a.time_to_ack is not None]
        limit = slas.get(severity)
        figures.by_severity.append(
            SeverityRow(
                severity,
                limit,
                len(rows),
                statistics.median(values) if values else None,
                percentile(values, 0.9),
                sum(1 for v in values if limit is not None and v <= limit),
            )
        )
    # A breach belongs to the week its deadline fell in: neither acknowledged nor closed
    # (a duplicate, a false alarm) by then.
    figures.breaches = sorted(
        a.number
        for a in acks
        if (deadline := a.deadline) is not None
        and deadline in week
        and (a.acked_at is None or a.acked_at > deadline)
        and (a.closed_at is None or a.closed_at > deadline)
    )

    trains = [p for p in snapshot.pulls if RELEASE_LABEL in p.labels]
    due = departures(policies, week.start, week.end)
    figures.trains_due = len(due)
    shipped = [p for p in trains if p.merged_at in week]
    figures.trains_shipped = _numbers(shipped)
    every_departure = departures(policies, week.start - dt.timedelta(days=8), week.end)
    for pull in shipped:
        assert pull.merged_at is not None
        before = [d for d in every_departure if d <= pull.merged_at]
        if before and pull.merged_at - before[-1] > LATE_AFTER:
            figures.trains_late.append(pull.number)
    figures.trains_late.sort()
    figures.trains_closed_unmerged = _numbers(
        p for p in trains if p.state == "closed" and not p.merged and p.closed_at in week
    )
    # A departure of the week that no merged train followed before the next one was skipped
    # (nothing to ship, a freeze, or a release PR closed unmerged).
    bounds = [*due, week.end]
    merges = [p.merged_at for p in trains if p.merged_at is not None]
    figures.trains_skipped = sum(
        1
        for start, stop in itertools.pairwise(bounds)
        if not any(start <= m < stop + LATE_AFTER for m in merges)
    )
    figures.releases = [
        r.tag for r in sorted(snapshot.releases, key=lambda r: r.tag) if r.published_at in week
    ]

    stale_labels = {rule.stale_label for rule in policies.stale.rules}
    items: list[Issue] = [*snapshot.issues, *snapshot.pulls]
    stale = [i for i in items if stale_labels & set(i.labels)]
    figures.stale_warned = _numbers(i for i in stale if i.state == "open" and i.updated_at in week)
    # The sweep closes an issue with its rule's close_reason; a pull request records none
    # (GitHub keeps state_reason for issues), so an unmerged one counts by its label alone.
    reasons = {rule.close_reason for rule in policies.stale.rules}
    figures.stale_closed = _numbers(
        i
        for i in stale
        if i.state == "closed"
        and i.closed_at in week
        and (not i.merged if isinstance(i, PullRequest) else i.state_reason in reasons)
    )

    check = policies.ownership.check_name
    for pull in sorted(snapshot.pulls, key=lambda p: p.number):
        if not (pull.merged and pull.merged_at in week and pull.files is not None):
            continue
        figures.audit_checked += 1
        groups = protected_groups(policies, pull)
        if not groups:
            continue
        runs = [c for c in snapshot.check_runs if c.name == check and c.head_sha == pull.head_sha]
        conclusion = max((c.id, c.conclusion or c.status) for c in runs)[1] if runs else None
        if conclusion != "success":
            assert pull.merged_at is not None
            figures.audit.append(
                AuditRow(
                    pull.number,
                    pull.title,
                    pull.author,
                    pull.merged_at,
                    groups,
                    conclusion or "missing",
                )
            )

    retro = open_retro_pull(policies, snapshot)
    figures.retro_pr = retro.number if retro is not None else None

    backlog = [i for i in snapshot.issues if LABEL not in i.labels]
    figures.backlog = _backlog_at(backlog, week.end)
    figures.backlog_before = _backlog_at(backlog, week.start)
    for back in range(TREND_WEEKS - 1, -1, -1):
        w = week.shift(-back)
        figures.trend.append(
            TrendRow(
                w.label,
                _backlog_at(backlog, w.end),
                sum(1 for i in regressions if i.created_at in w),
                sum(1 for i in regressions if i.state == "closed" and i.closed_at in w),
            )
        )
    if policies.off_reason(("incidents",)) is None:
        figures.incidents = incident_figures(policies, snapshot, week)
    return figures


# --- planner -------------------------------------------------------------------------------


def render_digest(figures: Figures, snapshot: Snapshot, policies: Policies) -> str:
    """The digest issue's body (Markdown, with a Mermaid chart)."""
    from automation.rendering import render_document

    # Written out in full in the template, so `docs check` sees every runbook it links.
    blob = f"{SERVER_URL}/{snapshot.repo}/blob/{snapshot.default_branch}"
    return render_document(
        "digest.md.j2",
        {
            "f": figures,
            "marker": plan.marker(FEATURE, figures.week.label),
            "repo": snapshot.repo,
            "blob": blob,
            "check_name": policies.ownership.check_name,
            "triage_label": policies.triage.label,
            "week_last_day": (figures.week.end - dt.timedelta(days=1)).date(),
            "duration": _duration,
        },
    )


def _duration(value: dt.timedelta | None) -> str:
    from automation.rules.incidents import duration_text

    return "-" if value is None else duration_text(value)


def digest_title(week: Week) -> str:
    """The digest issue's title."""
    return f"Operating digest {week.label}"


def plan_digest(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Open or update this week's digest issue when its figures changed."""
    figures = compute_figures(policies, snapshot, now)
    marker = plan.marker(FEATURE, figures.week.label)
    body = render_digest(figures, snapshot, policies)
    title = digest_title(figures.week)
    # The label, too: anyone who may open an issue can write the marker into its body, but
    # only the project and triagers can label it (the executor's lookup filters by it too).
    existing = next((i for i in snapshot.issues if marker in i.body and LABEL in i.labels), None)
    notes = (
        f"{figures.week.label}: {len(figures.regressions_opened)} regressions opened, "
        f"{len(figures.breaches)} SLA breaches, {len(figures.audit)} unapproved merges",
    )
    if existing is None:
        action = UpsertIssue(
            reason=f"no digest issue for {figures.week.label} yet",
            marker=marker,
            title=title,
            body=body,
            labels=(LABEL,),
        )
        return Plan(FEATURE, (action,), notes)
    if existing.title == title and existing.body == body:
        return Plan(FEATURE, (), notes)
    action = UpsertIssue(
        reason=f"the figures for {figures.week.label} changed since the last run",
        marker=marker,
        title=title,
        body=body,
        labels=(LABEL,),
        number=existing.number,
    )
    return Plan(FEATURE, (action,), notes)

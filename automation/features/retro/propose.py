"""The retrospective's report and its proposals (pure): every figure over the period, and
where one crosses a threshold of policies/retro.yaml, the concrete policy change.

Review waits and incidents' MTTA and MTTR are the review loop's and the incidents feature's
own figures (`rules.reviews.review_figures`, `rules.incidents.figures`), so the retrospective
reports what those features report."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from automation.features.retro import figures
from automation.policy.edit import Edit
from automation.rules.incidents import SeverityFigures
from automation.rules.incidents import figures as incident_figures
from automation.rules.retro import Period
from automation.rules.reviews import AreaFigures, review_figures
from automation.snapshot.models import Snapshot

if TYPE_CHECKING:
    from automation.policy.policies import Policies


@dataclass(frozen=True)
class Finding:
    """A figure past its threshold, what to change, and the edits that change it (none when
    the policy it concerns is not one the retrospective edits)."""

    policy: str
    subject: str
    figure: str
    threshold: str
    advice: str
    edits: tuple[Edit, ...] = ()


@dataclass
class RetroReport:
    """Every figure of one period, and the findings."""

    period: Period
    triage: list[figures.TriageRow]
    load: figures.Load
    stale: list[figures.StaleRow]
    trains: figures.Trains
    reviews: list[AreaFigures]
    incidents: list[SeverityFigures]
    findings: list[Finding] = field(default_factory=list)

    @property
    def edits(self) -> list[Edit]:
        """Every edit the findings propose, in order."""
        return [e for f in self.findings for e in f.edits]


def _pct(value: float) -> str:
    return f"{value * 100:.0f} %"


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _stale_findings(policies: Policies, report: RetroReport) -> list[Finding]:
    limits = policies.retro.thresholds
    out = []
    for row in report.stale:
        rate = row.false_close_rate
        if (
            rate is None
            or len(row.closed) < limits.min_cases
            or rate <= limits.stale_false_close_rate
        ):
            continue
        new = math.ceil(row.days_until_stale * policies.retro.proposals.stale_days_factor)
        out.append(
            Finding(
                "stale",
                f"rule `{row.rule}`",
                f"false-close rate {_pct(rate)}: people reopened {len(row.reopened)} of the "
                f"{len(row.closed)} items it closed",
                f"at most {_pct(limits.stale_false_close_rate)}",
                f"warn later: days_until_stale {row.days_until_stale} → {new}",
                (
                    Edit(
                        "stale", ("rules", row.index, "days_until_stale"), row.days_until_stale, new
                    ),
                ),
            )
        )
    return out


def _triage_findings(policies: Policies, report: RetroReport) -> list[Finding]:
    limits = policies.retro.thresholds
    out = []
    for row in report.triage:
        rate = row.met_rate
        if (
            rate is None
            or row.sla_hours is None
            or row.decided < limits.min_cases
            or rate >= limits.triage_sla_met
            or row.share_hours is None
        ):
            continue
        old = _number(row.sla_hours)
        new = max(math.ceil(row.share_hours), math.floor(row.sla_hours) + 1)
        share = _pct(policies.retro.proposals.sla_share)
        out.append(
            Finding(
                "triage",
                f"`{policies.triage.labels.severity_prefix}{row.severity}`",
                f"SLA met {_pct(rate)} ({row.met} of {row.decided} acknowledged within "
                f"{old} h; {share} within {row.share_hours:.1f} h)",
                f"at least {_pct(limits.triage_sla_met)}",
                f"raise the SLA to what is kept: sla_hours.{row.severity} {old} → {new}, "
                "or put more people on the rotation",
                (Edit("triage", ("sla_hours", row.severity), old, new),),
            )
        )
    return out


def _oncall_findings(policies: Policies, report: RetroReport) -> list[Finding]:
    limits = policies.retro.thresholds
    load = report.load
    busiest = load.busiest
    if (
        busiest is None
        or load.max_over_median is None
        or busiest.pages < limits.min_cases
        or load.max_over_median <= limits.oncall_load_ratio
    ):
        return []
    figure = (
        f"@{busiest.login} took {busiest.pages} pages, {load.max_over_median:.1f}x the median "
        f"({load.median_pages:g}); {busiest.area_pages} as an area's assignee, "
        f"{busiest.on_call_pages} on call"
    )
    threshold = f"at most {limits.oncall_load_ratio:g}x the median"
    if busiest.area_pages <= busiest.on_call_pages:
        return [
            Finding(
                "oncall",
                f"@{busiest.login}",
                figure,
                threshold,
                f"rebalance rotation `{load.rotation}`: the pages come from @{busiest.login}'s "
                "on-call weeks (move busy weeks with `cover` overrides, or add members)",
            )
        ]
    areas: dict[str, int] = {}
    for page in load.pages:
        if page.login == busiest.login and not page.on_call and page.area:
            areas[page.area] = areas.get(page.area, 0) + 1
    pages = {row.login: row.pages for row in load.rows}
    for area, _ in sorted(areas.items(), key=lambda kv: (-kv[1], kv[0])):
        index = next(
            (
                i
                for i, rule in enumerate(policies.triage.areas)
                if rule.area == area
                and (rule.assignee or "").casefold() == busiest.login.casefold()
            ),
            None,
        )
        owned = policies.owners.area(area)
        if index is None or owned is None:
            continue
        others = [
            m
            for m in policies.owners.expand(owned.owners)
            if m.casefold() != busiest.login.casefold()
        ]
        if not others:
            continue
        relief = min(others, key=lambda m: (pages.get(m, 0), m))
        return [
            Finding(
                "oncall",
                f"@{busiest.login}",
                figure,
                threshold,
                f"area `{area}` sends its regressions to @{relief} (fewest pages of its "
                f"owners: {pages.get(relief, 0)}) instead of @{busiest.login}",
                (Edit("triage", ("areas", index, "assignee"), busiest.login, relief),),
            )
        ]
    return []


def _next_train_day(policies: Policies, after: dt.datetime) -> dt.date:
    from zoneinfo import ZoneInfo

    from automation.rules.release import is_train_day

    day = after.astimezone(ZoneInfo(policies.release.timezone)).date()
    while not is_train_day(policies.release, day):
        day += dt.timedelta(days=1)
    return day


def _train_findings(policies: Policies, report: RetroReport) -> list[Finding]:
    limits = policies.retro.thresholds
    late, skipped = report.trains.late, report.trains.skipped
    if len(late) <= limits.trains_late and len(skipped) <= limits.trains_skipped:
        return []
    release = policies.release
    every = release.every_weeks
    edits = [Edit("release", ("every_weeks",), every, every + 1)]
    if release.anchor is None:
        edits.append(
            Edit(
                "release",
                ("anchor",),
                None,
                _next_train_day(policies, report.period.until),
                after=("every_weeks",),
            )
        )
    late_numbers = ", ".join(f"#{r.number}" for r in late)
    return [
        Finding(
            "release",
            "the train",
            f"{len(late)} late (merged over a day after departure"
            f"{': ' + late_numbers if late else ''}), "
            f"{len(skipped)} skipped, {len(report.trains.held)} held by a freeze or blackout, "
            f"of {len(report.trains.rows)} scheduled",
            f"at most {limits.trains_late} late and {limits.trains_skipped} skipped",
            f"run the train less often, so sign-off keeps up: every_weeks {every} → {every + 1}",
            tuple(edits),
        )
    ]


def _escalate_sooner(policies: Policies) -> Edit | None:
    """Ask the areas' secondaries sooner: escalate_after_hours halfway to the reminder (or,
    with no escalation at all, at twice the reminder's hours); None when no room is left."""
    policy = policies.reviews
    remind = policy.remind_after_hours
    escalate = policy.escalate_after_hours
    if escalate is None:
        return Edit(
            "reviews",
            ("escalate_after_hours",),
            None,
            _number(remind * 2),
            after=("remind_after_hours",),
        )
    new = math.ceil(remind + (escalate - remind) / 2)
    if new >= escalate:
        return None
    return Edit("reviews", ("escalate_after_hours",), _number(escalate), new)


def _review_findings(policies: Policies, report: RetroReport) -> list[Finding]:
    """An area whose p90 time to the first owner review (the review loop's own figure) is
    over the threshold: ask its secondary sooner (reviews.yaml `escalate_after_hours`, one
    edit for every slow area, since the loop's hours are not per area); advice when the area
    has no secondary, the review loop is off, or the escalation is already next to the
    reminder."""
    limits = policies.retro.thresholds
    threshold = f"at most {limits.review_wait_p90_hours:g} h"
    edit = None if "reviews" in policies.absent else _escalate_sooner(policies)
    proposed: str | None = None
    out = []
    for row in report.reviews:
        p90 = row.first_review_p90
        if p90 is None or row.reviewed < limits.min_cases or p90 <= limits.review_wait_p90_hours:
            continue
        figure = (
            f"p90 time from ready for review to the first owner review {p90:.0f} h over "
            f"{row.reviewed} reviewed PRs (median {row.first_review_median or 0:.0f} h)"
        )
        area = policies.owners.area(row.area)
        secondary = area.secondary if area is not None else None
        edits: tuple[Edit, ...] = ()
        if "reviews" in policies.absent:
            advice = (
                f"turn the review loop on (policies/reviews.yaml) so area `{row.area}`'s "
                "requested owners are reminded and its secondary asked"
            )
        elif secondary is None:
            advice = (
                f"name a `secondary` for area `{row.area}` in owners.yaml: the review loop "
                "can only remind its owners"
            )
        elif edit is None:
            advice = (
                f"escalate_after_hours is already next to remind_after_hours: add owners to "
                f"area `{row.area}`"
            )
        elif proposed is not None:
            advice = f"the change proposed for {proposed} asks @{secondary} sooner too"
        else:
            proposed = f"area `{row.area}`"
            if edit.old is None:
                advice = (
                    f"ask the area's secondary (@{secondary}) when a review waits: "
                    f"escalate_after_hours → {_number(edit.new)} working hours"
                )
            else:
                advice = (
                    f"ask the area's secondary (@{secondary}) sooner: escalate_after_hours "
                    f"{edit.old} → {edit.new} working hours (the reminder stays at "
                    f"{_number(policies.reviews.remind_after_hours)})"
                )
            edits = (edit,)
        out.append(Finding("reviews", f"area `{row.area}`", figure, threshold, advice, edits))
    return out


def _first_step_sooner(policies: Policies, severity: str) -> tuple[str, Edit] | None:
    """Page the first escalation step of `severity` in half the time; None without one."""
    chain = policies.incidents.escalation.get(severity, ())
    if not chain or chain[0].after_minutes < 2:
        return None
    old = chain[0].after_minutes
    new = math.ceil(old / 2)
    return (
        f"page the first escalation step ({chain[0].to}) sooner: "
        f"escalation.{severity}[0].after_minutes {old} → {new}",
        Edit("incidents", ("escalation", severity, 0, "after_minutes"), old, new),
    )


def _updates_more_often(policies: Policies, severity: str) -> tuple[str, Edit] | None:
    """Ask for status updates twice as often for `severity`; None without an interval."""
    every = policies.incidents.status_updates.every_hours.get(severity)
    if every is None or every < 2:
        return None
    new = every // 2
    return (
        f"ask for status updates more often, so a stalled incident is seen sooner: "
        f"status_updates.every_hours.{severity} {every} → {new}",
        Edit("incidents", ("status_updates", "every_hours", severity), every, new),
    )


def _incident_findings(policies: Policies, report: RetroReport) -> list[Finding]:
    """A severity whose median MTTA or MTTR (the incidents feature's own figures) is over its
    target: page the escalation chain sooner, or ask for status updates more often, in
    policies/incidents.yaml; advice when that file is absent or offers no such field."""
    limits = policies.retro.thresholds
    absent = "incidents" in policies.absent
    out = []
    for row in report.incidents:
        for name, count, value, p90, targets, what, change in (
            (
                "MTTA",
                row.opened,
                row.mtta_median,
                row.mtta_p90,
                limits.incident_mtta_hours,
                "opened",
                _first_step_sooner,
            ),
            (
                "MTTR",
                row.closed,
                row.mttr_median,
                row.mttr_p90,
                limits.incident_mttr_hours,
                "closed",
                _updates_more_often,
            ),
        ):
            target = targets.get(row.severity)
            if value is None or target is None or count < limits.min_cases:
                continue
            median = figures.hours(value)
            if median <= target:
                continue
            found = None if absent else change(policies, row.severity)
            advice = (
                found[0]
                if found is not None
                else f"the {name} of {row.severity} incidents is over target: review the "
                "runbooks of the tools involved"
                + (" and turn the incidents feature on (policies/incidents.yaml)" if absent else "")
            )
            out.append(
                Finding(
                    "incidents",
                    f"`{row.severity}`",
                    f"{name} median {median:.1f} h (p90 {figures.hours(p90 or value):.1f} h) "
                    f"over {count} incidents {what}",
                    f"median at most {target:g} h",
                    advice,
                    (found[1],) if found is not None else (),
                )
            )
    return out


def _incident_figures(
    policies: Policies, snapshot: Snapshot, period: Period
) -> list[SeverityFigures]:
    # Without incidents.yaml its defaults still read the record, unless their rotation (the
    # escalation chain's primary and secondary) is not in oncall.yaml.
    if "incidents" in policies.absent and (
        policies.oncall.rotation(policies.incidents.rotation) is None
    ):
        return []
    return incident_figures(policies, snapshot.issues, period.since, period.until)


def build_report(policies: Policies, snapshot: Snapshot, period: Period) -> RetroReport:
    """Compute every figure of the period and the findings (pure)."""
    share = policies.retro.proposals.sla_share
    report = RetroReport(
        period,
        figures.triage_rows(policies, snapshot, period, share)
        if "triage" not in policies.absent
        else [],
        figures.oncall_load(policies, snapshot, period),
        figures.stale_rows(policies, snapshot, period),
        figures.trains(policies, snapshot, period),
        review_figures(policies, [p for p in snapshot.pulls if p.created_at in period]),
        _incident_figures(policies, snapshot, period),
    )
    for propose in (
        _triage_findings,
        _oncall_findings,
        _stale_findings,
        _train_findings,
        _review_findings,
        _incident_findings,
    ):
        report.findings.extend(propose(policies, report))
    return report

"""The retrospective's report and its proposals (pure): every figure over the period, and
where one crosses a threshold of policies/retro.yaml, the concrete policy change."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from automation.features.retro import figures, interim
from automation.policy.edit import Edit
from automation.rules.retro import Period
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
    reviews: list[interim.ReviewRow]
    incidents: list[interim.IncidentRow]
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


def _review_findings(policies: Policies, report: RetroReport) -> list[Finding]:
    limits = policies.retro.thresholds
    return [
        Finding(
            "reviews",
            f"area `{row.area}`",
            f"p90 wait for a requested review {row.p90_hours:.0f} h over {row.requests} "
            f"requests ({row.waiting} still waiting)",
            f"at most {limits.review_wait_p90_hours:g} h",
            f"remind sooner for area `{row.area}` (policies/reviews.yaml) or name a second "
            "reviewer (owners.yaml `secondary`)",
        )
        for row in report.reviews
        if row.p90_hours is not None
        and row.requests >= limits.min_cases
        and row.p90_hours > limits.review_wait_p90_hours
    ]


def _incident_findings(policies: Policies, report: RetroReport) -> list[Finding]:
    limits = policies.retro.thresholds
    out = []
    for row in report.incidents:
        if row.incidents < limits.min_cases:
            continue
        for name, value, targets, what in (
            ("MTTA", row.mtta_hours, limits.incident_mtta_hours, "acknowledge"),
            ("MTTR", row.mttr_hours, limits.incident_mttr_hours, "resolve"),
        ):
            target = targets.get(row.severity)
            if value is None or target is None or value <= target:
                continue
            out.append(
                Finding(
                    "incidents",
                    f"`{row.severity}`",
                    f"{name} {value:.1f} h over {row.incidents} incidents",
                    f"at most {target:g} h",
                    f"time to {what} {row.severity} incidents is over target: shorten the "
                    f"escalation steps for {row.severity} (policies/incidents.yaml) and review "
                    "the runbooks of the tools involved",
                )
            )
    return out


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
        interim.review_rows(policies, snapshot, period),
        interim.incident_rows(policies, snapshot, period),
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

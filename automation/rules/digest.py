"""Pure digest rules shared by the digest collector and planner: the report week, the SLA
hours, and the protected groups a pull request touches."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from automation.snapshot.models import PullRequest

if TYPE_CHECKING:
    from automation.policy.policies import Policies


TREND_WEEKS = 4


@dataclass(frozen=True)
class Week:
    """One ISO week in UTC: [start, end)."""

    start: dt.datetime

    @property
    def end(self) -> dt.datetime:
        """The Monday after."""
        return self.start + dt.timedelta(days=7)

    @property
    def label(self) -> str:
        """ISO week name such as 2026-W47."""
        year, week, _ = self.start.date().isocalendar()
        return f"{year}-W{week:02d}"

    def __contains__(self, when: dt.datetime | None) -> bool:
        return when is not None and self.start <= when < self.end

    def shift(self, weeks: int) -> Week:
        """The week `weeks` later (negative: earlier)."""
        return Week(self.start + dt.timedelta(weeks=weeks))


def report_week(now: dt.datetime) -> Week:
    """The last complete ISO week (UTC) before `now`."""
    day = now.astimezone(dt.UTC).date()
    monday = day - dt.timedelta(days=day.weekday() + 7)
    return Week(dt.datetime.combine(monday, dt.time(0), tzinfo=dt.UTC))


def trend_start(now: dt.datetime) -> dt.datetime:
    """The start of the oldest week the trend shows: what the collector must read from."""
    return report_week(now).shift(1 - TREND_WEEKS).start


def sla_hours(policies: Policies) -> dict[str, float]:
    """Hours to acknowledge per severity, from policies/triage.yaml."""
    return {str(k): float(v) for k, v in policies.triage.sla_hours.items()}


def protected_groups(policies: Policies, pull: PullRequest) -> tuple[str, ...]:
    """The protected path groups a PR touches (a renamed file counts under both names)."""
    from automation.codeowners import compile_pattern

    names = [f.filename for f in pull.files or () if f.filename] + [
        f.previous_filename for f in pull.files or () if f.previous_filename
    ]
    groups = []
    for group in policies.ownership.protected:
        patterns = [compile_pattern(p) for p in group.paths]
        if any(p.fullmatch(name) for p in patterns for name in names):
            groups.append(group.name)
    return tuple(groups)

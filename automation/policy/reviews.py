"""policies/reviews.yaml: the review loop: remind a requested owner, then ask the secondary.

Waiting is counted in working hours in the reviewer's own time zone (owners.yaml
people[].timezone, else `default_timezone`): only the working days' `start`..`end`, never a
weekend day or a listed holiday.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field, model_validator

from automation.policy.base import Glob, PolicyDate, PolicyFile, PolicyModel, RefProblem, TimeZone
from automation.policy.oncall import Weekday
from automation.policy.templating import template_problem

if TYPE_CHECKING:
    from automation.policy.policies import Policies

DEFAULT_REMINDER = (
    "{% for r in reviewers %}@{{ r.handle }}{{ ', ' if not loop.last }}{% endfor %}: "
    "this pull request has waited for your review since {{ since }} "
    "(more than {{ remind_after_hours }} working hours in your time zone). "
    "Please review it, or remove yourself from the request.\n"
    "{% if secondaries %}\nAsked as well: "
    "{% for s in secondaries %}@{{ s }}{{ ', ' if not loop.last }}{% endfor %} "
    "(the area's secondary, after {{ escalate_after_hours }} working hours).\n{% endif %}"
)

# Sample values every template is trial-rendered with at load.
SAMPLE_CONTEXT: dict[str, object] = {
    "number": 412,
    "title": "Cache eval profiles between runs",
    "author": "octocat",
    "reviewers": [{"handle": "maya-chen", "area": "mcp-server", "since": "2026-12-01"}],
    "since": "2026-12-01",
    "secondaries": ["dev-patel"],
    "remind_after_hours": 16,
    "escalate_after_hours": 32,
}


class Holiday(PolicyModel):
    """A date (the reviewer's local date) on which no working hours count."""

    date: PolicyDate
    name: str = Field(default="", description="what the day is, for the rendered docs")


def _local_clock(value: dt.time) -> dt.time:
    # pydantic reads a number as seconds since midnight UTC: an aware time, which cannot be
    # compared with a local one (and a working day is local to each reviewer anyway).
    if value.tzinfo is not None:
        raise ValueError('write a local time as HH:MM, e.g. "09:00"')
    return value


Clock = Annotated[dt.time, AfterValidator(_local_clock)]


class WorkingHours(PolicyModel):
    """The working day: hours from `start` to `end` on `days`, local to each reviewer."""

    start: Clock = dt.time(9, 0)
    end: Clock = dt.time(17, 0)
    days: tuple[Weekday, ...] = Field(
        default=("monday", "tuesday", "wednesday", "thursday", "friday"), min_length=1
    )

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError(f"the working day ends ({self.end}) before it starts ({self.start})")
        return self

    @property
    def hours_per_day(self) -> float:
        """Working hours in one working day."""
        start = dt.datetime.combine(dt.date(2000, 1, 3), self.start)
        end = dt.datetime.combine(dt.date(2000, 1, 3), self.end)
        return (end - start).total_seconds() / 3600


class ReviewsPolicy(PolicyFile):
    """When a waiting review gets its reminder, and when the area's secondary is asked."""

    remind_after_hours: float = Field(
        default=16, gt=0, le=2000, description="working hours a requested owner may take"
    )
    escalate_after_hours: float | None = Field(
        default=32,
        gt=0,
        le=4000,
        description="working hours after which the area's secondary is requested too; null: never",
    )
    working_hours: WorkingHours = WorkingHours()
    default_timezone: TimeZone = Field(
        default="UTC", description="for people without a time zone in owners.yaml, and teams"
    )
    holidays: tuple[Holiday, ...] = ()
    exempt_labels: tuple[Glob, ...] = Field(
        default=(), description="PRs carrying one of these labels (fnmatch) are left alone"
    )
    exempt_authors: tuple[str, ...] = Field(
        default=(), description="PRs by these people or teams (owners.yaml) or [bot] logins"
    )
    reminder_comment: str = Field(default=DEFAULT_REMINDER, min_length=1)
    figures_days: int = Field(
        default=28,
        ge=0,
        le=365,
        description="the per-area review figures also count PRs merged in these last days",
    )

    @property
    def holiday_dates(self) -> frozenset[dt.date]:
        """The holidays' dates."""
        return frozenset(h.date for h in self.holidays)

    def cross_check(self, policies: Policies) -> Iterator[RefProblem]:
        """Check the thresholds are ordered, holidays unique and the template renders."""
        if (
            self.escalate_after_hours is not None
            and self.escalate_after_hours <= self.remind_after_hours
        ):
            yield RefProblem(
                ("escalate_after_hours",),
                f"must be more than remind_after_hours ({self.remind_after_hours:g})",
            )
        counts = Counter(h.date for h in self.holidays)
        seen: set[dt.date] = set()
        for index, holiday in enumerate(self.holidays):
            if counts[holiday.date] > 1 and holiday.date in seen:
                yield RefProblem(("holidays", index, "date"), f"duplicate holiday {holiday.date}")
            seen.add(holiday.date)
        for index, ref in enumerate(self.exempt_authors):
            if not (ref.endswith("[bot]") or policies.owners.is_known_owner(ref)):
                yield RefProblem(("exempt_authors", index), f"unknown person or team '{ref}'")
        problem = template_problem(self.reminder_comment, SAMPLE_CONTEXT)
        if problem:
            yield RefProblem(("reminder_comment",), problem)

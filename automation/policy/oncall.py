"""policies/oncall.yaml: on-call rotations (filled in by the triage feature)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from automation.policy.base import Login, PolicyModel, RefProblem, Slug, TimeZone

if TYPE_CHECKING:
    from automation.policy.loader import Policies

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


class Rotation(PolicyModel):
    """People taking turns, handing off on a weekday at a local time."""

    name: Slug
    members: tuple[Login, ...] = Field(min_length=1)
    timezone: TimeZone
    start: dt.date
    handoff_weekday: Weekday = "monday"
    handoff_time: dt.time = dt.time(10, 0)
    shift_weeks: int = Field(default=1, ge=1, le=8)

    def shift_start(self, at: dt.datetime) -> dt.datetime:
        """The latest handoff at or before `at`, as an aware local time.

        Computed on local calendar dates, so a handoff stays at the same wall-clock time
        across daylight-saving changes.
        """
        zone = ZoneInfo(self.timezone)
        local = at.astimezone(zone)
        back = (local.weekday() - WEEKDAYS.index(self.handoff_weekday)) % 7
        day = local.date() - dt.timedelta(days=back)
        start = dt.datetime.combine(day, self.handoff_time, tzinfo=zone)
        if start > local:
            start = dt.datetime.combine(day - dt.timedelta(days=7), self.handoff_time, tzinfo=zone)
        return start

    def member_at(self, at: dt.datetime) -> str:
        """Who is on call at `at` (an aware datetime)."""
        start = self.shift_start(at)
        anchor = self.start + dt.timedelta(
            days=(WEEKDAYS.index(self.handoff_weekday) - self.start.weekday()) % 7
        )
        weeks = (start.date() - anchor).days // 7
        return self.members[(weeks // self.shift_weeks) % len(self.members)]


class OncallPolicy(PolicyModel):
    """Every rotation the operating model uses."""

    rotations: tuple[Rotation, ...] = Field(min_length=1)

    def rotation(self, name: str) -> Rotation | None:
        """Return the rotation with this name."""
        return next((r for r in self.rotations if r.name == name), None)

    def on_call(self, rotation: str, at: dt.datetime) -> str:
        """Who is on call in `rotation` at `at`; raises KeyError for an unknown rotation."""
        found = self.rotation(rotation)
        if found is None:
            raise KeyError(f"unknown rotation {rotation!r}")
        return found.member_at(at)

    def cross_check(self, policies: Policies) -> Iterator[RefProblem]:
        """Every member is a known person."""
        for r_index, rotation in enumerate(self.rotations):
            for m_index, member in enumerate(rotation.members):
                if policies.owners.person(member) is None:
                    yield RefProblem(
                        ("rotations", r_index, "members", m_index), f"unknown person '{member}'"
                    )

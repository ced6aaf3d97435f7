"""policies/oncall.yaml: on-call rotations, layers, dated overrides, primary and secondary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator

from automation.policy.base import (
    Login,
    PolicyDate,
    PolicyFile,
    PolicyModel,
    RefProblem,
    Slug,
    TimeZone,
    plausible_date,
)

if TYPE_CHECKING:
    from automation.policy.policies import Policies

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


class Layer(PolicyModel):
    """Members who take over from the base rotation on some weekdays and hours (local time).

    A later layer wins over an earlier one; each layer rotates on the rotation's handoffs.
    """

    name: Slug
    members: tuple[Login, ...] = Field(min_length=1)
    weekdays: tuple[Weekday, ...] = Field(default=WEEKDAYS, min_length=1)
    from_time: dt.time = dt.time(0, 0)
    to_time: dt.time = dt.time(0, 0)  # 00:00 means the end of the day

    @model_validator(mode="after")
    def _same_day(self) -> Layer:
        if self.to_time != dt.time(0, 0) and self.to_time <= self.from_time:
            # active() reads from <= clock < to: such a layer would never be on.
            raise ValueError(
                "to_time must be after from_time (00:00 means the end of the day); "
                "a layer cannot cross midnight: use one on each side of it"
            )
        return self

    def active(self, local: dt.datetime) -> bool:
        """Whether the layer covers this local time."""
        if WEEKDAYS[local.weekday()] not in self.weekdays:
            return False
        clock = local.time().replace(tzinfo=None)
        end_of_day = self.to_time == dt.time(0, 0)
        return self.from_time <= clock and (end_of_day or clock < self.to_time)


class Override(PolicyModel):
    """A dated change to the schedule.

    `cover`: `member` is on call from `start` to `end` (local times), e.g. a swap, even
    across a handoff; with `replaces` only while that person would have been on call.
    `vacation`: `member` is away on the local dates `start`..`end` (inclusive); the next
    member of the rotation who is not away takes their turn.
    """

    kind: Literal["cover", "vacation"]
    member: Login
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date
    replaces: Login | None = None
    reason: str = ""

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date_strings(cls, value: object) -> object:
        # "2026-12-24" is a date (a whole local day), never midnight of a datetime.
        if isinstance(value, str) and len(value.strip()) == 10:
            return dt.date.fromisoformat(value.strip())
        return value

    @field_validator("start", "end")
    @classmethod
    def _plausible(cls, value: dt.datetime | dt.date) -> dt.datetime | dt.date:
        plausible_date(value)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if self.kind == "cover" and not (
            isinstance(self.start, dt.datetime) and isinstance(self.end, dt.datetime)
        ):
            raise ValueError("a cover needs start and end times (YYYY-MM-DDTHH:MM)")
        if self.kind == "vacation" and (
            isinstance(self.start, dt.datetime) or isinstance(self.end, dt.datetime)
        ):
            raise ValueError("a vacation takes dates (YYYY-MM-DD), not times")
        if (
            isinstance(self.start, dt.datetime)
            and isinstance(self.end, dt.datetime)
            and (self.start.tzinfo is None) != (self.end.tzinfo is None)
        ):
            # Comparing them would raise TypeError, which pydantic would not report as a
            # located validation error.
            raise ValueError("give start and end both as local times, or both with an offset")
        if self.end < self.start:
            raise ValueError("end is before start")
        if self.kind == "cover" and self.end == self.start:
            raise ValueError("a cover must last longer than zero time")
        return self

    def window(self, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """The override as an aware [start, end) interval in `zone`."""
        if isinstance(self.start, dt.datetime) and isinstance(self.end, dt.datetime):
            start, end = self.start, self.end
        else:
            start = dt.datetime.combine(_as_date(self.start), dt.time(0, 0))
            end = dt.datetime.combine(_as_date(self.end) + dt.timedelta(days=1), dt.time(0, 0))
        return _localize(start, zone), _localize(end, zone)

    def covers(self, at: dt.datetime, zone: ZoneInfo) -> bool:
        """Whether `at` falls inside the override."""
        start, end = self.window(zone)
        # In UTC: aware datetimes that share a tzinfo compare by wall clock, ignoring fold.
        return start <= at.astimezone(dt.UTC) < end


def _as_date(value: dt.datetime | dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _localize(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return value.astimezone(zone) if value.tzinfo else value.replace(tzinfo=zone)


def _wall(day: dt.date, clock: dt.time, zone: ZoneInfo) -> dt.datetime:
    """`clock` on the local `day` as a real instant, in `zone`.

    A wall time the clocks skip (spring forward) lands as far past the gap as it was into
    it, and a repeated one (fall back) is its first occurrence (PEP 495, fold=0). Compare
    the results in UTC: aware datetimes sharing a tzinfo compare by wall clock, ignoring
    fold, so 01:10 after a fall-back would sort before 01:30 of the first pass.
    """
    return dt.datetime.combine(day, clock, tzinfo=zone).astimezone(dt.UTC).astimezone(zone)


class Rotation(PolicyModel):
    """People taking turns, handing off on a weekday at a local time."""

    name: Slug
    members: tuple[Login, ...] = Field(min_length=1)
    timezone: TimeZone
    start: PolicyDate
    handoff_weekday: Weekday = "monday"
    handoff_time: dt.time = dt.time(10, 0)
    shift_weeks: int = Field(default=1, ge=1, le=8)
    secondary: Slug | None = None  # another rotation backing this one up
    layers: tuple[Layer, ...] = ()
    overrides: tuple[Override, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        """The rotation's time zone."""
        return ZoneInfo(self.timezone)

    def shift_start(self, at: dt.datetime) -> dt.datetime:
        """The latest handoff at or before `at`, as an aware local time.

        Computed on local calendar dates, so a handoff stays at the same wall-clock time
        across daylight-saving changes.
        """
        zone = ZoneInfo(self.timezone)
        instant = at.astimezone(dt.UTC)
        local = at.astimezone(zone)
        back = (local.weekday() - WEEKDAYS.index(self.handoff_weekday)) % 7
        day = local.date() - dt.timedelta(days=back)
        if _wall(day, self.handoff_time, zone) > instant:  # different tzinfo: by instant
            day -= dt.timedelta(days=7)
        # A shift lasts shift_weeks: step back to the handoff that began this shift.
        extra = self._week_index(day) % self.shift_weeks
        day -= dt.timedelta(days=7 * extra)
        return _wall(day, self.handoff_time, zone)

    def next_handoff(self, at: dt.datetime) -> dt.datetime:
        """The first handoff after `at`, as an aware local time (DST-safe)."""
        day = self._shift_day(at) + dt.timedelta(days=7 * self.shift_weeks)
        return _wall(day, self.handoff_time, self.zone)

    def _shift_day(self, at: dt.datetime) -> dt.date:
        # The local date of the handoff that began the shift (the instant may have moved
        # past midnight if the handoff time fell into a DST gap).
        start = self.shift_start(at)
        back = (start.weekday() - WEEKDAYS.index(self.handoff_weekday)) % 7
        return start.date() - dt.timedelta(days=back)

    def _week_index(self, handoff_day: dt.date) -> int:
        anchor = self.start + dt.timedelta(
            days=(WEEKDAYS.index(self.handoff_weekday) - self.start.weekday()) % 7
        )
        return (handoff_day - anchor).days // 7

    def _shift_index(self, at: dt.datetime) -> int:
        return self._week_index(self._shift_day(at)) // self.shift_weeks

    def scheduled_at(self, at: dt.datetime) -> str:
        """Who the schedule (base members and layers, before overrides) puts on call."""
        index = self._shift_index(at)
        local = at.astimezone(self.zone)
        members = self.members
        for layer in self.layers:
            if layer.active(local):
                members = layer.members
        return members[index % len(members)]

    def away(self, login: str, at: dt.datetime) -> bool:
        """Whether `login` is on vacation at `at`."""
        zone = self.zone
        return any(
            o.kind == "vacation" and o.member.lower() == login.lower() and o.covers(at, zone)
            for o in self.overrides
        )

    def member_at(self, at: dt.datetime) -> str:
        """Who is on call at `at` (an aware datetime): schedule, then vacations, then covers."""
        scheduled = self.scheduled_at(at)
        person = self._skip_away(scheduled, at)
        zone = self.zone
        for override in self.overrides:  # later covers win over earlier ones
            if override.kind != "cover" or not override.covers(at, zone):
                continue
            if override.replaces is None or override.replaces.lower() in (
                scheduled.lower(),
                person.lower(),
            ):
                person = override.member
        return person

    def _skip_away(self, person: str, at: dt.datetime) -> str:
        if not self.away(person, at):
            return person
        order = list(self.members)
        if person not in order:
            return person
        start = order.index(person)
        for step in range(1, len(order)):
            candidate = order[(start + step) % len(order)]
            if not self.away(candidate, at):
                return candidate
        return person  # everyone is away: the schedule stands

    def backup_at(self, at: dt.datetime, primary: str) -> str | None:
        """The next member after `primary` who is not away (for a rotation without a secondary)."""
        order = list(self.members)
        start = order.index(primary) if primary in order else -1
        for step in range(1, len(order) + 1):
            candidate = order[(start + step) % len(order)]
            if candidate.lower() != primary.lower() and not self.away(candidate, at):
                return candidate
        return None

    def change_points(self, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
        """Every instant in [start, end) at which who is on call may change, in UTC order."""
        zone = self.zone
        points = {start.astimezone(zone)}
        at = self.next_handoff(start)
        while at < end:
            points.add(at)
            at = self.next_handoff(at)
        for override in self.overrides:
            for edge in override.window(zone):
                if start <= edge < end:
                    points.add(edge)
        if self.layers:
            day = start.astimezone(zone).date()
            while dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone) < end:
                for layer in self.layers:
                    for clock in (layer.from_time, layer.to_time):
                        edge = dt.datetime.combine(day, clock, tzinfo=zone)
                        if start <= edge < end:
                            points.add(edge)
                day += dt.timedelta(days=1)
        # Sorted as instants: same-zone datetimes would sort by wall clock across a fall-back.
        return sorted({p.astimezone(dt.UTC) for p in points})


class Shift(PolicyModel):
    """Who was on call during [start, end), for printing a schedule."""

    rotation: str
    start: dt.datetime
    end: dt.datetime
    primary: str
    secondary: str | None = None


class HandoffPolicy(PolicyModel):
    """The scheduled handoff: where it is posted and whether open regressions move."""

    rotation: Slug = "ai-primary"
    issue_title: str = "On call"
    issue_label: str = "on-call"
    reassign_unacknowledged: bool = True


class OncallPolicy(PolicyFile):
    """Every rotation the operating model uses."""

    rotations: tuple[Rotation, ...] = Field(min_length=1)
    handoff: HandoffPolicy | None = None

    def rotation(self, name: str) -> Rotation | None:
        """Return the rotation with this name."""
        return next((r for r in self.rotations if r.name == name), None)

    def _get(self, rotation: str) -> Rotation:
        found = self.rotation(rotation)
        if found is None:
            raise KeyError(f"unknown rotation {rotation!r}")
        return found

    def on_call(self, rotation: str, at: dt.datetime) -> str:
        """Who is on call in `rotation` at `at`; raises KeyError for an unknown rotation."""
        return self._get(rotation).member_at(at)

    def secondary_on_call(self, rotation: str, at: dt.datetime) -> str | None:
        """The secondary for `rotation` at `at`: its secondary rotation's member, else the next
        member of the rotation; never the primary; None for a rotation of one person."""
        found = self._get(rotation)
        primary = found.member_at(at)
        if found.secondary is not None:
            backup = self._get(found.secondary)
            person = backup.member_at(at)
            if person.lower() != primary.lower():
                return person
            return backup.backup_at(at, person) or found.backup_at(at, primary)
        return found.backup_at(at, primary)

    def schedule(self, rotation: str, start: dt.datetime, end: dt.datetime) -> list[Shift]:
        """Who is primary and secondary from `start` to `end`, merged into spans."""
        found = self._get(rotation)
        points = set(found.change_points(start, end))
        if found.secondary is not None:
            points.update(self._get(found.secondary).change_points(start, end))
        ordered = sorted(points)
        shifts: list[Shift] = []
        for index, at in enumerate(ordered):
            until = (ordered[index + 1] if index + 1 < len(ordered) else end).astimezone(found.zone)
            primary = found.member_at(at)
            secondary = self.secondary_on_call(rotation, at)
            last = shifts[-1] if shifts else None
            if last is not None and (last.primary, last.secondary) == (primary, secondary):
                shifts[-1] = last.model_copy(update={"end": until})
                continue
            shifts.append(
                Shift(
                    rotation=rotation,
                    start=at.astimezone(found.zone),
                    end=until,
                    primary=primary,
                    secondary=secondary,
                )
            )
        return shifts

    def cross_check(self, policies: Policies) -> Iterator[RefProblem]:
        """Every member is a known person; every referenced rotation exists."""
        names = [r.name for r in self.rotations]
        for r_index, rotation in enumerate(self.rotations):
            if names.count(rotation.name) > 1 and names.index(rotation.name) != r_index:
                yield RefProblem(("rotations", r_index, "name"), "duplicate rotation name")
            for m_index, member in enumerate(rotation.members):
                if policies.owners.person(member) is None:
                    yield RefProblem(
                        ("rotations", r_index, "members", m_index), f"unknown person '{member}'"
                    )
            if rotation.secondary is not None:
                if self.rotation(rotation.secondary) is None:
                    yield RefProblem(
                        ("rotations", r_index, "secondary"),
                        f"unknown rotation '{rotation.secondary}'",
                    )
                elif rotation.secondary == rotation.name:
                    yield RefProblem(
                        ("rotations", r_index, "secondary"), "a rotation cannot back itself up"
                    )
            for l_index, layer in enumerate(rotation.layers):
                for m_index, member in enumerate(layer.members):
                    if policies.owners.person(member) is None:
                        yield RefProblem(
                            ("rotations", r_index, "layers", l_index, "members", m_index),
                            f"unknown person '{member}'",
                        )
            scheduled = {m.lower() for m in rotation.members}
            scheduled |= {m.lower() for layer in rotation.layers for m in layer.members}
            for o_index, override in enumerate(rotation.overrides):
                loc: tuple[str | int, ...] = ("rotations", r_index, "overrides", o_index)
                for field in ("member", "replaces"):
                    login = getattr(override, field)
                    if login is not None and policies.owners.person(login) is None:
                        yield RefProblem((*loc, field), f"unknown person '{login}'")
                replaced = override.replaces
                if (
                    replaced is not None
                    and policies.owners.person(replaced) is not None
                    and replaced.lower() not in scheduled
                ):
                    # The cover only applies while that person is on call: never.
                    yield RefProblem(
                        (*loc, "replaces"),
                        f"'{replaced}' is not in rotation '{rotation.name}' (nor its layers): "
                        "the override would never apply",
                    )
        if self.handoff is not None and self.rotation(self.handoff.rotation) is None:
            yield RefProblem(("handoff", "rotation"), f"unknown rotation '{self.handoff.rotation}'")

"""Pure release rules shared by the release collector and planner: the cadence, the
departures, the captain, the open train and its sign-offs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from automation.policy.oncall import WEEKDAYS
from automation.policy.release import ReleasePolicy, parse_name

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.snapshot.models import PullRequest, Snapshot


# How far the calendar looks back or ahead for a departure: longer than any sane freeze.
SEARCH_DAYS = 800


@dataclass(frozen=True)
class Departure:
    """A train's departure: its scheduled date, the date it really leaves, and when (UTC)."""

    slot: dt.date
    day: dt.date
    at: dt.datetime
    held_by: str | None = None

    @property
    def caught_up(self) -> bool:
        """Whether a freeze or blackout moved this train off its scheduled date."""
        return self.day != self.slot


@dataclass(frozen=True)
class TrainCall:
    """Whether a train is due at a moment, and why (or why not)."""

    due: bool
    departure: Departure | None
    next_departure: Departure | None
    freeze: str | None
    reason: str


def blocked(policy: ReleasePolicy, day: dt.date) -> str | None:
    """Why no train may leave on this local date (a freeze or a blackout), or None."""
    for freeze in policy.freezes:
        if freeze.start <= day <= freeze.end:
            why = f": {freeze.reason}" if freeze.reason else ""
            return f"freeze '{freeze.name}' ({freeze.start} to {freeze.end}){why}"
    for blackout in policy.blackout_dates:
        if blackout.date == day:
            return f"blackout date {day}: {blackout.reason}"
    return None


def is_train_day(policy: ReleasePolicy, day: dt.date) -> bool:
    """Whether the cadence schedules a train on this local date (freezes aside)."""
    if WEEKDAYS[day.weekday()] not in policy.weekdays:
        return False
    if policy.every_weeks == 1 or policy.anchor is None:
        return True
    monday = day - dt.timedelta(days=day.weekday())
    anchor_monday = policy.anchor - dt.timedelta(days=policy.anchor.weekday())
    return ((monday - anchor_monday).days // 7) % policy.every_weeks == 0


def local_time(policy: ReleasePolicy, day: dt.date) -> dt.datetime:
    """The policy's local time on `day`, as UTC (the same wall-clock time across DST)."""
    zone = ZoneInfo(policy.timezone)
    return dt.datetime.combine(day, policy.time, tzinfo=zone).astimezone(dt.UTC)


def departure_of(policy: ReleasePolicy, slot: dt.date) -> Departure | None:
    """When the train scheduled for `slot` leaves: a blocked one waits for the first free day."""
    held_by = blocked(policy, slot)
    if held_by is None:
        return Departure(slot, slot, local_time(policy, slot))
    if not policy.catch_up:
        return None
    day = slot
    for _ in range(SEARCH_DAYS):
        day += dt.timedelta(days=1)
        if blocked(policy, day) is None:
            return Departure(slot, day, local_time(policy, day), held_by)
    return None


def _local_date(policy: ReleasePolicy, at: dt.datetime) -> dt.date:
    return at.astimezone(ZoneInfo(policy.timezone)).date()


def latest_departure(policy: ReleasePolicy, at: dt.datetime) -> Departure | None:
    """The latest departure at or before `at`."""
    # Departures never run backwards (a held train moves to the first free day, which is
    # no later than any train scheduled after it), so the first one found going back wins.
    day = _local_date(policy, at)
    for _ in range(SEARCH_DAYS):
        if is_train_day(policy, day):
            departure = departure_of(policy, day)
            if departure is not None and departure.at <= at:
                return departure
        day -= dt.timedelta(days=1)
    return None


def next_departure(policy: ReleasePolicy, at: dt.datetime) -> Departure | None:
    """The first departure strictly after `at`."""
    day = _local_date(policy, at) - dt.timedelta(days=SEARCH_DAYS // 2)
    found: Departure | None = None
    for _ in range(SEARCH_DAYS * 2):
        if is_train_day(policy, day):
            departure = departure_of(policy, day)
            if departure is not None and departure.at > at:
                # Several held trains can share one departure: report the earliest slot.
                if found is None or departure.at < found.at:
                    found = departure
                elif departure.at > found.at:
                    return found
        day += dt.timedelta(days=1)
    return found


def describe_time(policy: ReleasePolicy, at: dt.datetime) -> str:
    """`Tue 2026-11-24 15:00 Europe/London (15:00 UTC)`."""
    local = at.astimezone(ZoneInfo(policy.timezone))
    utc = at.astimezone(dt.UTC)
    return f"{local:%a %Y-%m-%d %H:%M} {policy.timezone} ({utc:%H:%M} UTC)"


def call_train(
    policy: ReleasePolicy, at: dt.datetime, last_shipped: dt.datetime | None
) -> TrainCall:
    """Decide whether a train is due at `at`, given when the last train (or release) shipped."""
    upcoming = next_departure(policy, at)
    when = describe_time(policy, upcoming.at) if upcoming else "not within two years"
    freeze = blocked(policy, _local_date(policy, at))
    if freeze is not None:
        return TrainCall(
            False,
            None,
            upcoming,
            freeze,
            f"no train: {freeze}; the next train leaves {when} and carries everything "
            "merged meanwhile",
        )
    departure = latest_departure(policy, at)
    if departure is None or (last_shipped is not None and departure.at <= last_shipped):
        return TrainCall(False, departure, upcoming, None, f"not due: the next train leaves {when}")
    reason = f"the train of {departure.slot} left {describe_time(policy, departure.at)}"
    if departure.caught_up:
        reason += f", catching up after {departure.held_by}"
    return TrainCall(True, departure, upcoming, None, reason)


def train_pulls(policy: ReleasePolicy, snapshot: Snapshot) -> list[PullRequest]:
    """PRs from this repository's train branches into the release base, oldest first."""
    repo = snapshot.repo.lower()
    # A PR whose fork was deleted has no head repository (GitHub answers `head.repo: null`):
    # it comes from outside, so it is no train even when its branch is named like one.
    found = [
        p
        for p in snapshot.pulls
        if p.base_ref == policy.release_base
        and p.head_repo is not None
        and p.head_repo.lower() == repo
        and parse_name(policy.branch_pattern, p.head_ref) is not None
    ]
    return sorted(found, key=lambda p: (p.created_at, p.number))


def last_merged_train(policy: ReleasePolicy, snapshot: Snapshot) -> PullRequest | None:
    """The most recently merged train PR."""
    merged = [p for p in train_pulls(policy, snapshot) if p.merged and p.merged_at]
    return max(merged, key=lambda p: (p.merged_at, p.number), default=None)


def open_train(policy: ReleasePolicy, snapshot: Snapshot) -> PullRequest | None:
    """The open train PR (the newest, should people have opened a second)."""
    opened = [p for p in train_pulls(policy, snapshot) if p.state == "open"]
    return opened[-1] if opened else None


def last_shipped(policy: ReleasePolicy, snapshot: Snapshot) -> dt.datetime | None:
    """When the last train merged or the last release was published, whichever is later."""
    times = [r.published_at for r in snapshot.releases if r.published_at is not None]
    merged = last_merged_train(policy, snapshot)
    if merged is not None and merged.merged_at is not None:
        times.append(merged.merged_at)
    return max(times, default=None)


def train_window(
    policy: ReleasePolicy, shipped: dt.datetime | None, day: dt.date
) -> tuple[dt.date, dt.date]:
    """The dates [start, end) a train covers, in the policy's time zone: from the day after
    the last train shipped (its local date) through the train's own day."""
    start = _local_date(policy, shipped) + dt.timedelta(days=1) if shipped else dt.date.min
    return start, day + dt.timedelta(days=1)


def train_day(policy: ReleasePolicy, pull: PullRequest) -> dt.date:
    """The train date a train PR's branch carries (its merge date if the name lost it)."""
    day = parse_name(policy.branch_pattern, pull.head_ref)
    if day is not None:
        return day
    return _local_date(policy, pull.merged_at or pull.created_at)


@dataclass(frozen=True)
class SignOff:
    """The people and teams one area's sign-off asks for."""

    area: str
    handles: tuple[str, ...]
    logins: tuple[str, ...]
    teams: tuple[str, ...]


def signoffs(policies: Policies) -> list[SignOff]:
    """Each sign-off area with its owners as handles, logins and GitHub team slugs."""
    owners = policies.owners
    out = []
    for name in policies.release.signoff_areas:
        area = owners.area(name)
        if area is None:
            continue
        logins: list[str] = []
        teams: list[str] = []
        for ref in area.owners:
            team = owners.team(ref)
            if team is None:
                logins.append(ref)
            elif team.github:
                teams.append(team.github.split("/", 1)[1])
            else:
                logins.extend(team.members)
        out.append(
            SignOff(
                name,
                owners.codeowners_handles(area.owners),
                tuple(dict.fromkeys(logins)),
                tuple(dict.fromkeys(teams)),
            )
        )
    return out


def captain_at(policies: Policies, at: dt.datetime) -> str | None:
    """The release captain on duty at `at`."""
    rotation = policies.release.captain_rotation
    if rotation is None:
        return None
    try:
        return policies.oncall.on_call(rotation, at)
    except KeyError:
        return None


def reviewers_missing(
    policies: Policies, pull: PullRequest | None, captain: str | None, bot: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Logins and team slugs to ask, minus those asked already or who have reviewed."""
    logins: list[str] = []
    teams: list[str] = []
    for signoff in signoffs(policies):
        logins.extend(signoff.logins)
        teams.extend(signoff.teams)
    if captain:
        logins.append(captain)
    author = pull.author.lower() if pull is not None else bot.lower()
    reviewed = {r.user.lower() for r in (pull.reviews or ())} if pull is not None else set()
    asked = {x.lower() for x in pull.requested_reviewers} if pull is not None else set()
    # Team slugs are case-insensitive; GitHub answers them in lower case.
    asked_teams = {x.lower() for x in pull.requested_teams} if pull is not None else set()
    # Asked before, even if a person removed the request since: ask once, never again.
    for event in (pull.events or ()) if pull is not None else ():
        if event.requested_reviewer:
            asked.add(event.requested_reviewer.lower())
        if event.requested_team:
            asked_teams.add(event.requested_team.lower())
    want_logins = tuple(
        dict.fromkeys(
            x
            for x in logins
            if x.lower() not in asked and x.lower() not in reviewed and x.lower() != author
        )
    )

    def team_reviewed(slug: str) -> bool:
        # GitHub drops a team's request once a member reviews on its behalf.
        for team in policies.owners.teams:
            if team.github and team.github.split("/", 1)[1].lower() == slug.lower():
                return any(m.lower() in reviewed for m in team.members)
        return False

    want_teams = tuple(
        dict.fromkeys(t for t in teams if t.lower() not in asked_teams and not team_reviewed(t))
    )
    return want_logins, want_teams

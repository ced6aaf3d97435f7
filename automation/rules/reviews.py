"""The review loop's rules, shared by its collector, its planner and (later) the retrospective.

Pure: who a PR waits on, for how many working hours in that reviewer's own time zone, who
is overdue, whose secondary is due, and the per-area review figures.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from automation.markers import marker
from automation.rules.stats import percentile
from automation.snapshot.models import PullRequest

if TYPE_CHECKING:
    from re import Pattern

    from automation.policy.owners import Area
    from automation.policy.policies import Policies
    from automation.policy.reviews import WorkingHours

FEATURE = "reviews"
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# A request older than this is counted as if made this long ago (the loop over days stays
# bounded; nobody waits ten years for a reminder).
_MAX_DAYS = 3660


def reminder_marker(number: int) -> str:
    """The identity of the one reminder comment on PR `number`."""
    return marker(FEATURE, f"reminder-{number}")


def working_hours(
    start: dt.datetime,
    end: dt.datetime,
    timezone: str,
    hours: WorkingHours,
    holidays: frozenset[dt.date] = frozenset(),
) -> float:
    """Working hours between two instants, in `timezone`'s local working days.

    Each local working day contributes the overlap of [start, end) with its start..end
    local hours; weekends (days not in `hours.days`) and `holidays` (local dates)
    contribute nothing. Times are compared in UTC, so a DST change is an hour, not a gap.
    """
    if end <= start:
        return 0.0
    start = max(start, end - dt.timedelta(days=_MAX_DAYS))
    zone = ZoneInfo(timezone)
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    total = 0.0
    while day <= last:
        if _DAYS[day.weekday()] in hours.days and day not in holidays:
            opens = dt.datetime.combine(day, hours.start, tzinfo=zone).astimezone(dt.UTC)
            closes = dt.datetime.combine(day, hours.end, tzinfo=zone).astimezone(dt.UTC)
            low, high = max(opens, start), min(closes, end)
            if high > low:
                total += (high - low).total_seconds()
        day += dt.timedelta(days=1)
    return total / 3600


# --- who owns what the PR touches ------------------------------------------------------


@cache
def _pattern(text: str) -> Pattern[str]:
    from automation.codeowners import compile_pattern

    return compile_pattern(text)


def area_of_path(policies: Policies, path: str) -> Area | None:
    """The area CODEOWNERS gives `path`: the last area (owners.yaml order) with a matching path,
    as in the generated CODEOWNERS, where the last matching line wins."""
    found = None
    for area in policies.owners.areas:
        if any(_pattern(p).fullmatch(path) for p in area.paths):
            found = area
    return found


def pr_areas(policies: Policies, pull: PullRequest) -> tuple[Area, ...]:
    """The areas whose paths the PR touches (a rename's old path too); () when files unread."""
    names: dict[str, Area] = {}
    for changed in pull.files or ():
        for path in (changed.filename, changed.previous_filename):
            if path:
                area = area_of_path(policies, path)
                if area is not None:
                    names.setdefault(area.name, area)
    return tuple(names.values())


def _team_slug(policies: Policies, ref: str) -> str | None:
    team = policies.owners.team(ref)
    if team is None or team.github is None:
        return None
    return team.github.split("/", 1)[1].casefold()


def area_owns(policies: Policies, area: Area, handle: str, is_team: bool) -> bool:
    """Whether a requested reviewer (a login, or a team slug) is one of the area's owners."""
    wanted = handle.casefold()
    if is_team:
        return any(_team_slug(policies, ref) == wanted for ref in area.owners)
    return wanted in {login.casefold() for login in policies.owners.expand(area.owners)}


# --- waiting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """One requested owner the PR waits on."""

    handle: str  # a login, or a team slug
    is_team: bool
    areas: tuple[str, ...]
    since: dt.datetime
    hours: float
    timezone: str

    mention: str = ""  # how a comment names the reviewer: a login, or org/team


def _is_bot(login: str, flagged: bool) -> bool:
    return flagged or login.endswith("[bot]")


def removed_by_person(pull: PullRequest) -> frozenset[str]:
    """Logins and team slugs (casefolded) whose request a person removed on this PR: never
    request them again. A bot's removal (GitHub's own, or ours) does not count."""
    return frozenset(
        (e.requested_reviewer or e.requested_team or "").casefold()
        for e in pull.events or ()
        if e.event == "review_request_removed"
        and not _is_bot(e.actor, e.actor_is_bot)
        and (e.requested_reviewer or e.requested_team)
    )


def _decisive(pull: PullRequest) -> dict[str, str]:
    latest: dict[str, tuple[dt.datetime, str]] = {}
    for review in pull.reviews or ():
        if review.state not in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            continue
        when = review.submitted_at or pull.created_at
        key = review.user.casefold()
        if key not in latest or when >= latest[key][0]:
            latest[key] = (when, review.state)
    return {user: state for user, (_, state) in latest.items()}


def exemption(policies: Policies, pull: PullRequest) -> str | None:
    """Why the review loop leaves this PR alone, or None."""
    policy = policies.reviews
    if pull.state != "open":
        return "closed"
    if pull.draft:
        return "a draft"
    exempt = {a.casefold() for a in policies.owners.expand(policy.exempt_authors)}
    if pull.author.casefold() in exempt:
        return f"by {pull.author}"
    for label in pull.labels:
        for pattern in policy.exempt_labels:
            if fnmatch.fnmatchcase(label.casefold(), pattern.casefold()):
                return f"labelled {label}"
    requested = {r.casefold() for r in pull.requested_reviewers}
    # Changes requested and not yet re-requested: the author has the next move.
    for user, state in _decisive(pull).items():
        if state == "CHANGES_REQUESTED" and user not in requested:
            return "changes requested"
    return None


def _requested_since(pull: PullRequest, handle: str, is_team: bool) -> dt.datetime:
    wanted = handle.casefold()
    times = [
        e.created_at
        for e in pull.events or ()
        if e.event == "review_requested"
        and ((e.requested_team if is_team else e.requested_reviewer) or "").casefold() == wanted
    ]
    since = max(times, default=pull.created_at)
    ready = [e.created_at for e in pull.events or () if e.event == "ready_for_review"]
    # Time spent as a draft is no waiting: a request made then counts from when it was ready.
    return max([since, *ready])


def timezone_of(policies: Policies, handle: str, is_team: bool) -> str:
    """The reviewer's own time zone (owners.yaml), else the policy's default."""
    person = None if is_team else policies.owners.person(handle)
    if person is not None and person.timezone:
        return person.timezone
    return policies.reviews.default_timezone


def waiting(policies: Policies, pull: PullRequest, now: dt.datetime) -> list[Waiting]:
    """The requested owners the PR waits on, with their working hours waited (none if exempt)."""
    policy = policies.reviews
    if exemption(policies, pull) is not None:
        return []
    areas = pr_areas(policies, pull)
    if not areas:
        return []
    out: list[Waiting] = []
    requested = [(r, False) for r in pull.requested_reviewers]
    requested += [(t, True) for t in pull.requested_teams]
    for handle, is_team in requested:
        if not is_team and handle.casefold() == pull.author.casefold():
            continue
        owned = tuple(a.name for a in areas if area_owns(policies, a, handle, is_team))
        if not owned:
            continue
        since = _requested_since(pull, handle, is_team)
        zone = timezone_of(policies, handle, is_team)
        hours = working_hours(since, now, zone, policy.working_hours, policy.holiday_dates)
        mention = handle
        if is_team:
            mention = next(
                (
                    t.github
                    for t in policies.owners.teams
                    if t.github and t.github.split("/", 1)[1].casefold() == handle.casefold()
                ),
                handle,
            )
        out.append(Waiting(handle, is_team, owned, since, hours, zone, mention))
    return out


def overdue(policies: Policies, pull: PullRequest, now: dt.datetime) -> list[Waiting]:
    """The requested owners waited on past remind_after_hours."""
    limit = policies.reviews.remind_after_hours
    return [w for w in waiting(policies, pull, now) if w.hours >= limit]


def needs_comments(policies: Policies, pull: PullRequest, now: dt.datetime) -> bool:
    """Whether the planner must see every comment of this PR (to find its reminder)."""
    return bool(overdue(policies, pull, now))


def secondaries(policies: Policies, pull: PullRequest, now: dt.datetime) -> list[str]:
    """The areas' secondaries due to be asked (past escalate_after_hours), whether or not they
    already are: never the author, the overdue reviewer itself, or someone a person removed."""
    limit = policies.reviews.escalate_after_hours
    if limit is None:
        return []
    removed = removed_by_person(pull)
    out: dict[str, None] = {}
    for item in waiting(policies, pull, now):
        if item.hours < limit:
            continue
        for name in item.areas:
            area = policies.owners.area(name)
            second = area.secondary if area is not None else None
            if second is None:
                continue
            key = second.casefold()
            if key in (pull.author.casefold(), item.handle.casefold()) or key in removed:
                continue
            out[second] = None
    return list(out)


def to_request(policies: Policies, pull: PullRequest, now: dt.datetime) -> list[str]:
    """The secondaries to request now: due, not yet requested, not having reviewed."""
    requested = {r.casefold() for r in pull.requested_reviewers}
    reviewed = {r.user.casefold() for r in pull.reviews or ()}
    return [
        s
        for s in secondaries(policies, pull, now)
        if s.casefold() not in requested and s.casefold() not in reviewed
    ]


# --- figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaFigures:
    """Elapsed hours from ready-for-review to the first owner review and to approval."""

    area: str
    reviewed: int
    first_review_median: float | None
    first_review_p90: float | None
    approved: int
    approval_median: float | None
    approval_p90: float | None


def ready_at(pull: PullRequest) -> dt.datetime:
    """When the PR first asked for review: its first ready_for_review, else its creation."""
    ready = [e.created_at for e in pull.events or () if e.event == "ready_for_review"]
    return min(ready, default=pull.created_at)


def review_figures(policies: Policies, pulls: Iterable[PullRequest]) -> list[AreaFigures]:
    """Per area (owners.yaml order), time to the first owner review and to an owner's approval
    (median and p90 in elapsed hours) over `pulls` whose files and reviews were read."""
    first: dict[str, list[float]] = {}
    approval: dict[str, list[float]] = {}
    for pull in pulls:
        if pull.reviews is None or pull.files is None:
            continue
        start = ready_at(pull)
        for area in pr_areas(policies, pull):
            owners = {o.casefold() for o in policies.owners.expand(area.owners)}
            own = sorted(
                (r for r in pull.reviews if r.submitted_at is not None and r.state != "PENDING"),
                key=lambda r: r.submitted_at or start,
            )
            own = [
                r
                for r in own
                if r.user.casefold() in owners and r.user.casefold() != pull.author.casefold()
            ]
            if own and own[0].submitted_at is not None:
                first.setdefault(area.name, []).append(_hours(start, own[0].submitted_at))
            approved = [r for r in own if r.state == "APPROVED"]
            if approved and approved[0].submitted_at is not None:
                approval.setdefault(area.name, []).append(_hours(start, approved[0].submitted_at))
    rows = []
    for area in policies.owners.areas:
        a, b = first.get(area.name, []), approval.get(area.name, [])
        if not a and not b:
            continue
        rows.append(
            AreaFigures(
                area.name,
                len(a),
                statistics.median(a) if a else None,
                percentile(a, 0.9),
                len(b),
                statistics.median(b) if b else None,
                percentile(b, 0.9),
            )
        )
    return rows


def _hours(start: dt.datetime, end: dt.datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 3600)

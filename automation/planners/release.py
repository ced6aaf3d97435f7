"""The release train: a pure calendar (due, freeze, blackout, catch-up) and the train's plan.

Pure: no PyGithub, no environment, no clock. Every time is compared in UTC, because two
datetimes sharing a ZoneInfo compare by wall clock and ignore the offset across DST.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from automation.plan import (
    Action,
    CreateRelease,
    Plan,
    RequestReviewers,
    SetBranch,
    UpsertPullRequest,
    marker,
)
from automation.policy.oncall import WEEKDAYS
from automation.policy.release import Category, ReleasePolicy, parse_name
from automation.rendering import render_shipped

if TYPE_CHECKING:
    from automation.policy.loader import Policies
    from automation.snapshot.models import Comparison, PullRequest, Snapshot

FEATURE = "release"
SERVER_URL = "https://github.com"
# How far the calendar looks back or ahead for a departure: longer than any sane freeze.
SEARCH_DAYS = 800
# GitHub rejects issue and PR bodies above 65,536 characters.
GITHUB_BODY_LIMIT = 65_536
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

SECTION_BEGIN = marker(FEATURE, "train")
SECTION_END = marker(FEATURE, "train-end")
CHANGELOG_BEGIN = marker(FEATURE, "changelog")
CHANGELOG_END = marker(FEATURE, "changelog-end")


# --- calendar (pure) -----------------------------------------------------------------------


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


# --- the train's PRs -----------------------------------------------------------------------


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


def train_day(policy: ReleasePolicy, pull: PullRequest) -> dt.date:
    """The train date a train PR's branch carries (its merge date if the name lost it)."""
    day = parse_name(policy.branch_pattern, pull.head_ref)
    if day is not None:
        return day
    return _local_date(policy, pull.merged_at or pull.created_at)


def shipped_pulls(policy: ReleasePolicy, snapshot: Snapshot) -> list[PullRequest]:
    """PRs merged into the source branch whose merge commit is in the comparison."""
    if snapshot.comparison is None:
        return []
    shas = set(snapshot.comparison.commit_shas)
    found = [
        p
        for p in snapshot.pulls
        if p.merged
        and p.base_ref == policy.source_branch
        and p.merge_commit_sha is not None
        and p.merge_commit_sha in shas
    ]
    return sorted(found, key=lambda p: (p.merged_at or p.created_at, p.number))


def categorize(
    policy: ReleasePolicy, pull: PullRequest, comparison: Comparison | None = None
) -> Category:
    """A PR's changelog category: by label first, then by the files it changes.

    The files are the PR's own, or, read more cheaply, the path categories its merge commit
    touches (`comparison.commit_categories`, from the commits API filtered by path).
    """
    by_label = policy.category_by_labels(pull.labels)
    if by_label is not None:
        return by_label
    if pull.files is not None:
        paths = [f.filename for f in pull.files]
        paths += [f.previous_filename for f in pull.files if f.previous_filename]
        by_path = policy.category_by_paths(paths)
        if by_path is not None:
            return by_path
    elif comparison is not None and comparison.commit_categories is not None:
        names = comparison.commit_categories.get(pull.merge_commit_sha or "", ())
        found = next((c for c in policy.categories if c.name in names), None)
        if found is not None:
            return found
    return policy.fallback()


# --- bodies --------------------------------------------------------------------------------


def render(name: str, **context: Any) -> str:
    """Render one of the shipped release templates."""
    return render_shipped(name, **context)


def _inline(text: str) -> str:
    # A title is rendered on one list line; an HTML comment opener could fake a marker.
    return " ".join(text.split()).replace("<!--", "&lt;!--")


def pull_url(snapshot: Snapshot, pull: PullRequest) -> str:
    """A PR's web address."""
    return pull.html_url or f"{SERVER_URL}/{snapshot.repo}/pull/{pull.number}"


def compare_url(snapshot: Snapshot, base: str, head: str) -> str:
    """The web page of the full comparison."""
    if snapshot.comparison is not None and snapshot.comparison.html_url:
        return snapshot.comparison.html_url
    return f"{SERVER_URL}/{snapshot.repo}/compare/{base}...{head}"


def changelog_entries(
    policy: ReleasePolicy, snapshot: Snapshot, pulls: Sequence[PullRequest]
) -> list[tuple[Category, dict[str, Any]]]:
    """Each PR as a changelog entry, in category order, then merge order."""
    order = {c.name: i for i, c in enumerate(policy.categories)}
    entries = []
    for pull in pulls:
        category = categorize(policy, pull, snapshot.comparison)
        entries.append(
            (
                category,
                {
                    "number": pull.number,
                    "title": _inline(pull.title),
                    "author": pull.author,
                    "url": pull_url(snapshot, pull),
                    "flag": category.flag(pull.body, pull.labels),
                    "category": category.name,
                },
            )
        )
    entries.sort(key=lambda e: order.get(e[0].name, len(order)))
    return entries


def _group(entries: Sequence[tuple[Category, dict[str, Any]]]) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for category, entry in entries:
        group = groups.setdefault(
            category.name,
            {"name": category.name, "title": category.title, "needs": category.needs, "prs": []},
        )
        group["prs"].append(entry)
    return list(groups.values())


def fit(render_with: Callable[[int], str], count: int, limit: int) -> tuple[str, int]:
    """Render with as many of `count` entries as fit in `limit` characters; return (text, n)."""
    text = render_with(count)
    if len(text) <= limit:
        return text, count
    low, high = 0, count - 1  # the most entries that fit lies in [low, high]
    best = render_with(0)
    while low <= high:
        middle = (low + high) // 2
        candidate = render_with(middle)
        if len(candidate) <= limit:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best, high if high >= 0 else 0


def split_body(body: str) -> tuple[str, str] | None:
    """The text people wrote before and after the generated section, or None if absent."""
    start = body.find(SECTION_BEGIN)
    end = body.find(SECTION_END, start + len(SECTION_BEGIN)) if start >= 0 else -1
    if start < 0 or end < 0:
        return None
    return body[:start], body[end + len(SECTION_END) :]


def merge_body(old: str, section: str) -> str:
    """Replace the generated section of `old`, keeping everything people wrote around it."""
    block = f"{SECTION_BEGIN}\n{section.strip()}\n{SECTION_END}"
    parts = split_body(old)
    if parts is None:
        return f"{old.rstrip()}\n\n{block}\n" if old.strip() else f"{block}\n"
    before, after = parts
    return f"{before}{block}{after}"


def changelog_of(body: str) -> str:
    """The changelog inside a train PR's body (the generated section, or all of it)."""
    start = body.find(CHANGELOG_BEGIN)
    end = body.find(CHANGELOG_END, start) if start >= 0 else -1
    if start >= 0 and end >= 0:
        return body[start + len(CHANGELOG_BEGIN) : end].strip()
    parts = split_body(body)
    if parts is not None:
        before, after = parts
        return body[len(before) : len(body) - len(after)].strip()
    return body.strip()


# --- the plan ------------------------------------------------------------------------------


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


def train_section(
    policies: Policies,
    snapshot: Snapshot,
    pulls: Sequence[PullRequest],
    day: dt.date,
    departure: Departure,
    since: str,
    base_label: str,
    limit: int,
) -> str:
    """The generated section of the train PR, cut to fit `limit` characters."""
    policy = policies.release
    comparison = snapshot.comparison
    head = comparison.head if comparison else policy.source_branch
    base = comparison.base if comparison else base_label
    url = compare_url(snapshot, base, head)
    entries = changelog_entries(policy, snapshot, pulls)
    captain = captain_at(policies, departure.at)
    runbook = (
        f"{SERVER_URL}/{snapshot.repo}/blob/{snapshot.default_branch}"
        "/docs/runbooks/release-train.md"
    )

    def render_with(count: int) -> str:
        return render(
            "release_pr.md.j2",
            title=policy.title(day),
            pr_count=len(entries),
            total_commits=comparison.total_commits if comparison else 0,
            source_branch=policy.source_branch,
            release_base=policy.release_base,
            since=since,
            base_label=base_label,
            compare_url=url,
            departure=describe_time(policy, departure.at),
            caught_up=departure.caught_up,
            slot=departure.slot.isoformat(),
            held_by=departure.held_by or "",
            tag=policy.tag_name(day),
            captain=captain,
            runbook_url=runbook,
            signoffs=[{"area": s.area, "handles": s.handles} for s in signoffs(policies)],
            flagged=sum(1 for _, e in entries if e["flag"]),
            changelog_begin=CHANGELOG_BEGIN,
            changelog_end=CHANGELOG_END,
            categories=_group(entries[:count]),
            omitted=len(entries) - count,
        )

    text, _ = fit(render_with, len(entries), limit)
    return text


def plan_release(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Publish a merged train's release; open or update the one train PR when a train is due."""
    policy = policies.release
    actions: list[Action] = []
    notes: list[str] = []
    actions.extend(_release_actions(policy, snapshot))
    shipped = last_shipped(policy, snapshot)
    # A release about to be published counts as shipped: its train is not due again.
    call = call_train(policy, now, shipped)
    if snapshot.comparison is None:
        if call.due:
            notes.append(f"a train is due ({call.reason}); it leaves on the scheduled run")
        else:
            notes.append(call.reason)
        return Plan(FEATURE, tuple(actions), tuple(notes))
    if not call.due or call.departure is None:
        notes.append(call.reason)
        return Plan(FEATURE, tuple(actions), tuple(notes))
    train_actions, train_notes = _train_actions(policies, snapshot, call.departure, call.reason)
    return Plan(FEATURE, (*actions, *train_actions), (*notes, *train_notes))


def _release_actions(policy: ReleasePolicy, snapshot: Snapshot) -> Iterator[Action]:
    merged = last_merged_train(policy, snapshot)
    if merged is None or not merged.merge_commit_sha:
        return
    day = train_day(policy, merged)
    tag = policy.tag_name(day)
    if any(r.tag == tag for r in snapshot.releases):
        return
    body = f"Shipped by the release train PR #{merged.number}.\n\n{changelog_of(merged.body)}\n"
    yield CreateRelease(
        reason=f"train PR #{merged.number} merged; tag its merge commit and publish its changelog",
        tag=tag,
        target_sha=merged.merge_commit_sha,
        name=policy.release_name(day),
        body=body[:GITHUB_BODY_LIMIT],
    )


def _since(policy: ReleasePolicy, snapshot: Snapshot) -> tuple[str, str]:
    """How the body names the last release, and the comparison's base for its link."""
    comparison = snapshot.comparison
    base = comparison.base if comparison else policy.release_base
    short = base[:12] if len(base) == 40 else base
    merged = last_merged_train(policy, snapshot)
    releases = [r for r in snapshot.releases if r.published_at is not None]
    latest = max(releases, key=lambda r: r.published_at or _EPOCH, default=None)
    merged_at = merged.merged_at if merged is not None else None
    if latest is not None and (merged_at is None or (latest.published_at or _EPOCH) >= merged_at):
        return f"release `{latest.tag}`", short
    if merged is not None:
        return f"the train PR #{merged.number}", short
    return f"`{policy.release_base}`", short


def _train_actions(
    policies: Policies, snapshot: Snapshot, departure: Departure, why: str
) -> tuple[list[Action], list[str]]:
    policy = policies.release
    comparison = snapshot.comparison
    assert comparison is not None
    pulls = shipped_pulls(policy, snapshot)
    current = open_train(policy, snapshot)
    since, base_label = _since(policy, snapshot)
    actions: list[Action] = []
    notes: list[str] = []
    if current is None:
        branch = policy.branch_name(departure.day)
        closed = [
            p
            for p in train_pulls(policy, snapshot)
            if p.head_ref == branch and p.state == "closed" and not p.merged
        ]
        if closed:
            notes.append(
                f"train skipped: PR #{closed[-1].number} for {branch} was closed without "
                "merging; the next train picks up what merged"
            )
            return actions, notes
        if not pulls:
            notes.append(f"train skipped: nothing merged into {policy.source_branch} since {since}")
            return actions, notes
    if not comparison.head_sha:
        notes.append("train skipped: the comparison did not name the source branch's head")
        return actions, notes
    day = train_day(policy, current) if current is not None else departure.day
    branch = current.head_ref if current is not None else policy.branch_name(day)
    human = 0
    if current is not None:
        parts = split_body(current.body)
        human = len(current.body) if parts is None else len(parts[0]) + len(parts[1])
    framing = len(SECTION_BEGIN) + len(SECTION_END) + 8
    limit = min(policy.max_body_chars, GITHUB_BODY_LIMIT) - human - framing
    section = train_section(
        policies, snapshot, pulls, day, departure, since, base_label, max(limit, 0)
    )
    title = policy.title(day)
    captain = captain_at(policies, departure.at)
    reviewers, teams = reviewers_missing(policies, current, captain, snapshot.bot_login)
    count = f"{len(pulls)} PR{'s' if len(pulls) != 1 else ''}"
    notes.append(f"train {day}: {count} merged since {since} ({why})")
    if current is None:
        actions.append(
            SetBranch(
                reason=f"cut the train branch from {policy.source_branch} "
                f"({comparison.total_commits} commits since {since})",
                name=branch,
                sha=comparison.head_sha,
                exists=branch in snapshot.branches,
            )
        )
        actions.append(
            UpsertPullRequest(
                reason=f"the train of {departure.slot} is due with {count}; no train PR is open",
                head=branch,
                base=policy.release_base,
                title=title,
                body=merge_body("", section),
                labels=policy.labels,
                reviewers=reviewers,
                team_reviewers=teams,
            )
        )
        return actions, notes
    if current.head_sha != comparison.head_sha and current.head_sha not in comparison.commit_shas:
        # Someone pushed to the train branch (a fix for the train): moving it would drop that.
        notes.append(
            f"{branch} has commits that are not on {policy.source_branch}; not moving it "
            "(merge them into the source branch, or close the train PR)"
        )
    elif current.head_sha != comparison.head_sha:
        actions.append(
            SetBranch(
                reason=f"bring {branch} up to {policy.source_branch}: more merged since it was cut",
                name=branch,
                sha=comparison.head_sha,
                exists=True,
            )
        )
    body = merge_body(current.body, section)
    if len(body) > GITHUB_BODY_LIMIT:
        # Only people's text can be this long; cutting it would lose what they wrote.
        notes.append(
            f"train PR #{current.number}: the text around the generated section leaves no "
            f"room for the changelog within GitHub's {GITHUB_BODY_LIMIT:,} characters; "
            "shorten it and the next run updates the PR"
        )
        body = current.body
    # Label names are case-insensitive: GitHub applies an existing label whatever the case.
    have = {x.lower() for x in current.labels}
    missing_labels = tuple(x for x in policy.labels if x.lower() not in have)
    if body != current.body or title != current.title or missing_labels:
        actions.append(
            UpsertPullRequest(
                reason=f"update train PR #{current.number} in place: the changelog now lists "
                f"{count}",
                head=branch,
                base=policy.release_base,
                title=title,
                body=body,
                labels=missing_labels,
                number=current.number,
            )
        )
    if reviewers or teams:
        actions.append(
            RequestReviewers(
                reason="the sign-off owners and the release captain review every train",
                number=current.number,
                reviewers=reviewers,
                team_reviewers=teams,
            )
        )
    return actions, notes

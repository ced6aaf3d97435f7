"""The release train: a pure calendar (due, freeze, blackout, catch-up) and the train's plan.

Pure: no PyGithub, no environment, no clock. Every time is compared in UTC, because two
datetimes sharing a ZoneInfo compare by wall clock and ignore the offset across DST.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from automation.actions import (
    Action,
    CreateRelease,
    Plan,
    RequestReviewers,
    SetBranch,
    UpsertPullRequest,
)
from automation.markers import marker
from automation.policy.release import Category, ReleasePolicy
from automation.policy.tools import Lifecycle
from automation.rendering import render_shipped
from automation.rules.release import (
    Departure,
    call_train,
    captain_at,
    describe_time,
    last_merged_train,
    last_shipped,
    open_train,
    reviewers_missing,
    signoffs,
    train_day,
    train_pulls,
    train_window,
)

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.snapshot.models import Comparison, PullRequest, Snapshot

FEATURE = "release"
SERVER_URL = "https://github.com"
# GitHub rejects issue and PR bodies above 65,536 characters.
GITHUB_BODY_LIMIT = 65_536
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

SECTION_BEGIN = marker(FEATURE, "train")
SECTION_END = marker(FEATURE, "train-end")
CHANGELOG_BEGIN = marker(FEATURE, "changelog")
CHANGELOG_END = marker(FEATURE, "changelog-end")


# --- calendar (pure) -----------------------------------------------------------------------


# --- the train's PRs -----------------------------------------------------------------------


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


def tool_changes(policies: Policies, snapshot: Snapshot, day: dt.date) -> list[dict[str, Any]]:
    """The registry's tools deprecated or removed in this train's window, by date then name.

    The window runs from the day after the last train shipped through the train's day, as
    local dates of the release policy's time zone (`rules.release.train_window`).
    """
    policy = policies.release
    start, end = train_window(policy, last_shipped(policy, snapshot), day)
    changes = []
    for tool in policies.tools.tools:
        step = tool.changed_between(start, end)
        if step is None:
            continue
        on = tool.removed_on if step is Lifecycle.REMOVED else tool.deprecated_on
        changes.append(
            {
                "name": tool.name,
                "change": step.value,
                "on": on,
                "sunset": tool.sunset,
                "replacement": tool.replacement,
            }
        )
    return sorted(changes, key=lambda c: (c["on"], c["name"]))


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
    tools = tool_changes(policies, snapshot, day)

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
            tool_changes=tools,
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

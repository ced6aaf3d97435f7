"""Read what the stale sweep needs: the open items, and activity only where it decides.

A sweep costs ceil(open items / 100) list pages, one GraphQL request for the pinned issues
(when a rule exempts them), and one timeline read per item whose verdict depends on its
history (see automation.planners.stale.needs_activity). Nothing is written while the list
is paged: collect, then plan, then execute, so the sweep's own closes cannot shift the pages
under it (actions/stale skips one item per close because it closes while paging, its #1360).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from github import GithubException, UnknownObjectException
from github.Repository import Repository

from automation.github import graphql_read
from automation.planners.stale import needs_activity
from automation.snapshot.collect import (
    Json,
    SnapshotError,
    _is_bot,
    _login,
    comment_from_json,
    event_from_json,
    is_pull_request,
    issue_from_json,
    parse_time,
    pull_from_json,
    raw,
    raws,
)
from automation.snapshot.models import Comment, Issue, IssueEvent, PullRequest, Snapshot

if TYPE_CHECKING:
    from automation.policy.loader import Policies

log = logging.getLogger("dataface_ops.snapshot.stale")

# The REST API does not say whether an issue is pinned; GraphQL does (at most 3 per repo).
PINNED_QUERY = """
query($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) {
    pinnedIssues(first: 3) { nodes { issue { number } } }
  }
}
"""

PinnedReader = Callable[[Repository], frozenset[int]]


def pinned_from_graphql(data: Json) -> frozenset[int]:
    """The pinned issue numbers in a PINNED_QUERY answer."""
    try:
        nodes = data["data"]["repository"]["pinnedIssues"]["nodes"]
        return frozenset(int(node["issue"]["number"]) for node in nodes)
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"pinned issues answer lacks {exc}") from None


def read_pinned_issues(repo: Repository) -> frozenset[int]:
    """POST /graphql: the repository's pinned issues (one request)."""
    owner, name = repo.full_name.split("/")
    data = graphql_read(repo.requester, PINNED_QUERY, {"owner": owner, "name": name})
    return pinned_from_graphql(data)


def activity_from_timeline(
    entries: Iterable[Json],
) -> tuple[tuple[Comment, ...], tuple[IssueEvent, ...]]:
    """Split timeline entries into comments and events (pushes and reviews included)."""
    comments: list[Comment] = []
    events: list[IssueEvent] = []
    for data in entries:
        kind = data.get("event")
        if kind == "commented":
            comments.append(comment_from_json(data))
        elif kind == "committed":
            # A commit carries git identities and its commit date, not a login or the push
            # time; the planner also treats an unexplained later `updated_at` as a push.
            committer = data.get("committer") or {}
            name = str(committer.get("name") or "ghost")
            if committer.get("date"):
                events.append(
                    IssueEvent(
                        event="committed",
                        actor=name,
                        actor_is_bot=name.endswith("[bot]"),
                        created_at=parse_time(committer["date"]),
                    )
                )
        elif kind == "reviewed":
            when = data.get("submitted_at")
            if when:
                user = data.get("user")
                events.append(
                    IssueEvent(
                        event="reviewed",
                        actor=_login(user),
                        actor_is_bot=_is_bot(user),
                        created_at=parse_time(when),
                    )
                )
        elif kind in ("line-commented", "commit-commented"):
            for comment in data.get("comments") or ():
                user = comment.get("user")
                when = comment.get("updated_at") or comment.get("created_at")
                if when:
                    events.append(
                        IssueEvent(
                            event=str(kind),
                            actor=_login(user),
                            actor_is_bot=_is_bot(user),
                            created_at=parse_time(when),
                        )
                    )
        elif data.get("created_at"):
            events.append(event_from_json(data))
    return tuple(comments), tuple(events)


def read_timeline(
    repo: Repository, number: int
) -> tuple[tuple[Comment, ...], tuple[IssueEvent, ...]]:
    """GET /repos/{owner}/{repo}/issues/{issue_number}/timeline (every page)."""
    return activity_from_timeline(raws(repo.get_issue(number).get_timeline()))


def _item(data: Json, pinned: frozenset[int]) -> Issue:
    number = int(data["number"])
    if is_pull_request(data):
        return pull_from_json(data)
    return issue_from_json(data, pinned=number in pinned)


def read_open_items(repo: Repository) -> list[Json]:
    """GET /repos/{owner}/{repo}/issues?state=open&sort=created&direction=asc (every page).

    The issues list includes PRs, so one pass reads both. Pages are numbered, so anything
    that moves an item out of a page already read slides the next item onto that page,
    unseen. Creation order moves only on a close (the sweep's own come after the read);
    update order would also move on every comment made while the list is read, sending the
    commented item to the end. The planner orders by activity itself. An item that still
    shows up twice counts once, in its later copy.
    """
    seen: dict[int, Json] = {}
    for data in raws(repo.get_issues(state="open", sort="created", direction="asc")):
        seen[int(data["number"])] = data
    return list(seen.values())


def _same_item(data: Json, number: int) -> bool:
    """Whether an issue answer is item `number` itself, not the issue it was moved to.

    The number, not the repository URL: a renamed repository redirects too, to the same item.
    """
    return data.get("number") == number


def _wants_pinned(policies: Policies) -> bool:
    return any(r.exempt_pinned and r.scope != "prs" for r in policies.stale.rules)


def collect(
    repo: Repository,
    policies: Policies,
    numbers: tuple[int, ...] | None,
    now: dt.datetime,
    *,
    read_pinned: PinnedReader = read_pinned_issues,
) -> Snapshot:
    """Collect the stale snapshot; `read_pinned` is swappable because GraphQL is not REST."""
    if numbers is None:
        datas = read_open_items(repo)
        pinned = read_pinned(repo) if _wants_pinned(policies) else frozenset()
    else:
        datas = []
        for number in numbers:
            issue = repo.get_issue(number)
            try:
                issue.update()  # one GET: the event's payload may be older than the item
            except UnknownObjectException:
                log.info("#%d is gone (deleted or transferred): nothing to un-stale", number)
                continue
            except GithubException as exc:
                if exc.status != 410:  # 410 Gone: the issue was deleted
                    raise
                log.info("#%d was deleted: nothing to un-stale", number)
                continue
            data = raw(issue)
            # A transferred issue answers 301, and PyGithub follows it to the issue in its
            # new repository, under another number: acting on that number here would touch
            # an unrelated item.
            if not _same_item(data, number):
                log.info("#%d was transferred to another repository: nothing to un-stale", number)
                continue
            datas.append(data)
        pinned = frozenset()  # an event only un-stales; the sweep minds pins
    items: list[Issue] = []
    reads = 0
    for data in datas:
        item = _item(data, pinned)
        # An event only un-stales, so only an item carrying a stale label needs its history.
        marked = numbers is None or bool(
            {label.casefold() for label in item.labels} & policies.stale.stale_labels
        )
        if item.state == "open" and marked and needs_activity(policies, item, now):
            comments, events = read_timeline(repo, item.number)
            item = item.model_copy(update={"comments": comments, "events": events})
            reads += 1
        items.append(item)
    log.info("read %d open item(s); read the activity of %d", len(items), reads)
    issues = tuple(i for i in items if not isinstance(i, PullRequest))
    pulls = tuple(i for i in items if isinstance(i, PullRequest))
    return Snapshot(
        repo=repo.full_name,
        taken_at=now,
        issues=issues,
        pulls=pulls,
        subjects=numbers,
    )


def collect_stale(
    repo: Repository, policies: Policies, numbers: tuple[int, ...] | None, now: dt.datetime
) -> Snapshot:
    """Read the open items and, for those whose verdict depends on it, their activity."""
    return collect(repo, policies, numbers, now)

"""Read what the stale sweep needs: the open items, and activity only where it decides.

A sweep reads the rate limit first (GET /rate_limit, which GitHub does not count), then
ceil(open items / 100) list pages, one GraphQL request for the pinned issues (when a rule
exempts them), and one GraphQL request per ACTIVITY_CHUNK items whose verdict depends on
their history (see automation.rules.stale.needs_activity): their recent timelines in
bulk. An item whose recent timeline does not reach back far enough gets its whole REST
timeline. Nothing is written while the list is paged: collect, then plan, then execute, so
the sweep's own closes cannot shift the pages under it (actions/stale skips one item per
close because it closes while paging, its #1360).

Under a rate limit the reads are planned within what is left: at most half of the REST
requests go to reading (list pages first, in creation order), GraphQL reads go labelled
items first (due closes and un-stales), then the oldest, and the snapshot records how many
REST requests are left for writes (Snapshot.writes_left). Whatever was not read is left
alone this run and read by the next: the only state carried over is GitHub's own.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from automation.github import (
    GithubException,
    Repository,
    UnknownObjectException,
    graphql,
    request_json,
)
from automation.rules.stale import needs_activity
from automation.snapshot.collect import (
    Json,
    SnapshotError,
    _is_bot,
    _login,
    actor_from_graphql,
    comment_from_graphql,
    comment_from_json,
    event_from_json,
    is_pull_request,
    issue_from_json,
    parse_time,
    pull_from_json,
    raw,
    raws,
    timeline_events,
    timeline_item_type,
)
from automation.snapshot.models import Comment, Issue, IssueEvent, PullRequest, Snapshot

if TYPE_CHECKING:
    from automation.policy.policies import Policies

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
    data = graphql(repo, PINNED_QUERY, {"owner": owner, "name": name})
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


# --- bulk activity: one GraphQL request for many items' recent timelines ----------------

# Items per GraphQL request, and timeline entries per item. GitHub counts a query's cost in
# points from its connections (here about 1 per request) and times out heavy queries; 50
# items with their last 50 entries each stays well inside both.
ACTIVITY_CHUNK = 50
TIMELINE_DEPTH = 50

# GraphQL timeline item types read, with the REST timeline's name for each. Besides the
# activity events, the ones that move `updated_at` without being activity (closed,
# referenced, ...) are read so that an `updated_at` they explain is not taken for an edit.
_EVENTS = timeline_events(
    "LabeledEvent",
    "UnlabeledEvent",
    "ReopenedEvent",
    "ClosedEvent",
    "RenamedTitleEvent",
    "AssignedEvent",
    "UnassignedEvent",
    "MilestonedEvent",
    "DemilestonedEvent",
    "LockedEvent",
    "UnlockedEvent",
    "CrossReferencedEvent",
    "ReferencedEvent",
    "MarkedAsDuplicateEvent",
    "UnmarkedAsDuplicateEvent",
    "PinnedEvent",
    "UnpinnedEvent",
    "TransferredEvent",
)
_PULL_EVENTS = timeline_events(
    "HeadRefForcePushedEvent",
    "ReadyForReviewEvent",
    "ConvertToDraftEvent",
    "ReviewRequestedEvent",
    "ReviewRequestRemovedEvent",
)


# The timeline items that carry a label (an un-label too: the sweep's own un-stale).
_LABEL_EVENTS = frozenset({"LabeledEvent", "UnlabeledEvent"})


def _label(typename: str) -> str:
    return " label { name }" if typename in _LABEL_EVENTS else ""


def _timeline_fragment(name: str, on: str, events: dict[str, str], extra: str) -> str:
    types = [
        "IssueComment",
        *events,
        *(["PullRequestCommit", "PullRequestReview"] if extra else []),
    ]
    parts = [
        "... on IssueComment { databaseId author { ...Who } body createdAt updatedAt }",
        *(f"... on {t} {{ actor {{ ...Who }} createdAt{_label(t)} }}" for t in events),
        extra,
    ]
    nodes = "\n        ".join(p for p in parts if p)
    item_types = ", ".join(timeline_item_type(t) for t in types)
    return f"""fragment {name} on {on} {{
  timelineItems(last: {TIMELINE_DEPTH}, itemTypes: [{item_types}]) {{
    pageInfo {{ hasPreviousPage }}
    nodes {{
        __typename
        {nodes}
    }}
  }}
}}"""


_PULL_EXTRA = (
    "... on PullRequestCommit { commit { committedDate committer { name } } }\n"
    "        ... on PullRequestReview { author { ...Who } submittedAt createdAt }"
)
ACTIVITY_FRAGMENTS = "\n".join(
    (
        "fragment Who on Actor { __typename login }",
        _timeline_fragment("IssueActivity", "Issue", _EVENTS, ""),
        _timeline_fragment("PullActivity", "PullRequest", {**_EVENTS, **_PULL_EVENTS}, _PULL_EXTRA),
    )
)


def activity_query(numbers: Iterable[int]) -> str:
    """One query for the recent timelines of `numbers` (an alias per item)."""
    fragments = "{ __typename ...IssueActivity ...PullActivity }"
    aliases = "\n    ".join(
        f"n{n}: issueOrPullRequest(number: {int(n)}) {fragments}" for n in numbers
    )
    return f"""query($owner: String!, $name: String!) {{
  rateLimit {{ cost remaining }}
  repository(owner: $owner, name: $name) {{
    {aliases}
  }}
}}
{ACTIVITY_FRAGMENTS}"""


def activity_from_graphql(
    nodes: Iterable[Json],
) -> tuple[tuple[Comment, ...], tuple[IssueEvent, ...]]:
    """Turn GraphQL timeline nodes into the comments and events the REST timeline gives."""
    comments: list[Comment] = []
    events: list[IssueEvent] = []
    for node in nodes:
        kind = node.get("__typename")
        if kind == "IssueComment":
            comments.append(comment_from_graphql(node))
        elif kind == "PullRequestCommit":
            commit = node.get("commit") or {}
            committer = commit.get("committer") or {}
            name = str(committer.get("name") or "ghost")
            if commit.get("committedDate"):
                events.append(
                    IssueEvent(
                        event="committed",
                        actor=name,
                        actor_is_bot=name.endswith("[bot]"),
                        created_at=parse_time(commit["committedDate"]),
                    )
                )
        elif kind == "PullRequestReview":
            login, bot = actor_from_graphql(node.get("author"))
            when = node.get("submittedAt") or node.get("createdAt")
            if when:
                events.append(
                    IssueEvent(
                        event="reviewed", actor=login, actor_is_bot=bot, created_at=parse_time(when)
                    )
                )
        elif isinstance(kind, str) and (kind in _EVENTS or kind in _PULL_EVENTS):
            login, bot = actor_from_graphql(node.get("actor"))
            label = node.get("label")
            events.append(
                IssueEvent(
                    event=_EVENTS.get(kind) or _PULL_EVENTS[kind],
                    actor=login,
                    actor_is_bot=bot,
                    created_at=parse_time(node["createdAt"]),
                    label=str(label.get("name")) if isinstance(label, Mapping) else None,
                )
            )
    return tuple(comments), tuple(events)


Activity = tuple[tuple[Comment, ...], tuple[IssueEvent, ...]]


class _Budget:
    """What this run may still spend: REST requests and GraphQL points (None: no limit)."""

    def __init__(self, core: int | None, graphql: int | None) -> None:
        self.core = core
        self.graphql = graphql
        self.core_reads = 0

    def can_read(self) -> bool:
        """Reads may use half of the REST requests left at the start; writes get the rest."""
        return self.core is None or self.core_reads < max(1, self.core // 2)

    def writes_left(self) -> int | None:
        if self.core is None:
            return None
        left = self.core - self.core_reads
        # Kept back for what a write may need to read (a lookup after an ambiguous failure).
        return max(0, left - left // 20)


def read_rate_limit(repo: Repository) -> _Budget:
    """GET /rate_limit (free: GitHub does not count it): REST and GraphQL left this hour."""
    try:
        data = request_json(repo, "GET", "/rate_limit")
    except GithubException as exc:
        if exc.status == 404:  # GitHub Enterprise Server with rate limiting off
            return _Budget(None, None)
        raise
    try:
        resources = data["resources"]
        graphql = resources.get("graphql")
        return _Budget(
            int(resources["core"]["remaining"]),
            int(graphql["remaining"]) if isinstance(graphql, Mapping) else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"rate limit answer lacks {exc}") from None


def read_activities(repo: Repository, numbers: list[int], budget: _Budget) -> dict[int, Activity]:
    """POST /graphql per ACTIVITY_CHUNK items, in the order given, while the budget lasts.

    Items missing from the answer (deleted or transferred since the list was read) are left
    out; an item whose last TIMELINE_DEPTH entries do not reach back to its first gets its
    whole REST timeline (GET .../timeline), when the REST budget still allows a read.
    """
    owner, name = repo.full_name.split("/")
    found: dict[int, Activity] = {}
    for start in range(0, len(numbers), ACTIVITY_CHUNK):
        if budget.graphql is not None and budget.graphql < 1:
            log.warning("GraphQL limit reached: %d item(s) left unread", len(numbers) - start)
            break
        chunk = numbers[start : start + ACTIVITY_CHUNK]
        answer = graphql(repo, activity_query(chunk), {"owner": owner, "name": name})
        errors = [e for e in answer.get("errors") or () if isinstance(e, Mapping)]
        if any(e.get("type") == "RATE_LIMITED" for e in errors):
            log.warning("GraphQL limit reached: %d item(s) left unread", len(numbers) - start)
            break
        unexpected = [e for e in errors if e.get("type") != "NOT_FOUND"]
        if unexpected or not isinstance(answer.get("data"), Mapping):
            message = unexpected[0].get("message") if unexpected else "no data"
            raise SnapshotError(f"activity answer: {message}")
        data = answer["data"]
        rate = data.get("rateLimit")
        if budget.graphql is not None:
            spent = int(rate.get("cost") or 1) if isinstance(rate, Mapping) else 1
            budget.graphql -= spent
        repository = data.get("repository")
        if not isinstance(repository, Mapping):
            raise SnapshotError("activity answer has no repository")
        for number in chunk:
            node = repository.get(f"n{number}")
            if not isinstance(node, Mapping):
                continue  # gone since the list was read: left alone this run
            timeline = node.get("timelineItems")
            if not isinstance(timeline, Mapping):
                raise SnapshotError(f"activity answer for #{number} has no timelineItems")
            if (timeline.get("pageInfo") or {}).get("hasPreviousPage"):
                if not budget.can_read():
                    continue
                budget.core_reads += 1
                found[number] = read_timeline(repo, number)
                continue
            found[number] = _shaped_activity(timeline.get("nodes") or ())
    return found


def _shaped_activity(nodes: Iterable[Json]) -> Activity:
    try:
        return activity_from_graphql(nodes)
    except (KeyError, TypeError, ValueError, AttributeError, SnapshotError) as exc:
        raise SnapshotError(f"timeline node is missing or has a bad field: {exc}") from None


def _item(data: Json, pinned: frozenset[int]) -> Issue:
    number = int(data["number"])
    if is_pull_request(data):
        return pull_from_json(data)
    return issue_from_json(data, pinned=number in pinned)


def read_open_items(repo: Repository, max_pages: int | None = None) -> list[Json]:
    """GET /repos/{owner}/{repo}/issues?state=open&sort=created&direction=asc (every page).

    The issues list includes PRs, so one pass reads both. Pages are numbered, so anything
    that moves an item out of a page already read slides the next item onto that page,
    unseen. Creation order moves only on a close (the sweep's own come after the read);
    update order would also move on every comment made while the list is read, sending the
    commented item to the end. The planner orders by activity itself. An item that still
    shows up twice counts once, in its later copy.
    """
    seen: dict[int, Json] = {}
    listed = repo.get_issues(state="open", sort="created", direction="asc")
    for index, data in enumerate(raws(listed), start=1):
        seen[int(data["number"])] = data
        # Stop before asking for the next page (the list fetches a page when it runs dry).
        if max_pages is not None and index >= max_pages * PAGE_SIZE:
            log.warning("read the first %d list page(s) only: the rate limit", max_pages)
            break
    return list(seen.values())


PAGE_SIZE = 100  # per_page, set on the client (automation.github.make_github)


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
    """Collect the stale snapshot (`read_pinned` is swappable for tests of the rest)."""
    if numbers is None:
        return _sweep(repo, policies, now, read_pinned)
    datas = []
    for number in numbers:
        issue = repo.get_issue(number)
        try:
            issue.complete()  # one GET: the event's payload may be older than the item
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
    pinned: frozenset[int] = frozenset()  # an event only un-stales; the sweep minds pins
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
    return _snapshot(repo, now, items, numbers, None)


def _snapshot(
    repo: Repository,
    now: dt.datetime,
    items: list[Issue],
    numbers: tuple[int, ...] | None,
    writes_left: int | None,
) -> Snapshot:
    issues = tuple(i for i in items if not isinstance(i, PullRequest))
    pulls = tuple(i for i in items if isinstance(i, PullRequest))
    return Snapshot(
        repo=repo.full_name,
        taken_at=now,
        issues=issues,
        pulls=pulls,
        subjects=numbers,
        writes_left=writes_left,
    )


def _sweep(
    repo: Repository, policies: Policies, now: dt.datetime, read_pinned: PinnedReader
) -> Snapshot:
    """The scheduled sweep's reads, planned within the rate limit (see the module doc)."""
    budget = read_rate_limit(repo)
    max_pages = None if budget.core is None else max(1, budget.core // 2)
    datas = read_open_items(repo, max_pages)
    budget.core_reads += max(1, -(-len(datas) // PAGE_SIZE))
    pinned: frozenset[int] = frozenset()
    if _wants_pinned(policies):
        if budget.graphql is not None and budget.graphql < 1:
            # Without the pins a warning could go to a pinned issue: write nothing.
            log.warning("GraphQL limit reached before the pinned issues were read")
            items = [_item(d, pinned) for d in datas]
            return _snapshot(repo, now, items, None, 0)
        pinned = read_pinned(repo)
        if budget.graphql is not None:
            budget.graphql -= 1
    items = [_item(d, pinned) for d in datas]
    needed = [i for i in items if i.state == "open" and needs_activity(policies, i, now)]
    labels = policies.stale.stale_labels
    # Labelled items first (due closes, un-stales), then the oldest activity.
    needed.sort(key=lambda i: (not _folded_labels(i) & labels, i.updated_at, i.number))
    found = read_activities(repo, [i.number for i in needed], budget)
    items = [
        i.model_copy(update={"comments": found[i.number][0], "events": found[i.number][1]})
        if i.number in found
        else i
        for i in items
    ]
    log.info(
        "read %d open item(s) and the activity of %d of the %d that need it",
        len(items),
        len(found),
        len(needed),
    )
    return _snapshot(repo, now, items, None, budget.writes_left())


def _folded_labels(item: Issue) -> frozenset[str]:
    return frozenset(label.casefold() for label in item.labels)


def collect_stale(
    repo: Repository, policies: Policies, numbers: tuple[int, ...] | None, now: dt.datetime
) -> Snapshot:
    """Read the open items and, for those whose verdict depends on it, their activity."""
    return collect(repo, policies, numbers, now)

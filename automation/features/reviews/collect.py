"""Read what the review loop needs: open PRs with their files, requests, reviews and events.

GraphQL, because REST would need four requests per PR (files, reviews, timeline, comments)
on top of the list: a sweep of 500 open PRs reads ceil(500 / PAGE) GraphQL pages, plus the
merged PRs of the figures window (newest first, stopping at the window's start). An event
reads its one PR the same way (one request). REST only fills in what a page cut short, and
only where it matters: all comments of an overdue PR whose reminder is not among its last
COMMENTS (rules.reviews.needs_comments), all files of a PR with more than FILES.
GraphQL does not give a renamed file's old path: the areas come from the new paths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from automation.github import graphql, repository_name
from automation.rules.reviews import needs_comments, reminder_marker
from automation.snapshot.collect import (
    Json,
    SnapshotError,
    actor_from_graphql,
    comment_from_graphql,
    file_from_json,
    parse_time,
    raws,
    read_comments,
    timeline_events,
)
from automation.snapshot.models import (
    ChangedFile,
    IssueEvent,
    PullRequest,
    Review,
    Snapshot,
)

if TYPE_CHECKING:
    from automation.github import Repository
    from automation.policy.policies import Policies

# PRs per GraphQL page (each with up to FILES files, 100 reviews, 100 events, COMMENTS
# comments: about 21,000 nodes a page, far inside GitHub's 500,000).
PAGE = 50
FILES = 100
COMMENTS = 20

_TYPES = "REVIEW_REQUESTED_EVENT, REVIEW_REQUEST_REMOVED_EVENT, READY_FOR_REVIEW_EVENT"
_ASKED = "requestedReviewer { ...Asked }"
PULL_FRAGMENT = f"""
fragment Who on Actor {{ __typename login }}
fragment Asked on RequestedReviewer {{
  __typename
  ... on User {{ login }}
  ... on Bot {{ login }}
  ... on Mannequin {{ login }}
  ... on Team {{ slug }}
}}
fragment Pull on PullRequest {{
  number title state isDraft locked createdAt updatedAt mergedAt url changedFiles
  author {{ ...Who }}
  labels(first: 100) {{ nodes {{ name }} }}
  files(first: {FILES}) {{ nodes {{ path }} }}
  reviewRequests(first: 100) {{ nodes {{ requestedReviewer {{ ...Asked }} }} }}
  reviews(first: 100) {{ nodes {{ databaseId author {{ ...Who }} state submittedAt }} }}
  timelineItems(last: 100, itemTypes: [{_TYPES}]) {{
    nodes {{
      __typename
      ... on ReviewRequestedEvent {{ createdAt actor {{ ...Who }} {_ASKED} }}
      ... on ReviewRequestRemovedEvent {{ createdAt actor {{ ...Who }} {_ASKED} }}
      ... on ReadyForReviewEvent {{ createdAt actor {{ ...Who }} }}
    }}
  }}
  comments(last: {COMMENTS}) {{
    totalCount
    nodes {{ databaseId author {{ ...Who }} body createdAt updatedAt }}
  }}
}}
"""


def list_query(state: str, order: str) -> str:
    """One page of the repository's PRs in `state` (OPEN or MERGED)."""
    return f"""query($owner: String!, $name: String!, $cursor: String) {{
  repository(owner: $owner, name: $name) {{
    pullRequests(
      states: [{state}], first: {PAGE}, after: $cursor,
      orderBy: {{field: {order}, direction: DESC}}
    ) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ ...Pull }}
    }}
  }}
}}
{PULL_FRAGMENT}"""


def numbers_query(numbers: Iterable[int]) -> str:
    """The named PRs, one alias each."""
    aliases = "\n    ".join(
        f"n{int(n)}: pullRequest(number: {int(n)}) {{ ...Pull }}" for n in numbers
    )
    return f"""query($owner: String!, $name: String!) {{
  repository(owner: $owner, name: $name) {{
    {aliases}
  }}
}}
{PULL_FRAGMENT}"""


def _asked(value: Any) -> tuple[str | None, str | None]:
    """(login, team slug) of a RequestedReviewer."""
    if not isinstance(value, Mapping):
        return None, None
    if value.get("__typename") == "Team":
        slug = value.get("slug")
        return None, str(slug) if slug else None
    login, _ = actor_from_graphql(value)
    return (None if login == "ghost" else login), None


def _nodes(connection: Any) -> list[Json]:
    if not isinstance(connection, Mapping):
        return []
    return [n for n in connection.get("nodes") or () if isinstance(n, Mapping)]


_EVENTS = timeline_events(
    "ReviewRequestedEvent", "ReviewRequestRemovedEvent", "ReadyForReviewEvent"
)


def pull_from_graphql(node: Json) -> PullRequest:
    """Build a PullRequest (files, reviews, events and recent comments read) from a Pull node."""
    try:
        return _pull(node)
    except SnapshotError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SnapshotError(f"pull request GraphQL answer lacks or mangles {exc}") from None


def _pull(node: Json) -> PullRequest:
    author, author_bot = actor_from_graphql(node.get("author"))
    asked = [_asked(n.get("requestedReviewer")) for n in _nodes(node.get("reviewRequests"))]
    events = []
    for item in _nodes(node.get("timelineItems")):
        kind = _EVENTS.get(str(item.get("__typename")))
        if kind is None:
            continue
        actor, bot = actor_from_graphql(item.get("actor"))
        login, team = _asked(item.get("requestedReviewer"))
        events.append(
            IssueEvent(
                event=kind,
                actor=actor,
                actor_is_bot=bot,
                created_at=parse_time(item["createdAt"]),
                requested_reviewer=login,
                requested_team=team,
            )
        )
    reviews = []
    for item in _nodes(node.get("reviews")):
        user, _ = actor_from_graphql(item.get("author"))
        reviews.append(
            Review(
                id=int(item.get("databaseId") or 0),
                user=user,
                state=item["state"],
                submitted_at=parse_time(item["submittedAt"]) if item.get("submittedAt") else None,
            )
        )
    comments = [comment_from_graphql(item) for item in _nodes(node.get("comments"))]
    total = node.get("comments", {}).get("totalCount", len(comments))
    merged_at = node.get("mergedAt")
    return PullRequest(
        number=int(node["number"]),
        title=str(node.get("title") or ""),
        state="open" if node.get("state") == "OPEN" else "closed",
        author=author,
        author_is_bot=author_bot,
        labels=tuple(str(n.get("name")) for n in _nodes(node.get("labels"))),
        locked=bool(node.get("locked")),
        created_at=parse_time(node["createdAt"]),
        updated_at=parse_time(node.get("updatedAt") or node["createdAt"]),
        html_url=str(node.get("url") or ""),
        draft=bool(node.get("isDraft")),
        merged=merged_at is not None,
        merged_at=parse_time(merged_at) if merged_at else None,
        changed_files=int(node.get("changedFiles") or 0),
        files=tuple(ChangedFile(filename=str(n["path"])) for n in _nodes(node.get("files"))),
        reviews=tuple(reviews),
        requested_reviewers=tuple(login for login, _ in asked if login),
        requested_teams=tuple(team for _, team in asked if team),
        events=tuple(events),
        comments_count=int(total),
        # The last COMMENTS only, when there are more: complete() reads the rest if needed.
        comments=tuple(comments),
    )


def _owner_name(repo: Repository) -> tuple[str, str]:
    owner, name = repository_name(repo).split("/")  # full_name would GET a lazy repo
    return owner, name


def read_open(repo: Repository) -> list[Json]:
    """Every open PR (POST /graphql, ceil(open / PAGE) requests)."""
    return list(_pages(repo, list_query("OPEN", "CREATED_AT"), None))


def read_merged(repo: Repository, since: dt.datetime) -> list[Json]:
    """PRs merged since `since`: newest updates first, stopping at the first older one."""
    return list(_pages(repo, list_query("MERGED", "UPDATED_AT"), since))


def _pages(repo: Repository, query: str, since: dt.datetime | None) -> Iterable[Json]:
    owner, name = _owner_name(repo)
    cursor: str | None = None
    while True:
        data = graphql(repo, query, {"owner": owner, "name": name, "cursor": cursor})
        try:
            found = data["data"]["repository"]["pullRequests"]
            nodes, info = found["nodes"], found["pageInfo"]
        except (KeyError, TypeError):
            raise SnapshotError(
                f"pull requests GraphQL answer has no page: {_errors(data)}"
            ) from None
        for node in nodes:
            if since is not None and parse_time(node["updatedAt"]) < since:
                return
            yield node
        if not info.get("hasNextPage"):
            return
        cursor = str(info["endCursor"])


def _errors(data: Any) -> str:
    errors = data.get("errors") if isinstance(data, Mapping) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        return str(errors[0].get("message"))[:200]
    return "no data"


def read_numbers(repo: Repository, numbers: tuple[int, ...]) -> list[Json]:
    """The named PRs (one request per PAGE numbers); an issue number is no PR and is skipped."""
    owner, name = _owner_name(repo)
    out: list[Json] = []
    for start in range(0, len(numbers), PAGE):
        chunk = numbers[start : start + PAGE]
        data = graphql(repo, numbers_query(chunk), {"owner": owner, "name": name})
        repository = (data.get("data") or {}).get("repository")
        if not isinstance(repository, Mapping):
            raise SnapshotError(f"pull request GraphQL answer has no repository: {_errors(data)}")
        out.extend(
            repository[f"n{n}"] for n in chunk if isinstance(repository.get(f"n{n}"), Mapping)
        )
    return out


def collect_reviews(
    repo: Repository, policies: Policies, numbers: tuple[int, ...] | None, now: dt.datetime
) -> Snapshot:
    """Read the open PRs (or the named ones), and on a sweep the merged PRs of the window."""
    if numbers is None:
        nodes = read_open(repo)
        if policies.reviews.figures_days:
            since = now - dt.timedelta(days=policies.reviews.figures_days)
            # Listed by update time: keep only what was merged in the window.
            nodes += [
                n
                for n in read_merged(repo, since)
                if n.get("mergedAt") and parse_time(n["mergedAt"]) >= since
            ]
    else:
        nodes = read_numbers(repo, tuple(dict.fromkeys(numbers))) if numbers else []
    pulls: dict[int, PullRequest] = {}
    for node in nodes:
        pull = pull_from_graphql(node)
        pulls[pull.number] = complete(repo, policies, pull, now)
    return Snapshot(
        repo=repository_name(repo),
        taken_at=now,
        pulls=tuple(sorted(pulls.values(), key=lambda p: p.number)),
        subjects=numbers,
    )


def complete(
    repo: Repository, policies: Policies, pull: PullRequest, now: dt.datetime
) -> PullRequest:
    """Fill in what a GraphQL page cut short, where the plan depends on it (REST)."""
    if pull.state == "open" and pull.changed_files > len(pull.files or ()):
        # GET /repos/{owner}/{repo}/pulls/{pull_number}/files (every page, at most 3,000)
        files = tuple(file_from_json(d) for d in raws(repo.get_pull(pull.number).get_files()))
        pull = pull.model_copy(update={"files": files})
    comments = pull.comments or ()
    if pull.comments_count > len(comments) and needs_comments(policies, pull, now):
        tag = reminder_marker(pull.number)
        if not any(tag in c.body and c.author_is_bot for c in comments):
            # The reminder, if any, is older than the last comments read: read them all.
            pull = pull.model_copy(update={"comments": read_comments(repo, pull.number)})
    return pull

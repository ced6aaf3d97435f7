"""Every read from GitHub, turned into snapshot models.

Conversions take the JSON GitHub sends (a REST answer or a webhook payload), so an event's
own payload can stand in for a GET. PyGithub objects are read through `raw()`, which never
completes a lazy object: reading `raw_data` or a missing attribute on a listed issue would
send one GET per item.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ParamSpec, TypeVar

from automation.github import GithubObject, Repository, raw_json
from automation.markers import MARKER_PREFIX
from automation.snapshot.models import (
    ChangedFile,
    CheckRun,
    Comment,
    Comparison,
    Issue,
    IssueEvent,
    PullRequest,
    Reaction,
    Release,
    Review,
)

Json = Mapping[str, Any]


class SnapshotError(Exception):
    """GitHub's answer did not have the shape the snapshot needs."""


P = ParamSpec("P")
R = TypeVar("R")


def _shaped(convert: Callable[P, R]) -> Callable[P, R]:
    """Turn a missing or malformed field of an answer into SnapshotError (one clear line)."""

    @functools.wraps(convert)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return convert(*args, **kwargs)
        except SnapshotError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # pydantic's too
            what = convert.__name__.removesuffix("_from_json")
            detail = " ".join(str(exc).split()).split(" For further information")[0][:200]
            raise SnapshotError(f"{what} JSON is missing or has a bad field: {detail}") from None

    return wrapper


def raw(obj: GithubObject) -> Json:
    """The JSON a PyGithub object was built from, without completing it."""
    data = raw_json(obj)
    if not isinstance(data, Mapping):
        raise SnapshotError(f"{type(obj).__name__} carries no JSON")
    return data


def parse_time(value: Any) -> dt.datetime:
    """Parse GitHub's ISO 8601 timestamps (always UTC, with Z)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not isinstance(value, str):
        raise SnapshotError(f"expected a timestamp, got {value!r}")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SnapshotError(f"expected a timestamp, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _mapping(value: Any) -> Json:
    return value if isinstance(value, Mapping) else {}


def _opt_time(value: Any) -> dt.datetime | None:
    return None if value is None else parse_time(value)


def _login(user: Any) -> str:
    if isinstance(user, Mapping) and isinstance(user.get("login"), str):
        return str(user["login"])
    return "ghost"  # GitHub's name for a deleted account


def _is_bot(user: Any) -> bool:
    return isinstance(user, Mapping) and (
        user.get("type") == "Bot" or str(user.get("login", "")).endswith("[bot]")
    )


def _label_names(labels: Any) -> tuple[str, ...]:
    names = []
    for label in labels or ():
        if isinstance(label, Mapping):
            names.append(str(label.get("name", "")))
        elif isinstance(label, str):
            names.append(label)
    return tuple(names)


def _issue_fields(data: Json) -> dict[str, Any]:
    try:
        milestone = data.get("milestone")
        return {
            "number": int(data["number"]),
            "title": str(data.get("title") or ""),
            "body": str(data.get("body") or ""),
            "state": data.get("state", "open"),
            "state_reason": data.get("state_reason"),
            "author": _login(data.get("user")),
            "author_is_bot": _is_bot(data.get("user")),
            "labels": _label_names(data.get("labels")),
            "assignees": tuple(_login(a) for a in data.get("assignees") or ()),
            "milestone": milestone.get("title") if isinstance(milestone, Mapping) else None,
            "locked": bool(data.get("locked", False)),
            "created_at": parse_time(data["created_at"]),
            "updated_at": parse_time(data["updated_at"]),
            "closed_at": _opt_time(data.get("closed_at")),
            "html_url": str(data.get("html_url") or ""),
            "comments_count": int(data.get("comments") or 0),
            "reactions_count": _reactions_count(data.get("reactions")),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"issue JSON is missing or has a bad field: {exc}") from None


def _reactions_count(rollup: Any) -> int | None:
    if isinstance(rollup, Mapping) and isinstance(rollup.get("total_count"), int):
        return int(rollup["total_count"])
    return None


def is_pull_request(data: Json) -> bool:
    """Whether an issues-API item is really a PR."""
    return "pull_request" in data or "head" in data


@_shaped
def issue_from_json(data: Json, **extra: Any) -> Issue:
    """Build an Issue from an issues-API item or a webhook's `issue`."""
    return Issue(**_issue_fields(data), **extra)


@_shaped
def pull_from_json(data: Json, **extra: Any) -> PullRequest:
    """Build a PullRequest from a pulls-API item, an issues-API item or a webhook's PR."""
    fields = _issue_fields(data)
    head = _mapping(data.get("head"))
    base = _mapping(data.get("base"))
    head_repo = _mapping(head.get("repo"))
    fields.update(
        draft=bool(data.get("draft", False)),
        head_sha=str(head.get("sha") or ""),
        head_ref=str(head.get("ref") or ""),
        head_repo=head_repo.get("full_name"),
        base_ref=str(base.get("ref") or "main"),
        base_sha=str(base.get("sha") or ""),
        merged=bool(data.get("merged") or data.get("merged_at")),
        merged_at=_opt_time(data.get("merged_at")),
        merge_commit_sha=data.get("merge_commit_sha"),
        changed_files=int(data.get("changed_files") or 0),
        requested_reviewers=tuple(_login(u) for u in data.get("requested_reviewers") or ()),
        requested_teams=tuple(
            str(t.get("slug")) for t in data.get("requested_teams") or () if isinstance(t, Mapping)
        ),
    )
    fields.update(extra)
    return PullRequest(**fields)


@_shaped
def comment_from_json(data: Json) -> Comment:
    """Build a Comment from an issue comment."""
    try:
        return Comment(
            id=int(data["id"]),
            author=_login(data.get("user")),
            author_is_bot=_is_bot(data.get("user")),
            body=str(data.get("body") or ""),
            created_at=parse_time(data["created_at"]),
            updated_at=parse_time(data.get("updated_at") or data["created_at"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"comment JSON is missing a field: {exc}") from None


# GitHub's GraphQL timeline item types and the REST timeline's name for each: every
# collector that reads timelines through GraphQL picks the ones it needs from here.
GRAPHQL_TIMELINE_EVENTS: dict[str, str] = {
    "LabeledEvent": "labeled",
    "UnlabeledEvent": "unlabeled",
    "ReopenedEvent": "reopened",
    "ClosedEvent": "closed",
    "RenamedTitleEvent": "renamed",
    "AssignedEvent": "assigned",
    "UnassignedEvent": "unassigned",
    "MilestonedEvent": "milestoned",
    "DemilestonedEvent": "demilestoned",
    "LockedEvent": "locked",
    "UnlockedEvent": "unlocked",
    "CrossReferencedEvent": "cross-referenced",
    "ReferencedEvent": "referenced",
    "MarkedAsDuplicateEvent": "marked_as_duplicate",
    "UnmarkedAsDuplicateEvent": "unmarked_as_duplicate",
    "PinnedEvent": "pinned",
    "UnpinnedEvent": "unpinned",
    "TransferredEvent": "transferred",
    "HeadRefForcePushedEvent": "head_ref_force_pushed",
    "ReadyForReviewEvent": "ready_for_review",
    "ConvertToDraftEvent": "convert_to_draft",
    "ReviewRequestedEvent": "review_requested",
    "ReviewRequestRemovedEvent": "review_request_removed",
}


def timeline_events(*typenames: str) -> dict[str, str]:
    """The named GraphQL timeline types with their REST event names, in the order given."""
    return {name: GRAPHQL_TIMELINE_EVENTS[name] for name in typenames}


def timeline_item_type(typename: str) -> str:
    """LabeledEvent -> LABELED_EVENT: the `timelineItems(itemTypes:)` value of a type."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", typename).upper()


def actor_from_graphql(actor: Any) -> tuple[str, bool]:
    """A GraphQL actor's login as the REST API spells it, and whether it is a bot."""
    if not isinstance(actor, Mapping) or not isinstance(actor.get("login"), str):
        return "ghost", False  # a deleted account
    login = str(actor["login"])
    bot = actor.get("__typename") == "Bot"
    if bot and not login.endswith("[bot]"):
        login += "[bot]"  # GraphQL names bots without the suffix REST shows
    return login, bot or login.endswith("[bot]")


def comment_from_graphql(node: Json) -> Comment:
    """Build a Comment from a GraphQL IssueComment node, as comment_from_json does from REST."""
    login, bot = actor_from_graphql(node.get("author"))
    return Comment(
        id=int(node.get("databaseId") or 0),
        author=login,
        author_is_bot=bot,
        body=str(node.get("body") or ""),
        created_at=parse_time(node["createdAt"]),
        updated_at=parse_time(node.get("updatedAt") or node["createdAt"]),
    )


@_shaped
def event_from_json(data: Json) -> IssueEvent:
    """Build an IssueEvent from an issue-events item."""
    label = data.get("label")
    assignee = data.get("assignee")
    return IssueEvent(
        event=str(data.get("event", "")),
        actor=_login(data.get("actor")),
        actor_is_bot=_is_bot(data.get("actor")),
        created_at=parse_time(data.get("created_at")),
        label=str(label.get("name")) if isinstance(label, Mapping) else None,
        assignee=_login(assignee) if isinstance(assignee, Mapping) else None,
    )


@_shaped
def requested_event_from_json(data: Json) -> IssueEvent:
    """An issue event, keeping who a review was requested from (a login or a team slug)."""
    event = event_from_json(data)
    reviewer = data.get("requested_reviewer")
    team = data.get("requested_team")
    return event.model_copy(
        update={
            "requested_reviewer": _login(reviewer) if isinstance(reviewer, Mapping) else None,
            "requested_team": str(team.get("slug"))
            if isinstance(team, Mapping) and team.get("slug")
            else None,
        }
    )


@_shaped
def reaction_from_json(data: Json) -> Reaction:
    """Build a Reaction from an issue-reactions item."""
    return Reaction(
        id=int(data["id"]),
        user=_login(data.get("user")),
        user_is_bot=_is_bot(data.get("user")),
        content=str(data.get("content", "")),
        created_at=parse_time(data["created_at"]),
    )


@_shaped
def file_from_json(data: Json) -> ChangedFile:
    """Build a ChangedFile from a PR-files item."""
    return ChangedFile(
        filename=str(data["filename"]),
        status=str(data.get("status", "modified")),
        previous_filename=data.get("previous_filename"),
    )


@_shaped
def review_from_json(data: Json) -> Review:
    """Build a Review from a PR-reviews item."""
    return Review(
        id=int(data["id"]),
        user=_login(data.get("user")),
        state=data.get("state", "COMMENTED"),
        commit_id=data.get("commit_id"),
        submitted_at=_opt_time(data.get("submitted_at")),
    )


@_shaped
def check_run_from_json(data: Json) -> CheckRun:
    """Build a CheckRun from a check-runs item."""
    output = _mapping(data.get("output"))
    app = _mapping(data.get("app"))
    app_id = app.get("id")
    return CheckRun(
        app_id=app_id if isinstance(app_id, int) else None,
        app_slug=str(app["slug"]) if isinstance(app.get("slug"), str) else None,
        external_id=data["external_id"] if isinstance(data.get("external_id"), str) else None,
        id=int(data["id"]),
        name=str(data.get("name", "")),
        head_sha=str(data.get("head_sha", "")),
        status=str(data.get("status", "completed")),
        conclusion=data.get("conclusion"),
        title=str(output.get("title") or ""),
        summary=str(output.get("summary") or ""),
    )


@_shaped
def release_from_json(data: Json) -> Release:
    """Build a Release from a releases item."""
    return Release(
        id=int(data["id"]),
        tag=str(data["tag_name"]),
        name=str(data.get("name") or ""),
        target_sha=data.get("target_commitish"),
        published_at=_opt_time(data.get("published_at")),
        body=str(data.get("body") or ""),
    )


@_shaped
def comparison_from_json(data: Json, base: str, head: str) -> Comparison:
    """Build a Comparison from a compare answer."""
    commits = [c for c in data.get("commits") or () if isinstance(c, Mapping)]
    return Comparison(
        base=base,
        head=head,
        head_sha=str(commits[-1]["sha"]) if commits else "",
        total_commits=int(data.get("total_commits") or len(commits)),
        commit_shas=tuple(str(c["sha"]) for c in commits),
        html_url=str(data.get("html_url") or ""),
    )


def raws(objects: Iterable[GithubObject]) -> Iterator[Json]:
    """The JSON of every object of a paged list."""
    for obj in objects:
        yield raw(obj)


def read_comments(repo: Repository, number: int) -> tuple[Comment, ...]:
    """GET /repos/{owner}/{repo}/issues/{issue_number}/comments (every page)."""
    return tuple(comment_from_json(d) for d in raws(repo.get_issue(number).get_comments()))


def read_events(repo: Repository, number: int) -> tuple[IssueEvent, ...]:
    """GET /repos/{owner}/{repo}/issues/{issue_number}/events (every page)."""
    return tuple(event_from_json(d) for d in raws(repo.get_issue(number).get_events()))


def read_reactions(repo: Repository, number: int) -> tuple[Reaction, ...]:
    """GET /repos/{owner}/{repo}/issues/{issue_number}/reactions (every page)."""
    return tuple(reaction_from_json(d) for d in raws(repo.get_issue(number).get_reactions()))


def repo_identity(repo: Repository) -> tuple[str, str]:
    """OWNER/NAME and the default branch, without completing a lazy repository."""
    data = raw(repo)
    name = data.get("full_name")
    if not isinstance(name, str):
        url = str(data.get("url") or "")
        if "/repos/" not in url:
            raise SnapshotError("cannot tell which repository this is")
        name = url.split("/repos/", 1)[1].strip("/")
    branch = data.get("default_branch")
    return name, branch if isinstance(branch, str) else "main"


def own_login(issues: list[Issue] | tuple[Issue, ...], default: str) -> str:
    """The bot's login, taken from a comment or issue it marked (GitHub App or Actions token).

    Who is the bot matters only once it has written something, and then this costs no read.
    """
    for issue in issues:
        if issue.author_is_bot and MARKER_PREFIX in issue.body:
            return issue.author
        for comment in issue.comments or ():
            if comment.author_is_bot and MARKER_PREFIX in comment.body:
                return comment.author
    return default


def with_comments(repo: Repository, issue: Issue) -> Issue:
    """The issue with its comments (no request when it has none)."""
    if issue.comments_count == 0:
        return issue.model_copy(update={"comments": ()})
    return issue.model_copy(update={"comments": read_comments(repo, issue.number)})


def open_issues(repo: Repository, label: str | None = None) -> list[Issue]:
    """GET /repos/{owner}/{repo}/issues?state=open[&labels=...] (every page), PRs left out."""
    listing = (
        repo.get_issues(state="open", labels=[label]) if label else repo.get_issues(state="open")
    )
    return [issue_from_json(d) for d in raws(listing) if not is_pull_request(d)]

"""Read what the retrospective needs over a period, with few requests.

Requests for one run (n = items, 100 per page):
- GET /repos/{o}/{r}/issues?state=all&since=SINCE: every issue and PR touched since the
  period began (`since` filters on updated_at); ceil(n / 100) pages. PRs in it carry
  `pull_request.merged_at`, so the trains need no pulls call.
- POST /graphql for the timelines of HISTORY_CHUNK items at a time, those whose figure
  needs their history (`rules.retro.needs_history`): labels, assignments, comments, closes,
  reopens, review requests and reviews, HISTORY_PAGE entries an item; only an item with
  more is read on (by cursor, batched with the others). ceil(items / HISTORY_CHUNK)
  queries when none has more than HISTORY_PAGE entries of those kinds. No REST timeline:
  GraphQL gives every field the figures read (REST's would cost one GET an item).
  The reactions of an incident opened in the period that has any (an assignee's
  reaction acknowledges it) come in the same query: its first 100, oldest first.
- POST /graphql for the changed paths of 50 PRs at a time, those opened in the period that
  a person reviewed (`rules.retro.needs_files`): the paths give the areas, as in the review
  loop (GET .../pulls/{n}/files only for a PR of more than 100 files).
With the PR (`files=True`): GET /repos/{o}/{r} (default branch), GET .../branches/{default}
(its head commit and tree), GET .../contents/{path}?ref= for each policy file a proposal may
edit and docs/OPERATING_MODEL.md, GET .../pulls?state=open&head=OWNER:BRANCH (its PR).
The search API is never used (it lags behind writes and allows 30 requests a minute).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from automation.github import (
    GithubException,
    UnknownObjectException,
    graphql,
    repository_name,
    request_json,
)
from automation.rules.incidents import is_incident
from automation.rules.retro import (
    DOCS_PATH,
    EDITABLE,
    Period,
    due_period,
    needs_files,
    needs_history,
    tree_key,
)
from automation.snapshot.collect import (
    Json,
    SnapshotError,
    file_from_json,
    is_pull_request,
    issue_from_json,
    parse_time,
    pull_from_json,
    raw,
    raws,
    timeline_events,
    timeline_item_type,
)
from automation.snapshot.models import (
    ChangedFile,
    Comment,
    Issue,
    IssueEvent,
    PolicyFiles,
    PullRequest,
    Reaction,
    Review,
    Snapshot,
)

if TYPE_CHECKING:
    from automation.github import Repository
    from automation.policy.policies import Policies


_REVIEW_STATES = {"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"}


@dataclass(frozen=True)
class History:
    """One item's timeline: its events, and the comments and reviews among them."""

    events: tuple[IssueEvent, ...]
    comments: tuple[Comment, ...]
    reviews: tuple[Review, ...]
    reactions: tuple[Reaction, ...] | None = None  # read only where asked for


# Items per GraphQL request for their histories, and timeline entries per item and page:
# 50 x 100 = 5,000 nodes (GitHub allows 500,000 a query, and 100 a connection page), about
# one rate-limit point; 50 keeps a query with long comment bodies well inside GitHub's
# 10-second limit, as the review loop's and the stale sweep's bulk reads do.
HISTORY_CHUNK = 50
HISTORY_PAGE = 100

# The timeline item types the figures read, with the REST timeline's name for each.
_ISSUE_EVENTS = timeline_events(
    "LabeledEvent",
    "UnlabeledEvent",
    "AssignedEvent",
    "UnassignedEvent",
    "ClosedEvent",
    "ReopenedEvent",
)
_PULL_EVENTS = {
    **_ISSUE_EVENTS,
    **timeline_events(
        "ReviewRequestedEvent",
        "ReviewRequestRemovedEvent",
        "ReadyForReviewEvent",
        "ConvertToDraftEvent",
    ),
}


def _entry_fragment(name: str, on: str, events: dict[str, str]) -> str:
    parts = ["... on IssueComment { databaseId author { ...Who } body createdAt updatedAt }"]
    for typename in events:
        fields = "actor { ...Who } createdAt"
        if typename in ("LabeledEvent", "UnlabeledEvent"):
            fields += " label { name }"
        if typename.endswith("ssignedEvent"):
            fields += " assignee { ...Who }"
        if typename.startswith("ReviewRequest"):
            fields += " requestedReviewer { __typename ...Who ... on Team { slug } }"
        parts.append(f"... on {typename} {{ {fields} }}")
    if on == "PullRequestTimelineItems":
        parts.append(
            "... on PullRequestReview "
            "{ databaseId author { ...Who } state submittedAt commit { oid } }"
        )
    body = "\n  ".join(parts)
    return f"fragment {name} on {on} {{\n  __typename\n  {body}\n}}"


_WHO = "fragment Who on Actor { __typename login }"
_FRAGMENTS = {
    False: _entry_fragment("IssueEntry", "IssueTimelineItems", _ISSUE_EVENTS),
    True: _entry_fragment("PullEntry", "PullRequestTimelineItems", _PULL_EVENTS),
}
_ISSUE_TYPES = ", ".join(timeline_item_type(t) for t in ("IssueComment", *_ISSUE_EVENTS))
_PULL_TYPES = ", ".join(
    timeline_item_type(t) for t in ("IssueComment", *_PULL_EVENTS, "PullRequestReview")
)


# An incident's reactions (an assignee's acknowledges it): one page of 100, oldest first,
# as the REST list gave them.
_REACTIONS = (
    f" reactions(first: {HISTORY_PAGE}, orderBy: {{field: CREATED_AT, direction: ASC}})"
    " { nodes { databaseId content createdAt user { login } } }"
)


def history_query(items: Sequence[tuple[int, bool]], reactions: Collection[int] = ()) -> str:
    """One query for a page of the timelines of `items` ((number, is a PR) each, an alias
    and a cursor variable `$c<number>` each), and the reactions of the issues `reactions`."""
    declared = "".join(f", $c{int(n)}: String" for n, _ in items)
    aliases = []
    for number, pull in items:
        n = int(number)
        field, types, entry = (
            ("pullRequest", _PULL_TYPES, "PullEntry")
            if pull
            else ("issue", _ISSUE_TYPES, "IssueEntry")
        )
        aliases.append(
            f"n{n}: {field}(number: {n}) {{ timelineItems(first: {HISTORY_PAGE}, "
            f"after: $c{n}, itemTypes: [{types}]) "
            f"{{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...{entry} }} }}"
            f"{_REACTIONS if n in reactions and not pull else ''} }}"
        )
    joined = "\n    ".join(aliases)
    return (
        f"query($owner: String!, $name: String!{declared}) {{\n"
        f"  repository(owner: $owner, name: $name) {{\n    {joined}\n  }}\n}}\n"
        # GraphQL refuses a fragment the query does not use: only the kinds in this chunk.
        + "\n".join((_WHO, *(_FRAGMENTS[k] for k in sorted({pull for _, pull in items}))))
    )


def _who(actor: Any) -> tuple[str, bool]:
    """A GraphQL actor's login as the REST API spells it, and whether it is a bot."""
    if not isinstance(actor, dict) or not isinstance(actor.get("login"), str):
        return "ghost", False  # a deleted account (REST names it ghost too)
    login = str(actor["login"])
    bot = actor.get("__typename") == "Bot"
    if bot and not login.endswith("[bot]"):
        login += "[bot]"  # GraphQL names bots without the suffix REST shows
    return login, bot or login.endswith("[bot]")


def _requested(value: Any) -> tuple[str | None, str | None]:
    """(login, team slug) of a RequestedReviewer (None, None when GraphQL hides it)."""
    if not isinstance(value, dict):
        return None, None
    if value.get("__typename") == "Team":
        return None, str(value["slug"]) if value.get("slug") else None
    return _who(value)[0], None


def history_entries(nodes: Sequence[Json]) -> History:
    """GraphQL timeline nodes as the events, comments and reviews the REST timeline gives
    (`timeline_event`, `comment_from_json`, `review_entry`)."""
    events: list[IssueEvent] = []
    comments: list[Comment] = []
    reviews: list[Review] = []
    for node in nodes:
        if not isinstance(node, dict):
            raise SnapshotError("a timeline node is not an object")
        kind = node.get("__typename")
        if kind == "IssueComment":
            login, bot = _who(node.get("author"))
            created = parse_time(node["createdAt"])
            events.append(
                IssueEvent(event="commented", actor=login, actor_is_bot=bot, created_at=created)
            )
            comments.append(
                Comment(
                    id=int(node["databaseId"]),
                    author=login,
                    author_is_bot=bot,
                    body=str(node.get("body") or ""),
                    created_at=created,
                    updated_at=parse_time(node.get("updatedAt") or node["createdAt"]),
                )
            )
        elif kind == "PullRequestReview":
            if node.get("submittedAt") is None:
                continue  # pending: nothing to count (as the REST timeline's entry)
            login, bot = _who(node.get("author"))
            submitted = parse_time(node["submittedAt"])
            events.append(
                IssueEvent(event="reviewed", actor=login, actor_is_bot=bot, created_at=submitted)
            )
            state = str(node.get("state") or "")
            if state in _REVIEW_STATES:
                commit = node.get("commit")
                reviews.append(
                    Review(
                        id=int(node["databaseId"]),
                        user=login,
                        state=state,
                        commit_id=str(commit["oid"]) if isinstance(commit, dict) else None,
                        submitted_at=submitted,
                    )
                )
        elif isinstance(kind, str) and kind in _PULL_EVENTS:
            login, bot = _who(node.get("actor"))
            label = node.get("label")
            reviewer, team = _requested(node.get("requestedReviewer"))
            events.append(
                IssueEvent(
                    event=_PULL_EVENTS[kind],
                    actor=login,
                    actor_is_bot=bot,
                    created_at=parse_time(node["createdAt"]),
                    label=str(label["name"]) if isinstance(label, dict) else None,
                    assignee=_who(node.get("assignee"))[0] if "assignee" in node else None,
                    requested_reviewer=reviewer,
                    requested_team=team,
                )
            )
    return History(tuple(events), tuple(comments), tuple(reviews))


# GraphQL's reaction names -> the REST API's.
_CONTENT = {
    "THUMBS_UP": "+1",
    "THUMBS_DOWN": "-1",
    "LAUGH": "laugh",
    "HOORAY": "hooray",
    "CONFUSED": "confused",
    "HEART": "heart",
    "ROCKET": "rocket",
    "EYES": "eyes",
}


def reaction_entry(node: Json) -> Reaction:
    """A GraphQL reaction as the REST reactions list gives it. `user` is a User: a bot's
    reaction (or a deleted account's) has none and reads as `ghost`, whom no figure counts."""
    user = node.get("user")
    login = str(user["login"]) if isinstance(user, dict) and user.get("login") else "ghost"
    content = str(node["content"])
    return Reaction(
        id=int(node.get("databaseId") or 0),
        user=login,
        user_is_bot=login.endswith("[bot]"),
        content=_CONTENT.get(content, content.lower()),
        created_at=parse_time(node["createdAt"]),
    )


def read_histories(
    repo: Repository, items: Sequence[tuple[int, bool]], reactions: Collection[int] = ()
) -> dict[int, History]:
    """The timelines of `items` ((number, is a PR) each), and the reactions of the issues
    among them in `reactions`: POST /graphql for HISTORY_CHUNK items at a time,
    HISTORY_PAGE entries each; an item with more is read on in a later query (only the
    items that have more, batched again). An item GitHub no longer has (deleted or
    transferred since the list was read) is left out: no figure counts it."""
    owner, name = repository_name(repo).split("/", 1)
    kinds = dict(items)
    nodes: dict[int, list[Json]] = {n: [] for n, _ in items}
    cursors: dict[int, str | None] = {n: None for n, _ in items}
    reacted: dict[int, tuple[Reaction, ...]] = {}
    gone: set[int] = set()
    while cursors:
        chunk = list(cursors)[:HISTORY_CHUNK]
        variables: dict[str, Any] = {"owner": owner, "name": name}
        variables.update({f"c{n}": cursors[n] for n in chunk})
        # Reactions with an item's first page only.
        asked = {n for n in chunk if n in reactions and cursors[n] is None}
        query = history_query([(n, kinds[n]) for n in chunk], asked)
        answer = graphql(repo, query, variables)
        errors = [e for e in answer.get("errors") or () if isinstance(e, dict)]
        unexpected = [e for e in errors if e.get("type") != "NOT_FOUND"]
        repository = (answer.get("data") or {}).get("repository")
        if unexpected or not isinstance(repository, dict):
            message = unexpected[0].get("message") if unexpected else "no repository"
            raise SnapshotError(f"the GraphQL answer for timelines: {message}")
        for number in chunk:
            del cursors[number]
            node = repository.get(f"n{number}")
            if node is None:
                gone.add(number)
                continue
            try:
                page = node["timelineItems"]
                nodes[number].extend(page["nodes"])
                if number in asked:
                    reacted[number] = tuple(reaction_entry(r) for r in node["reactions"]["nodes"])
                if page["pageInfo"]["hasNextPage"]:
                    cursors[number] = str(page["pageInfo"]["endCursor"])
            except (KeyError, TypeError) as exc:
                raise SnapshotError(f"the timeline answer for #{number} lacks {exc}") from None
    out: dict[int, History] = {}
    for number, found in nodes.items():
        if number in gone:
            continue
        try:
            out[number] = history_entries(found)
            if number in reacted:
                out[number] = replace(out[number], reactions=reacted[number])
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"a timeline node of #{number} lacks {exc}") from None
    return out


# PRs per GraphQL request for their files, and paths read per PR: about 5,000 nodes.
FILES_PAGE = 50
FILES = 100


def _files_query(numbers: tuple[int, ...]) -> str:
    aliases = " ".join(
        f"n{int(n)}: pullRequest(number: {int(n)}) "
        f"{{ changedFiles files(first: {FILES}) {{ nodes {{ path }} }} }}"
        for n in numbers
    )
    return (
        "query($owner: String!, $name: String!) "
        f"{{ repository(owner: $owner, name: $name) {{ {aliases} }} }}"
    )


def read_pr_files(repo: Repository, numbers: tuple[int, ...]) -> dict[int, tuple[ChangedFile, ...]]:
    """The changed paths of the named PRs: POST /graphql for FILES_PAGE PRs at a time, and
    GET /repos/{o}/{r}/pulls/{n}/files (every page) for a PR with more than FILES files.
    Like the review loop's GraphQL read, no renamed file's old path."""
    owner, name = repository_name(repo).split("/", 1)
    out: dict[int, tuple[ChangedFile, ...]] = {}
    for start in range(0, len(numbers), FILES_PAGE):
        chunk = numbers[start : start + FILES_PAGE]
        data = graphql(repo, _files_query(chunk), {"owner": owner, "name": name})
        repository = (data.get("data") or {}).get("repository")
        if not isinstance(repository, dict):
            raise SnapshotError("the GraphQL answer for pull request files has no repository")
        for number in chunk:
            node = repository.get(f"n{number}")
            if not isinstance(node, dict):
                continue  # gone, or not a PR: no areas
            nodes = (node.get("files") or {}).get("nodes") or []
            files = tuple(
                ChangedFile(filename=str(x["path"]))
                for x in nodes
                if isinstance(x, dict) and x.get("path")
            )
            if int(node.get("changedFiles") or 0) > len(files):
                files = tuple(file_from_json(d) for d in raws(repo.get_pull(number).get_files()))
            out[number] = files
    return out


def _merged_at(data: Any) -> dt.datetime | None:
    nested = data.get("pull_request")
    value = nested.get("merged_at") if isinstance(nested, dict) else data.get("merged_at")
    return None if value is None else parse_time(value)


def _read_file(repo: Repository, path: str, ref: str) -> str | None:
    try:
        found = repo.get_contents(path, ref=ref)
    except UnknownObjectException:
        return None
    if isinstance(found, list):
        return None
    try:
        return base64.b64decode(str(raw(found).get("content") or "")).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise SnapshotError(f"{path} at {ref[:7]} is not UTF-8 text") from None


def collect_period(
    repo: Repository, policies: Policies, period: Period, now: dt.datetime, *, files: bool
) -> Snapshot:
    """Read the items touched since the period began, the histories its figures need, and
    (with `files`) what the PR is built on."""
    issues: list[Issue] = []
    pulls: dict[int, PullRequest] = {}
    reactions_of: set[int] = set()
    for data in raws(repo.get_issues(state="all", since=period.since)):
        if is_pull_request(data):
            merged_at = _merged_at(data)
            pull = pull_from_json(data, merged_at=merged_at, merged=merged_at is not None)
            pulls[pull.number] = pull
        else:
            issue = issue_from_json(data)
            issues.append(issue)
            reactions = data.get("reactions")
            if (
                is_incident(policies.incidents, issue)
                and isinstance(reactions, dict)
                and reactions.get("total_count")
            ):
                reactions_of.add(issue.number)
    wanted_history = [(i.number, False) for i in issues if needs_history(policies, i, period)]
    wanted_history += [
        (n, True) for n, p in sorted(pulls.items()) if needs_history(policies, p, period)
    ]
    # An incident opened in the period, with reactions: whether an assignee's acknowledges it.
    reacted = {i.number for i in issues if i.number in reactions_of and i.created_at in period}
    histories = read_histories(repo, wanted_history, reacted)
    read_issues = []
    for issue in issues:
        history = histories.get(issue.number)
        if history is not None:
            update: dict[str, Any] = {"events": history.events, "comments": history.comments}
            if history.reactions is not None:
                update["reactions"] = history.reactions
            issue = issue.model_copy(update=update)
        read_issues.append(issue)
    for number, pull in sorted(pulls.items()):
        history = histories.get(number)
        if history is not None:
            pulls[number] = pull.model_copy(
                update={"events": history.events, "reviews": history.reviews}
            )
    wanted = tuple(n for n, p in sorted(pulls.items()) if needs_files(policies, p, period))
    for number, changed in read_pr_files(repo, wanted).items():
        pulls[number] = pulls[number].model_copy(update={"files": changed})

    default_branch = "main"
    branches: dict[str, str] = {}
    base_policies: tuple[PolicyFiles, ...] = ()
    if files:
        default_branch = repo.default_branch
        branch = request_json(repo, "GET", f"{repo.url}/branches/{default_branch}")
        try:
            head = str(branch["commit"]["sha"])
            tree = str(branch["commit"]["commit"]["tree"]["sha"])
        except (KeyError, TypeError):
            raise SnapshotError(f"branch {default_branch} has no commit and tree") from None
        branches = {default_branch: head, tree_key(default_branch): tree}
        texts: dict[str, str | None] = {
            f"policies/{name}.yaml": _read_file(repo, f"policies/{name}.yaml", head)
            for name in EDITABLE
            if name not in policies.absent
        }
        texts[DOCS_PATH] = _read_file(repo, DOCS_PATH, head)
        base_policies = (PolicyFiles(ref=head, files=texts),)
        owner = repo.full_name.split("/")[0]
        try:
            for pr in repo.get_pulls(state="open", head=f"{owner}:{policies.retro.branch}"):
                data = raw(pr)
                pull = pull_from_json(data)
                # The pulls list's view replaces the issues list's (it has the head branch).
                pulls[pull.number] = pull.model_copy(
                    update={"events": pulls[pull.number].events if pull.number in pulls else None}
                )
        except GithubException as exc:
            if exc.status != 404:
                raise
    return Snapshot(
        repo=repo.full_name,
        default_branch=default_branch,
        taken_at=now,
        issues=tuple(sorted(read_issues, key=lambda i: i.number)),
        pulls=tuple(sorted(pulls.values(), key=lambda p: p.number)),
        branches=branches,
        base_policies=base_policies,
    )


def collect_retro(
    repo: Repository, policies: Policies, numbers: tuple[int, ...] | None, now: dt.datetime
) -> Snapshot:
    """The scheduled sweep's read: the last period when due, else nothing at all."""
    period = due_period(policies.retro, now)
    if period is None:
        return Snapshot(repo=repo.full_name, taken_at=now)
    return collect_period(repo, policies, period, now, files=True)

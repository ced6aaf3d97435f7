"""A small stateful model of one repository's open backlog, served through the `github` mock.

Every list page, timeline and write goes through the OpenAPI-checked fixture; writes change
the model, so a second sweep sees what the first one did.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock
from tests.github_api.graphql import NotFound

REPO = "o/r"
API = f"{checker.API_URL}/repos/{REPO}"
BOT = "dataface-ops[bot]"
Headers = dict[str, str]
Reply = tuple[int, Headers, str]


def stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Item:
    number: int
    created: dt.datetime
    updated: dt.datetime
    labels: list[str] = field(default_factory=list)
    author: str = "dev-patel"
    pull: bool = False
    draft: bool = False
    state: str = "open"
    state_reason: str | None = None
    locked: bool = False
    timeline: list[dict[str, Any]] = field(default_factory=list)


class Backlog:
    """Open items, their timelines, and the mocks that serve and change them."""

    def __init__(self, github: GitHubMock, now: dt.datetime) -> None:
        self.github = github
        self.now = now
        self.items: dict[int, Item] = {}
        self._comment_id = 10_000
        base = checker.issue_json(1, repo=REPO)
        base.pop("pull_request", None)
        base["milestone"] = None
        self._base = base
        self._users: dict[str, Any] = {}
        self._labels: dict[str, Any] = {}
        self.after_page: dict[int, Callable[[], None]] = {}
        # GitHub's hourly limits (None: unlimited) and what this hour used of them. A
        # request past the limit gets GitHub's 403, which no well-behaved sweep ever sees.
        self.core_limit: int | None = None
        self.graphql_limit: int | None = None
        self.core_used = 0
        self.graphql_used = 0
        self.refused = 0
        self.pinned: set[int] = set()

    def new_hour(self) -> None:
        """The rate limit resets."""
        self.core_used = self.graphql_used = 0

    # --- building -------------------------------------------------------------------------

    def user(self, login: str) -> Any:
        if login not in self._users:
            bot = login.endswith("[bot]")
            self._users[login] = checker.user_json(login, type="Bot" if bot else "User")
        return self._users[login]

    def label(self, name: str) -> Any:
        if name not in self._labels:
            self._labels[name] = checker.label_json(name, repo=REPO)
        return self._labels[name]

    def add(self, number: int, *, created: float, updated: float, **kw: Any) -> Item:
        item = Item(
            number,
            self.now - dt.timedelta(days=created),
            self.now - dt.timedelta(days=updated),
            **kw,
        )
        self.items[number] = item
        return item

    def comment(self, item: Item, login: str, days: float, body: str = "still on it") -> None:
        at = stamp(self.now - dt.timedelta(days=days))
        self._comment_id += 1
        item.timeline.append(
            {
                "event": "commented",
                "id": self._comment_id,
                "body": body,
                "user": self.user(login),
                "actor": self.user(login),
                "created_at": at,
                "updated_at": at,
            }
        )

    def label_event(
        self, item: Item, login: str, days: float, name: str, kind: str = "labeled"
    ) -> None:
        at = stamp(self.now - dt.timedelta(days=days))
        item.timeline.append(
            {
                "event": kind,
                "id": len(item.timeline) + 1,
                "actor": self.user(login),
                "label": {"name": name, "color": "ededed"},
                "created_at": at,
            }
        )

    # --- JSON -----------------------------------------------------------------------------

    def issue_json(self, item: Item) -> dict[str, Any]:
        data = copy.copy(self._base)
        url = f"{API}/issues/{item.number}"
        data.update(
            number=item.number,
            id=item.number,
            url=url,
            comments_url=f"{url}/comments",
            events_url=f"{url}/events",
            labels_url=f"{url}/labels{{/name}}",
            html_url=f"https://github.com/{REPO}/issues/{item.number}",
            title=f"Item {item.number}",
            state=item.state,
            state_reason=item.state_reason,
            locked=item.locked,
            active_lock_reason="too heated" if item.locked else None,
            labels=[self.label(n) for n in item.labels],
            user=self.user(item.author),
            created_at=stamp(item.created),
            updated_at=stamp(item.updated),
            closed_at=stamp(self.now) if item.state == "closed" else None,
            comments=sum(1 for e in item.timeline if e["event"] == "commented"),
        )
        if item.pull:
            data["pull_request"] = {
                "url": f"{API}/pulls/{item.number}",
                "html_url": f"https://github.com/{REPO}/pull/{item.number}",
                "diff_url": f"https://github.com/{REPO}/pull/{item.number}.diff",
                "patch_url": f"https://github.com/{REPO}/pull/{item.number}.patch",
            }
            data["draft"] = item.draft
        return data

    # --- mocks ----------------------------------------------------------------------------

    def install(self) -> None:
        gh = self.github
        charged = self._charged
        gh.add_callback("GET", f"{API}/issues", callback=charged(self._list))
        number = r"(\d+)"
        gh.add_callback(
            "GET",
            re.compile(rf"{re.escape(API)}/issues/{number}/timeline"),
            charged(self._timeline),
        )
        gh.add_callback(
            "GET", re.compile(rf"{re.escape(API)}/issues/{number}$"), charged(self._get)
        )
        gh.add_callback(
            "POST",
            re.compile(rf"{re.escape(API)}/issues/{number}/labels"),
            charged(self._add_labels),
        )
        gh.add_callback(
            "DELETE",
            re.compile(rf"{re.escape(API)}/issues/{number}/labels/[^/]+"),
            charged(self._remove_label),
        )
        gh.add_callback(
            "POST",
            re.compile(rf"{re.escape(API)}/issues/{number}/comments"),
            charged(self._comment),
        )
        gh.add_callback(
            "PATCH", re.compile(rf"{re.escape(API)}/issues/{number}$"), charged(self._edit)
        )
        # GET /rate_limit is free: GitHub does not count it against the limit.
        gh.add_callback("GET", f"{checker.API_URL}/rate_limit", callback=self._rate_limit)
        gh.graphql(self._graphql)

    # --- rate limits ----------------------------------------------------------------------

    def _charged(self, serve: Callable[[Any], Reply]) -> Callable[[Any], Reply]:
        def charged(request: Any) -> Reply:
            if self.core_limit is not None and self.core_used >= self.core_limit:
                self.refused += 1
                return self._exceeded()
            self.core_used += 1
            return serve(request)

        return charged

    def _exceeded(self) -> Reply:
        reset = int((self.now + dt.timedelta(hours=1)).timestamp())
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
        message = "API rate limit exceeded for installation ID 1."
        return 403, headers, json.dumps({"message": message})

    def _resource(self, limit: int | None, used: int) -> dict[str, int]:
        cap = 1_000_000 if limit is None else limit
        reset = int((self.now + dt.timedelta(hours=1)).timestamp())
        return {"limit": cap, "used": used, "remaining": max(0, cap - used), "reset": reset}

    def _rate_limit(self, request: Any) -> Reply:
        core = self._resource(self.core_limit, self.core_used)
        graphql = self._resource(self.graphql_limit, self.graphql_used)
        search = self._resource(30, 0)
        body = {"resources": {"core": core, "graphql": graphql, "search": search}, "rate": core}
        return 200, {}, json.dumps(body)

    # --- GraphQL: the same model, as GitHub's schema shows it -------------------------------

    def _graphql(self, query: str, variables: Any) -> Any:
        if self.graphql_limit is not None and self.graphql_used >= self.graphql_limit:
            self.refused += 1
            return self._exceeded()
        self.graphql_used += 1
        owner, name = REPO.split("/")

        def item(info: Any, number: int) -> dict[str, Any]:
            found = self.items.get(number)
            if found is None:
                raise NotFound(
                    f"Could not resolve to an issue or pull request with the number of {number}."
                )
            nodes = [n for n in map(timeline_node, found.timeline) if n is not None]
            return {
                "__typename": "PullRequest" if found.pull else "Issue",
                "number": number,
                "locked": found.locked,
                "timelineItems": timeline_connection(nodes),
            }

        def repository(info: Any, **args: Any) -> dict[str, Any]:
            assert (args["owner"], args["name"]) == (owner, name)
            pins = [{"issue": {"number": n}} for n in sorted(self.pinned)]
            return {
                "issueOrPullRequest": item,
                "pinnedIssues": lambda info, **kw: {"nodes": pins},
            }

        limit = self._resource(self.graphql_limit, self.graphql_used)
        rate = {
            "cost": 1,
            "limit": limit["limit"],
            "remaining": limit["remaining"],
            "used": limit["used"],
            "nodeCount": 0,
            "resetAt": stamp(self.now + dt.timedelta(hours=1)),
        }
        return {"repository": repository, "rateLimit": lambda info, **kw: rate}

    def _number(self, request: Any) -> Item:
        match = re.search(r"/issues/(\d+)", urlsplit(request.url).path)
        assert match
        return self.items[int(match.group(1))]

    def _list(self, request: Any) -> Reply:
        query = parse_qs(urlsplit(request.url).query)
        assert query["state"] == ["open"] and query["direction"] == ["asc"]
        sort = query["sort"][0]
        page = int(query.get("page", ["1"])[0])
        per_page = int(query["per_page"][0])
        live = sorted(
            (i for i in self.items.values() if i.state == "open"),
            key=lambda i: (i.created if sort == "created" else i.updated, i.number),
        )
        chunk = live[(page - 1) * per_page : page * per_page]
        headers: Headers = {}
        if page * per_page < len(live):
            nxt = (
                f"{API}/issues?state=open&sort={sort}&direction=asc&per_page={per_page}"
                f"&page={page + 1}"
            )
            headers["Link"] = f'<{nxt}>; rel="next"'
        body = json.dumps([self.issue_json(i) for i in chunk])
        if page in self.after_page:  # what people do while the sweep reads the next page
            self.after_page.pop(page)()
        return 200, headers, body

    def _timeline(self, request: Any) -> Reply:
        return 200, {}, json.dumps(self._number(request).timeline)

    def _get(self, request: Any) -> Reply:
        return 200, {}, json.dumps(self.issue_json(self._number(request)))

    def _touch(self, item: Item) -> None:
        item.updated = self.now

    def _add_labels(self, request: Any) -> Reply:
        item = self._number(request)
        body = json.loads(request.body)
        names = body if isinstance(body, list) else body["labels"]
        for name in names:
            if name not in item.labels:
                item.labels.append(name)
                self.label_event(item, BOT, 0, name)
        self._touch(item)
        return 200, {}, json.dumps([self.label(n) for n in item.labels])

    def _remove_label(self, request: Any) -> Reply:
        item = self._number(request)
        name = unquote(urlsplit(request.url).path.rsplit("/", 1)[1])
        if name not in item.labels:
            return 404, {}, json.dumps({"message": "Label does not exist"})
        item.labels.remove(name)
        self.label_event(item, BOT, 0, name, "unlabeled")
        self._touch(item)
        return 200, {}, json.dumps([self.label(n) for n in item.labels])

    def _comment(self, request: Any) -> Reply:
        item = self._number(request)
        if item.locked:  # GitHub refuses comments on a locked issue to GITHUB_TOKEN and Apps
            message = "Unable to create comment because issue is locked."
            return 403, {}, json.dumps({"message": message})
        body = json.loads(request.body)["body"]
        self.comment(item, BOT, 0, body)
        self._touch(item)
        reply = checker.comment_json(
            self._comment_id, body=body, user_login=BOT, issue_number=item.number, repo=REPO
        )
        return 201, {}, json.dumps(reply)

    def _edit(self, request: Any) -> Reply:
        item = self._number(request)
        body = json.loads(request.body)
        if "labels" in body:
            item.labels = list(body["labels"])
        if body.get("state") == "closed":
            item.state = "closed"
            item.state_reason = body.get("state_reason")
            at = stamp(self.now)
            item.timeline.append(
                {"event": "closed", "id": 1, "actor": self.user(BOT), "created_at": at}
            )
        self._touch(item)
        return 200, {}, json.dumps(self.issue_json(item))


# REST timeline event names -> GraphQL timeline item types.
GRAPHQL_EVENTS = {
    "labeled": "LabeledEvent",
    "unlabeled": "UnlabeledEvent",
    "closed": "ClosedEvent",
    "reopened": "ReopenedEvent",
    "assigned": "AssignedEvent",
    "unassigned": "UnassignedEvent",
    "renamed": "RenamedTitleEvent",
    "locked": "LockedEvent",
}


def actor_node(login: str) -> dict[str, Any]:
    """A REST login as GraphQL's actor: a bot is named without the "[bot]" REST shows."""
    if login.endswith("[bot]"):
        return {"__typename": "Bot", "login": login.removesuffix("[bot]")}
    return {"__typename": "User", "login": login}


def timeline_node(entry: dict[str, Any]) -> dict[str, Any] | None:
    """A REST timeline entry as the GraphQL timeline item GitHub shows for it (None: not one)."""
    kind = entry["event"]
    if kind == "commented":
        return {
            "__typename": "IssueComment",
            "databaseId": entry["id"],
            "author": actor_node(entry["user"]["login"]),
            "body": entry["body"],
            "createdAt": entry["created_at"],
            "updatedAt": entry["updated_at"],
        }
    typename = GRAPHQL_EVENTS.get(kind)
    if typename is None:
        return None
    node: dict[str, Any] = {
        "__typename": typename,
        "actor": actor_node(entry["actor"]["login"]),
        "createdAt": entry["created_at"],
    }
    if "label" in entry:
        node["label"] = {"name": entry["label"]["name"]}
    return node


def timeline_connection(nodes: list[dict[str, Any]]) -> Any:
    """The `timelineItems` resolver over an item's nodes: `itemTypes` and `last` honoured."""

    def timeline(info: Any, **args: Any) -> dict[str, Any]:
        wanted = set(args.get("itemTypes") or ())
        kept = [n for n in nodes if not wanted or _enum(n["__typename"]) in wanted]
        last = args.get("last")
        shown = kept[-last:] if last else kept
        return {"pageInfo": {"hasPreviousPage": len(shown) < len(kept)}, "nodes": shown}

    return timeline


def _enum(typename: str) -> str:
    """The timeline item type enum of a GraphQL type name (LabeledEvent -> LABELED_EVENT)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", typename).upper()

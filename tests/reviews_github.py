"""A small stateful GitHub of pull requests for the review loop, served through a
contract-checked mock: GraphQL reads (executed against GitHub's schema) and the REST writes
(comments, review requests) that change it, so a second run sees what the first one did."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock
from tests.github_api.graphql import NotFound

BOT = "github-actions[bot]"
Reply = tuple[int, dict[str, str], str]


def iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def who(login: str) -> dict[str, Any]:
    if login.endswith("[bot]"):
        return {"__typename": "Bot", "login": login.removesuffix("[bot]")}
    return {"__typename": "User", "login": login}


def asked(handle: str) -> dict[str, Any]:
    """A RequestedReviewer: `org/slug` is a team, anything else a user."""
    if "/" in handle:
        return {"__typename": "Team", "slug": handle.split("/", 1)[1]}
    return who(handle)


@dataclass
class FakePull:
    number: int
    created: dt.datetime
    author: str = "tomas-silva"
    paths: tuple[str, ...] = ("dataface/ai/tools.py",)
    requested: list[str] = field(default_factory=list)  # logins, or org/slug for a team
    draft: bool = False
    state: str = "OPEN"
    merged: dt.datetime | None = None
    labels: tuple[str, ...] = ()
    locked: bool = False
    reviews: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)


class FakePulls:
    """Pull requests of one repository, served through a GitHubMock."""

    def __init__(self, mock: GitHubMock, repo: str, now: dt.datetime) -> None:
        self.mock = mock
        self.repo = repo
        self.api = f"{checker.API_URL}/repos/{repo}"
        self.now = now
        self.pulls: dict[int, FakePull] = {}
        self._ids = 70_000
        self.graphql_calls = 0
        self._register()

    # --- building ---------------------------------------------------------------------

    def add(self, pull: FakePull, *, request_at: dt.datetime | None = None) -> FakePull:
        """Add a PR; its requested reviewers were asked by its author at `request_at`."""
        self.pulls[pull.number] = pull
        for handle in pull.requested:
            self.event(
                pull, "ReviewRequestedEvent", pull.author, request_at or pull.created, handle
            )
        return pull

    def event(
        self, pull: FakePull, kind: str, actor: str, at: dt.datetime, handle: str | None = None
    ) -> None:
        item: dict[str, Any] = {"__typename": kind, "createdAt": iso(at), "actor": who(actor)}
        if handle is not None:
            item["requestedReviewer"] = asked(handle)
        pull.timeline.append(item)

    def review(self, pull: FakePull, login: str, state: str, at: dt.datetime) -> None:
        self._ids += 1
        pull.reviews.append(
            {"databaseId": self._ids, "author": who(login), "state": state, "submittedAt": iso(at)}
        )
        if login in pull.requested:
            pull.requested.remove(login)  # a review answers the request

    def comment(self, pull: FakePull, login: str, body: str, at: dt.datetime) -> dict[str, Any]:
        self._ids += 1
        data = checker.comment_json(
            self._ids,
            body=body,
            user_login=login,
            issue_number=pull.number,
            repo=self.repo,
            created_at=iso(at),
            updated_at=iso(at),
        )
        if login.endswith("[bot]"):
            data["user"]["type"] = "Bot"
        pull.comments.append(data)
        return data

    # --- state ------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What a person would see: requested reviewers and comments, per PR."""
        return {
            f"#{n}": {
                "requested": sorted(p.requested),
                "comments": [(c["user"]["login"], c["body"]) for c in p.comments],
            }
            for n, p in sorted(self.pulls.items())
        }

    def duplicates(self) -> list[str]:
        found = []
        for n, p in self.pulls.items():
            marks = [
                c["body"].split("\n", 1)[0] for c in p.comments if c["body"].startswith("<!--")
            ]
            found += [f"#{n}: {m}" for m in set(marks) if marks.count(m) > 1]
            found += [
                f"#{n}: {r} asked twice" for r in set(p.requested) if p.requested.count(r) > 1
            ]
        return found

    # --- GraphQL ----------------------------------------------------------------------

    def node(self, pull: FakePull) -> dict[str, Any]:
        def first(items: list[Any]) -> Any:
            return lambda info, **args: {
                "nodes": items[: args.get("first") or len(items)],
                "totalCount": len(items),
            }

        def comments(info: Any, **args: Any) -> dict[str, Any]:
            nodes = [
                {
                    "databaseId": c["id"],
                    "author": who(c["user"]["login"]),
                    "body": c["body"],
                    "createdAt": c["created_at"],
                    "updatedAt": c["updated_at"],
                }
                for c in pull.comments
            ]
            last = args.get("last")
            return {"totalCount": len(nodes), "nodes": nodes[-last:] if last else nodes}

        def timeline(info: Any, **args: Any) -> dict[str, Any]:
            kinds = {"".join(w.title() for w in t.split("_")) for t in args.get("itemTypes") or ()}
            items = [t for t in pull.timeline if not kinds or t["__typename"] in kinds]
            last = args.get("last")
            return {"nodes": items[-last:] if last else items}

        return {
            "number": pull.number,
            "title": f"Change {pull.number}",
            "state": pull.state,
            "isDraft": pull.draft,
            "locked": pull.locked,
            "createdAt": iso(pull.created),
            "updatedAt": iso(max([pull.created, *(x for x in [pull.merged] if x)])),
            "mergedAt": iso(pull.merged) if pull.merged else None,
            "url": f"https://github.com/{self.repo}/pull/{pull.number}",
            "changedFiles": len(pull.paths),
            "author": who(pull.author),
            "labels": first([{"name": name} for name in pull.labels]),
            "files": first([{"path": p} for p in pull.paths]),
            "reviewRequests": first([{"requestedReviewer": asked(h)} for h in pull.requested]),
            "reviews": first(list(pull.reviews)),
            "timelineItems": timeline,
            "comments": comments,
        }

    def _graphql(self, query: str, variables: Any) -> Any:
        self.graphql_calls += 1

        def one(info: Any, number: int) -> Any:
            if number not in self.pulls:
                raise NotFound(f"Could not resolve to a PullRequest with the number of {number}.")
            return self.node(self.pulls[number])

        def many(info: Any, **args: Any) -> dict[str, Any]:
            states = set(args.get("states") or ())
            order = (args.get("orderBy") or {}).get("field", "CREATED_AT")
            chosen = [p for p in self.pulls.values() if not states or p.state in states]
            key = (
                (lambda p: p.merged or p.created)
                if order == "UPDATED_AT"
                else (lambda p: p.created)
            )
            chosen.sort(key=key, reverse=True)
            start = int(args.get("after") or 0)
            size = int(args.get("first") or 100)
            page = chosen[start : start + size]
            more = start + size < len(chosen)
            return {
                "nodes": [self.node(p) for p in page],
                "pageInfo": {"hasNextPage": more, "endCursor": str(start + size) if more else None},
            }

        def repository(info: Any, **args: Any) -> dict[str, Any]:
            assert f"{args['owner']}/{args['name']}" == self.repo
            return {"pullRequest": one, "pullRequests": many}

        return {"repository": repository}

    # --- REST -------------------------------------------------------------------------

    def _register(self) -> None:
        api = re.escape(self.api)
        n = r"(\d+)"
        routes = [
            ("GET", rf"{api}/issues/{n}/comments(\?.*)?", self._list_comments),
            ("POST", rf"{api}/issues/{n}/comments", self._create_comment),
            ("PATCH", rf"{api}/issues/comments/{n}", self._edit_comment),
            ("POST", rf"{api}/pulls/{n}/requested_reviewers", self._request),
            ("GET", rf"{api}/pulls/{n}/files(\?.*)?", self._files),
        ]
        for method, pattern, handler in routes:
            self.mock.add_callback(method, re.compile(pattern + "$"), callback=handler)
        self.mock.graphql(self._graphql)

    def _number(self, request: Any) -> int:
        match = re.search(r"/(?:issues|pulls)/(\d+)", urlsplit(request.url).path)
        assert match
        return int(match.group(1))

    def _list_comments(self, request: Any) -> Reply:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        items = self.pulls[self._number(request)].comments
        if "since" in query:
            since = query["since"]
            items = [c for c in items if c["updated_at"] >= since]
        return 200, {}, json.dumps(items)

    def _create_comment(self, request: Any) -> Reply:
        pull = self.pulls[self._number(request)]
        data = self.comment(pull, BOT, json.loads(request.body)["body"], self.now)
        return 201, {}, json.dumps(data)

    def _edit_comment(self, request: Any) -> Reply:
        wanted = int(urlsplit(request.url).path.rsplit("/", 1)[1])
        for pull in self.pulls.values():
            for comment in pull.comments:
                if comment["id"] == wanted:
                    comment["body"] = json.loads(request.body)["body"]
                    comment["updated_at"] = iso(self.now)
                    return 200, {}, json.dumps(comment)
        return 404, {}, json.dumps({"message": "Not Found", "documentation_url": "x"})

    def _request(self, request: Any) -> Reply:
        pull = self.pulls[self._number(request)]
        sent = json.loads(request.body)
        for login in sent.get("reviewers") or ():
            if login not in pull.requested:  # GitHub ignores a second request of one person
                pull.requested.append(login)
                self.event(pull, "ReviewRequestedEvent", BOT, self.now, login)
        data = checker.pull_json(pull.number, repo=self.repo)
        data["requested_reviewers"] = [checker.user_json(r) for r in pull.requested if "/" not in r]
        return 201, {}, json.dumps(data)

    def _files(self, request: Any) -> Reply:
        pull = self.pulls[self._number(request)]
        return 200, {}, json.dumps([checker.pr_file_json(p) for p in pull.paths])

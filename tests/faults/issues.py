"""A stateful GitHub for issues: listing, comments, labels, assignees, events, timelines,
reactions.

It keeps GitHub's own JSON (built from the REST description's examples), so any test's
issue JSON can seed it; every write changes it and records the events GitHub would.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock

BOT = "github-actions[bot]"  # who GITHUB_TOKEN writes as
Reply = tuple[int, dict[str, str], str]


def iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class FakeIssues:
    """The issues of one repository, served through a GitHubMock."""

    # Who the code under test writes as: GITHUB_TOKEN's bot, or the App's (`serve`).
    bot = BOT

    def __init__(self, mock: GitHubMock, repo: str, now: dt.datetime) -> None:
        self.mock = mock
        self.repo = repo
        self.api = f"{checker.API_URL}/repos/{repo}"
        self.now = now  # the clock of comments and events (the run's --at)
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.events: dict[int, list[dict[str, Any]]] = {}
        self.reactions: dict[int, list[dict[str, Any]]] = {}
        # Fixed timelines (another test's data); otherwise built from events and comments.
        self.timelines: dict[int, list[dict[str, Any]]] = {}
        self._ids = 50_000
        self._users: dict[str, Any] = {}
        self._register()

    # --- building ---------------------------------------------------------------------

    def user(self, login: str) -> Any:
        if login not in self._users:
            bot = login.endswith("[bot]")
            self._users[login] = checker.user_json(login, type="Bot" if bot else "User")
        return copy.deepcopy(self._users[login])

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def add(self, data: dict[str, Any]) -> dict[str, Any]:
        """Seed an issue (or a PR's issue side) from its issues-API JSON."""
        data = copy.deepcopy(data)
        number = int(data["number"])
        url = f"{self.api}/issues/{number}"
        data.update(
            url=url,
            comments_url=f"{url}/comments",
            events_url=f"{url}/events",
            labels_url=f"{url}/labels{{/name}}",
            repository_url=self.api,
        )
        self.issues[number] = data
        self.comments.setdefault(number, [])
        self.events.setdefault(number, [])
        self.reactions.setdefault(number, [])
        data["comments"] = len(self.comments[number])
        if "reactions" in data:  # GitHub's rollup, kept true to the reactions made here
            self._rollup(number)
        return data

    def issue(
        self,
        number: int,
        *,
        title: str,
        body: str = "",
        labels: tuple[str, ...] = (),
        assignees: tuple[str, ...] = (),
        author: str = "dev-patel",
        created: dt.datetime,
        updated: dt.datetime | None = None,
        state: str = "open",
    ) -> dict[str, Any]:
        data = checker.issue_json(
            number,
            title=title,
            body=body,
            state=state,
            labels=list(labels),
            assignees=list(assignees),
            user_login=author,
            repo=self.repo,
            created_at=iso(created),
            updated_at=iso(updated or created),
            closed_at=None,
            state_reason=None,
            locked=False,
            milestone=None,
        )
        data.pop("pull_request", None)
        data["reactions"] = {}  # GitHub's answers carry the rollup: add() fills it in
        return self.add(data)

    def comment(self, number: int, login: str, body: str, at: dt.datetime) -> dict[str, Any]:
        data = checker.comment_json(
            self._next_id(),
            body=body,
            user_login=login,
            issue_number=number,
            repo=self.repo,
            created_at=iso(at),
            updated_at=iso(at),
        )
        data["user"] = self.user(login)
        self.comments[number].append(data)
        self.issues[number]["comments"] = len(self.comments[number])
        return data

    def react(self, number: int, login: str, content: str, at: dt.datetime) -> dict[str, Any]:
        """A person's reaction to the issue; the issue's rollup counts it."""
        data = checker.example("reactions/list-for-issue", repo=self.repo)[0]
        data.update(id=self._next_id(), user=self.user(login), content=content, created_at=iso(at))
        self.reactions[number].append(data)
        self._rollup(number)
        return data

    def _rollup(self, number: int) -> None:
        """The `reactions` summary GitHub puts in every issue answer."""
        kinds = ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")
        made = self.reactions[number]
        self.issues[number]["reactions"] = {
            "url": f"{self.api}/issues/{number}/reactions",
            "total_count": len(made),
            **{k: sum(r["content"] == k for r in made) for k in kinds},
        }

    def event(
        self,
        number: int,
        kind: str,
        actor: str,
        at: dt.datetime,
        *,
        label: str | None = None,
        assignee: str | None = None,
    ) -> None:
        data = checker.example("issues/list-events", repo=self.repo)[0]
        data.update(
            id=self._next_id(),
            event=kind,
            actor=self.user(actor),
            created_at=iso(at),
            commit_id=None,
            commit_url=None,
        )
        data.pop("label", None)
        if label is not None:
            data["label"] = {"name": label, "color": "ededed"}
        if assignee is not None:
            data["assignee"] = self.user(assignee)
            data["assigner"] = self.user(actor)
        self.events[number].append(data)

    # --- state ------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What a person would see, ids and times left out."""
        out: dict[str, Any] = {}
        for number, data in sorted(self.issues.items()):
            out[f"#{number}"] = {
                "title": data["title"],
                "body": data.get("body") or "",
                "state": data["state"],
                "state_reason": data.get("state_reason"),
                "labels": sorted(label["name"] for label in data["labels"]),
                "assignees": sorted(a["login"] for a in data["assignees"]),
                "comments": [(c["user"]["login"], c["body"]) for c in self.comments[number]],
            }
        return out

    # --- answers ----------------------------------------------------------------------

    def _register(self) -> None:
        api = re.escape(self.api)
        n = r"(\d+)"
        routes = [
            ("GET", rf"{api}/issues(\?.*)?", self._list),
            ("POST", rf"{api}/issues", self._create),
            ("GET", rf"{api}/issues/{n}(\?.*)?", self._get),
            ("PATCH", rf"{api}/issues/{n}", self._edit),
            ("POST", rf"{api}/issues/{n}/labels", self._add_labels),
            ("DELETE", rf"{api}/issues/{n}/labels/[^/?]+", self._remove_label),
            ("GET", rf"{api}/issues/{n}/comments(\?.*)?", self._list_comments),
            ("POST", rf"{api}/issues/{n}/comments", self._create_comment),
            ("PATCH", rf"{api}/issues/comments/{n}", self._edit_comment),
            ("GET", rf"{api}/issues/{n}/events(\?.*)?", self._list_events),
            ("GET", rf"{api}/issues/{n}/timeline(\?.*)?", self._timeline),
            ("GET", rf"{api}/issues/{n}/reactions(\?.*)?", self._list_reactions),
        ]
        for method, pattern, handler in routes:
            self.mock.add_callback(method, re.compile(pattern + "$"), callback=handler)
        # The stale sweep reads the rate limit first (free) and timelines in bulk (GraphQL).
        self.mock.add_callback("GET", f"{checker.API_URL}/rate_limit", callback=self._rate_limit)
        self.mock.graphql(self._graphql)

    def _limits(self) -> dict[str, int]:
        reset = int((self.now + dt.timedelta(hours=1)).timestamp())
        return {"limit": 5000, "used": 0, "remaining": 5000, "reset": reset}

    def _rate_limit(self, request: Any) -> Reply:
        limits = self._limits()
        resources = {"core": limits, "graphql": limits, "search": {**limits, "limit": 30}}
        return 200, {}, json.dumps({"resources": resources, "rate": limits})

    def _entries(self, number: int) -> list[dict[str, Any]]:
        """The REST timeline of an issue: fixed, or built from its events and comments."""
        if number in self.timelines:
            return self.timelines[number]
        entries: list[dict[str, Any]] = [dict(e) for e in self.events[number]]
        for comment in self.comments[number]:
            entries.append({**comment, "event": "commented", "actor": comment["user"]})
        entries.sort(key=lambda e: e["created_at"])
        return entries

    def _graphql(self, query: str, variables: Any) -> Any:
        from tests.github_api.graphql import NotFound
        from tests.stale_backlog import timeline_connection, timeline_node

        def item(info: Any, number: int) -> dict[str, Any]:
            issue = self.issues.get(number)
            if issue is None:
                raise NotFound(f"Could not resolve to an issue with the number of {number}.")
            entries = self._entries(number)
            nodes = [n for n in map(timeline_node, entries) if n is not None]
            return {
                "__typename": "PullRequest" if "pull_request" in issue else "Issue",
                "number": number,
                "locked": bool(issue.get("locked")),
                "timelineItems": timeline_connection(nodes),
            }

        def repository(info: Any, **args: Any) -> dict[str, Any]:
            assert f"{args['owner']}/{args['name']}" == self.repo
            return {
                "issueOrPullRequest": item,
                "pinnedIssues": lambda info, **kw: {"nodes": []},
            }

        limits = self._limits()
        rate = {
            "cost": 1,
            "limit": limits["limit"],
            "remaining": limits["remaining"],
            "used": limits["used"],
            "nodeCount": 0,
            "resetAt": iso(self.now + dt.timedelta(hours=1)),
        }
        return {"repository": repository, "rateLimit": lambda info, **kw: rate}

    @staticmethod
    def _query(request: Any) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}

    def _number(self, request: Any) -> int:
        match = re.search(r"/issues/(\d+)", urlsplit(request.url).path)
        assert match
        return int(match.group(1))

    def _page(self, request: Any, items: list[Any]) -> Reply:
        query = self._query(request)
        per_page = int(query.get("per_page", "30"))
        page = int(query.get("page", "1"))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers: dict[str, str] = {}
        if page * per_page < len(items):
            rest = "&".join(f"{k}={v}" for k, v in {**query, "page": str(page + 1)}.items())
            path = urlsplit(request.url).path
            headers["Link"] = f'<{checker.API_URL}{path}?{rest}>; rel="next"'
        return 200, headers, json.dumps(chunk)

    def _list(self, request: Any) -> Reply:
        query = self._query(request)
        state = query.get("state", "open")
        wanted = [w for w in query.get("labels", "").split(",") if w]
        since = parse(query["since"]) if "since" in query else None
        items = [
            i
            for i in self.issues.values()
            if (state == "all" or i["state"] == state)
            and all(w in {label["name"] for label in i["labels"]} for w in wanted)
            and (since is None or parse(i["updated_at"]) >= since)
        ]
        key = "updated_at" if query.get("sort") == "updated" else "created_at"
        items.sort(key=lambda i: (i[key], i["number"]), reverse=query.get("direction") != "asc")
        return self._page(request, items)

    def _get(self, request: Any) -> Reply:
        number = self._number(request)
        if number not in self.issues:
            return 404, {}, json.dumps({"message": "Not Found", "documentation_url": "x"})
        return 200, {}, json.dumps(self.issues[number])

    def _touch(self, number: int) -> None:
        self.issues[number]["updated_at"] = iso(self.now)

    def _set_labels(self, number: int, names: list[str]) -> None:
        issue = self.issues[number]
        before = [label["name"] for label in issue["labels"]]
        for name in before:
            if name not in names:
                self.event(number, "unlabeled", self.bot, self.now, label=name)
        for name in dict.fromkeys(names):
            if name not in before:
                self.event(number, "labeled", self.bot, self.now, label=name)
        issue["labels"] = [
            checker.label_json(name, repo=self.repo) for name in dict.fromkeys(names)
        ]

    def _set_assignees(self, number: int, logins: list[str]) -> None:
        issue = self.issues[number]
        before = [a["login"] for a in issue["assignees"]]
        for login in before:
            if login not in logins:
                self.event(number, "unassigned", self.bot, self.now, assignee=login)
        for login in dict.fromkeys(logins):
            if login not in before:
                self.event(number, "assigned", self.bot, self.now, assignee=login)
        issue["assignees"] = [self.user(login) for login in dict.fromkeys(logins)]
        issue["assignee"] = issue["assignees"][0] if issue["assignees"] else None

    def _create(self, request: Any) -> Reply:
        sent = json.loads(request.body)
        number = max(self.issues, default=0) + 1
        # GitHub stamps a new issue with its own clock: the executor looks for an issue it
        # may have created by that clock (since a few minutes ago).
        created = dt.datetime.now(dt.UTC)
        data = self.issue(
            number,
            title=sent["title"],
            body=sent.get("body") or "",
            author=self.bot,
            created=created,
        )
        self._set_labels(number, list(sent.get("labels") or ()))
        self._set_assignees(number, list(sent.get("assignees") or ()))
        return 201, {}, json.dumps(data)

    def _edit(self, request: Any) -> Reply:
        number = self._number(request)
        sent = json.loads(request.body)
        issue = self.issues[number]
        for key in ("title", "body"):
            if key in sent:
                issue[key] = sent[key]
        if "labels" in sent:
            self._set_labels(number, list(sent["labels"]))
        if "assignees" in sent:
            self._set_assignees(number, list(sent["assignees"]))
        if "state" in sent and sent["state"] != issue["state"]:
            issue["state"] = sent["state"]
            issue["state_reason"] = sent.get("state_reason")
            issue["closed_at"] = iso(self.now) if sent["state"] == "closed" else None
            kind = "closed" if sent["state"] == "closed" else "reopened"
            self.event(number, kind, self.bot, self.now)
        self._touch(number)
        return 200, {}, json.dumps(issue)

    def _add_labels(self, request: Any) -> Reply:
        number = self._number(request)
        sent = json.loads(request.body)
        names = sent if isinstance(sent, list) else sent["labels"]
        current = [label["name"] for label in self.issues[number]["labels"]]
        self._set_labels(number, [*current, *names])
        self._touch(number)
        return 200, {}, json.dumps(self.issues[number]["labels"])

    def _remove_label(self, request: Any) -> Reply:
        number = self._number(request)
        name = unquote(urlsplit(request.url).path.rsplit("/", 1)[1])
        current = [label["name"] for label in self.issues[number]["labels"]]
        if name not in current:
            return (
                404,
                {},
                json.dumps({"message": "Label does not exist", "documentation_url": "x"}),
            )
        self._set_labels(number, [n for n in current if n != name])
        self._touch(number)
        return 200, {}, json.dumps(self.issues[number]["labels"])

    def _list_comments(self, request: Any) -> Reply:
        return self._page(request, self.comments[self._number(request)])

    def _create_comment(self, request: Any) -> Reply:
        number = self._number(request)
        data = self.comment(number, self.bot, json.loads(request.body)["body"], self.now)
        self._touch(number)
        return 201, {}, json.dumps(data)

    def _edit_comment(self, request: Any) -> Reply:
        wanted = int(urlsplit(request.url).path.rsplit("/", 1)[1])
        for number, comments in self.comments.items():
            for comment in comments:
                if comment["id"] == wanted:
                    comment["body"] = json.loads(request.body)["body"]
                    comment["updated_at"] = iso(self.now)
                    self._touch(number)
                    return 200, {}, json.dumps(comment)
        return 404, {}, json.dumps({"message": "Not Found", "documentation_url": "x"})

    def _list_events(self, request: Any) -> Reply:
        return self._page(request, self.events[self._number(request)])

    def _timeline(self, request: Any) -> Reply:
        return self._page(request, self._entries(self._number(request)))

    def _list_reactions(self, request: Any) -> Reply:
        return self._page(request, self.reactions[self._number(request)])

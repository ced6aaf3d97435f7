"""A generated year of one repository's history under the example policies, with known
problems injected, served through the contract-checked `github` mock.

What the policies would have produced in 2026: eval regressions triaged and escalated,
incidents acknowledged and resolved, stale sweeps warning and closing (and people reopening
some), a weekly release train, pull requests waiting for requested reviewers. Injected:

- stale rule `pull-requests`: 20 % of its closes reopened by a person (backlog: 4 %);
- `severity:sev2`: 60 % acknowledged within its 24 h SLA (sev1, sev3: all);
- raj-iyer, the `evals` area's triage assignee, takes ~3x the median pages (most sev1
  regressions are in evals, and sev1 assigns the area owner too);
- two trains merged over a day after departure (two skipped, three held by the blackout and
  the year-end freeze: within the thresholds);
- area `prompts`: a third of its PRs wait 80 h or more for the first owner review (the
  review loop's p90 over 48 h; the PRs' files put them in the area, as in the review loop);
- `sev2` incidents: resolved after ~84 h (the incidents feature's median MTTR; target 48 h).

Writes (git trees and commits, refs, the PR and its labels) change the model, so a second
run sees the PR the first one opened.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import math
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from automation.policy.policies import Policies
from automation.rules.release import departure_of, is_train_day
from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock
from tests.github_api.graphql import NotFound

REPO = "o/r"
API = f"{checker.API_URL}/repos/{REPO}"
BOT = "dataface-ops[bot]"
ROOT = Path(__file__).resolve().parent.parent
SINCE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
UNTIL = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2027, 1, 2, 12, tzinfo=dt.UTC)
HEAD_SHA = "a" * 40
TREE_SHA = "b" * 40
Reply = tuple[int, dict[str, str], str]


def stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Item:
    number: int
    title: str
    created: dt.datetime
    author: str = "maya-chen"
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    pull: bool = False
    state: str = "open"
    state_reason: str | None = None
    closed: dt.datetime | None = None
    merged: dt.datetime | None = None
    body: str = ""
    head_ref: str = ""
    base_ref: str = "main"
    timeline: list[dict[str, Any]] = field(default_factory=list)
    reactions: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def updated(self) -> dt.datetime:
        times = [self.created, *(parse(e) for e in self.timeline)]
        times += [r["_at"] for r in self.reactions]
        return max(t for t in times if t is not None)


def parse(entry: dict[str, Any]) -> dt.datetime:
    value = entry.get("created_at") or entry.get("submitted_at")
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass
class Truth:
    """What was injected, to compare the retrospective's findings with."""

    sev2_waits: list[float] = field(default_factory=list)
    sev2_met: int = 0
    pages: dict[str, int] = field(default_factory=dict)
    stale_closed: dict[str, list[int]] = field(default_factory=dict)
    stale_reopened: dict[str, list[int]] = field(default_factory=dict)
    late_trains: list[int] = field(default_factory=list)
    skipped_slots: list[dt.date] = field(default_factory=list)
    held_slots: list[dt.date] = field(default_factory=list)
    prompts_waits: list[float] = field(default_factory=list)
    sev2_ttr: list[float] = field(default_factory=list)
    # Items whose figures need their history (the lower bound of timeline reads).
    needed: set[int] = field(default_factory=set)
    reacted: set[int] = field(default_factory=set)
    # Open items warned and never closed: the collector reads them too (stale-labelled), but
    # their histories change no figure.
    warned: set[int] = field(default_factory=set)
    # PRs whose areas the review figures need (the lower bound of PR-files reads).
    reviewed: set[int] = field(default_factory=set)


class YearHistory:
    """The generated year, its repository files, and the mocks that serve them."""

    def __init__(self, policies: Policies, seed: int = 2026) -> None:
        self.policies = policies
        self.rng = random.Random(seed)
        self.items: dict[int, Item] = {}
        self.truth = Truth()
        self._users: dict[str, Any] = {}
        self._labels: dict[str, Any] = {}
        self._next = 1
        self._id = 100_000
        base = checker.issue_json(1, repo=REPO)
        base.pop("pull_request", None)
        base["milestone"] = None
        base["assignee"] = None
        self._base = base
        # Writes the retrospective made.
        self.trees: list[dict[str, Any]] = []
        self.commits: list[dict[str, Any]] = []
        self.refs: dict[str, str] = {}
        self.opened: list[int] = []
        self.queries: list[str] = []  # the GraphQL queries answered
        self.files = {
            path: (ROOT / path).read_text(encoding="utf-8")
            for path in (
                "policies/triage.yaml",
                "policies/stale.yaml",
                "policies/release.yaml",
                "policies/reviews.yaml",
                "policies/incidents.yaml",
                "docs/OPERATING_MODEL.md",
            )
        }
        self._generate()

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

    def new(self, title: str, created: dt.datetime, **kw: Any) -> Item:
        item = Item(self._next, title, created, **kw)
        self.items[item.number] = item
        self._next += 1
        return item

    def event(self, item: Item, kind: str, login: str, at: dt.datetime, **extra: Any) -> None:
        self._id += 1
        entry: dict[str, Any] = {
            "id": self._id,
            "node_id": f"E_{self._id}",
            "url": f"{API}/issues/events/{self._id}",
            "event": kind,
            "actor": self.user(login),
            "created_at": stamp(at),
            "commit_id": None,
            "commit_url": None,
        }
        if "label" in extra:
            entry["label"] = {"name": extra.pop("label"), "color": "ededed"}
        for key in ("assignee", "requested_reviewer"):
            if key in extra:
                entry[key] = self.user(extra.pop(key))
        entry.update(extra)
        item.timeline.append(entry)

    def comment(self, item: Item, login: str, at: dt.datetime, body: str = "on it") -> None:
        self._id += 1
        item.timeline.append(
            {
                "event": "commented",
                "id": self._id,
                "node_id": f"C_{self._id}",
                "body": body,
                "user": self.user(login),
                "actor": self.user(login),
                "created_at": stamp(at),
                "updated_at": stamp(at),
                "author_association": "MEMBER",
            }
        )

    def review(self, item: Item, login: str, at: dt.datetime) -> None:
        self._id += 1
        item.timeline.append(
            {
                "event": "reviewed",
                "id": self._id,
                "node_id": f"R_{self._id}",
                "user": self.user(login),
                "body": "looks good",
                "state": "approved",
                "submitted_at": stamp(at),
                "author_association": "MEMBER",
                "commit_id": "c" * 40,
            }
        )

    def close(self, item: Item, login: str, at: dt.datetime, reason: str | None) -> None:
        self.event(item, "closed", login, at, state_reason=reason)
        item.state, item.state_reason, item.closed = "closed", reason, at

    def reopen(self, item: Item, login: str, at: dt.datetime) -> None:
        self.event(item, "reopened", login, at)
        item.state, item.state_reason, item.closed = "open", "reopened", None

    def at_random(self, start: dt.datetime, days: float) -> dt.datetime:
        seconds = int(self.rng.uniform(0, days * 86400))
        return (start + dt.timedelta(seconds=seconds)).replace(microsecond=0)

    # --- the year -------------------------------------------------------------------------

    def _page(self, item: Item, login: str, at: dt.datetime) -> None:
        if login not in item.assignees:
            item.assignees.append(login)
            self.event(item, "assigned", BOT, at, assignee=login)
            self.truth.pages[login] = self.truth.pages.get(login, 0) + 1

    def _regressions(self) -> None:
        oncall = self.policies.oncall
        rotation = self.policies.triage.rotation
        areas = ["mcp-server", "prompts", "cloud-chat", "evals"]
        owner = {rule.area: rule.assignee for rule in self.policies.triage.areas}
        sev2 = 0
        for index in range(200):
            created = self.at_random(SINCE, 360)
            roll = index % 20
            severity = "sev1" if roll < 15 else "sev2" if roll < 18 else "sev3"
            area = "evals" if severity == "sev1" else areas[index % 4]
            item = self.new(f"Eval regression {index}", created, author="tomas-silva")
            item.labels = ["eval-regression", f"severity:{severity}", f"area:{area}"]
            item.body = "### Eval suite\n\nagent-core\n"
            for offset, name in enumerate(item.labels[1:]):
                self.event(
                    item, "labeled", BOT, created + dt.timedelta(seconds=30 + offset), label=name
                )
            at = created + dt.timedelta(minutes=1)
            primary = oncall.on_call(rotation, at)
            if severity == "sev1":
                self._page(item, owner[area] or primary, at)
            self._page(item, primary, at)
            if severity == "sev1":
                wait = self.rng.uniform(0.2, 3.5)
            elif severity == "sev3":
                wait = self.rng.uniform(1, 60)
            else:
                late = sev2 % 5 in (1, 3)  # two in five past the 24 h SLA
                wait = self.rng.uniform(26, 40) if late else self.rng.uniform(1, 20)
                self.truth.sev2_waits.append(wait)
                self.truth.sev2_met += not late
                sev2 += 1
            sla = float(self.policies.triage.sla_hours[severity])
            if wait > sla:
                self.event(
                    item, "labeled", BOT, created + dt.timedelta(hours=sla), label="escalated"
                )
            acked = created + dt.timedelta(hours=wait)
            if index % 2:
                self.comment(item, item.assignees[-1], acked, "looking")
            else:
                self.event(item, "labeled", item.assignees[-1], acked, label="triaged")
                item.labels.append("triaged")
            self.close(item, item.assignees[-1], acked + dt.timedelta(days=2), "completed")
            self.truth.needed.add(item.number)

    def _incidents(self) -> None:
        oncall = self.policies.oncall
        rotation = self.policies.triage.rotation
        for index in range(24):
            severity = "sev1" if index % 2 == 0 else "sev2"
            created = self.at_random(SINCE, 350)
            item = self.new(
                f"Incident: search tool failing ({index})", created, author="sam-okafor"
            )
            item.labels = ["incident", f"severity:{severity}", "tool:search", "area:mcp-server"]
            at = created + dt.timedelta(minutes=1)
            primary = oncall.on_call(rotation, at)
            self._page(item, primary, at)
            if severity == "sev1":
                self.comment(item, primary, created + dt.timedelta(hours=0.2), "on it")
                resolve = 4.0
            else:
                ack = created + dt.timedelta(hours=1)
                if index % 4 == 1:
                    self._id += 1
                    item.reactions.append(
                        {
                            "id": self._id,
                            "node_id": f"RE_{self._id}",
                            "user": self.user(primary),
                            "content": "eyes",
                            "created_at": stamp(ack),
                            "_at": ack,
                        }
                    )
                    self.truth.reacted.add(item.number)
                else:
                    self.event(item, "labeled", primary, ack, label="acknowledged")
                    item.labels.append("acknowledged")
                resolve = self.rng.uniform(72, 96)
                self.truth.sev2_ttr.append(resolve)
            self.close(item, primary, created + dt.timedelta(hours=resolve), "completed")
            self.truth.needed.add(item.number)

    def _stale(self) -> None:
        for rule, count, reopened_every, pull in (
            ("backlog", 150, 25, False),
            ("pull-requests", 40, 5, True),
        ):
            closed: list[int] = []
            reopened: list[int] = []
            for index in range(count):
                close_at = self.at_random(SINCE + dt.timedelta(days=1), 355)
                warned = close_at - dt.timedelta(days=14)
                created = warned - dt.timedelta(days=self.rng.uniform(61, 200))
                item = self.new(
                    f"Old {rule} item {index}", created, author="lena-fischer", pull=pull
                )
                if pull:
                    item.head_ref, item.base_ref = f"feature-{item.number}", "main"
                self.event(item, "labeled", BOT, warned, label="stale")
                self.comment(
                    item, BOT, warned, f"<!-- dataface-ops:stale:warning-{item.number} -->"
                )
                self.comment(item, BOT, close_at, "Closing")
                self.close(item, BOT, close_at, None if pull else "not_planned")
                item.labels = ["stale"]
                if not pull:
                    self.event(item, "labeled", BOT, close_at, label="closed-stale")
                    item.labels.append("closed-stale")
                closed.append(item.number)
                if index % reopened_every == 0:
                    again = close_at + dt.timedelta(days=3)
                    self.reopen(item, "lena-fischer", again)
                    self.event(item, "unlabeled", BOT, again + dt.timedelta(hours=1), label="stale")
                    item.labels = [x for x in item.labels if x != "stale"]
                    reopened.append(item.number)
                self.truth.needed.add(item.number)
            self.truth.stale_closed[rule] = closed
            self.truth.stale_reopened[rule] = reopened
        # Warned and still open: the sweep has not closed them (yet).
        for index in range(20):
            warned = self.at_random(UNTIL - dt.timedelta(days=12), 10)
            item = self.new(
                f"Quiet item {index}", warned - dt.timedelta(days=70), author="dev-patel"
            )
            self.event(item, "labeled", BOT, warned, label="stale")
            item.labels = ["stale"]
            self.truth.warned.add(item.number)

    def _trains(self) -> None:
        policy = self.policies.release
        day = SINCE.date()
        skip = {dt.date(2026, 2, 10), dt.date(2026, 6, 16)}
        late = {dt.date(2026, 3, 10), dt.date(2026, 9, 22)}
        while day < UNTIL.date():
            if is_train_day(policy, day):
                departure = departure_of(policy, day)
                if departure is None or departure.day != day:
                    self.truth.held_slots.append(day)
                if departure is None or departure.at >= UNTIL:
                    day += dt.timedelta(days=1)
                    continue
                if day in skip:
                    self.truth.skipped_slots.append(day)
                    day += dt.timedelta(days=1)
                    continue
                item = self.new(policy.title(departure.day), departure.at, author=BOT, pull=True)
                item.labels = ["release-train"]
                item.head_ref, item.base_ref = policy.branch_name(departure.day), "stable"
                delay = dt.timedelta(hours=50 if day in late else 2)
                item.merged = departure.at + delay
                self.close(item, "sam-okafor", item.merged, None)
                if day in late:
                    self.truth.late_trains.append(item.number)
            day += dt.timedelta(days=1)

    def _reviews(self) -> None:
        owners = self.policies.owners
        areas = ["mcp-server", "prompts", "evals", "cloud-chat"]
        paths = {
            "mcp-server": "dataface/ai/tools.py",
            "prompts": "prompts/system.md",
            "evals": "evals/suite.yaml",
            "cloud-chat": "apps/chat/app.py",
        }
        for index in range(200):
            area = areas[index % 4]
            created = self.at_random(SINCE, 350)
            people = [p for p in owners.expand(owners.area(area).owners)]  # type: ignore[union-attr]
            author = "tomas-silva" if "tomas-silva" not in people else "sam-okafor"
            reviewer = people[index % len(people)]
            item = self.new(f"Change {index} in {area}", created, author=author, pull=True)
            # The label is what people see; the review figures go by the paths, like the loop.
            item.labels = [f"area:{area}"]
            item.files = [paths[area], "README.md"]
            item.head_ref = f"change-{item.number}"
            requested = created + dt.timedelta(minutes=5)
            self.event(
                item,
                "review_requested",
                author,
                requested,
                requested_reviewer=reviewer,
                review_requester=self.user(author),
            )
            if area == "prompts" and index % 3 == 1:
                wait = self.rng.uniform(80, 120)
            else:
                wait = self.rng.uniform(1, 30)
            if area == "prompts":
                self.truth.prompts_waits.append(wait)
            reviewed = requested + dt.timedelta(hours=wait)
            self.review(item, reviewer, reviewed)
            item.merged = reviewed + dt.timedelta(hours=1)
            self.close(item, author, item.merged, None)
            self.truth.needed.add(item.number)
            self.truth.reviewed.add(item.number)

    def _noise(self) -> None:
        for index in range(120):
            created = self.at_random(SINCE, 360)
            item = self.new(f"Question {index}", created, author="dev-patel")
            item.labels = ["question"]
            self.comment(item, "maya-chen", created + dt.timedelta(hours=3))
            if index % 2:
                self.close(item, "maya-chen", created + dt.timedelta(days=1), "completed")

    def _generate(self) -> None:
        self._regressions()
        self._incidents()
        self._stale()
        self._trains()
        self._reviews()
        self._noise()

    # --- JSON -----------------------------------------------------------------------------

    def issue_json(self, item: Item) -> dict[str, Any]:
        data = copy.copy(self._base)
        url = f"{API}/issues/{item.number}"
        data.update(
            id=item.number,
            node_id=f"I_{item.number}",
            number=item.number,
            url=url,
            comments_url=f"{url}/comments",
            events_url=f"{url}/events",
            labels_url=f"{url}/labels{{/name}}",
            html_url=f"https://github.com/{REPO}/issues/{item.number}",
            title=item.title,
            body=item.body,
            state=item.state,
            state_reason=item.state_reason,
            locked=False,
            active_lock_reason=None,
            labels=[self.label(n) for n in item.labels],
            user=self.user(item.author),
            assignees=[self.user(a) for a in item.assignees],
            assignee=self.user(item.assignees[0]) if item.assignees else None,
            created_at=stamp(item.created),
            updated_at=stamp(item.updated),
            closed_at=stamp(item.closed) if item.closed else None,
            comments=sum(1 for e in item.timeline if e["event"] == "commented"),
            reactions={
                "url": f"{url}/reactions",
                "total_count": len(item.reactions),
                "+1": 0,
                "-1": 0,
                "laugh": 0,
                "hooray": 0,
                "confused": 0,
                "heart": 0,
                "rocket": 0,
                "eyes": len(item.reactions),
            },
        )
        if item.pull:
            data["pull_request"] = {
                "url": f"{API}/pulls/{item.number}",
                "html_url": f"https://github.com/{REPO}/pull/{item.number}",
                "diff_url": f"https://github.com/{REPO}/pull/{item.number}.diff",
                "patch_url": f"https://github.com/{REPO}/pull/{item.number}.patch",
                "merged_at": stamp(item.merged) if item.merged else None,
            }
            data["draft"] = False
        return data

    def pull_json(self, item: Item) -> dict[str, Any]:
        return checker.pull_json(
            item.number,
            title=item.title,
            body=item.body,
            state=item.state,
            head_ref=item.head_ref,
            base_ref=item.base_ref,
            labels=item.labels,
            user_login=item.author,
            repo=REPO,
        )

    # --- mocks ----------------------------------------------------------------------------

    def install(self, github: GitHubMock) -> None:
        number = r"(\d+)"
        esc = re.escape(API)
        github.add_callback("GET", f"{API}/issues", callback=self._list)
        github.add_callback("POST", re.compile(rf"{esc}/issues/{number}/labels"), self._add_labels)
        github.add_callback("GET", API, callback=self._repo)
        github.add_callback("GET", f"{API}/branches/main", callback=self._branch)
        github.add_callback("GET", re.compile(rf"{esc}/contents/.+"), self._contents)
        github.add_callback("GET", f"{API}/pulls", callback=self._pulls)
        github.add_callback("GET", re.compile(rf"{esc}/pulls/{number}/files"), self._files)
        github.graphql(self._graphql)
        github.add_callback("POST", f"{API}/pulls", callback=self._create_pull)
        github.add_callback("PATCH", re.compile(rf"{esc}/pulls/{number}$"), self._edit_pull)
        github.add_callback("POST", f"{API}/git/trees", callback=self._tree)
        github.add_callback("POST", f"{API}/git/commits", callback=self._commit)
        github.add_callback("POST", f"{API}/git/refs", callback=self._create_ref)
        github.add_callback("PATCH", re.compile(rf"{esc}/git/refs/heads/.+"), self._move_ref)

    def _number(self, request: Any) -> Item:
        match = re.search(r"/(?:issues|pulls)/(\d+)", urlsplit(request.url).path)
        assert match
        return self.items[int(match.group(1))]

    @staticmethod
    def _paged(request: Any, rows: list[Any]) -> Reply:
        parts = urlsplit(request.url)
        query = parse_qs(parts.query)
        page = int(query.get("page", ["1"])[0])
        per_page = int(query.get("per_page", ["30"])[0])
        chunk = rows[(page - 1) * per_page : page * per_page]
        headers: dict[str, str] = {}
        if page * per_page < len(rows):
            rest = {k: v[0] for k, v in query.items() if k != "page"}
            args = "&".join(f"{k}={v}" for k, v in rest.items())
            nxt = f"{parts.scheme}://{parts.netloc}{parts.path}?{args}&page={page + 1}"
            headers["Link"] = f'<{nxt}>; rel="next"'
        return 200, headers, json.dumps(chunk)

    def _list(self, request: Any) -> Reply:
        query = parse_qs(urlsplit(request.url).query)
        assert query["state"] == ["all"]
        since = dt.datetime.fromisoformat(query["since"][0].replace("Z", "+00:00"))
        rows = sorted(
            (i for i in self.items.values() if i.updated >= since),
            key=lambda i: (i.created, i.number),
            reverse=True,
        )
        return self._paged(request, [self.issue_json(i) for i in rows])

    def _graphql(self, query: str, variables: Any) -> Any:
        """The PRs' changed paths (`pullRequest(number:) { changedFiles files { nodes } }`)
        and the items' timelines (`issue|pullRequest(number:) { timelineItems }`)."""

        def pull(info: Any, number: int) -> Any:
            item = self.items.get(number)
            if item is None or not item.pull:
                raise NotFound(f"Could not resolve to a PullRequest with the number of {number}.")
            return {
                "changedFiles": len(item.files),
                "files": lambda info, **args: {
                    "nodes": [{"path": p} for p in item.files[: args.get("first") or 100]]
                },
                "timelineItems": timeline_connection(item),
            }

        def issue(info: Any, number: int) -> Any:
            item = self.items.get(number)
            if item is None or item.pull:
                raise NotFound(f"Could not resolve to an Issue with the number of {number}.")
            return {
                "timelineItems": timeline_connection(item),
                "reactions": lambda info, **args: {
                    "nodes": [
                        {
                            "databaseId": r["id"],
                            "content": {"+1": "THUMBS_UP", "-1": "THUMBS_DOWN"}.get(
                                r["content"], r["content"].upper()
                            ),
                            "createdAt": r["created_at"],
                            # GraphQL's reaction names a User: a bot's has none.
                            "user": None
                            if r["user"]["type"] == "Bot"
                            else {"login": r["user"]["login"]},
                        }
                        for r in sorted(item.reactions, key=lambda r: r["_at"])
                    ][: args.get("first") or 100]
                },
            }

        def repository(info: Any, **args: Any) -> Any:
            assert f"{args['owner']}/{args['name']}" == REPO
            return {"pullRequest": pull, "issue": issue}

        self.queries.append(query)
        return {"repository": repository}

    def _files(self, request: Any) -> Reply:
        rows = [
            checker.pr_file_json(path, status="modified") for path in self._number(request).files
        ]
        return self._paged(request, rows)

    def _repo(self, request: Any) -> Reply:
        return 200, {}, json.dumps(checker.example("repos/get", repo=REPO, default_branch="main"))

    def _branch(self, request: Any) -> Reply:
        branch = checker.example("repos/get-branch", repo=REPO, name="main")
        branch["commit"]["sha"] = HEAD_SHA
        branch["commit"]["commit"]["tree"]["sha"] = TREE_SHA
        return 200, {}, json.dumps(branch)

    def _contents(self, request: Any) -> Reply:
        parts = urlsplit(request.url)
        path = unquote(parts.path.split("/contents/", 1)[1])
        assert parse_qs(parts.query)["ref"] == [HEAD_SHA]
        if path not in self.files:
            return 404, {}, json.dumps({"message": "Not Found"})
        return 200, {}, json.dumps(checker.contents_json(REPO, path, self.files[path]))

    def _pulls(self, request: Any) -> Reply:
        query = parse_qs(urlsplit(request.url).query)
        head = query.get("head", [""])[0].split(":", 1)[-1]
        rows = [
            self.pull_json(i)
            for i in self.items.values()
            if i.pull
            and i.state == query.get("state", ["open"])[0]
            and (not head or i.head_ref == head)
        ]
        return self._paged(request, rows)

    def _create_pull(self, request: Any) -> Reply:
        body = json.loads(request.body)
        if any(
            i.pull and i.state == "open" and i.head_ref == body["head"] for i in self.items.values()
        ):
            message = f"A pull request already exists for o:{body['head']}."
            return (
                422,
                {},
                json.dumps({"message": "Validation Failed", "errors": [{"message": message}]}),
            )
        item = self.new(body["title"], NOW, author=BOT, pull=True)
        item.body, item.head_ref, item.base_ref = body.get("body", ""), body["head"], body["base"]
        self.opened.append(item.number)
        return 201, {}, json.dumps(self.pull_json(item))

    def _edit_pull(self, request: Any) -> Reply:
        item = self._number(request)
        body = json.loads(request.body)
        item.title = body.get("title", item.title)
        item.body = body.get("body", item.body)
        return 200, {}, json.dumps(self.pull_json(item))

    def _add_labels(self, request: Any) -> Reply:
        item = self._number(request)
        body = json.loads(request.body)
        for name in body if isinstance(body, list) else body["labels"]:
            if name not in item.labels:
                item.labels.append(name)
        return 200, {}, json.dumps([self.label(n) for n in item.labels])

    def _tree(self, request: Any) -> Reply:
        body = json.loads(request.body)
        self.trees.append(body)
        sha = hashlib.sha1(
            request.body if isinstance(request.body, bytes) else request.body.encode()
        ).hexdigest()
        answer = checker.example("git/create-tree", repo=REPO)
        answer["sha"] = sha
        return 201, {}, json.dumps(answer)

    def _commit(self, request: Any) -> Reply:
        body = json.loads(request.body)
        self.commits.append(body)
        sha = hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()
        answer = checker.example("git/create-commit", repo=REPO)
        answer["sha"] = sha
        return 201, {}, json.dumps(answer)

    def _create_ref(self, request: Any) -> Reply:
        body = json.loads(request.body)
        name = body["ref"].removeprefix("refs/heads/")
        if name in self.refs:
            return 422, {}, json.dumps({"message": "Reference already exists"})
        self.refs[name] = body["sha"]
        return 201, {}, json.dumps(checker.ref_json(body["ref"], body["sha"], repo=REPO))

    def _move_ref(self, request: Any) -> Reply:
        name = unquote(urlsplit(request.url).path.split("/git/refs/heads/", 1)[1])
        body = json.loads(request.body)
        self.refs[name] = body["sha"]
        return 200, {}, json.dumps(checker.ref_json(f"refs/heads/{name}", body["sha"], repo=REPO))

    # --- what the PR holds ----------------------------------------------------------------

    def committed_files(self) -> dict[str, str]:
        """The files of the last commit the retrospective made (path -> text)."""
        tree = self.trees[-1]
        return {entry["path"]: entry["content"] for entry in tree["tree"]}


# REST timeline event names -> GraphQL timeline item types.
GRAPHQL_TYPES = {
    "labeled": "LabeledEvent",
    "unlabeled": "UnlabeledEvent",
    "assigned": "AssignedEvent",
    "closed": "ClosedEvent",
    "reopened": "ReopenedEvent",
    "unassigned": "UnassignedEvent",
    "review_requested": "ReviewRequestedEvent",
    "review_request_removed": "ReviewRequestRemovedEvent",
    "ready_for_review": "ReadyForReviewEvent",
}


def actor_node(user: dict[str, Any] | None) -> dict[str, Any] | None:
    """A REST user as GraphQL's actor: a bot is named without the "[bot]" REST shows."""
    if user is None:
        return None
    login = str(user["login"])
    if user.get("type") == "Bot":
        return {"__typename": "Bot", "login": login.removesuffix("[bot]")}
    return {"__typename": "User", "login": login}


def timeline_node(entry: dict[str, Any]) -> dict[str, Any]:
    """A REST timeline entry as the GraphQL timeline item GitHub shows for it."""
    kind = entry["event"]
    if kind == "commented":
        return {
            "__typename": "IssueComment",
            "databaseId": entry["id"],
            "author": actor_node(entry["user"]),
            "body": entry["body"],
            "createdAt": entry["created_at"],
            "updatedAt": entry["updated_at"],
        }
    if kind == "reviewed":
        return {
            "__typename": "PullRequestReview",
            "databaseId": entry["id"],
            "author": actor_node(entry["user"]),
            "state": str(entry["state"]).upper(),
            "submittedAt": entry["submitted_at"],
            "commit": {"oid": entry["commit_id"]} if entry.get("commit_id") else None,
        }
    node: dict[str, Any] = {
        "__typename": GRAPHQL_TYPES[kind],
        "actor": actor_node(entry["actor"]),
        "createdAt": entry["created_at"],
    }
    if "label" in entry:
        node["label"] = {"name": entry["label"]["name"]}
    if "assignee" in entry:
        node["assignee"] = actor_node(entry["assignee"])
    if "requested_reviewer" in entry:
        node["requestedReviewer"] = actor_node(entry["requested_reviewer"])
    if "requested_team" in entry:
        node["requestedReviewer"] = {"__typename": "Team", "slug": entry["requested_team"]["slug"]}
    return node


def timeline_connection(item: Item) -> Any:
    """The `timelineItems` resolver over an item's timeline: `itemTypes`, `first` and
    `after` honoured (a cursor is the index of the entry it follows)."""

    def timeline(info: Any, **args: Any) -> dict[str, Any]:
        wanted = set(args.get("itemTypes") or ())
        nodes = [timeline_node(e) for e in item.timeline]
        kept = [n for n in nodes if not wanted or enum_of(n["__typename"]) in wanted]
        start = int(args["after"].removeprefix("cursor:")) + 1 if args.get("after") else 0
        first = args.get("first") or 100
        shown = kept[start : start + first]
        end = start + len(shown) - 1
        return {
            "pageInfo": {
                "hasNextPage": start + first < len(kept),
                "endCursor": f"cursor:{end}" if shown else None,
            },
            "nodes": shown,
        }

    return timeline


def enum_of(typename: str) -> str:
    """The timeline item type enum of a GraphQL type name (LabeledEvent -> LABELED_EVENT)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", typename).upper()


def ceil_hours(value: float) -> int:
    return math.ceil(value)


def decode(text: str) -> str:
    return base64.b64decode(text).decode()

"""A small stateful GitHub for the release train's end-to-end tests.

It answers through the `github` fixture (so every call is checked against GitHub's REST
description), keeps releases, PRs, branches and the commits of `main`, and pages lists the
way GitHub does (per_page, page, a Link header).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock

API = "https://api.github.com"


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hexsha(n: int) -> str:
    return f"{n:040x}"


class FakeRepo:
    """GitHub's state for one repository, served through a GitHubMock."""

    def __init__(self, mock: GitHubMock, repo: str = "dataface/dataface") -> None:
        self.mock = mock
        self.repo = repo
        self.api = f"{API}/repos/{repo}"
        self.pulls: dict[int, dict[str, Any]] = {}
        self.files: dict[int, list[str]] = {}
        self.releases: list[dict[str, Any]] = []
        self.refs: dict[str, str] = {}
        self.main: list[str] = []  # commit shas of main, oldest first
        self.tags: dict[str, str] = {}  # tag -> commit sha
        self.now = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)
        self.commit_listings: list[str] = []
        self.events: dict[int, list[dict[str, Any]]] = {}  # issue events: review requests
        self._register()

    # --- state builders ----------------------------------------------------------------

    def add_pull(
        self,
        number: int,
        *,
        title: str,
        author: str = "dev-patel",
        labels: tuple[str, ...] = (),
        base: str = "main",
        head: str | None = None,
        head_sha: str | None = None,
        merged_at: dt.datetime | None = None,
        merge_sha: str | None = None,
        state: str = "closed",
        body: str = "",
        files: tuple[str, ...] = (),
        created_at: dt.datetime | None = None,
    ) -> dict[str, Any]:
        created = created_at or (merged_at or self.now) - dt.timedelta(days=1)
        updated = merged_at or created
        pull = checker.pull_json(
            number,
            title=title,
            body=body,
            state=state,
            head_ref=head or f"feature/{number}",
            head_sha=head_sha or hexsha(50_000 + number),
            base_ref=base,
            labels=list(labels),
            user_login=author,
            repo=self.repo,
            html_url=f"https://github.com/{self.repo}/pull/{number}",
            created_at=iso(created),
            updated_at=iso(updated),
            closed_at=iso(merged_at) if merged_at else None,
            merged_at=iso(merged_at) if merged_at else None,
            merged=merged_at is not None,
            merge_commit_sha=merge_sha,
            requested_reviewers=[],
            requested_teams=[],
            draft=False,
        )
        for side in ("head", "base"):  # the example names octocat/Hello-World
            pull[side]["repo"]["full_name"] = self.repo
            pull[side]["repo"]["name"] = self.repo.split("/")[1]
        self.pulls[number] = pull
        self.files[number] = list(files)
        return pull

    def merge_into_main(self, number: int, title: str, when: dt.datetime, **kw: Any) -> None:
        """A PR merged into main: one squash commit on main."""
        commit = hexsha(number)
        self.main.append(commit)
        self.add_pull(number, title=title, merged_at=when, merge_sha=commit, **kw)
        self.refs["main"] = commit

    def add_release(self, tag: str, target: str, published: dt.datetime) -> dict[str, Any]:
        release = checker.release_json(
            len(self.releases) + 1,
            tag_name=tag,
            target_commitish=target,
            name=tag,
            draft=False,
            prerelease=False,
            created_at=iso(published),
            published_at=iso(published),
        )
        self.releases.append(release)
        self.tags[tag] = target
        return release

    # --- answers -----------------------------------------------------------------------

    def _register(self) -> None:
        api = re.escape(self.api)
        routes = [
            ("GET", rf"{api}/releases/latest", self._latest_release),
            ("GET", rf"{api}/releases/tags/[^?]+", self._release_by_tag),
            ("POST", rf"{api}/releases", self._create_release),
            ("GET", rf"{api}/pulls(\?.*)?", self._list_pulls),
            ("POST", rf"{api}/pulls", self._create_pull),
            ("GET", rf"{api}/pulls/\d+(\?.*)?", self._get_pull),
            ("PATCH", rf"{api}/pulls/\d+", self._edit_pull),
            ("GET", rf"{api}/pulls/\d+/files(\?.*)?", self._pull_files),
            ("GET", rf"{api}/pulls/\d+/reviews(\?.*)?", self._reviews),
            ("POST", rf"{api}/pulls/\d+/requested_reviewers", self._request_reviewers),
            ("POST", rf"{api}/issues/\d+/labels", self._add_labels),
            ("GET", rf"{api}/issues/\d+/events(\?.*)?", self._issue_events),
            ("GET", rf"{api}/compare/[^?]+(\?.*)?", self._compare),
            ("POST", rf"{api}/git/refs", self._create_ref),
            ("PATCH", rf"{api}/git/refs/.+", self._update_ref),
            ("GET", rf"{api}/git/ref/.+", self._get_ref),
            ("GET", rf"{api}/commits(\?.*)?", self._list_commits),
        ]
        for method, pattern, handler in routes:
            self.mock.add_callback(method, re.compile(pattern + "$"), callback=self._wrap(handler))

    def _wrap(self, handler: Any) -> Any:
        def callback(request: Any) -> tuple[int, dict[str, str], str]:
            parts = urlsplit(request.url)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            body = json.loads(request.body) if request.body else None
            status, payload, headers = handler(parts.path, query, body)
            return status, {"Content-Type": "application/json", **headers}, json.dumps(payload)

        return callback

    def _page(
        self, path: str, query: dict[str, str], items: list[Any]
    ) -> tuple[Any, dict[str, str]]:
        per_page = int(query.get("per_page", "30"))
        page = int(query.get("page", "1"))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            rest = "&".join(f"{k}={v}" for k, v in {**query, "page": str(page + 1)}.items())
            headers["Link"] = f'<https://api.github.com{path}?{rest}>; rel="next"'
        return chunk, headers

    def _latest_release(self, path: str, query: dict[str, str], body: Any) -> Any:
        published = [r for r in self.releases if not r["draft"] and not r["prerelease"]]
        if not published:
            return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}, {}
        return 200, max(published, key=lambda r: r["published_at"]), {}

    def _release_by_tag(self, path: str, query: dict[str, str], body: Any) -> Any:
        tag = unquote(path.rsplit("/tags/", 1)[1])
        for release in self.releases:
            if release["tag_name"] == tag:
                return 200, release, {}
        return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}, {}

    def _create_release(self, path: str, query: dict[str, str], body: Any) -> Any:
        if any(r["tag_name"] == body["tag_name"] for r in self.releases):
            return 422, {"message": "Validation Failed", "documentation_url": "x"}, {}
        release = self.add_release(body["tag_name"], body["target_commitish"], self.now)
        release.update(name=body.get("name"), body=body.get("body"))
        return 201, release, {}

    def _list_pulls(self, path: str, query: dict[str, str], body: Any) -> Any:
        state = query.get("state", "open")
        items = [
            p
            for p in self.pulls.values()
            if (state == "all" or p["state"] == state)
            and ("base" not in query or p["base"]["ref"] == query["base"])
        ]
        key = "updated_at" if query.get("sort") == "updated" else "created_at"
        items.sort(key=lambda p: (p[key], p["number"]), reverse=query.get("direction") != "asc")
        chunk, headers = self._page(path, query, items)
        return 200, chunk, headers

    def _number(self, path: str) -> int:
        return int(re.search(r"/(?:pulls|issues)/(\d+)", path).group(1))  # type: ignore[union-attr]

    def _get_pull(self, path: str, query: dict[str, str], body: Any) -> Any:
        return 200, self.pulls[self._number(path)], {}

    def _create_pull(self, path: str, query: dict[str, str], body: Any) -> Any:
        head = body["head"].split(":")[-1]
        if head not in self.refs:
            return 422, {"message": "Validation Failed", "documentation_url": "x"}, {}
        number = max(self.pulls, default=0) + 1
        pull = self.add_pull(
            number,
            title=body["title"],
            body=body.get("body", ""),
            base=body["base"],
            head=head,
            head_sha=self.refs[head],
            state="open",
            author="dataface-ops[bot]",
            created_at=self.now,
        )
        pull["user"]["type"] = "Bot"
        return 201, pull, {}

    def _edit_pull(self, path: str, query: dict[str, str], body: Any) -> Any:
        pull = self.pulls[self._number(path)]
        for key in ("title", "body", "state"):
            if key in body:
                pull[key] = body[key]
        pull["updated_at"] = iso(self.now)
        return 200, pull, {}

    def _pull_files(self, path: str, query: dict[str, str], body: Any) -> Any:
        names = self.files[self._number(path)]
        items = [checker.pr_file_json(name) for name in names]
        chunk, headers = self._page(path, query, items)
        return 200, chunk, headers

    def _reviews(self, path: str, query: dict[str, str], body: Any) -> Any:
        return 200, [], {}

    def _request_reviewers(self, path: str, query: dict[str, str], body: Any) -> Any:
        number = self._number(path)
        pull = self.pulls[number]
        for login in body.get("reviewers", []):
            pull["requested_reviewers"].append(checker.user_json(login))
            self._review_event(number, "review_requested", login=login)
        for slug in body.get("team_reviewers", []):
            pull["requested_teams"].append(
                {**checker.example("pulls/get")["requested_teams"][0], "slug": slug, "name": slug}
            )
            self._review_event(number, "review_requested", slug=slug)
        return 201, pull, {}

    def remove_review_request(self, number: int, login: str) -> None:
        """A person takes a reviewer off the PR (GitHub records review_request_removed)."""
        pull = self.pulls[number]
        pull["requested_reviewers"] = [
            u for u in pull["requested_reviewers"] if u["login"].lower() != login.lower()
        ]
        self._review_event(number, "review_request_removed", login=login)

    def _review_event(
        self, number: int, kind: str, *, login: str | None = None, slug: str | None = None
    ) -> None:
        event = checker.example("issues/list-events", repo=self.repo)[0]
        event.update(event=kind, label=None, commit_id=None, commit_url=None)
        event["review_requester"] = checker.user_json("dataface-ops[bot]")
        if login is not None:
            event["requested_reviewer"] = checker.user_json(login)
        if slug is not None:
            team = {**checker.example("pulls/get")["requested_teams"][0], "slug": slug}
            event["requested_team"] = {**team, "name": slug}
        self.events.setdefault(number, []).append(event)

    def _issue_events(self, path: str, query: dict[str, str], body: Any) -> Any:
        number = self._number(path)
        chunk, headers = self._page(path, query, self.events.get(number, []))
        return 200, chunk, headers

    def _add_labels(self, path: str, query: dict[str, str], body: Any) -> Any:
        pull = self.pulls[self._number(path)]
        names = body["labels"] if isinstance(body, dict) else body
        have = {label["name"] for label in pull["labels"]}
        for name in names:
            if name not in have:
                pull["labels"].append(checker.label_json(name, repo=self.repo))
        return 200, pull["labels"], {}

    def _resolve(self, ref: str) -> str | None:
        if ref in self.tags:
            return self.tags[ref]
        if ref in self.refs:
            return self.refs[ref]
        return ref

    def _compare(self, path: str, query: dict[str, str], body: Any) -> Any:
        basehead = unquote(path.split("/compare/", 1)[1])
        base, head = basehead.split("...")
        base_sha = self._resolve(base)
        head_sha = self._resolve(head)
        assert head_sha in self.main, head
        end = self.main.index(head_sha) + 1
        start = self.main.index(base_sha) + 1 if base_sha in self.main else 0
        shas = self.main[start:end]
        template = checker.compare_json()
        commit = template["commits"][0]
        commits = [
            {**commit, "sha": s, "parents": [{**commit["parents"][0], "sha": p}]}
            for s, p in zip(shas, [base_sha or "", *shas], strict=False)
        ]
        per_page = int(query.get("per_page", "250"))
        page = int(query.get("page", "1"))
        chunk = commits[(page - 1) * per_page : page * per_page]
        merge_base = {**template["merge_base_commit"]}
        merge_base["commit"] = {
            **merge_base["commit"],
            "committer": {
                **merge_base["commit"]["committer"],
                "date": iso(self.base_time),
            },
        }
        payload = {
            **template,
            "html_url": f"https://github.com/{self.repo}/compare/{basehead}",
            "total_commits": len(shas),
            "ahead_by": len(shas),
            "commits": chunk,
            "merge_base_commit": merge_base,
            "files": [] if page > 1 else self._range_files(shas),
        }
        return 200, payload, {}

    def _list_commits(self, path: str, query: dict[str, str], body: Any) -> Any:
        """Commits of main touching a directory, newest first (squash merges: one per PR)."""
        directory = query["path"].strip("/") + "/"
        head = self.main.index(self._resolve(query.get("sha", "main")) or "")
        by_sha = {p.get("merge_commit_sha"): n for n, p in self.pulls.items()}
        commit = checker.example("repos/list-commits")[0]
        items = [
            {**commit, "sha": sha}
            for sha in reversed(self.main[: head + 1])
            if sha in by_sha
            and any(f.startswith(directory) for f in self.files.get(by_sha[sha], ()))
        ]
        self.commit_listings.append(query["path"])
        chunk, headers = self._page(path, query, items)
        return 200, chunk, headers

    def _range_files(self, shas: list[str]) -> list[dict[str, Any]]:
        """What the whole range changes (GitHub lists at most 300 files, on page 1 only)."""
        wanted = set(shas)
        names = sorted(
            {
                name
                for number, pull in self.pulls.items()
                if pull.get("merge_commit_sha") in wanted
                for name in self.files.get(number, ())
            }
        )
        return [checker.pr_file_json(name) for name in names[:300]]

    base_time = dt.datetime(2026, 11, 17, 15, 0, tzinfo=dt.UTC)

    def _create_ref(self, path: str, query: dict[str, str], body: Any) -> Any:
        name = body["ref"].removeprefix("refs/heads/")
        if name in self.refs:
            return 422, {"message": "Reference already exists", "documentation_url": "x"}, {}
        self.refs[name] = body["sha"]
        return 201, checker.ref_json(body["ref"], body["sha"], repo=self.repo), {}

    def _update_ref(self, path: str, query: dict[str, str], body: Any) -> Any:
        name = unquote(path.split("/git/refs/heads/", 1)[1])
        self.refs[name] = body["sha"]
        for pull in self.pulls.values():
            if pull["state"] == "open" and pull["head"]["ref"] == name:
                pull["head"]["sha"] = body["sha"]
        return 200, checker.ref_json(f"refs/heads/{name}", body["sha"], repo=self.repo), {}

    def _get_ref(self, path: str, query: dict[str, str], body: Any) -> Any:
        name = unquote(path.split("/git/ref/heads/", 1)[1])
        if name not in self.refs:
            return 404, {"message": "Not Found", "documentation_url": "x"}, {}
        return 200, checker.ref_json(f"refs/heads/{name}", self.refs[name], repo=self.repo), {}

    def merge_pull(self, number: int, when: dt.datetime) -> dict[str, Any]:
        """Merge a train PR into stable with a merge commit."""
        pull = self.pulls[number]
        merge = hexsha(700_000 + number)
        pull.update(
            state="closed",
            merged=True,
            merged_at=iso(when),
            closed_at=iso(when),
            updated_at=iso(when),
            merge_commit_sha=merge,
        )
        self.refs["stable"] = merge
        return pull

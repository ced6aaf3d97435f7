"""The documents of one repository's default branch, served through a contract-checked mock:
each path's last commit (GET .../commits?path=&per_page=1) and its text (GET .../contents/)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.faults.issues import BOT, FakeIssues
from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock

Reply = tuple[int, dict[str, str], str]


def iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeDocs:
    """path -> (last change, text); a path not here has no commit and no file."""

    def __init__(self, mock: GitHubMock, repo: str) -> None:
        self.repo = repo
        self.api = f"{checker.API_URL}/repos/{repo}"
        self.files: dict[str, tuple[dt.datetime, str]] = {}
        self._sha = 0
        self.shas: dict[str, str] = {}
        self._commit = checker.example("repos/list-commits", repo=repo)[0]
        mock.add_callback(
            "GET", re.compile(rf"{re.escape(self.api)}/commits(\?.*)?$"), self._commits
        )
        mock.add_callback(
            "GET", re.compile(rf"{re.escape(self.api)}/contents/[^?]+(\?.*)?$"), self._contents
        )

    def commit(self, path: str, at: dt.datetime, text: str) -> None:
        """A commit changing `path` at `at` to `text`."""
        self._sha += 1
        self.shas[path] = f"{self._sha:040x}"
        self.files[path] = (at, text)

    def _commits(self, request: Any) -> Reply:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        found = self.files.get(query.get("path", ""))
        if found is None:
            return 200, {}, "[]"
        commit = copy.deepcopy(self._commit)
        commit["sha"] = self.shas[query["path"]]
        commit["commit"]["committer"]["date"] = iso(found[0])
        commit["commit"]["author"]["date"] = iso(found[0])
        return 200, {}, json.dumps([commit])

    def _contents(self, request: Any) -> Reply:
        path = unquote(urlsplit(request.url).path.split("/contents/", 1)[1])
        found = self.files.get(path)
        if found is None:
            return 404, {}, json.dumps({"message": "Not Found", "documentation_url": "x"})
        return 200, {}, json.dumps(checker.contents_json(self.repo, path, found[1]))


def last_cycle_issue(issues: FakeIssues, number: int, path: str) -> None:
    """The review-due issue of a document's last cycle, as the bot left it: filed in
    October 2025, closed in April 2026 when that review landed."""
    from automation.rules.docs_upkeep import issue_marker

    issues.issue(
        number,
        title=f"Review due: {path}",
        body=f"{issue_marker(path)}\nold text",
        labels=("docs-review",),
        author=BOT,
        created=dt.datetime(2025, 10, 1, tzinfo=dt.UTC),
        state="closed",
    )
    issues.issues[number]["user"]["type"] = "Bot"
    issues.issues[number]["closed_at"] = "2026-04-01T12:00:00Z"

"""automation.github.shared_reads: one run's features share their GETs (the collect phase)."""

from __future__ import annotations

import pytest

from automation.github import (
    GithubException,
    Repository,
    make_github,
    request_json,
    shared_reads,
)
from automation.settings import Settings
from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock

REPO = "octo-org/hello"
ISSUE = f"/repos/{REPO}/issues/1"


def _repo() -> Repository:
    return make_github(Settings(repo=REPO, token="t", pacing=False)).get_repo(REPO)


def test_the_same_get_is_sent_once_inside_and_again_outside(github: GitHubMock) -> None:
    github.get(ISSUE, json=checker.issue_json(1, repo=REPO))
    github.get(f"{ISSUE}/comments", json=[])
    repo = _repo()
    with shared_reads(repo), shared_reads(repo):  # nested: features planned in turn
        first = request_json(repo, "GET", ISSUE)
        first["title"] = "changed by a caller"  # answers are copies
        assert repo.get_issue(1).title == checker.issue_json(1, repo=REPO)["title"]
        request_json(repo, "GET", f"{ISSUE}/comments", parameters={"per_page": 100})
        request_json(repo, "GET", f"{ISSUE}/comments", parameters={"per_page": 50})
    assert github.count("GET", f"{ISSUE}/comments") == 2  # other parameters: another request
    assert github.count("GET", ISSUE) - github.count("GET", f"{ISSUE}/comments") == 1
    request_json(repo, "GET", ISSUE)
    assert github.count("GET", ISSUE) - github.count("GET", f"{ISSUE}/comments") == 2


def test_a_failed_read_is_not_kept_and_writes_are_always_sent(github: GitHubMock) -> None:
    github.get(ISSUE, status=404, json={"message": "Not Found"})
    github.post(f"{ISSUE}/labels", json=[checker.label_json("x", repo=REPO)])
    repo = _repo()
    with shared_reads(repo):
        for _ in range(2):
            with pytest.raises(GithubException):
                request_json(repo, "GET", ISSUE)
            request_json(repo, "POST", f"{ISSUE}/labels", input={"labels": ["x"]})
    assert github.count("GET", ISSUE) == 2 and github.count("POST", f"{ISSUE}/labels") == 2

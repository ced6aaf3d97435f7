"""automation.github.read_files: every policy file at a commit in one GraphQL request."""

from __future__ import annotations

from typing import Any

import pytest

from automation.github import (
    GithubException,
    Repository,
    UnknownObjectException,
    make_github,
    read_files,
)
from automation.settings import Settings
from tests.github_api import checker
from tests.github_api.fixtures import GHES_URL, GitHubMock

REPO = "octo-org/hello"
SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


def _repo(base_url: str = checker.API_URL) -> Repository:
    settings = Settings(repo=REPO, token="t", api_url=base_url, pacing=False)
    return make_github(settings).get_repo(REPO)


def test_files_present_and_absent_in_one_request(github: GitHubMock) -> None:
    github.serve_files(REPO, SHA, {"policies/owners.yaml": "people: []\n"})
    files = read_files(_repo(), SHA, ["policies/owners.yaml", "policies/stale.yaml"])
    assert files == {"policies/owners.yaml": "people: []\n", "policies/stale.yaml": None}
    assert len(github.calls) == 1
    (body,) = github.json_bodies("POST", "/graphql")
    assert body["variables"] == {
        "owner": "octo-org",
        "name": "hello",
        "e0": f"{SHA}:policies/owners.yaml",
        "e1": f"{SHA}:policies/stale.yaml",
    }


def test_ghes_reads_at_its_own_graphql_address() -> None:
    with GitHubMock(GHES_URL) as ghes:
        ghes.serve_files(REPO, SHA, {"policies/triage.yaml": "sla_hours: {}\n"})
        files = read_files(_repo(GHES_URL), SHA, ["policies/triage.yaml"])
        assert files == {"policies/triage.yaml": "sla_hours: {}\n"}
        assert ghes.calls[0].request.url == "https://ghe.example.com/api/graphql"


def _answer(objects: dict[str, Any]) -> Any:
    return lambda _query, _variables: {
        "repository": lambda _info, **_args: {"object": lambda _i, expression: objects[expression]}
    }


def test_a_directory_binary_or_truncated_file(github: GitHubMock) -> None:
    github.graphql(
        _answer(
            {
                f"{SHA}:policies/owners.yaml": {"__typename": "Tree"},
                f"{SHA}:policies/oncall.yaml": {
                    "__typename": "Blob",
                    "text": None,
                    "isBinary": True,
                    "isTruncated": False,
                },
                f"{SHA}:policies/stale.yaml": {
                    "__typename": "Blob",
                    "text": "rules:\n",
                    "isBinary": False,
                    "isTruncated": True,
                },
            }
        )
    )
    # The truncated text is read again in full through the contents API.
    full = "rules:\n" + "# a long comment\n" * 10
    github.get(
        f"/repos/{REPO}/contents/policies/stale.yaml?ref={SHA}",
        json=checker.contents_json(REPO, "policies/stale.yaml", full),
    )
    files = read_files(
        _repo(), SHA, ["policies/owners.yaml", "policies/oncall.yaml", "policies/stale.yaml"]
    )
    assert files == {
        "policies/owners.yaml": None,  # a directory where a file should be
        "policies/oncall.yaml": "\x00",  # the loader refuses it, located
        "policies/stale.yaml": full,
    }


def test_a_repository_the_token_cannot_see_is_not_found(github: GitHubMock) -> None:
    github.serve_files("someone/else", SHA, {"policies/owners.yaml": ""})
    with pytest.raises(UnknownObjectException):
        read_files(_repo(), SHA, ["policies/owners.yaml"])


def test_errors_beside_data_are_a_failure_not_an_empty_read(github: GitHubMock) -> None:
    github.graphql(
        lambda _q, _v: (
            200,
            {},
            '{"data": {"repository": {"f0": null}}, "errors": [{"type": "FORBIDDEN", '
            '"message": "Resource not accessible by integration", "path": ["repository"]}]}',
        )
    )
    with pytest.raises(GithubException) as caught:
        read_files(_repo(), SHA, ["policies/owners.yaml"])
    assert caught.value.status == 502

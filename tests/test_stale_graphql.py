"""The stale sweep's GraphQL reads against GitHub's schema: retried like REST reads (issue 12)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from github import GithubException, RateLimitExceededException

from automation.github import make_github
from automation.settings import Settings
from automation.snapshot.stale import read_pinned_issues
from tests.github_api.fixtures import GitHubMock
from tests.github_api.graphql import request_problems

REPO = "o/r"


def repository() -> Any:
    return make_github(Settings(repo=REPO, token="t", pacing=False)).get_repo(REPO)


def pinned_root(*numbers: int) -> Mapping[str, Any]:
    def repository(info: Any, owner: str, name: str, **kw: Any) -> Mapping[str, Any]:
        assert (owner, name) == ("o", "r")
        nodes = [{"issue": {"number": n}} for n in numbers]
        return {"pinnedIssues": lambda info, **kw: {"nodes": nodes}}

    return {"repository": repository}


def serve(github: GitHubMock, faults: list[tuple[int, dict[str, str], str]]) -> None:
    def handler(query: str, variables: Mapping[str, Any]) -> Any:
        return faults.pop(0) if faults else pinned_root(2)

    github.graphql(handler)


BAD_GATEWAY = (502, {}, "<html>502 Bad Gateway</html>")
SECONDARY = (
    403,
    {"Retry-After": "0", "Content-Type": "application/json"},
    json.dumps(
        {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes.",
            "documentation_url": "https://docs.github.com/graphql/overview/rate-limits",
        }
    ),
)


@pytest.mark.parametrize(
    "faults",
    [[BAD_GATEWAY], [BAD_GATEWAY, BAD_GATEWAY], [SECONDARY], [(500, {}, "oops")]],
    ids=["one 502", "two 502s", "a secondary limit with Retry-After", "one 500"],
)
def test_the_graphql_read_is_retried_like_a_rest_read(
    github: GitHubMock, faults: list[tuple[int, dict[str, str], str]]
) -> None:
    count = len(faults)
    serve(github, faults)
    assert read_pinned_issues(repository()) == frozenset({2})
    assert github.count("POST", "/graphql") == count + 1


def test_a_graphql_read_that_keeps_failing_gives_up_with_githubs_answer(
    github: GitHubMock,
) -> None:
    serve(github, [BAD_GATEWAY] * 20)
    with pytest.raises(GithubException) as raised:
        read_pinned_issues(repository())
    assert raised.value.status == 502
    assert 2 <= github.count("POST", "/graphql") <= 6


def test_a_primary_graphql_limit_is_not_waited_out_past_the_cap(github: GitHubMock) -> None:
    exhausted = (
        403,
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4102444800"},
        json.dumps({"message": "API rate limit exceeded for installation ID 1."}),
    )
    serve(github, [exhausted] * 3)
    with pytest.raises(RateLimitExceededException):
        read_pinned_issues(repository())
    assert github.count("POST", "/graphql") == 1


def test_a_query_outside_githubs_schema_fails_the_contract() -> None:
    problems = request_problems(json.dumps({"query": "{ repository(owner: 1) { nope } }"}))
    assert any("Cannot query field 'nope'" in p for p in problems)
    assert any("argument 'name'" in p and "required" in p for p in problems)

"""The stale sweep's GraphQL reads against GitHub's schema: retried like REST reads (issue 12)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pytest
from github import GithubException, RateLimitExceededException

from automation.features.stale.collect import (
    TIMELINE_DEPTH,
    activity_from_graphql,
    collect_stale,
    read_activities,
    read_pinned_issues,
    read_rate_limit,
)
from automation.github import make_github
from automation.settings import Settings
from automation.snapshot.collect import SnapshotError
from tests.github_api.fixtures import GitHubMock
from tests.github_api.graphql import request_problems
from tests.stale_backlog import Backlog
from tests.test_stale_sweep import NOW, policies

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


# --- the bulk activity read ---------------------------------------------------------------


def test_activity_nodes_read_as_the_rest_timeline_would() -> None:
    comments, events = activity_from_graphql(
        [
            {
                "__typename": "IssueComment",
                "databaseId": 5,
                "author": {"__typename": "Bot", "login": "dataface-ops"},
                "body": "<!-- dataface-ops:stale:warning-7 -->",
                "createdAt": "2026-11-01T10:00:00Z",
                "updatedAt": "2026-11-01T10:00:00Z",
            },
            {
                "__typename": "LabeledEvent",
                "actor": {"__typename": "User", "login": "maya-chen"},
                "createdAt": "2026-11-02T10:00:00Z",
                "label": {"name": "bug"},
            },
            {
                "__typename": "PullRequestReview",
                "author": {"__typename": "User", "login": "sam-okafor"},
                "submittedAt": "2026-11-03T10:00:00Z",
                "createdAt": "2026-11-03T09:00:00Z",
            },
            {
                "__typename": "PullRequestCommit",
                "commit": {"committedDate": "2026-11-04T10:00:00Z", "committer": {"name": "Raj"}},
            },
            {
                "__typename": "HeadRefForcePushedEvent",
                "actor": None,
                "createdAt": "2026-11-05T10:00:00Z",
            },
        ]
    )
    assert [(c.id, c.author, c.author_is_bot) for c in comments] == [(5, "dataface-ops[bot]", True)]
    assert [(e.event, e.actor, e.actor_is_bot, e.label, e.created_at.day) for e in events] == [
        ("labeled", "maya-chen", False, "bug", 2),
        ("reviewed", "sam-okafor", False, None, 3),
        ("committed", "Raj", False, None, 4),
        ("head_ref_force_pushed", "ghost", False, None, 5),
    ]


def test_a_long_timeline_is_read_whole_over_rest_and_a_vanished_item_left_alone(
    github: GitHubMock,
) -> None:
    backlog = Backlog(github, NOW)
    busy = backlog.add(1, created=400, updated=1)
    backlog.comment(busy, "maya-chen", 50)  # the person, before a long run of bot comments
    for k in range(TIMELINE_DEPTH + 5):
        backlog.comment(busy, "ci-helper[bot]", 49 - k * 0.5, "build passed")
    backlog.add(2, created=400, updated=1)
    backlog.install()

    def vanish() -> None:  # #2 is deleted after the list was read
        del backlog.items[2]

    backlog.after_page[1] = vanish
    snapshot = collect_stale(repository(), policies(), None, NOW)

    assert github.count("POST", "/graphql") == 1
    assert github.count("GET", "/timeline") == 1  # #1's whole history, over REST
    one = snapshot.issue(1)
    assert one is not None and one.comments is not None
    assert any(c.author == "maya-chen" for c in one.comments)
    two = snapshot.issue(2)
    assert two is not None and two.comments is None  # left alone this run
    assert snapshot.writes_left is not None and snapshot.writes_left > 900_000
    assert dt.timedelta(0) < NOW - one.updated_at


def test_an_activity_answer_without_its_repository_is_a_snapshot_error(
    github: GitHubMock,
) -> None:
    github.get(
        "/rate_limit",
        json={
            "resources": {
                "core": {"limit": 5000, "used": 0, "remaining": 5000, "reset": 1},
                "search": {"limit": 30, "used": 0, "remaining": 30, "reset": 1},
            },
            "rate": {"limit": 5000, "used": 0, "remaining": 5000, "reset": 1},
        },
    )
    github.graphql(lambda query, variables: {"repository": lambda info, **kw: None})
    budget = read_rate_limit(repository())
    assert budget.core == 5000 and budget.graphql is None
    with pytest.raises(SnapshotError, match="no repository"):
        read_activities(repository(), [1, 2], budget)


def test_a_graphql_limit_met_mid_sweep_leaves_the_rest_unread_and_plans_the_rest(
    github: GitHubMock,
) -> None:
    """GitHub answers a query over its GraphQL limit with 200 and a RATE_LIMITED error: the
    items read so far are planned, the others left alone for the next run."""
    backlog = Backlog(github, NOW)
    for n in range(1, 121):  # 120 items whose activity decides: three GraphQL reads
        item = backlog.add(n, created=400, updated=3)
        backlog.comment(item, "triage-helper[bot]", 3, "labelled by area")
    answered = [0]
    serve = backlog._graphql

    def limited(query: str, variables: Any) -> Any:
        answered[0] += 1
        if answered[0] <= 1:
            return serve(query, variables)
        body = {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}
        return 200, {}, json.dumps(body)

    backlog._graphql = limited  # type: ignore[method-assign]
    backlog.install()
    snapshot = collect_stale(repository(), policies(), None, NOW)
    read = [i.number for i in snapshot.issues if i.comments is not None]
    assert len(read) == 50 and answered[0] == 2


def test_without_rate_limiting_the_sweep_plans_without_a_limit(github: GitHubMock) -> None:
    """GitHub Enterprise Server with rate limiting off answers /rate_limit with 404."""
    github.get("/rate_limit", status=404, json={"message": "Rate limiting is not enabled."})
    budget = read_rate_limit(repository())
    assert (budget.core, budget.graphql, budget.writes_left()) == (None, None, None)


def test_the_sweeps_own_unstale_read_over_graphql_keeps_its_label(github: GitHubMock) -> None:
    """Seen: the GraphQL read asked no label of an UnlabeledEvent, so the sweep's own
    un-stale (which stands for a person's activity the timeline does not list: an edit, a
    push) was not recognised, and the next sweep warned the item again at once."""
    from automation.features.stale.plan import plan_stale
    from tests.stale_backlog import BOT

    backlog = Backlog(github, NOW)
    item = backlog.add(1, created=400, updated=1)
    backlog.comment(item, "maya-chen", 100)
    backlog.label_event(item, BOT, 30, "stale")
    backlog.label_event(item, BOT, 1, "stale", kind="unlabeled")  # un-staled yesterday
    backlog.install()

    snapshot = collect_stale(repository(), policies(), None, NOW)
    one = snapshot.issue(1)
    assert one is not None and one.events is not None
    assert github.count("POST", "/graphql") == 1 and github.count("GET", "/timeline") == 0
    assert [(e.event, e.label) for e in one.events if e.event == "unlabeled"] == [
        ("unlabeled", "stale")
    ]
    assert plan_stale(policies(), snapshot, NOW).actions == ()  # not warned again

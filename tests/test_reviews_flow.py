"""End to end: the review loop through `dataface-ops run`, on real webhook payloads and a
scheduled sweep, with every REST call checked against GitHub's REST description and every
GraphQL query executed against GitHub's schema; a second run writes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from automation.cli import main
from automation.rules.reviews import reminder_marker
from tests.flow_env import workflow_step_env
from tests.github_api.fixtures import GitHubMock
from tests.github_api.webhooks import webhook_payload
from tests.reviews_factories import utc
from tests.reviews_github import BOT, FakePull, FakePulls

REPO = "Codertocat/Hello-World"  # the repository of @octokit/webhooks-examples' payloads
MONDAY = utc("2026-11-30T17:00")  # 09:00 in Los Angeles (maya-chen)
ESCALATE = utc("2026-12-04T23:00")  # maya-chen: 38 working hours


def _env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, payload: dict[str, Any]
) -> None:
    workflow_step_env(monkeypatch, tmp_path, name, payload, REPO)


def _payload(name: str, number: int) -> dict[str, Any]:
    """The real example, about PR `number` of the example repository."""
    payload = webhook_payload(name)
    payload["pull_request"]["number"] = number
    return payload


def _run(fake: FakePulls, at: dt.datetime, *features: str) -> int:
    fake.now = at
    return main(["run", *features, "--at", at.isoformat()])


def test_pull_request_opened_reminds_then_asks_the_secondary_then_converges(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = FakePulls(github, REPO, MONDAY)
    fake.add(FakePull(2, MONDAY, requested=["maya-chen"]))
    _env(monkeypatch, tmp_path, "pull_request", _payload("pull_request.opened", 2))

    assert _run(fake, ESCALATE, "reviews") == 0
    (comment,) = fake.pulls[2].comments
    assert comment["user"]["login"] == BOT
    assert comment["body"].startswith(reminder_marker(2))
    assert "@maya-chen" in comment["body"] and "Asked as well: @dev-patel" in comment["body"]
    assert fake.pulls[2].requested == ["maya-chen", "dev-patel"]
    # One GraphQL read for the PR, one comment, one review request.
    assert fake.graphql_calls == 1
    assert [f"{c.request.method} {c.request.path_url}" for c in github.writes()] == [
        f"POST /repos/{REPO}/issues/2/comments",
        f"POST /repos/{REPO}/pulls/2/requested_reviewers",
    ]
    assert github.json_bodies("POST", "/requested_reviewers") == [
        {"reviewers": ["dev-patel"], "team_reviewers": []}
    ]

    # The same delivery again, an hour later: nothing to write.
    writes = len(github.writes())
    assert _run(fake, ESCALATE + dt.timedelta(hours=1), "reviews") == 0
    assert len(github.writes()) == writes


def test_a_review_answers_the_wait(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = FakePulls(github, REPO, MONDAY)
    pull = fake.add(FakePull(2, MONDAY, requested=["maya-chen"]))
    fake.review(pull, "maya-chen", "COMMENTED", MONDAY + dt.timedelta(hours=3))
    _env(monkeypatch, tmp_path, "pull_request_review", _payload("pull_request_review.submitted", 2))
    assert _run(fake, ESCALATE, "reviews") == 0
    assert github.writes() == []


def test_a_secondary_a_person_removed_is_not_asked_again(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = FakePulls(github, REPO, MONDAY)
    pull = fake.add(FakePull(2, MONDAY, requested=["maya-chen"]))
    fake.event(pull, "ReviewRequestRemovedEvent", "tomas-silva", MONDAY, "dev-patel")
    _env(monkeypatch, tmp_path, "pull_request", _payload("pull_request.synchronize", 2))
    assert _run(fake, ESCALATE, "reviews") == 0
    assert fake.pulls[2].requested == ["maya-chen"]
    (comment,) = fake.pulls[2].comments
    assert "dev-patel" not in comment["body"]


def test_scheduled_sweep_reminds_in_each_time_zone_and_reports_figures(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = FakePulls(github, REPO, MONDAY)
    # Wednesday 10:30 UTC: maya-chen (Los Angeles) has waited 16 working hours, raj-iyer
    # (Kolkata) 15, the team (UTC, asked Monday 09:00) 17.5.
    now = utc("2026-12-02T10:30")
    fake.add(FakePull(10, MONDAY, requested=["maya-chen"]))
    fake.add(FakePull(11, MONDAY, paths=("evals/runner.py",), requested=["raj-iyer"]))
    fake.add(FakePull(12, MONDAY, requested=["maya-chen"], draft=True))
    fake.add(FakePull(13, MONDAY, requested=["maya-chen"], labels=("on-hold",)))
    fake.add(FakePull(14, utc("2026-11-30T09:00"), requested=["dataface/ai-platform"]))
    merged = fake.add(FakePull(9, MONDAY - dt.timedelta(days=3), state="MERGED", merged=MONDAY))
    fake.review(merged, "sam-okafor", "APPROVED", MONDAY - dt.timedelta(days=3, hours=-5))
    _env(monkeypatch, tmp_path, "schedule", {"schedule": "0 * * * *"})

    assert _run(fake, now, "reviews") == 0
    assert [n for n, p in fake.pulls.items() if p.comments] == [10, 14]
    assert "@dataface/ai-platform" in fake.pulls[14].comments[0]["body"]
    # One page of open PRs and one of merged ones (the figures window).
    assert fake.graphql_calls == 2
    summary = (tmp_path / "summary.md").read_text()
    assert "review figures mcp-server: first owner review median 5.0 h" in summary

    writes = len(github.writes())
    assert _run(fake, now + dt.timedelta(minutes=30), "reviews") == 0
    assert len(github.writes()) == writes
    # At 11:30 UTC Kolkata's working day ends with raj-iyer at 16 hours: his reminder.
    assert _run(fake, utc("2026-12-02T11:30"), "reviews") == 0
    assert len(fake.pulls[11].comments) == 1 and "@raj-iyer" in fake.pulls[11].comments[0]["body"]

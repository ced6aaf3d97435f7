"""The stale sweep end to end against the OpenAPI-checked mock: reads, writes, re-runs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from github.Repository import Repository

from automation import cli
from automation.engine import run_live
from automation.features.stale.collect import collect, collect_stale, pinned_from_graphql
from automation.github import make_github
from automation.policy.loader import Policies, load_policy_dir
from automation.policy.stale import StalePolicy
from automation.rules.stale import warning_marker
from automation.settings import Settings
from automation.snapshot.collect import SnapshotError
from tests.github_api.fixtures import GitHubMock
from tests.github_api.webhooks import webhook_payload
from tests.stale_backlog import BOT, REPO, Backlog, Item

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)

RULE: dict[str, Any] = {
    "name": "backlog",
    "days_until_stale": 60,
    "days_until_close": 14,
    "exempt_labels": ["keep"],
    # The pinned read is GraphQL, which the REST description cannot check; see the test
    # of collect(read_pinned=...) below.
    "exempt_pinned": False,
    "warning_comment": "Stale: closes on {{ close_on }}.",
    "closing_comment": "Closed after {{ days_until_close }} days.",
    "on_close": {"add": ["closed-stale"]},
}


@cache
def shipped() -> Policies:
    return load_policy_dir(ROOT / "policies")


def policies(budget: int = 10_000, **rule: Any) -> Policies:
    stale = StalePolicy.model_validate({"rules": [{**RULE, **rule}], "max_writes_per_run": budget})
    return dataclasses.replace(shipped(), stale=stale)


def repository() -> Repository:
    return make_github(Settings(repo=REPO, token="t", pacing=False)).get_repo(REPO)


def warn_trace(backlog: Backlog, item: Item, days: float) -> None:
    item.labels.append("stale")
    backlog.label_event(item, BOT, days, "stale")
    backlog.comment(item, BOT, days, f"Stale.\n\n{warning_marker(item.number)}\n")


def build_5000(backlog: Backlog) -> dict[str, range]:
    """An aging backlog of 5,000 open items; returns each group's numbers."""
    groups = {
        "young": range(1, 3001),
        "untouched": range(3001, 3401),
        "bot-only": range(3401, 3701),
        "person-recent": range(3701, 4001),
        "due": range(4001, 4201),
        "answered": range(4201, 4301),
        "warned-recently": range(4301, 4401),
        "exempt": range(4401, 4801),
        "pull": range(4801, 4901),
        "draft": range(4901, 5001),
    }
    for n in groups["young"]:
        backlog.add(n, created=20, updated=10 + n % 7)
    for n in groups["untouched"]:
        backlog.add(n, created=400, updated=100 + n % 50)
    for n in groups["bot-only"]:
        item = backlog.add(n, created=400, updated=3)
        backlog.comment(item, "triage-helper[bot]", 3, "labelled by area")
    for n in groups["person-recent"]:
        item = backlog.add(n, created=400, updated=5)
        backlog.comment(item, "maya-chen", 5)
    for n in groups["due"]:
        item = backlog.add(n, created=400, updated=20)
        warn_trace(backlog, item, 20)
    for n in groups["answered"]:
        item = backlog.add(n, created=400, updated=2)
        warn_trace(backlog, item, 10)
        backlog.comment(item, "sam-okafor", 2)
    for n in groups["warned-recently"]:
        item = backlog.add(n, created=400, updated=5)
        warn_trace(backlog, item, 5)
    for n in groups["exempt"]:
        backlog.add(n, created=400, updated=200, labels=["keep"])
    for n in groups["pull"]:
        backlog.add(n, created=400, updated=90, pull=True)
    for n in groups["draft"]:
        backlog.add(n, created=400, updated=90, pull=True, draft=True)
    return groups


def list_pages(github: GitHubMock) -> int:
    return sum(
        1
        for c in github.calls
        if c.request.method == "GET"
        and (c.request.url or "").split("?")[0].endswith(f"{REPO}/issues")
    )


def reads(github: GitHubMock, since: int = 0) -> dict[str, int]:
    """Requests that count against a limit, by kind (GET /rate_limit is free)."""
    out = {"pages": 0, "graphql": 0, "timelines": 0, "other": 0}
    for call in github.calls[since:]:
        method, path = call.request.method, (call.request.url or "").split("?")[0]
        if method == "POST" and path.endswith("/graphql"):
            out["graphql"] += 1
        elif method != "GET" or path.endswith("/rate_limit"):
            continue
        elif path.endswith(f"{REPO}/issues"):
            out["pages"] += 1
        elif path.endswith("/timeline"):
            out["timelines"] += 1
        else:
            out["other"] += 1
    return out


def test_5000_item_sweep_reads_pages_and_only_deciding_histories_then_converges(
    github: GitHubMock,
) -> None:
    """Issue 18 cases 1 and 2: a full pass read 21 requests per 100 items (a timeline per
    deciding item; actions/stale: 145), and a quiet second run 1,300 timelines again."""
    backlog = Backlog(github, NOW)
    groups = build_5000(backlog)
    backlog.install()
    pols = policies()

    report = run_live(repository(), pols, ["stale"], None, NOW, dry_run=False, max_writes=None)

    assert not report.failed and report.stopped is None
    assert list_pages(github) == math.ceil(5000 / 100) == 50
    deciding = [*groups["bot-only"], *groups["person-recent"], *groups["due"]]
    deciding += [*groups["answered"], *groups["warned-recently"]]
    # The deciding items' activity in bulk: one GraphQL read per 50 of them, no timeline.
    seen = reads(github)
    assert seen == {
        "pages": 50,
        "graphql": math.ceil(len(deciding) / 50),
        "timelines": 0,
        "other": 0,
    }
    assert sum(seen.values()) == 70  # 1.4 per 100 items (target: 10; was 21; actions/stale 145)
    # Warn: label + comment; close: comment + PATCH; un-stale: DELETE the label.
    warned = [*groups["untouched"], *groups["bot-only"], *groups["pull"]]
    assert github.count("POST", "/labels") == len(warned) == 800
    assert github.count("POST", "/comments") == len(warned) + len(groups["due"])
    assert github.count("PATCH") == len(groups["due"]) == 200
    assert github.count("DELETE") == len(groups["answered"]) == 100
    assert len(github.writes()) == 800 * 2 + 200 * 2 + 100 == 2100
    # Nothing is written before the whole list is read, so closes cannot shift the pages.
    first_write = next(i for i, c in enumerate(github.calls) if c in github.writes()[:1])
    last_page = max(
        i
        for i, c in enumerate(github.calls)
        if (c.request.url or "").split("?")[0].endswith("/issues")
    )
    assert last_page < first_write
    assert all(backlog.items[n].state == "closed" for n in groups["due"])
    assert {backlog.items[n].state_reason for n in groups["due"]} == {"not_planned"}
    assert all("stale" in backlog.items[n].labels for n in warned)
    assert all("stale" not in backlog.items[n].labels for n in groups["answered"])
    assert all(not backlog.items[n].labels for n in groups["draft"])

    before = len(github.calls)
    again = run_live(
        repository(),
        pols,
        ["stale"],
        None,
        NOW + dt.timedelta(minutes=5),
        dry_run=False,
        max_writes=None,
    )
    assert not again.outcomes
    assert github.writes()[-1] in github.calls[:before]
    # Now stale-labelled (warned, or still warned) or touched after the threshold: their
    # activity in 26 bulk reads, where it took 1,300 timeline reads (issue 18 case 2).
    rereads = len(warned) + len(groups["warned-recently"]) + len(groups["answered"])
    rereads += len(groups["person-recent"])
    again_seen = reads(github, before)
    assert again_seen == {
        "pages": 48,
        "graphql": math.ceil(rereads / 50),
        "timelines": 0,
        "other": 0,
    }
    assert sum(again_seen.values()) == 74  # 1.5 per 100 items (was 1,348: 28 per 100)


def test_closing_while_paging_skips_nothing(github: GitHubMock) -> None:
    """actions/stale #1360: closes made while paging shift the pages; a sweep must not."""
    backlog = Backlog(github, NOW)
    for n in range(1, 251):
        warn_trace(backlog, backlog.add(n, created=400, updated=20), 20)
    backlog.install()
    report = run_live(
        repository(), policies(), ["stale"], None, NOW, dry_run=False, max_writes=None
    )
    assert report.count("applied") == 500
    assert all(i.state == "closed" for i in backlog.items.values())
    assert list_pages(github) == 3


def test_budget_defers_oldest_last_and_the_next_sweep_resumes(github: GitHubMock) -> None:
    backlog = Backlog(github, NOW)
    for n in range(1, 11):
        backlog.add(n, created=400, updated=100 + n)  # #10 is the oldest
    backlog.install()
    pols = policies(budget=6)
    first = run_live(repository(), pols, ["stale"], None, NOW, dry_run=False, max_writes=None)
    assert first.count("applied") == 6
    assert sorted(n for n, i in backlog.items.items() if i.labels) == [8, 9, 10]
    assert any("7 item(s) deferred" in note for note in first.notes)
    second = run_live(repository(), pols, ["stale"], None, NOW, dry_run=False, max_writes=None)
    assert second.count("applied") == 6
    assert sorted(n for n, i in backlog.items.items() if i.labels) == [5, 6, 7, 8, 9, 10]
    # The executor's own --max-writes applies on top of the policy's budget: one item of
    # the four left is written, the other three wait, and the note names the binding budget.
    third = run_live(repository(), pols, ["stale"], None, NOW, dry_run=False, max_writes=2)
    assert third.count("applied") == 2 and third.count("skipped") == 6
    assert (
        "stale: 3 item(s) deferred to the next run by the write budget of 2 writes (--max-writes)"
    ) in third.notes


def test_dry_run_reads_but_never_writes(github: GitHubMock) -> None:
    backlog = Backlog(github, NOW)
    backlog.add(1, created=400, updated=100)
    backlog.install()
    report = run_live(repository(), policies(), ["stale"], None, NOW, dry_run=True, max_writes=None)
    assert report.count("dry-run") == 2
    assert github.writes() == []


def test_collect_marks_pinned_issues_from_one_graphql_read(github: GitHubMock) -> None:
    backlog = Backlog(github, NOW)
    backlog.add(1, created=400, updated=100)
    backlog.add(2, created=400, updated=100)
    backlog.install()
    asked: list[str] = []

    def read_pinned(repo: Repository) -> frozenset[int]:
        asked.append(repo.full_name)
        return pinned_from_graphql(
            {"data": {"repository": {"pinnedIssues": {"nodes": [{"issue": {"number": 2}}]}}}}
        )

    snapshot = collect(
        repository(), policies(exempt_pinned=True), None, NOW, read_pinned=read_pinned
    )
    assert asked == [REPO]
    assert [(i.number, i.pinned) for i in snapshot.issues] == [(1, False), (2, True)]
    skipped = collect(repository(), policies(), None, NOW, read_pinned=read_pinned)
    assert asked == [REPO] and not any(i.pinned for i in skipped.issues)


def test_collect_for_an_event_reads_only_its_item(github: GitHubMock) -> None:
    backlog = Backlog(github, NOW)
    item = backlog.add(7, created=400, updated=0.01)
    warn_trace(backlog, item, 10)
    backlog.comment(item, "maya-chen", 0.01)
    backlog.add(8, created=400, updated=100)
    backlog.add(9, created=400, updated=1)
    backlog.install()
    unmarked = collect_stale(repository(), policies(), (9,), NOW)
    assert unmarked.issues[0].comments is None  # nothing to un-stale: no history read
    assert github.count("GET", "/timeline") == 0
    before = len(github.calls)
    snapshot = collect_stale(repository(), policies(), (7,), NOW)
    assert [i.number for i in snapshot.issues] == [7]
    assert snapshot.subjects == (7,)
    calls = github.calls[before:]
    assert [c.request.method + " " + (c.request.url or "").split("?")[0] for c in calls] == [
        f"GET https://api.github.com/repos/{REPO}/issues/7",
        f"GET https://api.github.com/repos/{REPO}/issues/7/timeline",
    ]


@pytest.mark.parametrize("fixture", ["issue_comment.created", "issues.edited"])
def test_an_event_unstales_its_item_at_once_without_sweeping(
    github: GitHubMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fixture: str
) -> None:
    payload = webhook_payload(fixture)
    repo = payload["repository"]["full_name"]
    number = payload["issue"]["number"]
    backlog = Backlog(github, NOW)
    assert REPO == "o/r"
    # The payload names its own repository; serve it there.
    import tests.stale_backlog as module

    monkeypatch.setattr(module, "API", f"https://api.github.com/repos/{repo}")
    item = backlog.add(number, created=400, updated=0.01)
    warn_trace(backlog, item, 10)
    backlog.comment(item, "Codertocat", 0.01)
    due = backlog.add(number + 1, created=400, updated=20)
    warn_trace(backlog, due, 20)
    backlog.install()
    policy_dir = tmp_path / "policies"
    policy_dir.mkdir()
    for path in (ROOT / "policies").glob("*.yaml"):
        (policy_dir / path.name).write_text(path.read_text())
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(payload))
    for key, value in {
        "GITHUB_EVENT_NAME": fixture.split(".")[0],
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": repo,
        "GITHUB_TOKEN": "t",
        "GITHUB_API_URL": "https://api.github.com",
        "DATAFACE_OPS_NO_PACING": "1",
    }.items():
        monkeypatch.setenv(key, value)

    status = cli.main(
        ["run", "stale", "--policies", str(policy_dir), "--at", "2026-11-24T12:00:00Z"]
    )

    assert status == 0
    assert "stale" not in item.labels
    assert [c.request.method for c in github.writes()] == ["DELETE"]
    assert not any("/issues?" in (c.request.url or "") for c in github.calls)  # no sweep
    assert due.state == "open"  # closing waits for the sweep


def test_dispatch_with_dry_run_sweeps_and_writes_nothing(
    github: GitHubMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backlog = Backlog(github, NOW)
    backlog.add(1, created=400, updated=100)
    due = backlog.add(2, created=400, updated=20)
    warn_trace(backlog, due, 20)
    backlog.install()
    policy_dir = tmp_path / "policies"
    policy_dir.mkdir()
    for path in (ROOT / "policies").glob("*.yaml"):
        text = path.read_text()
        if path.name == "stale.yaml":  # GraphQL (the pinned read) is outside the REST mock
            text = text.replace("exempt_pinned: true", "exempt_pinned: false")
        (policy_dir / path.name).write_text(text)
    payload = webhook_payload("workflow_dispatch")
    payload["inputs"] = {"features": "stale", "dry_run": "true"}
    payload["repository"]["full_name"] = REPO
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(payload))
    summary = tmp_path / "summary.md"
    for key, value in {
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_TOKEN": "t",
        "GITHUB_STEP_SUMMARY": str(summary),
        "DATAFACE_OPS_NO_PACING": "1",
    }.items():
        monkeypatch.setenv(key, value)

    assert cli.main(["run", "--policies", str(policy_dir), "--at", "2026-11-24T12:00:00Z"]) == 0

    assert github.writes() == []
    assert list_pages(github) == 1 and github.count("POST", "/graphql") == 1
    text = summary.read_text()
    assert "#1: add labels stale" in text and "#2: set labels" in text and "dry-run" in text


def test_comments_made_while_paging_skip_nothing(github: GitHubMock) -> None:
    """People comment during the read: by update order the pages would shift, by creation not."""
    backlog = Backlog(github, NOW)
    for n in range(1, 251):
        backlog.add(n, created=400 - n, updated=100 + n % 9)

    def people_comment() -> None:
        for n in (3, 50, 99):
            item = backlog.items[n]
            backlog.comment(item, "maya-chen", 0)
            item.updated = NOW

    backlog.after_page[1] = people_comment
    backlog.install()
    snapshot = collect_stale(repository(), policies(), None, NOW)
    assert sorted(i.number for i in snapshot.issues) == list(range(1, 251))
    assert list_pages(github) == 3


def test_an_event_about_a_deleted_item_reads_one_404_and_plans_nothing(
    github: GitHubMock,
) -> None:
    github.get(
        "/repos/o/r/issues/404",
        status=404,
        json={"message": "Not Found", "documentation_url": "https://docs.github.com/rest"},
    )
    snapshot = collect_stale(repository(), policies(), (404,), NOW)
    assert snapshot.issues == () and snapshot.pulls == ()
    assert github.count() == 1


def test_an_event_about_a_deleted_item_reads_one_410_and_plans_nothing(
    github: GitHubMock,
) -> None:
    github.get(
        "/repos/o/r/issues/410",
        status=410,
        json={"message": "This issue was deleted", "documentation_url": "https://docs.github.com"},
    )
    snapshot = collect_stale(repository(), policies(), (410,), NOW)
    assert snapshot.issues == () and snapshot.pulls == ()
    assert github.count() == 1


def test_an_event_about_a_transferred_item_never_acts_on_its_new_number(
    github: GitHubMock,
) -> None:
    backlog = Backlog(github, NOW)
    moved = backlog.add(17, created=400, updated=1, labels=("stale",))
    data = backlog.issue_json(moved)
    data["repository_url"] = "https://api.github.com/repos/o/elsewhere"
    github.get(
        "/repos/o/r/issues/5",
        status=301,
        headers={"Location": "https://api.github.com/repos/o/elsewhere/issues/17"},
        json={
            "message": "Moved Permanently",
            "url": "https://api.github.com/repos/o/elsewhere/issues/17",
            "documentation_url": "https://docs.github.com",
        },
    )
    # GitHub's Location names /repositories/{id}/issues/{n}, a path the REST description
    # (which the mock checks) does not list; the repository's own path stands in for it.
    github.get("https://api.github.com/repos/o/elsewhere/issues/17", json=data)
    snapshot = collect_stale(repository(), policies(), (5,), NOW)
    assert snapshot.issues == () and snapshot.pulls == ()


def test_a_malformed_pinned_answer_is_a_snapshot_error() -> None:
    with pytest.raises(SnapshotError, match="pinned issues answer lacks"):
        pinned_from_graphql({"data": {"repository": None}})

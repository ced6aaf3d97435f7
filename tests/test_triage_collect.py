"""Collectors against the OpenAPI-checked mock: the scheduled sweep escalates once, the
handoff reads events only where a hand-over is possible. Requests are counted."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from responses import matchers

from automation.cli import main
from automation.features.oncall.collect import collect_oncall
from automation.features.triage.collect import collect_triage
from automation.github import make_github
from automation.markers import marker
from automation.settings import Settings
from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock
from tests.triage_factories import NOW, ROOT, form_body, policies

REPO = "dataface/dataface"
API = f"/repos/{REPO}"
FILED = NOW - dt.timedelta(hours=25)  # a sev2 (24 h SLA) filed 25 hours before NOW


def _repo() -> Any:
    return make_github(Settings(repo=REPO, token="t", pacing=False)).get_repo(REPO)


def _issue(number: int, **kw: Any) -> dict[str, Any]:
    data = checker.issue_json(
        number,
        repo=REPO,
        title=kw.pop("title", "Eval regression: tool-calling accuracy"),
        body=kw.pop("body", form_body()),
        labels=kw.pop("labels", ["eval-regression", "severity:sev2", "area:mcp-server"]),
        assignees=kw.pop("assignees", ["sam-okafor"]),
        user_login="raj-iyer",
    )
    when = kw.pop("created_at", FILED).isoformat().replace("+00:00", "Z")
    data.update(created_at=when, updated_at=when, closed_at=None, state="open", comments=1)
    data.pop("pull_request", None)
    data.update(kw)
    return data


def _triage_comment(number: int) -> dict[str, Any]:
    """The summary the bot posted when it triaged the issue."""
    from automation.features.triage.plan import plan_triage
    from automation.simulate import simulate
    from automation.snapshot.collect import issue_from_json
    from automation.snapshot.models import Snapshot

    fresh = issue_from_json(
        {
            **_issue(number),
            "comments": 0,
            "labels": [checker.label_json("eval-regression")],
            "assignees": [],
        },
        comments=(),
    )
    snap = Snapshot(repo=REPO, taken_at=FILED, issues=(fresh,))
    done = simulate(snap, plan_triage(policies(), snap, FILED))
    body = done.issues[0].comments[0].body  # type: ignore[index]
    made = checker.comment_json(
        900 + number, body=body, user_login="github-actions[bot]", issue_number=number, repo=REPO
    )
    made["user"]["type"] = "Bot"
    return made


def _listing(github: GitHubMock, items: list[dict[str, Any]], **query: str) -> None:
    github.get(
        f"{API}/issues", json=items, match=[matchers.query_param_matcher(query, strict_match=False)]
    )


def test_sweep_reads_open_issues_and_comments_only(github: GitHubMock) -> None:
    regression = _issue(101)
    bug = _issue(102, title="Typo in docs", body="typo", labels=["docs"], comments=0)
    pr = {**_issue(103, title="Eval regression fix"), "pull_request": {"url": "x"}}
    _listing(github, [regression, bug, pr], state="open")
    github.get(f"{API}/issues/101/comments", json=[_triage_comment(101)])

    snap = collect_triage(_repo(), policies(), None, NOW)
    assert [i.number for i in snap.issues] == [101]
    assert snap.issues[0].comments is not None and snap.issues[0].events is None
    assert github.count("GET") == 2


def test_scheduled_run_escalates_exactly_once(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "GITHUB_EVENT_NAME": "schedule",
        "GITHUB_EVENT_PATH": "",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_TOKEN": "ghs_test",
        "DATAFACE_OPS_POLICIES": str(ROOT / "policies"),
        "DATAFACE_OPS_NO_PACING": "1",
    }.items():
        monkeypatch.setenv(name, value)
    regression = _issue(101)
    summary = _triage_comment(101)
    _listing(github, [regression], state="open")
    github.get(f"{API}/issues/101/comments", json=[summary])
    github.post(f"{API}/issues/101/labels", json=[checker.label_json("escalated")])
    posted: list[str] = []

    def create(request: Any) -> tuple[int, dict[str, str], str]:
        posted.append(json.loads(request.body)["body"])
        made = checker.comment_json(999, body=posted[-1], issue_number=101, repo=REPO)
        return 201, {}, json.dumps(made)

    github.add_callback("POST", github.url(f"{API}/issues/101/comments"), callback=create)
    assert main(["run", "triage", "--at", NOW.isoformat()]) == 0
    assert github.json_bodies("POST", "/labels") == [["escalated"]]
    assert len(posted) == 1 and posted[0].startswith(marker("triage", "escalation-101"))
    assert "@dev-patel (secondary on call)" in posted[0] and "@dataface/ai-platform" in posted[0]
    assert len(github.writes()) == 2 and github.count("GET") == 2

    # Next sweep: a person took the label off again; the escalation comment is the record.
    github.reset()
    _listing(github, [{**regression, "comments": 2}], state="open")
    escalation = checker.comment_json(999, body=posted[0], issue_number=101, repo=REPO)
    github.get(f"{API}/issues/101/comments", json=[summary, escalation])
    # The label is missing: the events say who took it off (a run that failed between the
    # label and the comment would have the bot's comment without the label, and repair it).
    unlabeled = checker.example("issues/list-events", repo=REPO)[0]
    unlabeled.update(event="unlabeled", actor=checker.user_json("maya-chen"))
    unlabeled["label"] = {"name": "escalated", "color": "ededed"}
    github.get(f"{API}/issues/101/events", json=[unlabeled])
    later = (NOW + dt.timedelta(hours=5)).isoformat()
    assert main(["run", "triage", "--at", later]) == 0
    assert github.writes() == []
    assert github.count("GET", "/issues/101/events") == 1


def test_handoff_collector_reads_events_only_where_a_hand_over_is_possible(
    github: GitHubMock,
) -> None:
    next_week = NOW + dt.timedelta(days=7)  # raj-iyer is on call
    on_call_issue = _issue(
        7,
        title="On call: @sam-okafor",
        body=marker("oncall", "handoff") + "\nroster",
        labels=["on-call"],
        assignees=[],
        comments=0,
    )
    mine = _issue(101)  # assigned to sam-okafor: maybe by the bot
    acked = _issue(104, labels=["eval-regression", "severity:sev3", "triaged"])
    bug = _issue(102, title="Typo in docs", body="typo", labels=["docs"], comments=0)
    _listing(github, [on_call_issue, mine, bug, acked], state="open")
    github.get(f"{API}/issues/101/comments", json=[_triage_comment(101)])
    github.get(f"{API}/issues/104/comments", json=[_triage_comment(104)])
    assigned = checker.example("issues/list-events")[0]
    assigned.update(
        event="assigned",
        actor=checker.user_json("github-actions[bot]"),
        assignee=checker.user_json("sam-okafor"),
        created_at=FILED.isoformat().replace("+00:00", "Z"),
    )
    github.get(f"{API}/issues/101/events", json=[assigned])

    snap = collect_oncall(_repo(), policies(), None, next_week)
    assert [i.number for i in snap.issues] == [7, 101, 104]
    assert github.count("GET", "/events") == 1  # #104 is acknowledged: no hand-over possible
    assert github.count("GET") == 4  # open issues, 2 x comments, 1 x events

    from automation.features.oncall.plan import plan_oncall

    actions = plan_oncall(policies(), snap, next_week).actions
    edits = [(a.number, a.assignees) for a in actions if a.kind == "EditIssue"]  # type: ignore[attr-defined]
    assert edits == [(101, ("raj-iyer",))]


def test_under_a_github_app_the_bot_is_who_wrote_the_summary(github: GitHubMock) -> None:
    # The author fixed the body; the App (not github-actions[bot]) had added needs-info.
    issue = _issue(
        101,
        labels=["eval-regression", "severity:sev2", "area:mcp-server", "needs-info"],
        created_at=NOW - dt.timedelta(hours=1),
    )
    github.get(f"{API}/issues/101", json=issue)
    summary = _triage_comment(101)
    summary["user"] = checker.user_json("dataface-ops[bot]", type="Bot")
    summary["body"] = summary["body"].replace("key=", "key=0")  # written for the old body
    github.get(f"{API}/issues/101/comments", json=[summary])
    labeled = checker.example("issues/list-events")[0]
    labeled.update(
        event="labeled",
        actor=checker.user_json("dataface-ops[bot]", type="Bot"),
        label={"name": "needs-info", "color": "fbca04"},
    )
    github.get(f"{API}/issues/101/events", json=[labeled])

    from automation.features.triage.plan import plan_triage

    snap = collect_triage(_repo(), policies(), (101,), NOW)
    assert snap.bot_login == "dataface-ops[bot]"
    edits = [a for a in plan_triage(policies(), snap, NOW).actions if a.kind == "EditIssue"]
    assert [e.labels for e in edits] == [  # type: ignore[attr-defined]
        ("eval-regression", "severity:sev2", "area:mcp-server")
    ]
    assert github.count("GET") == 3


def test_an_issue_answer_of_an_unexpected_shape_is_one_line_and_no_write(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A state the models do not know raised pydantic's ValidationError: a traceback.
    for name, value in {
        "GITHUB_EVENT_NAME": "schedule",
        "GITHUB_EVENT_PATH": "",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_TOKEN": "ghs_test",
        "DATAFACE_OPS_POLICIES": str(ROOT / "policies"),
        "DATAFACE_OPS_NO_PACING": "1",
    }.items():
        monkeypatch.setenv(name, value)
    _listing(github, [_issue(101, state="archived")], state="open")
    assert main(["run", "triage", "--at", NOW.isoformat()]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith("INFO")]
    assert len(lines) == 1
    assert lines[0].startswith("error: unexpected answer from GitHub: issue JSON")
    assert "'archived'" in lines[0]
    assert github.writes() == []


def test_a_feature_github_refuses_to_read_for_does_not_stop_the_others(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The scheduled run: the release train's first read is refused (403), yet the triage
    escalation is still written; the run reports the error and exits 1."""
    for name, value in {
        "GITHUB_EVENT_NAME": "schedule",
        "GITHUB_EVENT_PATH": "",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_TOKEN": "ghs_test",
        "DATAFACE_OPS_POLICIES": str(ROOT / "policies"),
        "DATAFACE_OPS_NO_PACING": "1",
    }.items():
        monkeypatch.setenv(name, value)
    _listing(github, [_issue(101)], state="open")
    github.get(f"{API}/issues/101/comments", json=[_triage_comment(101)])
    github.post(f"{API}/issues/101/labels", json=[checker.label_json("escalated")])
    github.post(
        f"{API}/issues/101/comments",
        status=201,
        json=checker.comment_json(999, body="escalated", issue_number=101, repo=REPO),
    )
    github.get(
        f"{API}/releases/latest",
        status=403,
        json={"message": "Resource not accessible by integration"},
    )

    assert main(["run", "triage", "release", "--at", NOW.isoformat()]) == 1

    assert [c.request.path_url for c in github.writes()] == [
        f"{API}/issues/101/labels",
        f"{API}/issues/101/comments",
    ]
    out = capsys.readouterr().out
    assert (
        "error: release: could not read what it needs: "
        f"GET {API}/releases/latest: GitHub answered 403: "
        "Resource not accessible by integration" in out
    )

"""`dataface-ops incidents explain NUMBER`: where the clock stands and why, offline against a
snapshot and live through GitHub (requests counted)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from automation.cli import main
from automation.markers import marker
from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock
from tests.incident_factories import incident_body
from tests.triage_factories import ROOT

EXAMPLE = str(ROOT / "examples" / "snapshot.json")
AT = "2026-11-24T12:00:00Z"


def _explain(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["incidents", "explain", *argv, "--policies", str(ROOT / "policies")]) == 0
    return capsys.readouterr().out


def test_an_open_sev1_before_anyone_acknowledged(capsys: pytest.CaptureFixture[str]) -> None:
    out = _explain(capsys, "601", "--snapshot", EXAMPLE, "--at", AT)
    assert out.splitlines() == [
        "#601 (open), opened 2026-11-24T11:40:00+00:00",
        "tool: run_query (area mcp-server, critical)",
        "severity: sev1 (rule 1: impact 'all users')",
        "assignees: nobody",
        "acknowledged: not yet",
        "escalation step 1: secondary (@dev-patel) after 15 min, due "
        "2026-11-24T11:55:00+00:00: due now (the next run pages)",
        "escalation step 2: area-owners (@dataface/ai-platform) after 30 min, due "
        "2026-11-24T12:10:00+00:00: pending",
        "escalation step 3: operating-model (@dataface/ops-council) after 60 min, due "
        "2026-11-24T12:40:00+00:00: pending",
        "next status update due 2026-11-24T12:40:00+00:00 (every 1 h, last never): on time",
        "postmortem: opened when the incident closes",
    ]


def test_a_closed_sev2_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    document = json.loads(
        _explain(capsys, "603", "--snapshot", EXAMPLE, "--at", AT, "--format", "json")
    )
    assert document["severity"] == "sev2"
    assert document["acknowledged"] == {
        "at": "2026-11-23T09:12:00+00:00",
        "how": "comment",
        "by": "dev-patel",
    }
    assert [s["status"] for s in document["escalation"]] == ["not needed (acknowledged)"] * 2
    assert document["postmortem"] == {
        "number": None,
        "state": "to be opened by the next run",
        "due": "2026-11-30T12:30:00+00:00",
        "overdue": False,
    }


def test_not_an_incident(capsys: pytest.CaptureFixture[str]) -> None:
    out = _explain(capsys, "101", "--snapshot", EXAMPLE, "--at", AT)
    assert out == "#101 is not an incident: no incident label and no Tool and Symptom headings\n"


def test_live_it_reads_the_issue_its_comments_and_its_reactions(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = "dataface/dataface"
    api = f"/repos/{repo}"
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_test")
    monkeypatch.setenv("GITHUB_REPOSITORY", repo)
    monkeypatch.setenv("DATAFACE_OPS_NO_PACING", "1")
    opened = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
    issue = checker.issue_json(
        7,
        repo=repo,
        title="run_query failing",
        body=incident_body(),
        labels=["incident", "severity:sev2"],
        assignees=["raj-iyer", "maya-chen"],
        created_at="2026-12-03T10:00:00Z",
        updated_at="2026-12-03T11:20:00Z",
        comments=2,
        state="open",
        closed_at=None,
        state_reason=None,
    )
    issue.pop("pull_request", None)
    issue["reactions"] = {"url": f"{checker.API_URL}{api}/issues/7/reactions", "total_count": 1}
    github.get(f"{api}/issues/7", json=issue)
    step = checker.comment_json(
        1,
        body=f"{marker('incidents', 'escalation-secondary')}\nstep 1",
        user_login="github-actions[bot]",
        issue_number=7,
        repo=repo,
        created_at="2026-12-03T11:00:00Z",
    )
    step["user"]["type"] = "Bot"
    github.get(f"{api}/issues/7/comments", json=[step])
    reacted = checker.example(("GET", "/repos/{owner}/{repo}/issues/{issue_number}/reactions"))
    reacted[0].update(user=checker.user_json("maya-chen"), created_at="2026-12-03T11:04:00Z")
    github.get(f"{api}/issues/7/reactions", json=reacted)
    at = (opened + dt.timedelta(hours=2)).isoformat()
    out = _explain(capsys, "7", "--at", at)
    assert "acknowledged: 2026-12-03T11:04:00+00:00 by maya-chen (reaction :heart:)" in out
    assert "escalation step 1: secondary (@maya-chen) after 60 min" in out
    assert ": done at 2026-12-03T11:00:00+00:00" in out
    assert "step 2: area-owners (@dataface/ai-platform) after 240 min" in out
    assert "not needed (acknowledged)" in out
    assert [f"{c.request.method} {c.request.path_url}" for c in github.calls] == [
        f"GET {api}/issues/7",
        f"GET {api}/issues/7/comments?per_page=100",
        f"GET {api}/issues/7/reactions?per_page=100",
    ]
    assert github.writes() == []

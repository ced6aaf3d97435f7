"""End to end: real `issues.opened` payloads carrying a tool incident, one filed through the
issue form and one written by a monitor through the API, through `dataface-ops run
incidents`, with every GitHub call checked against GitHub's REST description, the exact
labels, assignees and comments asserted, and the requests counted."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from automation.cli import main
from automation.markers import marker
from tests.flow_env import issue_event_time, workflow_step_env
from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock
from tests.github_api.webhooks import webhook_payload
from tests.incident_factories import incident_body
from tests.triage_factories import policies

REPO = "Codertocat/Hello-World"  # the repository of @octokit/webhooks-examples' payloads
API = f"/repos/{REPO}"


def _payload(body: str, labels: list[str], author: str | None = None) -> dict[str, Any]:
    payload = webhook_payload("issues.opened")
    issue = payload["issue"]
    issue["title"] = "run_query failing"
    issue["body"] = body
    issue["labels"] = [checker.label_json(n, repo=REPO) for n in labels]
    issue["assignee"] = None
    issue["assignees"] = []
    if author is not None:
        issue["user"] = {**checker.user_json(author), "type": "Bot"}
    return payload


def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, payload: dict[str, Any]) -> None:
    workflow_step_env(monkeypatch, tmp_path, "issues", payload, REPO)


def _requests(github: GitHubMock) -> list[str]:
    return [f"{c.request.method} {c.request.path_url}" for c in github.calls]


def _run_twice(
    github: GitHubMock,
    payload: dict[str, Any],
    labels: list[str],
    assignees: list[str],
) -> str:
    """Run once against the payload's issue, then again against what the first run left;
    return the comment the first run posted."""
    issue = copy.deepcopy(payload["issue"])
    github.get(f"{API}/issues/1", json=issue)
    edited = {
        **issue,
        "labels": [checker.label_json(n, repo=REPO) for n in labels],
        "assignees": [checker.user_json(a) for a in assignees],
        "assignee": checker.user_json(assignees[0]),
    }
    github.patch(f"{API}/issues/1", json=edited)
    posted: list[dict[str, Any]] = []

    def create_comment(request: Any) -> tuple[int, dict[str, str], str]:
        made = checker.comment_json(
            555,
            body=json.loads(request.body)["body"],
            user_login="github-actions[bot]",
            issue_number=1,
            repo=REPO,
        )
        made["user"]["type"] = "Bot"
        posted.append(made)
        return 201, {}, json.dumps(made)

    github.add_callback("POST", github.url(f"{API}/issues/1/comments"), callback=create_comment)
    at = issue_event_time(payload).isoformat()
    assert main(["run", "incidents", "--at", at]) == 0
    assert github.json_bodies("PATCH") == [{"labels": labels, "assignees": assignees}]
    assert len(posted) == 1
    assert _requests(github) == [
        f"GET {API}/issues/1",
        f"PATCH {API}/issues/1",
        f"POST {API}/issues/1/comments",
    ]

    # The second run: GitHub answers with the state the first run left behind.
    github.reset()
    github.get(f"{API}/issues/1", json={**edited, "comments": 1})
    github.get(f"{API}/issues/1/comments", json=posted)
    assert main(["run", "incidents", "--at", at]) == 0
    assert github.writes() == []
    assert _requests(github) == [
        f"GET {API}/issues/1",
        f"GET {API}/issues/1/comments?per_page=100",
    ]
    return str(posted[0]["body"])


def test_a_form_filed_incident_end_to_end(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The form sets the `incident` label; a sev2 (12% on a critical tool) goes to the
    # primary on call alone.
    payload = _payload(incident_body(), ["incident"])
    _env(monkeypatch, tmp_path, payload)
    primary = policies().oncall.on_call("ai-primary", issue_event_time(payload))
    assert primary == "dev-patel"  # Wed 2019-05-15: the shift of Mon 2019-05-13 10:00 BST
    body = _run_twice(
        github,
        payload,
        ["incident", "severity:sev2", "tool:run_query", "area:mcp-server"],
        [primary],
    )
    assert body.startswith(marker("incidents", "incident-1") + "\n### Incident: `run_query` (sev2)")
    assert "| Severity | **sev2**: rule 3: error rate 12% >= 10% |" in body
    assert "| Owners | @dataface/ai-platform |" in body
    # The payload's repository.default_branch
    assert f"https://github.com/{REPO}/blob/master/docs/runbooks/tool-incident.md" in body
    assert "step 1 pages the secondary on call (2019-05-15 16:20 UTC)" in body


def test_a_monitor_filed_incident_end_to_end(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A monitor writes the same body through the API, with no label: the headings make it
    # an incident. All users affected: sev1, so the tool's area owners are assigned too.
    body = incident_body(
        tool="query_metrics_v3",
        symptom="5xx from the metrics backend",
        impact="all users",
        error_rate="41%",
        links="https://grafana.example.com/d/mcp",
    )
    payload = _payload(body, [], author="grafana-alerts[bot]")
    _env(monkeypatch, tmp_path, payload)
    primary = policies().oncall.on_call("ai-primary", issue_event_time(payload))
    comment = _run_twice(
        github,
        payload,
        ["incident", "severity:sev1", "tool:query_metrics_v3", "area:mcp-server"],
        [primary, "maya-chen", "sam-okafor"],  # dev-patel is primary and an owner
    )
    assert "| Severity | **sev1**: rule 1: impact 'all users' |" in comment
    assert "Unacknowledged after 15 min, step 1 pages the secondary on call" in comment
    assert "step 3 pages the operating-model owners" in comment


def test_closing_a_sev2_incident_opens_one_postmortem_end_to_end(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # No closed example is vendored: the opened payload, closed an hour after it was opened.
    payload = _payload(
        incident_body(), ["incident", "severity:sev2", "tool:run_query", "area:mcp-server"]
    )
    payload["action"] = "closed"
    issue = payload["issue"]
    opened = dt.datetime.fromisoformat(issue["created_at"].replace("Z", "+00:00"))
    closed = opened + dt.timedelta(hours=1)
    issue.update(
        state="closed",
        state_reason="completed",
        closed_at=closed.isoformat().replace("+00:00", "Z"),
        updated_at=closed.isoformat().replace("+00:00", "Z"),
        assignees=[checker.user_json("dev-patel")],
        assignee=checker.user_json("dev-patel"),
        comments=1,
    )
    _env(monkeypatch, tmp_path, payload)
    github.get(f"{API}/issues/1", json=issue)
    ack = checker.comment_json(
        9,
        body="Status: rolled back the deploy, error rate normal",
        user_login="dev-patel",
        issue_number=1,
        repo=REPO,
        created_at=(opened + dt.timedelta(minutes=7)).isoformat().replace("+00:00", "Z"),
    )
    github.get(f"{API}/issues/1/comments", json=[ack])
    github.get(f"{API}/issues", json=[])  # no postmortem yet (labels=postmortem, state=all)
    created: list[dict[str, Any]] = []

    def create_issue(request: Any) -> tuple[int, dict[str, str], str]:
        sent = json.loads(request.body)
        made = checker.issue_json(
            2,
            repo=REPO,
            title=sent["title"],
            body=sent["body"],
            labels=sent["labels"],
            assignees=sent["assignees"],
            user_login="github-actions[bot]",
            state="open",
            closed_at=None,
            state_reason=None,
        )
        made["user"]["type"] = "Bot"
        made.pop("pull_request", None)
        created.append(made)
        return 201, {}, json.dumps(made)

    github.add_callback("POST", github.url(f"{API}/issues"), callback=create_issue)
    at = (closed + dt.timedelta(seconds=30)).isoformat()
    assert main(["run", "incidents", "--at", at]) == 0
    (sent,) = github.json_bodies("POST")
    assert sent["title"] == "Postmortem: #1 run_query failing"
    assert sent["labels"] == ["postmortem"] and sent["assignees"] == ["dev-patel"]
    assert sent["body"].startswith(marker("incidents", "postmortem-1"))
    assert "| 2019-05-15 15:27 | 7 min | acknowledged by @dev-patel (comment) |" in sent["body"]
    assert "| 2019-05-15 16:20 | 1 h 00 min | resolved (closed) |" in sent["body"]
    # Wednesday 16:20 UTC (17:20 BST) plus five working days: Wednesday the 22nd.
    assert "| Due | 2019-05-22 17:20 Europe/London" in sent["body"]
    assert _requests(github) == [
        f"GET {API}/issues/1",
        f"GET {API}/issues?labels=postmortem&per_page=100&state=all",
        f"GET {API}/issues/1/comments?per_page=100",
        f"POST {API}/issues",
    ]

    # The next delivery finds the postmortem by its marker and writes nothing.
    github.reset()
    github.get(f"{API}/issues/1", json=issue)
    github.get(f"{API}/issues/1/comments", json=[ack])
    github.get(f"{API}/issues", json=created)
    assert main(["run", "incidents", "--at", at]) == 0
    assert github.writes() == []
    assert _requests(github) == [  # its comments are not even read
        f"GET {API}/issues/1",
        f"GET {API}/issues?labels=postmortem&per_page=100&state=all",
    ]

"""End to end: a real `issues.opened` payload through `dataface-ops run`, with every GitHub
call checked against GitHub's REST description, and the requests counted."""

from __future__ import annotations

import copy
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
from tests.triage_factories import form_body, policies

REPO = "Codertocat/Hello-World"  # the repository of @octokit/webhooks-examples' payloads
API = f"/repos/{REPO}"
LABEL_NAMES = ["eval-regression", "severity:sev2", "area:mcp-server"]


def _payload() -> dict[str, Any]:
    """The real example, carrying a Dataface regression filed through the issue form.

    The form applies its `eval-regression` label at creation and assigns nobody; the
    example's own `bug` label and self-assignment belong to a different issue.
    """
    payload = webhook_payload("issues.opened")
    issue = payload["issue"]
    issue["title"] = "Eval regression: tool-calling accuracy"
    issue["body"] = form_body()
    issue["labels"] = [checker.label_json("eval-regression", repo=REPO)]
    issue["assignee"] = None
    issue["assignees"] = []
    return payload


def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, payload: dict[str, Any]) -> None:
    workflow_step_env(monkeypatch, tmp_path, "issues", payload, REPO)


def _run(payload: dict[str, Any]) -> int:
    at = issue_event_time(payload).isoformat()
    # `triage` only: the other features subscribed to issues.opened have their own tests.
    return main(["run", "triage", "--at", at])


def _step_outputs(path: Path) -> dict[str, str]:
    """Read $GITHUB_OUTPUT as the runner does (`name=value` and `name<<DELIMITER` blocks)."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            name, delimiter = line.split("<<", 1)
            value = []
            for inner in lines:
                if inner == delimiter:
                    break
                value.append(inner)
            outputs[name] = "\n".join(value)
        else:
            name, value_text = line.split("=", 1)
            outputs[name] = value_text
    return outputs


def _reads(github: GitHubMock) -> list[str]:
    return [
        f"{c.request.method} {c.request.path_url}"
        for c in github.calls
        if c.request.method == "GET"
    ]


def test_issues_opened_payload_is_triaged_then_converged(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    payload = _payload()
    _env(monkeypatch, tmp_path, payload)
    on_call = policies().oncall.on_call("ai-primary", issue_event_time(payload))
    assert on_call == "dev-patel"  # Wed 2019-05-15: the shift of Mon 2019-05-13 10:00 BST
    issue = copy.deepcopy(payload["issue"])
    github.get(f"{API}/issues/1", json=issue)
    # The open regressions, listed to find duplicates: an untriaged one is context only.
    other = {
        **copy.deepcopy(issue),
        "number": 2,
        "body": form_body(suite="chat-e2e"),
        "url": issue["url"].replace("/issues/1", "/issues/2"),
    }
    github.get(f"{API}/issues", json=[other, issue])
    edited = {
        **issue,
        "labels": [checker.label_json(n, repo=REPO) for n in LABEL_NAMES],
        "assignees": [checker.user_json(on_call)],
        "assignee": checker.user_json(on_call),
    }
    github.patch(f"{API}/issues/1", json=edited)
    posted: list[dict[str, Any]] = []

    def create_comment(request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)["body"]
        made = checker.comment_json(
            555, body=body, user_login="github-actions[bot]", issue_number=1, repo=REPO
        )
        made["user"]["type"] = "Bot"
        posted.append(made)
        return 201, {}, json.dumps(made)

    github.add_callback("POST", github.url(f"{API}/issues/1/comments"), callback=create_comment)

    assert _run(payload) == 0
    assert github.json_bodies("PATCH") == [{"labels": LABEL_NAMES, "assignees": [on_call]}]
    assert len(posted) == 1
    body = posted[0]["body"]
    assert body.startswith(marker("triage", "issue-1"))
    assert f"@{on_call}" in body and "**sev2**" in body
    # The payload's repository.default_branch
    assert f"https://github.com/{REPO}/blob/master/docs/runbooks/eval-regression.md" in body
    assert len(github.writes()) == 2  # one PATCH (labels and assignees), one comment
    assert all(c.request.path_url.startswith(f"{API}/issues/1") for c in github.writes())
    assert _reads(github) == [
        f"GET {API}/issues/1",
        f"GET {API}/issues?labels=eval-regression&per_page=100&state=open",
    ]
    assert "triage" in (tmp_path / "summary.md").read_text()
    outputs = _step_outputs(tmp_path / "output.txt")
    assert outputs["writes"] == "2"
    assert json.loads(outputs["writes-by-feature"]) == {"triage": 2}
    planned = json.loads(outputs["plan"])
    assert [p["feature"] for p in planned["plans"]] == ["triage"]
    assert planned["totals"]["applied"] == 2
    (tmp_path / "output.txt").unlink()

    # The second run: GitHub now answers with the state the first run left behind.
    github.reset()
    after = {**edited, "comments": 1}
    github.get(f"{API}/issues/1", json=after)
    github.get(f"{API}/issues/1/comments", json=posted)
    assert _run(payload) == 0
    assert github.writes() == []
    assert _reads(github) == [f"GET {API}/issues/1", f"GET {API}/issues/1/comments?per_page=100"]
    assert _step_outputs(tmp_path / "output.txt")["writes"] == "0"


def test_a_person_removed_label_costs_three_reads_and_no_write(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    payload = _payload()
    payload["action"] = "edited"
    _env(monkeypatch, tmp_path, payload)
    on_call = policies().oncall.on_call("ai-primary", issue_event_time(payload))
    first = json.loads(json.dumps(payload["issue"]))
    # Triaged before; then maya-chen took the severity label off.
    issue = {
        **first,
        "labels": [
            checker.label_json(n, repo=REPO) for n in ("eval-regression", "area:mcp-server")
        ],
        "assignees": [checker.user_json(on_call)],
        "comments": 1,
    }
    github.get(f"{API}/issues/1", json=issue)
    from automation.features.triage.plan import plan_triage  # the body the bot wrote before
    from automation.simulate import simulate
    from automation.snapshot.collect import issue_from_json
    from automation.snapshot.models import Snapshot

    snap = Snapshot(
        repo=REPO,
        default_branch="master",  # the payload's: the runbook link is on it
        taken_at=issue_event_time(payload),
        issues=(issue_from_json({**first, "comments": 0}, comments=()),),
    )
    done = simulate(snap, plan_triage(policies(), snap, issue_event_time(payload)))
    bot_comment = done.issues[0].comments[0].body  # type: ignore[index]
    github.get(
        f"{API}/issues/1/comments",
        json=[
            checker.comment_json(
                555, body=bot_comment, user_login="github-actions[bot]", issue_number=1, repo=REPO
            )
        ],
    )
    labeled = checker.example("issues/list-events")[0]
    events = []
    for kind, actor in (("labeled", "github-actions[bot]"), ("unlabeled", "maya-chen")):
        item = copy.deepcopy(labeled)
        item.update(
            event=kind,
            actor=checker.user_json(actor),
            label={"name": "severity:sev2", "color": "d73a4a"},
        )
        events.append(item)
    github.get(f"{API}/issues/1/events", json=events)

    assert _run(payload) == 0
    assert github.writes() == []  # people win: the severity label stays off
    assert _reads(github) == [
        f"GET {API}/issues/1",
        f"GET {API}/issues/1/comments?per_page=100",
        f"GET {API}/issues/1/events?per_page=100",
    ]


def test_labeled_free_form_issue_with_a_discussion_costs_three_reads(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A person labels an older hand-written report that already has comments.
    payload = webhook_payload("issues.labeled")
    payload["label"] = checker.label_json("eval-regression", repo=REPO)
    issue = payload["issue"]
    issue.update(
        title="Chat answers got slow",
        body="chat-e2e p95_latency_ms went from 800 to 1,700 ms since commit 4e1d9a0.\n"
        "Run: https://github.com/dataface/dataface/actions/runs/11900\nSuite: chat-e2e",
        labels=[checker.label_json("eval-regression", repo=REPO)],
        assignees=[],
        assignee=None,
        comments=2,
    )
    _env(monkeypatch, tmp_path, payload)
    monkeypatch.setenv("GITHUB_EVENT_NAME", "issues")
    github.get(f"{API}/issues/1", json=issue)
    github.get(
        f"{API}/issues/1/comments",
        json=[
            checker.comment_json(
                11, body="seeing this too", user_login="lena-fischer", issue_number=1, repo=REPO
            ),
            checker.comment_json(
                12, body="p95 doubled", user_login="maya-chen", issue_number=1, repo=REPO
            ),
        ],
    )
    github.get(f"{API}/issues", json=[issue])
    github.patch(f"{API}/issues/1", json=issue)
    github.post(
        f"{API}/issues/1/comments",
        json=checker.comment_json(13, issue_number=1, repo=REPO),
        status=201,
    )
    on_call = policies().oncall.on_call("ai-primary", issue_event_time(payload))

    assert _run(payload) == 0
    assert github.json_bodies("PATCH") == [
        {
            "labels": ["eval-regression", "severity:sev1", "area:cloud-chat"],
            "assignees": ["sam-okafor", on_call],
        }
    ]
    assert len(github.writes()) == 2
    assert len(_reads(github)) == 3  # the issue, its comments, the open regressions

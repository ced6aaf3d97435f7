"""Issue 16 end to end through `serve` (the app on a loopback port, its durable queue, its
processors) with the REAL incident feature, against a stateful GitHub (tests/faults/issues.py)
whose every call is checked against GitHub's REST description: an Alertmanager group's
firing -> re-fire -> resolved notifications (tests/fixtures/alertmanager), and a form-filed
incident's `issues.opened` delivery (@octokit/webhooks-examples). Exact labels, assignees,
comments and each job's requests; redeliveries and repeats write nothing.

The app's two processors take their clock as an argument; here it is the fake GitHub's clock,
so the incident's times (opened, steps due, the postmortem's timeline) are exact."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from automation.app.alerts import alert_processor, dispatching, resolved_marker
from automation.app.processor import InstallationClients, PolicyCache, engine_processor
from automation.markers import marker
from automation.policy.loader import load_policy_dir
from tests import app_harness as h
from tests.faults.issues import FakeIssues, iso
from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock
from tests.incident_factories import incident_body
from tests.test_app_alertmanager import CLOSING, TOKEN, fixture, post_alert

API = f"/repos/{h.REPO}"
APP_BOT = "dataface-ops[bot]"
POLICIES = load_policy_dir(h.ROOT / "policies")
RUNBOOK = f"https://github.com/{h.REPO}/blob/master/docs/runbooks/tool-incident.md"


class AppIssues(FakeIssues):
    """The repository's issues as the App sees them: it writes as its own bot, and GitHub
    stamps a new issue with the same clock as the app's jobs (the test's)."""

    bot = APP_BOT

    def _create(self, request: Any) -> tuple[int, dict[str, str], str]:
        status, headers, _ = super()._create(request)
        data = self.issues[max(self.issues)]
        data["created_at"] = data["updated_at"] = iso(self.now)
        return status, headers, json.dumps(data)


def requests_since(github: GitHubMock, since: int) -> list[str]:
    return [
        f"{c.request.method} {c.request.path_url.split('?')[0]}" for c in list(github.calls)[since:]
    ]


def writes_since(github: GitHubMock, since: int) -> list[str]:
    # POST /graphql only reads here (the policies).
    return [
        r for r in requests_since(github, since) if r.split()[0] != "GET" and "graphql" not in r
    ]


@pytest.fixture
def world(github: GitHubMock) -> AppIssues:
    # The shipped policies, with incidents closed when their alert group resolves.
    h.mock_installation(github, policies={"incidents.yaml": CLOSING})
    github.get(API, json=checker.example("repos/get", repo=h.REPO) | {"default_branch": "master"})
    return AppIssues(github, h.REPO, dt.datetime(2026, 12, 5, 13, 5, tzinfo=dt.UTC))


def clocked(cfg: Any, fake: FakeIssues) -> Any:
    """`serve`'s processor (the webhook engine and the Alertmanager receiver, one queue), as
    WebhookService wires it, with the fake GitHub's clock for `now`."""
    clients = InstallationClients(cfg)
    cache = PolicyCache(cfg.policies_prefix)
    return dispatching(
        engine_processor(cfg, clients, cache, now=lambda: fake.now),
        alert_processor(cfg, clients, cache, now=lambda: fake.now),
    )


@pytest.fixture
def app(private_key: str, tmp_path: Path, world: AppIssues) -> Iterator[h.Running]:
    cfg = h.config(
        private_key,
        tmp_path,
        alertmanager_token=TOKEN,
        alerts_repo=h.REPO,
        bot_login=APP_BOT,
        workers=1,
    )
    with h.running(private_key, tmp_path, processor=clocked(cfg, world), config=cfg) as running:
        yield running


def processed(app: h.Running, count: int) -> None:
    h.wait(lambda: sum(app.counts().values()) >= count, timeout=30)
    assert app.counts() == {"processed": count, "failed": 0}


def repeat(port: int, name: str) -> tuple[int, dict[str, Any]]:
    """The same notification in other bytes (Alertmanager's repeat_interval re-sends the
    group's state): a new delivery id, so the queue processes it."""
    return post_alert(port, None, raw_body=json.dumps(fixture(name), indent=1).encode())


def test_alertmanager_firing_refire_resolved_with_the_incident_feature(
    app: h.Running, github: GitHubMock, world: AppIssues
) -> None:
    opened = world.now  # Saturday 13:05 UTC
    primary = POLICIES.oncall.on_call("ai-primary", opened)
    owners = ["dev-patel", "maya-chen", "sam-okafor"]  # @dataface/ai-platform (mcp-server)
    assert primary == "raj-iyer"
    summary = marker("incidents", "incident-1")

    # 1. The group fires: the receiver opens #1, the incident feature triages it, one job.
    assert post_alert(app.port, fixture("firing")) == (202, {"ok": "accepted"})
    processed(app, 1)
    assert requests_since(github, 0) == [
        f"GET {API}/installation",
        "POST /app/installations/1/access_tokens",
        f"GET {API}",  # the default branch
        f"GET {API}/branches/master",  # the policies' commit
        "POST /graphql",  # the policies
        f"GET {API}/issues",  # open incidents: none carries the group's marker
        f"POST {API}/issues",
        f"GET {API}/issues",  # the new incident's number, by its marker
        f"GET {API}/issues/1",  # the incident feature (no comments yet: none read)
        f"PATCH {API}/issues/1",  # labels and assignees in one request
        f"POST {API}/issues/1/comments",  # the triage comment
    ]
    assert github.json_bodies("PATCH", path_contains=f"{API}/issues/1") == [
        {
            "labels": ["incident", "severity:sev1", "tool:query_metrics_v3", "area:mcp-server"],
            "assignees": [primary, *owners],  # sev1: the area's owners too
        }
    ]
    state = world.state()["#1"]
    assert state["labels"] == sorted(
        ["incident", "severity:sev1", "tool:query_metrics_v3", "area:mcp-server"]
    )
    assert state["assignees"] == sorted([primary, *owners])
    ((author, triage),) = state["comments"]
    assert author == APP_BOT
    assert triage.startswith(f"{summary}\n### Incident: `query_metrics_v3` (sev1)\n")
    for line in (
        "| Severity | **sev1**: rule 1: impact 'all users' |",
        "| Impact | all users; error rate 35% |",
        "| Owners | @dataface/ai-platform |",
        f"| Runbook | {RUNBOOK} |",
        "**The clock** (from 2026-12-05 13:05 UTC, when this issue was opened):",
        "- Unacknowledged after 15 min, step 1 pages the secondary on call (2026-12-05 13:20 UTC).",
    ):
        assert line in triage.splitlines()

    # Alertmanager retries the same POST: a duplicate, nothing read or written.
    before = len(github.calls)
    assert post_alert(app.port, fixture("firing")) == (200, {"ok": "duplicate"})
    assert requests_since(github, before) == []

    # 2. Five minutes later the group fires again (a second alert, 41%): #1 edited in place,
    # its triage comment too (the error rate it shows changed); no second issue or comment.
    world.now = opened + dt.timedelta(minutes=5)
    before = len(github.calls)
    assert post_alert(app.port, fixture("firing-again"))[0] == 202
    processed(app, 2)
    (comment_id,) = [c["id"] for c in world.comments[1]]
    assert requests_since(github, before) == [
        f"GET {API}",
        f"GET {API}/branches/master",  # same commit: the policies are cached
        f"GET {API}/issues",
        f"PATCH {API}/issues/1",  # title and body
        f"GET {API}/issues/1",
        f"GET {API}/issues/1/comments",
        f"PATCH {API}/issues/comments/{comment_id}",  # the triage comment, edited
    ]
    state = world.state()["#1"]
    assert state["title"] == "Incident: query_metrics_v3: query_metrics_v3 fails 41% of calls"
    assert "### Error rate\n\n41%\n\n" in state["body"]
    assert state["labels"] == sorted(
        ["incident", "severity:sev1", "tool:query_metrics_v3", "area:mcp-server"]
    )
    assert state["assignees"] == sorted([primary, *owners])
    ((_, triage),) = state["comments"]
    assert "| Impact | all users; error rate 41% |" in triage.splitlines()
    assert sorted(world.issues) == [1]

    # The re-fire redelivered: a duplicate; re-sent in other bytes: processed, no write.
    before = len(github.calls)
    assert post_alert(app.port, fixture("firing-again")) == (200, {"ok": "duplicate"})
    assert repeat(app.port, "firing-again")[0] == 202
    processed(app, 3)
    assert requests_since(github, before) == [
        f"GET {API}",
        f"GET {API}/branches/master",
        f"GET {API}/issues",
        f"GET {API}/issues/1",
        f"GET {API}/issues/1/comments",
    ]

    # People: someone reacts (not an assignee: no acknowledgement), the primary comments
    # (an assignee: acknowledged at 13:13).
    world.react(1, "lena-fischer", "eyes", opened + dt.timedelta(minutes=6))
    world.comment(
        1, primary, "Looking: the metrics backend answers 5xx.", opened + dt.timedelta(minutes=8)
    )

    # 3. Resolved at 13:45: the resolved comment, the close, then the postmortem (sev1).
    world.now = opened + dt.timedelta(minutes=40)
    before = len(github.calls)
    assert post_alert(app.port, fixture("resolved"))[0] == 202
    processed(app, 4)
    assert requests_since(github, before) == [
        f"GET {API}",
        f"GET {API}/branches/master",
        f"GET {API}/issues",
        f"GET {API}/issues/1/comments",  # was the resolved comment made?
        f"POST {API}/issues/1/comments",
        f"PATCH {API}/issues/1",  # closed (close_on_resolved: true)
        f"GET {API}/issues/1",  # the incident feature: closed, sev1
        f"GET {API}/issues",  # postmortems (labels=postmortem, state=all): none
        f"GET {API}/issues/1/comments",  # who acknowledged, the updates
        f"GET {API}/issues/1/reactions",  # one reaction: was it an assignee's?
        f"POST {API}/issues",  # the postmortem
    ]
    state = world.state()["#1"]
    assert (state["state"], state["state_reason"]) == ("closed", "completed")
    assert [c for _, c in state["comments"]][1:] == [
        "Looking: the metrics backend answers 5xx.",
        resolved_marker(fixture("resolved")["groupKey"]) + "\n"
        "Resolved: Alertmanager reports the group's 2 alerts resolved "
        "(last at 2026-12-05T13:41:26Z).",
    ]
    assert state["comments"][0][1] == triage  # one triage comment, as the re-fire left it
    postmortem = world.state()["#2"]
    assert postmortem["title"] == (
        "Postmortem: #1 Incident: query_metrics_v3: query_metrics_v3 fails 41% of calls"
    )
    assert postmortem["labels"] == ["postmortem"]
    assert postmortem["assignees"] == sorted([primary, *owners])  # who held the incident
    assert postmortem["body"].startswith(marker("incidents", "postmortem-1") + "\n")
    for line in (
        "| Held by | @raj-iyer, @dev-patel, @maya-chen, @sam-okafor |",
        "| Due | 2026-12-11 13:45 Europe/London (5 working days after it was resolved) |",
        "| Time to acknowledge | 8 min |",
        "| Time to resolve | 40 min |",
        "| 2026-12-05 13:05 | 0 min | opened by @dataface-ops[bot] |",
        "| 2026-12-05 13:13 | 8 min | acknowledged by @raj-iyer (comment) |",
        "| 2026-12-05 13:45 | 40 min | resolved (closed) |",
    ):
        assert line in postmortem["body"].splitlines()
    assert f"Runbook: {RUNBOOK}" in postmortem["body"]

    # Every notification redelivered: duplicates. The resolved one re-sent in other bytes:
    # its incident is closed, so it reads the open incidents and writes nothing.
    before = len(github.calls)
    for name in ("firing", "firing-again", "resolved"):
        assert post_alert(app.port, fixture(name)) == (200, {"ok": "duplicate"})
    assert repeat(app.port, "resolved")[0] == 202
    processed(app, 5)
    assert requests_since(github, before) == [
        f"GET {API}",
        f"GET {API}/branches/master",
        f"GET {API}/issues",
    ]
    assert sorted(world.issues) == [1, 2]
    assert writes_since(github, 0).count(f"POST {API}/issues") == 2  # the incident, its postmortem
    assert writes_since(github, 0).count(f"POST {API}/issues/1/comments") == 2  # triage, resolved


def form_filed() -> dict[str, Any]:
    """@octokit/webhooks-examples' issues.opened, its body a submitted tool-incident form
    (the form sets the `incident` label; nobody assigned)."""
    from tests.github_api.webhooks import webhook_payload

    payload = webhook_payload("issues.opened")
    payload["installation"] = {"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}
    issue = payload["issue"]
    issue.update(
        title="run_query failing",
        body=incident_body(started_at="2019-05-15T15:05:00Z"),
        labels=[checker.label_json("incident", repo=h.REPO)],
        assignee=None,
        assignees=[],
    )
    return payload


def test_a_form_filed_incident_through_serve(
    app: h.Running, github: GitHubMock, world: AppIssues
) -> None:
    payload = form_filed()
    world.add(payload["issue"] | {"reactions": {}})  # GitHub holds what the payload shows
    opened = dt.datetime.fromisoformat(payload["issue"]["created_at"].replace("Z", "+00:00"))
    world.now = opened + dt.timedelta(seconds=40)  # the delivery's job runs 40 s later
    primary = POLICIES.oncall.on_call("ai-primary", world.now)

    body, headers = h.signed(payload, "issues", "form-incident-1")
    assert h.post(app.port, body, headers)[0] == 202
    processed(app, 1)
    assert requests_since(github, 0) == [
        f"GET {API}/installation",
        "POST /app/installations/1/access_tokens",
        f"GET {API}/branches/master",  # the payload names the default branch
        "POST /graphql",  # the policies
        # Read once for triage (not an eval regression), incidents (no comments yet: none
        # read) and stale (not stale): a run's features share their reads.
        f"GET {API}/issues/1",
        f"PATCH {API}/issues/1",
        f"POST {API}/issues/1/comments",
    ]
    # sev2 (12% on a critical tool): the primary on call alone.
    assert primary == "dev-patel"
    assert github.json_bodies("PATCH", path_contains=f"{API}/issues/1") == [
        {
            "labels": ["incident", "severity:sev2", "tool:run_query", "area:mcp-server"],
            "assignees": [primary],
        }
    ]
    state = world.state()["#1"]
    assert state["labels"] == ["area:mcp-server", "incident", "severity:sev2", "tool:run_query"]
    assert state["assignees"] == [primary]
    ((author, triage),) = state["comments"]
    assert author == APP_BOT
    assert triage.startswith(marker("incidents", "incident-1") + "\n### Incident: `run_query`")
    for line in (
        "| Severity | **sev2**: rule 3: error rate 12% >= 10% |",
        "| Impact | some users; error rate 12% |",
        "| Started | 2019-05-15 15:05 UTC |",
        "| Owners | @dataface/ai-platform |",
        f"| Runbook | {RUNBOOK} |",
        "- Unacknowledged after 1 h 00 min, step 1 pages the secondary on call "
        "(2019-05-15 16:20 UTC).",
    ):
        assert line in triage.splitlines()

    # GitHub redelivers it (same delivery id): a duplicate, nothing read or written.
    before = len(github.calls)
    assert h.post(app.port, body, headers) == (200, {"ok": "duplicate"})
    assert requests_since(github, before) == []

    # The same event in a fresh delivery: processed from GitHub's state, nothing written.
    world.now += dt.timedelta(minutes=1)
    body, headers = h.signed(payload, "issues", "form-incident-2")
    assert h.post(app.port, body, headers)[0] == 202
    processed(app, 2)
    assert requests_since(github, before) == [
        f"GET {API}/branches/master",  # the installation and its token are cached
        f"GET {API}/issues/1",  # once for the three features
        f"GET {API}/issues/1/comments",  # incidents: its triage comment is there
    ]
    assert world.state()["#1"] == state


def test_a_monitor_filed_incident_through_serve(
    app: h.Running, github: GitHubMock, world: AppIssues
) -> None:
    # A monitor writes the form's body through the API as a bot of its own, with no label:
    # the headings make it an incident; all users affected: sev1, area owners assigned too.
    payload = form_filed()
    monitor = checker.user_json("grafana-alerts[bot]") | {"type": "Bot"}
    payload["sender"] = monitor
    payload["issue"].update(
        user=monitor,
        labels=[],
        title="query_metrics_v3: 5xx",
        body=incident_body(
            tool="query_metrics_v3",
            symptom="5xx from the metrics backend",
            started_at="2019-05-15T15:10:00Z",
            impact="all users",
            error_rate="41%",
            links="https://grafana.example.com/d/mcp",
        ),
    )
    world.add(payload["issue"] | {"reactions": {}})
    opened = dt.datetime.fromisoformat(payload["issue"]["created_at"].replace("Z", "+00:00"))
    world.now = opened + dt.timedelta(seconds=40)
    primary = POLICIES.oncall.on_call("ai-primary", world.now)

    body, headers = h.signed(payload, "issues", "monitor-incident-1")
    assert h.post(app.port, body, headers)[0] == 202
    processed(app, 1)
    assert writes_since(github, 0) == [
        "POST /app/installations/1/access_tokens",
        f"PATCH {API}/issues/1",
        f"POST {API}/issues/1/comments",
    ]
    assert len(requests_since(github, 0)) == 7  # the issue read once for three features
    assert github.json_bodies("PATCH", path_contains=f"{API}/issues/1") == [
        {
            "labels": ["incident", "severity:sev1", "tool:query_metrics_v3", "area:mcp-server"],
            "assignees": [primary, "maya-chen", "sam-okafor"],  # dev-patel: primary and owner
        }
    ]
    ((author, triage),) = world.state()["#1"]["comments"]
    assert author == APP_BOT
    assert "| Severity | **sev1**: rule 1: impact 'all users' |" in triage.splitlines()
    assert f"| Runbook | {RUNBOOK} |" in triage.splitlines()

    # A fresh delivery of the same event: nothing written.
    before = len(github.calls)
    body, headers = h.signed(payload, "issues", "monitor-incident-2")
    assert h.post(app.port, body, headers)[0] == 202
    processed(app, 2)
    assert writes_since(github, before) == []
    assert len(requests_since(github, before)) == 3

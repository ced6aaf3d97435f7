"""The Alertmanager receiver (issue 16, item 2) end to end through the app (`serve`'s server on
a loopback port, the durable queue, the processor) against the contract-checked GitHub mock:
firing -> duplicate -> re-fire -> resolved -> fire again, the edge's refusals, and a GitHub
failure mid-processing. Payloads: tests/fixtures/alertmanager (Alertmanager's webhook JSON)."""

from __future__ import annotations

import copy
import datetime as dt
import http.client
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from automation import features as registry
from automation.actions import AddLabels, Plan
from automation.app.alerts import (
    AlertGroup,
    incident_marker,
    parse_payload,
    plan_alert,
)
from automation.policy.loader import load_policy_dir
from automation.snapshot.collect import issue_from_json
from automation.snapshot.models import Comment, Issue, Snapshot
from tests import app_harness as h
from tests.faults.issues import FakeIssues
from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock

FIXTURES = Path(__file__).parent / "fixtures" / "alertmanager"
TOKEN = "am-token-5b0e7c1d9f2a4e63"
API = f"/repos/{h.REPO}"
NOW = dt.datetime(2026, 12, 5, 13, 5, tzinfo=dt.UTC)
POLICIES = load_policy_dir(h.ROOT / "policies")
CLOSING = (
    (h.ROOT / "policies" / "incidents.yaml")
    .read_text(encoding="utf-8")
    .replace("close_on_resolved: false", "close_on_resolved: true")
)


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def post_alert(
    port: int, payload: Any, *, token: str | None = TOKEN, raw_body: bytes | None = None
) -> tuple[int, dict[str, Any]]:
    """POST a notification as Alertmanager does (http_config.authorization: Bearer)."""
    body = raw_body if raw_body is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Alertmanager/0.27.0"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/alerts/alertmanager", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        try:
            decoded = json.loads(data) if data else {}
        except ValueError:
            decoded = {"text": data.decode()}
        return response.status, decoded
    finally:
        conn.close()


# --- the house's incident feature, as a probe: it reads the issue and labels it once --------

RAN: list[tuple[int, ...] | None] = []


def probe_collect(repo: Any, policies: Any, numbers: Any, now: Any) -> Snapshot:
    RAN.append(numbers)
    from automation.github import request_json

    issues = tuple(
        issue_from_json(request_json(repo, "GET", f"{repo.url}/issues/{n}")) for n in numbers or ()
    )
    return Snapshot(repo=h.REPO, taken_at=now, issues=issues)


def probe_plan(policies: Any, snapshot: Snapshot, now: Any) -> Plan:
    actions = tuple(
        AddLabels(reason="probe triage", number=i.number, labels=("severity:sev1",))
        for i in snapshot.issues
        if "severity:sev1" not in i.labels
    )
    return Plan("incidents", actions)


@pytest.fixture
def incident_feature(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...] | None]:
    """Register an `incidents` feature (the incidents branch brings the real one)."""
    RAN.clear()
    probe = registry.Feature(
        "incidents",
        "probe",
        15,
        probe_collect,
        probe_plan,
        policy_files=("incidents",),
    )
    monkeypatch.setitem(registry.FEATURES, "incidents", probe)
    return RAN


def mock_github(github: GitHubMock, *, fake: type[FakeIssues] = FakeIssues) -> FakeIssues:
    h.mock_installation(github, policies={"incidents.yaml": CLOSING})
    github.get(API, json=checker.example("repos/get", repo=h.REPO) | {"default_branch": "master"})
    return fake(github, h.REPO, NOW)


def requests_since(github: GitHubMock, since: int) -> list[str]:
    return [
        f"{c.request.method} {c.request.path_url.split('?')[0]}" for c in list(github.calls)[since:]
    ]


def processed(app: h.Running, count: int) -> None:
    h.wait(lambda: sum(app.counts().values()) >= count, timeout=30)
    assert app.counts() == {"processed": count, "failed": 0}


FIRST_JOB = [
    f"GET {API}/installation",  # as the App: which installation holds the repository
    "POST /app/installations/1/access_tokens",
    f"GET {API}",  # the default branch
    f"GET {API}/branches/master",  # its head: the policies' commit
    "POST /graphql",  # every policy file at that commit, in one request
    f"GET {API}/issues",  # open incidents: none carries the group's marker
    f"POST {API}/issues",
    f"GET {API}/issues",  # the new incident's number, by its marker
    f"GET {API}/issues/1",  # the incident feature, on #1
    f"POST {API}/issues/1/labels",
]


@pytest.mark.usefixtures("backend")
def test_firing_refire_resolved_then_fire_again(
    private_key: str,
    github: GitHubMock,
    tmp_path: Path,
    incident_feature: list[tuple[int, ...] | None],
) -> None:
    fake = mock_github(github)
    cfg = {"alertmanager_token": TOKEN, "alerts_repo": h.REPO}
    with h.running(private_key, tmp_path, **cfg) as app:
        # 1. The group fires: one incident, in the form's format, triaged in the same job.
        assert post_alert(app.port, fixture("firing")) == (202, {"ok": "accepted"})
        processed(app, 1)
        assert requests_since(github, 0) == FIRST_JOB
        (sent,) = github.json_bodies("POST", path_contains=f"{API}/issues")[:1]
        assert sent["labels"] == ["incident"]
        assert sent["title"] == "Incident: query_metrics_v3: query_metrics_v3 fails 35% of calls"
        body = fake.state()["#1"]["body"]
        assert body.startswith(incident_marker(fixture("firing")["groupKey"]) + "\n\n### Tool\n\n")
        for heading, value in (
            ("Tool", "query_metrics_v3"),
            ("Started at", "2026-12-05T13:02:11Z"),
            ("Impact", "all users"),
            ("Error rate", "35%"),
        ):
            assert f"### {heading}\n\n{value}\n\n###" in body
        assert "### Symptom\n\nquery_metrics_v3 fails 35% of calls\n\nMore than 25%" in body
        assert "- **firing** `MCPToolErrorRate` {instance=mcp-1:8080," in body
        assert incident_feature == [(1,)]
        assert fake.state()["#1"]["labels"] == ["incident", "severity:sev1"]

        # 2. Alertmanager retries the same POST: a duplicate, answered 200, nothing written.
        before = len(github.calls)
        assert post_alert(app.port, fixture("firing")) == (200, {"ok": "duplicate"})
        assert requests_since(github, before) == []

        # 3. The group fires again, with a second alert: the same issue, edited in place.
        before = len(github.calls)
        assert post_alert(app.port, fixture("firing-again"))[0] == 202
        processed(app, 2)
        assert requests_since(github, before) == [
            f"GET {API}",
            f"GET {API}/branches/master",  # same head: the policies are cached
            f"GET {API}/issues",
            f"PATCH {API}/issues/1",
            f"GET {API}/issues/1",  # the incident feature: already labelled, no write
        ]
        state = fake.state()["#1"]
        assert state["title"] == "Incident: query_metrics_v3: query_metrics_v3 fails 41% of calls"
        assert "### Error rate\n\n41%" in state["body"]
        assert "`MCPToolErrorRate` {instance=mcp-2:8080," in state["body"]
        assert "### Started at\n\n2026-12-05T13:02:11Z" in state["body"]  # the earliest alert

        # 4. Resolved: one comment, then the close (close_on_resolved: true).
        before = len(github.calls)
        assert post_alert(app.port, fixture("resolved"))[0] == 202
        processed(app, 3)
        assert requests_since(github, before) == [
            f"GET {API}",
            f"GET {API}/branches/master",
            f"GET {API}/issues",
            f"POST {API}/issues/1/comments",
            f"PATCH {API}/issues/1",
            f"GET {API}/issues/1",  # the incident feature sees it closed
        ]
        state = fake.state()["#1"]
        assert (state["state"], state["state_reason"]) == ("closed", "completed")
        assert [c for _, c in state["comments"]] == [
            f"<!-- dataface-ops:alertmanager:resolved:{_hash('firing')} -->\n"
            "Resolved: Alertmanager reports the group's 2 alerts resolved "
            "(last at 2026-12-05T13:41:26Z)."
        ]
        assert len(github.json_bodies("POST", path_contains=f"{API}/issues/1/comments")) == 1

        # 5. The group fires again after its incident closed: a new incident, #2.
        again = fixture("firing")
        for alert in again["alerts"]:
            alert["startsAt"] = "2026-12-05T15:10:03.221Z"
        before = len(github.calls)
        assert post_alert(app.port, again)[0] == 202
        processed(app, 4)
        assert requests_since(github, before) == [
            f"GET {API}",
            f"GET {API}/branches/master",
            f"GET {API}/issues",
            f"POST {API}/issues",
            f"GET {API}/issues",
            f"GET {API}/issues/2",
            f"POST {API}/issues/2/labels",
        ]
    assert sorted(fake.issues) == [1, 2]
    assert fake.state()["#1"]["state"] == "closed" and fake.state()["#2"]["state"] == "open"
    assert fake.state()["#2"]["body"].startswith(incident_marker(again["groupKey"]))
    assert incident_feature == [(1,), (1,), (1,), (2,)]


def _hash(name: str) -> str:
    from automation.app.alerts import group_hash

    return group_hash(fixture(name)["groupKey"])


@pytest.mark.usefixtures("backend")
def test_refusals_at_the_edge_write_nothing_and_queue_nothing(
    private_key: str, github: GitHubMock, tmp_path: Path
) -> None:
    cfg = {"alertmanager_token": TOKEN, "alerts_repo": h.REPO, "workers": 0}
    good = fixture("firing")
    wrong_version = copy.deepcopy(good) | {"version": "3"}
    bad_status = copy.deepcopy(good)
    bad_status["alerts"][0]["status"] = "pending"
    no_alerts = copy.deepcopy(good) | {"alerts": []}
    with h.running(private_key, tmp_path, **cfg) as app:
        assert post_alert(app.port, good, token=None)[0] == 401
        assert post_alert(app.port, good, token="am-token-wrong-0000000")[0] == 401
        assert post_alert(app.port, good, token=TOKEN + "x")[0] == 401
        status, answer = post_alert(app.port, None, raw_body=b"{not json")
        assert status == 400 and answer["error"].startswith("malformed payload: not valid JSON")
        assert post_alert(app.port, wrong_version) == (
            400,
            {
                "error": "malformed payload: not Alertmanager's webhook JSON: version: "
                "Input should be '4'"
            },
        )
        status, answer = post_alert(app.port, bad_status)
        assert answer["error"] == (
            "malformed payload: not Alertmanager's webhook JSON: alerts.0.status: "
            "Input should be 'firing' or 'resolved'"
        )
        assert post_alert(app.port, no_alerts)[0] == 400
        assert app.service.health()["accepted"] == 0
        assert not any(k.startswith("job:") for k in app.service.queue.journal.result_items())
    assert len(github.calls) == 0


@pytest.mark.usefixtures("backend")
def test_without_a_token_the_receiver_does_not_exist(
    private_key: str, github: GitHubMock, tmp_path: Path
) -> None:
    with h.running(private_key, tmp_path, workers=0) as app:
        assert post_alert(app.port, fixture("firing"))[0] == 404
        assert post_alert(app.port, fixture("firing"), token=None)[0] == 404
    assert len(github.calls) == 0


def test_the_token_never_reaches_the_logs(
    private_key: str, github: GitHubMock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = {"alertmanager_token": TOKEN, "alerts_repo": h.REPO, "workers": 0}
    with h.running(private_key, tmp_path, **cfg) as app:
        assert post_alert(app.port, fixture("firing"), token=TOKEN[:-1] + "0")[0] == 401
        assert post_alert(app.port, fixture("firing"))[0] == 202
    text = caplog.text + repr(h.config(private_key, tmp_path, **cfg))
    assert "refused: missing or wrong bearer token" in caplog.text
    assert TOKEN not in text and TOKEN[:-1] not in text


class Flaky(FakeIssues):
    """GitHub applies the incident's POST but answers 502; its lookup then fails too, so the
    job fails and is retried."""

    post_faults = 1
    lookup_faults = 3  # PyGithub retries a GET twice: the whole lookup fails once

    def _create(self, request: Any) -> Any:
        reply = super()._create(request)
        if self.post_faults:
            self.post_faults -= 1
            return 502, {}, json.dumps({"message": "Server Error"})
        return reply

    def _list(self, request: Any) -> Any:
        if "since=" in (request.url or "") and self.lookup_faults:
            self.lookup_faults -= 1
            return 502, {}, json.dumps({"message": "Server Error"})
        return super()._list(request)


@pytest.mark.usefixtures("backend")
def test_github_failing_after_the_post_applied_never_opens_a_second_incident(
    private_key: str,
    github: GitHubMock,
    tmp_path: Path,
    incident_feature: list[tuple[int, ...] | None],
) -> None:
    fake = mock_github(github, fake=Flaky)
    cfg = {"alertmanager_token": TOKEN, "alerts_repo": h.REPO}
    with h.running(private_key, tmp_path, **cfg) as app:
        assert post_alert(app.port, fixture("firing"))[0] == 202
        h.wait(lambda: incident_feature == [(1,)], timeout=30)
        processed(app, 1)
        assert app.service.health()["retried"] == 1
    assert (
        github.count("POST", path_contains=f"{API}/issues")
        - github.count("POST", path_contains=f"{API}/issues/1/")
        == 1
    )
    assert sorted(fake.issues) == [1]
    assert fake.state()["#1"]["labels"] == ["incident", "severity:sev1"]


@pytest.mark.usefixtures("backend")
def test_the_incident_feature_is_skipped_when_not_registered(
    private_key: str, github: GitHubMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(registry.FEATURES, "incidents", raising=False)
    fake = mock_github(github)
    cfg = {"alertmanager_token": TOKEN, "alerts_repo": h.REPO}
    with h.running(private_key, tmp_path, **cfg) as app:
        assert post_alert(app.port, fixture("firing"))[0] == 202
        processed(app, 1)
    assert requests_since(github, 0) == FIRST_JOB[:-3]
    assert fake.state()["#1"]["labels"] == ["incident"]


# --- the plan, as a table ---------------------------------------------------------------------


def group(name: str, **changes: Any) -> AlertGroup:
    body = json.dumps(fixture(name) | changes).encode()
    return parse_payload(body)[0]


def incident(number: int, body: str, *, state: str = "open", bot: bool = True, **kw: Any) -> Issue:
    return Issue(
        number=number,
        title=kw.pop("title", "Incident"),
        body=body,
        state=state,  # type: ignore[arg-type]
        author="dataface-ops[bot]" if bot else "mallory",
        author_is_bot=bot,
        labels=("incident",),
        created_at=NOW,
        updated_at=NOW,
        **kw,
    )


def with_settings(**alertmanager: bool) -> Any:
    import dataclasses

    incidents = POLICIES.incidents.model_copy(
        update={"alertmanager": POLICIES.incidents.alertmanager.model_copy(update=alertmanager)}
    )
    return dataclasses.replace(POLICIES, incidents=incidents)


def test_plan_table() -> None:
    firing = group("firing")
    tag = incident_marker(firing.groupKey)
    first = plan_alert(POLICIES, (), firing, "tool")
    (opened,) = first.actions
    assert opened.kind == "UpsertIssue" and opened.number is None  # type: ignore[attr-defined]
    same = incident(4, opened.body, title=opened.title)  # type: ignore[attr-defined]
    # A repeat of the same notification: converged.
    assert plan_alert(POLICIES, (same,), firing, "tool").actions == ()
    # Someone else's issue with the marker in it (a form anyone can file) is not ours.
    forged = incident(3, tag, bot=False)
    assert plan_alert(POLICIES, (forged,), firing, "tool").actions[0].number is None  # type: ignore[attr-defined]
    # A closed incident is not updated: a new one opens.
    closed = incident(4, opened.body, state="closed", title=opened.title)  # type: ignore[attr-defined]
    assert plan_alert(POLICIES, (closed,), firing, "tool").actions[0].number is None  # type: ignore[attr-defined]
    # Resolved, by the policy's settings.
    resolved = group("resolved")
    kinds = {
        (comment, close): [
            a.kind
            for a in plan_alert(
                with_settings(comment_on_resolved=comment, close_on_resolved=close),
                (same,),
                resolved,
                "tool",
            ).actions
        ]
        for comment in (True, False)
        for close in (True, False)
    }
    assert kinds == {
        (True, True): ["UpsertComment", "EditIssue"],
        (True, False): ["UpsertComment"],
        (False, True): ["EditIssue"],
        (False, False): [],
    }
    # The resolved comment is made once; a second resolved notification edits nothing.
    comment = plan_alert(POLICIES, (same,), resolved, "tool").actions[0]
    said = Comment(
        id=9,
        author="dataface-ops[bot]",
        author_is_bot=True,
        body=comment.body,
        created_at=NOW,
        updated_at=NOW,
    )  # type: ignore[attr-defined]
    assert (
        plan_alert(
            POLICIES, (same.model_copy(update={"comments": (said,)}),), resolved, "tool"
        ).actions
        == ()
    )
    # Resolved with no open incident: nothing to do, and it says so.
    assert plan_alert(POLICIES, (), resolved, "tool").notes == (
        "resolved: no open incident for this alert group",
    )


def test_tool_label_and_missing_fields() -> None:
    bare = group(
        "firing",
        commonAnnotations={},
        commonLabels={"alertname": "ToolDown", "mcp_tool": "run_query"},
        alerts=[
            {
                "status": "firing",
                "labels": {"alertname": "ToolDown", "mcp_tool": "run_query"},
                "annotations": {},
                "startsAt": "2026-12-05T13:02:11.482+01:00",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": "1",
            }
        ],
    )
    (opened,) = plan_alert(POLICIES, (), bare, "mcp_tool").actions
    body = opened.body  # type: ignore[attr-defined]
    assert opened.title == "Incident: run_query: ToolDown"  # type: ignore[attr-defined]
    assert "### Tool\n\nrun_query\n\n" in body
    assert "### Symptom\n\nToolDown\n\n" in body
    assert "### Started at\n\n2026-12-05T12:02:11Z\n\n" in body  # in UTC
    for heading in ("Impact", "Error rate"):
        assert f"### {heading}\n\n_No response_\n\n" in body
    # With the default label the tool is unknown: the form's empty value.
    assert "### Tool\n\n_No response_\n\n" in plan_alert(POLICIES, (), bare, "tool").actions[0].body  # type: ignore[attr-defined]


def test_a_heading_in_an_annotation_cannot_forge_a_field() -> None:
    forged = group(
        "firing",
        commonAnnotations={"summary": "ok\n### Impact\n\nnone", "error_rate": "1%"},
    )
    body = plan_alert(POLICIES, (), forged, "tool").actions[0].body  # type: ignore[attr-defined]
    assert [line for line in body.splitlines() if line == "### Impact"] == ["### Impact"]
    assert "\\### Impact" in body


# --- `serve`'s configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "env", "expected"),
    [
        ({}, {}, (None, "", "tool")),  # no token: the receiver is off
        ({"alerts_repo": "o/r"}, {}, (None, "", "tool")),  # a repository alone turns nothing on
        (
            {"alerts_repo": "dataface/dataface", "alerts_tool_label": "mcp_tool"},
            {"DATAFACE_OPS_ALERTMANAGER_TOKEN": TOKEN},
            ("dataface/dataface", TOKEN, "mcp_tool"),
        ),
        (
            {},
            {
                "DATAFACE_OPS_ALERTMANAGER_TOKEN": TOKEN,
                "DATAFACE_OPS_ALERTS_REPO": "dataface/dataface",
                "DATAFACE_OPS_ALERTS_TOOL_LABEL": "service_tool",
            },
            ("dataface/dataface", TOKEN, "service_tool"),
        ),
        ({}, {"DATAFACE_OPS_ALERTMANAGER_TOKEN": TOKEN}, "needs --alerts-repo OWNER/NAME"),
        (
            {"alerts_repo": "dataface/../x"},
            {"DATAFACE_OPS_ALERTMANAGER_TOKEN": TOKEN},
            "--alerts-repo must be OWNER/NAME",
        ),
        (
            {"alerts_repo": "o/r"},
            {"DATAFACE_OPS_ALERTMANAGER_TOKEN": "short"},
            "at least 16 characters",
        ),
    ],
    ids=["off", "repo-only", "flags", "env", "no-repo", "bad-repo", "short-token"],
)
def test_serve_configures_the_receiver(
    private_key: str, flags: dict[str, str], env: dict[str, str], expected: Any
) -> None:
    import argparse

    from automation.commands.common import UsageError
    from automation.commands.serve import config_from_env

    args = argparse.Namespace(
        api_url=None,
        dry_run=None,
        workers=1,
        queue=None,
        redis_url=None,
        alerts_repo=flags.get("alerts_repo"),
        alerts_tool_label=flags.get("alerts_tool_label"),
    )
    base = {
        "DATAFACE_OPS_WEBHOOK_SECRET": h.SECRET,
        "DATAFACE_OPS_APP_ID": "4242",
        "DATAFACE_OPS_APP_PRIVATE_KEY": private_key,
    }
    if isinstance(expected, str):
        with pytest.raises(UsageError, match=expected) as caught:
            config_from_env(args, base | env)
        assert TOKEN not in str(caught.value)
        return
    config = config_from_env(args, base | env)
    assert (config.alerts_repo, config.alertmanager_token, config.alerts_tool_label) == expected
    assert TOKEN not in repr(config)


def test_the_body_reads_back_as_the_incident_form() -> None:
    """The shared contract with the incident triage: `### Label` sections as issue forms
    render them, read back by the same parser as a form-filed incident."""
    from automation.rules.triage import _form_sections

    fenced = group(
        "firing-again",
        commonAnnotations={"summary": "fails", "description": "```\n### Tool\nrun_query\n```"},
    )
    for payload in (group("firing-again"), fenced):
        body = plan_alert(POLICIES, (), payload, "tool").actions[0].body  # type: ignore[attr-defined]
        sections = _form_sections(body)
        assert sections["tool"] == "query_metrics_v3"
        assert sections["started at"] == "2026-12-05T13:02:11Z"
        assert sections["impact"] == "all users"
        assert sections["error rate"] == "41%"
        assert sections["links"] is not None and "prometheus.internal" in sections["links"]
    assert (
        _form_sections(plan_alert(POLICIES, (), fenced, "tool").actions[0].body)[  # type: ignore[attr-defined]
            "symptom"
        ]
        == "fails\n\n\\```\n\\### Tool\nrun_query\n\\```"
    )


def test_notifications_of_one_group_take_turns_and_other_groups_do_not_wait() -> None:
    from automation.app.alerts import EVENT, queued_body
    from automation.app.subject import subject_key
    from automation.events import event_from_json

    def key(payload: dict[str, Any]) -> str:
        return subject_key(event_from_json(EVENT, queued_body(h.REPO, payload)))

    first, again = fixture("firing"), fixture("resolved")
    other = fixture("firing") | {"groupKey": '{}:{alertname="ToolDown"}'}
    assert key(first) == key(again) == f"codertocat/hello-world#alertmanager:{_hash('firing')}"
    assert key(other) != key(first)


@pytest.mark.usefixtures("backend")
def test_incidents_switched_off_open_nothing(
    private_key: str, github: GitHubMock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h.mock_installation(github, policies={"incidents.yaml": "enabled: false\n" + CLOSING})
    github.get(API, json=checker.example("repos/get", repo=h.REPO) | {"default_branch": "master"})
    FakeIssues(github, h.REPO, NOW)
    cfg = {"alertmanager_token": TOKEN, "alerts_repo": h.REPO}
    with h.running(private_key, tmp_path, **cfg) as app:
        assert post_alert(app.port, fixture("firing"))[0] == 202
        h.wait(lambda: app.counts()["failed"] == 1)
    # Only the installation token was asked for: nothing written to the repository.
    assert [c.request.path_url for c in github.writes()] == ["/app/installations/1/access_tokens"]
    assert "enabled: false in" in caplog.text and "policies/incidents.yaml" in caplog.text

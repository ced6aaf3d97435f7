"""`dataface-ops serve`: the real server (uvicorn) on a loopback port, signed real payloads."""

from __future__ import annotations

import json
import logging
import socket
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")

from automation import features as registry  # noqa: E402
from automation.actions import Plan, UpsertComment  # noqa: E402
from automation.entrypoints import webhook  # noqa: E402
from automation.entrypoints.webhook import AppConfig, Delivery, sign  # noqa: E402
from automation.logs import ContextFilter  # noqa: E402
from automation.markers import marker  # noqa: E402
from automation.policy.loader import POLICY_FILES  # noqa: E402
from automation.snapshot.models import Snapshot  # noqa: E402
from tests import app_harness as h  # noqa: E402
from tests.github_api import checker  # noqa: E402
from tests.github_api.webhooks import webhook_payload  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SECRET = h.SECRET
REPO = h.REPO


def _config(private_key: str, tmp_path: Path, **overrides: Any) -> AppConfig:
    return h.config(private_key, tmp_path, **overrides)


class Recorder:
    """An injectable processor: records deliveries, optionally held at a gate."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.ids: list[str] = []
        self.keys: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, delivery: Delivery) -> None:
        if self.gate is not None:
            assert self.gate.wait(30)
        with self.lock:
            self.ids.append(delivery.id)
            self.keys.append(delivery.event.key)


serving = h.running
_post = h.post
_delivery = h.delivery
_wait = h.wait


def _webhook_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "dataface_ops.webhook"]


# --- transport -----------------------------------------------------------------------------


def test_good_signature_is_acknowledged_before_the_work_and_then_handled(
    tmp_path: Path, private_key: str, github: Any
) -> None:
    gate = threading.Event()
    recorder = Recorder(gate)
    body, headers = _delivery("issues.opened")
    with serving(private_key, tmp_path, processor=recorder) as app:
        port = app.port
        status, answer = _post(port, body, headers)
        assert (status, answer) == (202, {"ok": "accepted"})
        assert recorder.ids == []  # acknowledged while the work is still held back
        gate.set()
        _wait(lambda: recorder.ids == [headers["X-GitHub-Delivery"]])
    assert recorder.keys == ["issues.opened"]
    assert len(github.calls) == 0


def _tampered() -> tuple[bytes, dict[str, str]]:
    body, headers = _delivery()
    return body.replace(b'"opened"', b'"closed"', 1), headers


def _wrong_secret() -> tuple[bytes, dict[str, str]]:
    body, headers = _delivery()
    headers["X-Hub-Signature-256"] = sign(b"not-the-secret", body)
    return body, headers


def _missing() -> tuple[bytes, dict[str, str]]:
    body, headers = _delivery()
    del headers["X-Hub-Signature-256"]
    return body, headers


def _sha1_only() -> tuple[bytes, dict[str, str]]:
    import hashlib
    import hmac

    body, headers = _delivery()
    del headers["X-Hub-Signature-256"]
    headers["X-Hub-Signature"] = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    return body, headers


def _not_sha256() -> tuple[bytes, dict[str, str]]:
    body, headers = _delivery()
    headers["X-Hub-Signature-256"] = headers["X-Hub-Signature-256"].replace("sha256=", "sha1=")
    return body, headers


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_tampered, "bad signature"),
        (_wrong_secret, "bad signature"),
        (_missing, "missing X-Hub-Signature-256"),
        (_sha1_only, "sha1-only signature refused (X-Hub-Signature-256)"),
        (_not_sha256, "bad signature"),
    ],
    ids=["tampered-body", "wrong-secret", "missing-header", "sha1-only", "wrong-scheme"],
)
def test_bad_signatures_get_401_one_log_line_and_no_github_request(
    tmp_path: Path,
    make: Callable[[], tuple[bytes, dict[str, str]]],
    reason: str,
    private_key: str,
    github: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    body, headers = make()
    with caplog.at_level(logging.INFO), serving(private_key, tmp_path, processor=recorder) as app:
        port = app.port
        status, answer = _post(port, body, headers)
    assert (status, answer) == (401, {"error": reason})
    records = _webhook_records(caplog)
    assert [(r.getMessage(), r.status) for r in records] == [(f"refused: {reason}", 401)]
    assert records[0].delivery == headers["X-GitHub-Delivery"]
    assert recorder.ids == []
    assert len(github.calls) == 0
    assert SECRET not in caplog.text


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_body_gets_413(
    tmp_path: Path, chunked: bool, private_key: str, github: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert webhook.MAX_BODY_BYTES == 25 * 1024 * 1024  # GitHub's cap on payloads
    recorder = Recorder()
    body, headers = _delivery("issues.opened", padding="x" * 8192)
    with (
        caplog.at_level(logging.INFO),
        serving(private_key, tmp_path, processor=recorder, max_body=4096) as app,
    ):
        port = app.port
        status, _ = _post(port, body, headers, chunked=chunked)
    assert status == 413
    assert [r.status for r in _webhook_records(caplog)] == [413]
    assert recorder.ids == []
    assert len(github.calls) == 0


@pytest.mark.parametrize(
    ("body", "event", "status"),
    [
        (b"{not json", "issues", 400),
        (b"[1, 2]", "issues", 400),
        (b'{"action": "opened", "issue": {"number": "one"}}', "issues", 400),
        (b"{}", "", 400),
        (b'"x"', "issues", 400),
        (b"[" * 100_000 + b"]" * 100_000, "issues", 400),
        (b'{"action": "opened", "n": ' + b"1" * 5000 + b"}", "issues", 400),
    ],
    ids=[
        "not-json",
        "not-an-object",
        "no-number",
        "no-event-header",
        "a-string",
        "nested-too-deep",
        "int-too-long",
    ],
)
def test_malformed_signed_payloads_get_400(
    tmp_path: Path,
    body: bytes,
    event: str,
    status: int,
    private_key: str,
    github: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(SECRET.encode(), body),
    }
    with caplog.at_level(logging.INFO), serving(private_key, tmp_path, processor=recorder) as app:
        port = app.port
        got, _ = _post(port, body, headers)
    assert got == status
    assert [r.status for r in _webhook_records(caplog)] == [status]
    assert recorder.ids == []
    assert len(github.calls) == 0


def test_ping_own_events_and_redeliveries(tmp_path: Path, private_key: str, github: Any) -> None:
    recorder = Recorder()
    own = webhook_payload("issues.opened")["sender"] | {"login": "dataface-ops[bot]", "type": "Bot"}
    with serving(private_key, tmp_path, processor=recorder) as app:
        port, service = app.port, app.service
        assert _post(port, *_delivery("ping")) == (200, {"ok": "pong"})
        assert _post(port, *_delivery("issues.labeled", sender=own)) == (
            202,
            {"ok": "ignored own event"},
        )
        body, headers = _delivery("issue_comment.created")
        assert _post(port, body, headers) == (202, {"ok": "accepted"})
        assert _post(port, body, headers) == (200, {"ok": "duplicate"})
        _wait(lambda: service.health()["processed"] == 1)
        health = json.loads(_get(port, "/healthz"))
    assert recorder.ids == [headers["X-GitHub-Delivery"]]
    assert (health["accepted"], health["processed"], health["failed"]) == (1, 1, 0)
    assert len(github.calls) == 0


def test_events_no_feature_wants_are_answered_at_once_without_work(
    tmp_path: Path, private_key: str, github: Any
) -> None:
    gate = threading.Event()
    recorder = Recorder(gate)
    with serving(private_key, tmp_path, processor=recorder) as app:
        port, service = app.port, app.service
        body, headers = _delivery("issues.opened")
        headers["X-GitHub-Event"] = "watch"
        headers["X-Hub-Signature-256"] = sign(SECRET.encode(), body)
        ignored = {"ok": "ignored: no feature subscribes to this event"}
        assert _post(port, body, headers) == (200, ignored)
        # A dispatch of any workflow is no reason to sweep everything from the app.
        assert _post(port, *_delivery("workflow_dispatch")) == (200, ignored)
        assert _post(port, *_delivery("issues.opened", action="milestoned")) == (200, ignored)
        assert service.queue.huey.pending_count() == 0
        gate.set()
    assert recorder.ids == []
    assert len(github.calls) == 0


def test_a_delivery_failed_for_good_is_processed_again_when_redelivered(
    private_key: str, tmp_path: Path
) -> None:
    from automation.app.queue import Permanent

    calls: list[str] = []

    def flaky(delivery: Delivery) -> None:
        calls.append(delivery.id)
        if len(calls) == 1:
            raise Permanent("the policies at this commit are broken")

    body, headers = _delivery("issues.opened")
    with serving(private_key, tmp_path, processor=flaky) as app:
        assert _post(app.port, body, headers) == (202, {"ok": "accepted"})
        _wait(lambda: app.service.health()["failed"] == 1)
        # Redelivered from the App settings: the same GUID, and it must not be dropped.
        assert _post(app.port, body, headers) == (202, {"ok": "accepted"})
        _wait(lambda: app.service.health()["processed"] == 1)
    assert calls == [headers["X-GitHub-Delivery"]] * 2


def _get(port: int, path: str) -> bytes:
    return h.get(port, path)[1]


# --- through the real engine -------------------------------------------------------------

PROBED: list[tuple[int, ...] | None] = []


def probe_collect(repo: Any, policies: Any, numbers: tuple[int, ...] | None, now: Any) -> Snapshot:
    """Read the subject for real (GET /repos/{o}/{r}/issues/{n}), like a collector does."""
    PROBED.append(numbers)
    assert numbers
    title = repo.get_issue(numbers[0]).title
    assert title
    return Snapshot(repo=REPO, taken_at=now)


def probe_plan(policies: Any, snapshot: Snapshot, now: Any) -> Plan:
    """One comment on the subject, carrying the policies' source (proves they were loaded)."""
    number = PROBED[-1][0] if PROBED[-1] else 0
    return Plan(
        "triage",
        (
            UpsertComment(
                reason="probe",
                number=number,
                marker=marker("triage", f"issue-{number}"),
                body=f"{marker('triage', f'issue-{number}')} on call: "
                f"{policies.oncall.rotations[0].name}",
            ),
        ),
    )


def test_a_delivery_runs_the_engine_as_the_installation_with_policies_from_the_default_branch(
    tmp_path: Path,
    private_key: str,
    github: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(
        registry,
        "FEATURES",
        {
            "triage": registry.Feature(
                "triage", "probe", 10, probe_collect, probe_plan, registry.get("triage").routes
            )
        },
    )
    PROBED.clear()
    base = f"https://api.github.com/repos/{REPO}"
    head = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
    github.post(
        "/app/installations/1/access_tokens",
        json=checker.example(("POST", "/app/installations/{installation_id}/access_tokens"))
        | {"token": "ghs_installation_token", "expires_at": "2099-01-01T00:00:00Z"},
        status=201,
    )
    github.get(
        f"{base}/installation",
        json=checker.example(("GET", "/repos/{owner}/{repo}/installation")) | {"id": 1},
    )
    branch = checker.example(("GET", "/repos/{owner}/{repo}/branches/{branch}"), repo=REPO)
    branch["commit"]["sha"] = head
    github.get(f"{base}/branches/master", json=branch)
    github.serve_files(REPO, head, h.shipped_policies())
    github.get(f"{base}/issues/1", json=checker.issue_json(1, repo=REPO))
    github.post(f"{base}/issues/1/comments", json=checker.comment_json(repo=REPO), status=201)

    with serving(private_key, tmp_path) as app:
        port, service = app.port, app.service
        for _ in range(2):  # two deliveries of the same kind: token and policies are reused
            assert _post(port, *_delivery("issues.opened"))[0] == 202
        _wait(lambda: service.health()["processed"] + service.health()["failed"] == 2)
        assert service.health()["failed"] == 0

        # A new commit on the default branch with a broken policy: read at that commit,
        # refused with the file and line, and nothing is written.
        moved = "a5b7c3f1e4d2a5b7c3f1e4d2a5b7c3f1e4d2a5b7"
        github.replace(
            "GET",
            f"{base}/branches/master",
            json=branch | {"commit": branch["commit"] | {"sha": moved}},
        )
        broken = h.shipped_policies()
        broken["policies/oncall.yaml"] += "\nsurprise: true\n"
        github.serve_files(REPO, moved, broken)
        assert _post(port, *_delivery("issues.opened"))[0] == 202
        _wait(lambda: service.health()["failed"] == 1)
    assert PROBED == [(1,), (1,)]
    # Every policy file at each commit in one GraphQL request; no contents GET at all.
    assert github.count("GET", "/contents/") == 0
    reads = github.json_bodies("POST", "/graphql")
    assert len(reads) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "policies/oncall.yaml:" in errors[0] and "surprise" in errors[0]
    assert github.count("POST", "/access_tokens") == 1  # cached until it expires
    assert github.count("GET", "/branches/") == 3  # the default branch's head, per delivery
    # Policies were read once per commit SHA, not once per delivery.
    for read, ref in zip(reads, (head, moved), strict=True):
        expressions = sorted(v for k, v in read["variables"].items() if k.startswith("e"))
        assert expressions == sorted(f"{ref}:policies/{name}.yaml" for name in POLICY_FILES)
    bodies = github.json_bodies("POST", "/issues/1/comments")
    assert len(bodies) == 2 and "<!-- dataface-ops:triage:issue-1 -->" in bodies[0]["body"]
    # The repository's installation is checked as the App (JWT), once; the rest as the
    # installation.
    app_calls = [c for c in github.calls if c.request.url.endswith("/installation")]
    assert len(app_calls) == 1
    assert app_calls[0].request.headers["Authorization"].startswith("Bearer ")
    issue_calls = [c for c in github.calls if "/repos/" in c.request.url and c not in app_calls]
    assert all(
        c.request.headers["Authorization"] == "token ghs_installation_token" for c in issue_calls
    )


def test_pull_request_webhooks_route_like_pull_request_target() -> None:
    from automation.events import event_from_json
    from automation.routing import route

    for name, features in [
        ("pull_request.opened", ("ownership", "reviews")),
        ("pull_request.closed", ("release",)),
    ]:
        event = event_from_json("pull_request", json.dumps(webhook_payload(name)))
        assert route(webhook.actions_view(event)).features == features


def test_json_logs_carry_the_delivery_id_and_never_the_secret(
    tmp_path: Path, private_key: str, github: Any
) -> None:
    import io

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(webhook.JsonFormatter())
    logger = logging.getLogger("dataface_ops.webhook")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    good = _delivery("issues.opened")
    try:
        with serving(private_key, tmp_path, processor=Recorder()) as app:
            port, service = app.port, app.service
            _post(port, *_wrong_secret())
            _post(port, *good)
            _wait(lambda: service.health()["processed"] == 1)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert {"refused: bad signature", "accepted", "processed in"} <= {
        line["msg"].split(" 0.")[0] for line in lines
    }
    good_id = good[1]["X-GitHub-Delivery"]
    assert [line["status"] for line in lines if line.get("delivery") == good_id] == [
        202,
        "processed",
    ]
    assert all(line.get("delivery") and line["level"] for line in lines)
    assert SECRET not in stream.getvalue()
    assert SECRET not in repr(_config(private_key, Path("."))) and "PRIVATE KEY" not in repr(
        _config(private_key, Path("."))
    )


def test_serve_needs_its_secrets_and_says_which(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from automation import cli

    for key in (
        "DATAFACE_OPS_WEBHOOK_SECRET",
        "DATAFACE_OPS_APP_ID",
        "DATAFACE_OPS_APP_PRIVATE_KEY",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATAFACE_OPS_APP_ID", "4242")
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: serve needs DATAFACE_OPS_WEBHOOK_SECRET, DATAFACE_OPS_APP_PRIVATE_KEY (or _FILE)"
    ]


def test_serve_with_a_malformed_private_key_says_so_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from automation import cli

    monkeypatch.delenv("DATAFACE_OPS_APP_PRIVATE_KEY_FILE", raising=False)
    monkeypatch.setenv("DATAFACE_OPS_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("DATAFACE_OPS_APP_ID", "4242")
    monkeypatch.setenv("DATAFACE_OPS_APP_PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----\nsecretish")
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: the App's private key (DATAFACE_OPS_APP_PRIVATE_KEY or _FILE) is not a PEM "
        "RSA private key"
    ]


def test_the_bot_login_is_read_from_get_app_with_the_apps_jwt(
    private_key: str, github: Any
) -> None:
    app = checker.example(("GET", "/app")) | {"slug": "dataface-ops"}
    github.get("/app", json=app)
    assert webhook.own_bot_login(_config(private_key, Path("."))) == "dataface-ops[bot]"
    (call,) = github.calls
    # As the App itself: a bearer JWT, not an installation token.
    assert (call.request.headers.get("Authorization") or "").startswith("Bearer ey")


def test_serve_that_cannot_reach_the_api_at_start_says_so_in_one_line(
    private_key: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from automation import cli

    # A port nobody listens on: the GET /app at start really cannot connect (no mock).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = f"http://127.0.0.1:{port}/api/v3"
    monkeypatch.delenv("DATAFACE_OPS_BOT_LOGIN", raising=False)
    monkeypatch.delenv("DATAFACE_OPS_APP_PRIVATE_KEY_FILE", raising=False)
    monkeypatch.setenv("DATAFACE_OPS_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("DATAFACE_OPS_APP_ID", "4242")
    monkeypatch.setenv("DATAFACE_OPS_APP_PRIVATE_KEY", private_key)
    monkeypatch.setenv("DATAFACE_OPS_NO_PACING", "1")
    monkeypatch.setenv("GITHUB_API_URL", api)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        assert cli.main(["serve"]) == 2
    finally:  # serve configured JSON logging on the root logger
        root.handlers[:] = handlers
        root.setLevel(level)
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: cannot reach {api} to read the App (GET /app): "
        "ConnectionError; check --api-url or GITHUB_API_URL"
    )


def test_serve_with_a_redis_that_does_not_answer_says_so_in_one_line(
    private_key: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from automation import cli

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.delenv("DATAFACE_OPS_APP_PRIVATE_KEY_FILE", raising=False)
    monkeypatch.setenv("DATAFACE_OPS_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("DATAFACE_OPS_APP_ID", "4242")
    monkeypatch.setenv("DATAFACE_OPS_APP_PRIVATE_KEY", private_key)
    url = f"redis://:hunter2@127.0.0.1:{port}/0"
    assert cli.main(["serve", "--redis-url", url]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "error: cannot reach the queue's Redis/Valkey server at 127.0.0.1: ConnectionError"
    ]
    assert "hunter2" not in err


def test_serve_config_from_the_environment(private_key: str, tmp_path: Path) -> None:
    import argparse

    from automation.commands.serve import config_from_env

    key_file = tmp_path / "app.pem"
    key_file.write_text(private_key)
    args = argparse.Namespace(api_url=None, dry_run=None, workers=3, queue=None, redis_url=None)
    config = config_from_env(
        args,
        {
            "DATAFACE_OPS_WEBHOOK_SECRET": SECRET,
            "DATAFACE_OPS_APP_ID": "4242",
            "DATAFACE_OPS_APP_PRIVATE_KEY_FILE": str(key_file),
            "DATAFACE_OPS_BOT_LOGIN": "dataface-ops[bot]",
            "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
            "DATAFACE_OPS_DRY_RUN": "1",
            "DATAFACE_OPS_QUEUE": "/var/lib/dataface-ops/queue.db",
            "DATAFACE_OPS_REDIS_URL": "redis://queue.internal:6379/0",
        },
    )
    assert (config.app_id, config.api_url, config.workers, config.queue_path) == (
        "4242",
        "https://ghe.example.com/api/v3",
        3,
        "/var/lib/dataface-ops/queue.db",
    )
    assert config.redis_url == "redis://queue.internal:6379/0"
    assert config.private_key == private_key and config.dry_run and config.bot_login


def test_cli_help_does_not_import_the_app_stack() -> None:
    import subprocess
    import sys

    code = (
        "import sys, automation.cli as c\n"
        "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('starlette', 'uvicorn', 'github', 'jinja2', 'pydantic')"
        " if m in sys.modules]\n"
        "print('heavy=' + ','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.stdout.strip().splitlines()[-1] == "heavy="


@pytest.mark.parametrize(
    "header",
    ["", "sha256=", "sha256", "sha1=abc", "sha256=zz", "sha256=é" * 3, "SHA256=00"],
)
def test_verify_signature_refuses_anything_but_the_right_sha256(header: str) -> None:
    body = b'{"zen": "Keep it logically awesome."}'
    assert not webhook.verify_signature(SECRET.encode(), body, header)
    assert webhook.verify_signature(SECRET.encode(), body, sign(SECRET.encode(), body))


def test_a_review_delivery_runs_the_registered_ownership_feature_dry(
    tmp_path: Path, private_key: str, github: Any
) -> None:
    from tests.test_runtime_workflows import REAL_FEATURES, _github_answers_from_its_examples

    if "ownership" not in REAL_FEATURES:
        pytest.skip("ownership is not registered yet")
    base = f"https://api.github.com/repos/{REPO}"
    head = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
    github.post(
        "/app/installations/1/access_tokens",
        json=checker.example(("POST", "/app/installations/{installation_id}/access_tokens"))
        | {"token": "ghs_installation_token", "expires_at": "2099-01-01T00:00:00Z"},
        status=201,
    )
    github.get(
        f"{base}/installation",
        json=checker.example(("GET", "/repos/{owner}/{repo}/installation")) | {"id": 1},
    )
    branch = checker.example(("GET", "/repos/{owner}/{repo}/branches/{branch}"), repo=REPO)
    github.get(
        f"{base}/branches/master", json=branch | {"commit": branch["commit"] | {"sha": head}}
    )
    github.serve_files(REPO, head, h.shipped_policies())
    _github_answers_from_its_examples(github, REPO)  # every other read: GitHub's own examples

    with serving(private_key, tmp_path, dry_run=True) as app:
        port, service = app.port, app.service
        assert _post(port, *_delivery("pull_request_review.submitted"))[0] == 202
        _wait(lambda: service.health()["processed"] + service.health()["failed"] == 1)
    assert service.health()["failed"] == 0
    assert [c.request.method for c in github.writes()] == ["POST"]  # the installation token
    assert github.count("GET", "/pulls/2") >= 1  # the subject, read as the installation

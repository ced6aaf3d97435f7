"""Issue 13's six cases, each seen on the old app: no lost delivery, no cross-talk, a hard edge."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from automation import features as registry
from automation.actions import Plan, UpsertComment
from automation.markers import marker
from automation.snapshot.models import Snapshot
from tests import app_harness as h
from tests.github_api import checker
from tests.github_api.webhooks import webhook_payload


class Recorder:
    """A processor that records delivery ids, optionally held at a gate."""

    def __init__(self, gate: threading.Event | None = None, fail_first: Exception | None = None):
        self.gate = gate
        self.fail_first = fail_first
        self.ids: list[str] = []
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, delivery: Any) -> None:
        with self.lock:
            self.calls += 1
            failing = self.fail_first is not None and self.calls == 1
        if self.gate is not None:
            assert self.gate.wait(30)
        if failing:
            assert self.fail_first is not None
            raise self.fail_first
        with self.lock:
            self.ids.append(delivery.id)


# --- case 1: concurrent deliveries must not send each other's requests ---------------------

SEEN: list[tuple[int, int, object]] = []
SEEN_LOCK = threading.Lock()


def probe_collect(repo: Any, policies: Any, numbers: Any, now: Any) -> Snapshot:
    """Read the subject (GET /repos/{o}/{r}/issues/{n}) and note which client read it."""
    asked = numbers[0]
    got = repo.get_issue(asked).number
    with SEEN_LOCK:
        SEEN.append((asked, got, repo._requester))  # kept alive: ids are not reused
    return Snapshot(repo=h.REPO, taken_at=now, issues=())


def probe_plan(policies: Any, snapshot: Snapshot, now: Any) -> Plan:
    """Comment on the subject this thread read."""
    ident = threading.get_ident()
    with SEEN_LOCK:
        number = PLANNED[ident]
    key = marker("triage", f"issue-{number}")
    return Plan("triage", (UpsertComment(reason="probe", number=number, marker=key, body=key),))


PLANNED: dict[int, int] = {}


def _planned_collect(repo: Any, policies: Any, numbers: Any, now: Any) -> Snapshot:
    snapshot = probe_collect(repo, policies, numbers, now)
    with SEEN_LOCK:
        PLANNED[threading.get_ident()] = numbers[0]
    return snapshot


@pytest.mark.usefixtures("backend")
def test_case1_concurrent_deliveries_each_read_and_write_their_own_subject(
    private_key: str, github: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(
        registry,
        "FEATURES",
        {
            "triage": registry.Feature(
                "triage", "probe", 10, _planned_collect, probe_plan, registry.get("triage").routes
            )
        },
    )
    SEEN.clear()
    h.mock_installation(github)
    base = re.escape(f"https://api.github.com/repos/{h.REPO}")

    def issue(request: Any) -> tuple[int, dict[str, str], str]:
        number = int(request.url.rsplit("/", 1)[-1])
        time.sleep(0.002)  # a network's worth of delay between request() and getresponse()
        return 200, {}, json.dumps(checker.issue_json(number, repo=h.REPO))

    github.add_callback("GET", re.compile(base + r"/issues/\d+$"), callback=issue)
    github.post(
        re.compile(base + r"/issues/\d+/comments$"),
        json=checker.comment_json(repo=h.REPO),
        status=201,
    )
    numbers = list(range(1, 41))
    deliveries = []
    for n in numbers:
        payload = webhook_payload("issues.opened")
        payload["issue"] = payload["issue"] | {"number": n}
        payload["installation"] = {"id": 1}
        deliveries.append(h.signed(payload, "issues"))
    with h.running(private_key, tmp_path, workers=4) as app:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda d: h.post(app.port, *d), deliveries))
        assert {status for status, _ in answers} == {202}
        h.wait(lambda: sum(app.counts().values()) == len(numbers), timeout=60)
    assert app.counts()["failed"] == 0
    assert sorted(asked for asked, _, _ in SEEN) == numbers
    assert [(asked, got) for asked, got, _ in SEEN if asked != got] == []
    # One client per delivery: no HTTP state shared between concurrent deliveries.
    assert len({id(client) for _, _, client in SEEN}) == len(numbers)
    posted = sorted(
        int(c.request.url.split("/")[-2])
        for c in github.calls
        if c.request.method == "POST" and c.request.url.endswith("/comments")
    )
    assert posted == numbers
    for call in github.calls:
        if call.request.method == "POST" and call.request.url.endswith("/comments"):
            number = call.request.url.split("/")[-2]
            assert f"issue-{number} " in json.loads(call.request.body)["body"] + " "


# --- case 2: accepted, then lost -----------------------------------------------------------


@pytest.mark.usefixtures("backend")
def test_case2_a_delivery_whose_processing_hits_a_rate_limit_is_retried_after_the_reset(
    private_key: str, tmp_path: Path
) -> None:
    from github import RateLimitExceededException

    reset = int(time.time()) + 1
    limited = RateLimitExceededException(
        403,
        {"message": "API rate limit exceeded"},
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    )
    recorder = Recorder(fail_first=limited)
    body, headers = h.delivery("issues.opened")
    with h.running(private_key, tmp_path, processor=recorder) as app:
        assert h.post(app.port, body, headers) == (202, {"ok": "accepted"})
        h.wait(lambda: recorder.ids == [headers["X-GitHub-Delivery"]], timeout=20)
        assert time.time() >= reset  # not before the limit was reset
    assert recorder.calls == 2


@pytest.mark.usefixtures("backend")
def test_case2_a_crash_in_processing_is_retried_with_backoff(
    private_key: str, tmp_path: Path
) -> None:
    recorder = Recorder(fail_first=RuntimeError("worker crashed"))
    body, headers = h.delivery("issues.opened")
    with h.running(private_key, tmp_path, processor=recorder) as app:
        assert h.post(app.port, body, headers)[0] == 202
        h.wait(lambda: recorder.ids == [headers["X-GitHub-Delivery"]], timeout=20)
    assert recorder.calls == 2


@pytest.mark.usefixtures("backend")
def test_case2_accepted_work_left_at_shutdown_is_done_after_the_restart(
    private_key: str, tmp_path: Path
) -> None:
    gate, gone = threading.Event(), threading.Event()

    def held(delivery: Any) -> None:
        calls.append(delivery.id)
        assert gate.wait(30)
        if gone.is_set():  # the process is gone: nothing it does after the stop counts
            raise RuntimeError("process gone")
        done.append(delivery.id)

    calls: list[str] = []
    done: list[str] = []
    deliveries = [h.delivery("issues.opened") for _ in range(10)]
    shared = h.config(private_key, tmp_path, workers=1, shutdown_timeout=0.5)
    with h.running(private_key, tmp_path, processor=held, config=shared) as app:
        for body, headers in deliveries:
            assert h.post(app.port, body, headers)[0] == 202
        h.wait(lambda: len(calls) == 1)
    gone.set()
    gate.set()
    after = Recorder()
    with h.running(private_key, tmp_path, processor=after, config=shared):
        expected = {headers["X-GitHub-Delivery"] for _, headers in deliveries}
        h.wait(lambda: set(done) | set(after.ids) == expected, timeout=30)
    assert sorted(done + after.ids) == sorted(expected)  # each exactly once


# --- case 3: redelivery finds every failed delivery, not the newest 1,000 -------------------


def test_case3_redelivery_finds_failed_deliveries_behind_a_thousand_newer_ones(
    private_key: str, github: Any, tmp_path: Path
) -> None:
    template = checker.example(("GET", "/app/hook/deliveries"))[0]
    now = time.time()

    def item(n: int, status: int, age: float) -> dict[str, Any]:
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - age))
        return template | {
            "id": 10_000 - n,
            "guid": str(uuid.UUID(int=n)),
            "delivered_at": at,
            "status_code": status,
            "status": "OK" if status == 200 else "Service Unavailable",
            "redelivery": False,
        }

    newest = [item(n, 200, 60 + n) for n in range(1, 1101)]
    failed = [item(n, 503, 2000 + n) for n in range(2001, 2036)]
    everything = newest + failed
    pages = [everything[i : i + 100] for i in range(0, len(everything), 100)]

    def page(request: Any) -> tuple[int, dict[str, str], str]:
        query = dict(p.split("=", 1) for p in request.url.split("?", 1)[1].split("&"))
        wanted = [
            d for d in everything if query.get("status") != "failure" or d["status_code"] >= 400
        ]
        chunks = [wanted[i : i + 100] for i in range(0, len(wanted), 100)]
        n = int(query.get("cursor", "0"))
        headers = {}
        if n + 1 < len(chunks):
            link = f"https://api.github.com/app/hook/deliveries?per_page=100&cursor={n + 1}"
            if "status" in query:
                link += f"&status={query['status']}"
            headers["Link"] = f'<{link}>; rel="next"'
        return 200, headers, json.dumps(chunks[n])

    assert len(pages) == 12
    github.add_callback("GET", re.compile(r"https://api\.github\.com/app/hook/deliveries"), page)
    github.post(
        re.compile(r"https://api\.github\.com/app/hook/deliveries/\d+/attempts"),
        status=202,
        json={},
    )
    h.redeliver_failed(private_key, tmp_path, {d["guid"] for d in failed}, since=now - 86_400)
    attempted = {
        int(c.request.url.split("/")[-2]) for c in github.calls if c.request.method == "POST"
    }
    assert attempted == {d["id"] for d in failed}


# --- case 4: slow clients --------------------------------------------------------------------


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    return sock


def _closed_within(sock: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing, or None if it kept the connection open."""
    sock.settimeout(seconds)
    data = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return data
            data += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        return data


def _answer_within(sock: socket.socket, seconds: float) -> bytes | None:
    """The status line and headers the server sent, or None if none came in time."""
    sock.settimeout(seconds)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except TimeoutError:
        return None
    return data


def test_case4_a_client_that_never_finishes_its_headers_is_cut_off(
    private_key: str, tmp_path: Path
) -> None:
    with h.running(private_key, tmp_path, processor=Recorder(), header_timeout=0.5) as app:
        sock = _connect(app.port)
        sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\n")
        assert _closed_within(sock, 3) is not None
        sock.close()


def test_case4_a_kept_alive_connection_must_send_its_next_headers_in_time(
    private_key: str, tmp_path: Path
) -> None:
    body, headers = h.delivery("issues.opened")
    with h.running(private_key, tmp_path, processor=Recorder(), header_timeout=0.5) as app:
        sock = _connect(app.port)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(
            b"POST /webhook HTTP/1.1\r\nHost: x\r\n"
            + f"Content-Length: {len(body)}\r\n{head}\r\n".encode()
            + body
        )
        answer = _answer_within(sock, 3)
        assert answer is not None and answer.startswith(b"HTTP/1.1 202")
        time.sleep(0.2)
        sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\n")  # and no more
        assert _closed_within(sock, 3) is not None
        sock.close()


def test_case4_a_body_that_stalls_gets_408(private_key: str, tmp_path: Path) -> None:
    body, headers = h.delivery("issues.opened")
    with h.running(private_key, tmp_path, processor=Recorder(), body_timeout=0.5) as app:
        sock = _connect(app.port)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(
            b"POST /webhook HTTP/1.1\r\nHost: x\r\n"
            + f"Content-Length: {len(body)}\r\n{head}\r\n".encode()
            + body[:100]
        )
        answer = _closed_within(sock, 3)
        sock.close()
    assert answer is not None and answer.startswith(b"HTTP/1.1 408")


def test_case4_connections_beyond_the_cap_are_closed_and_real_deliveries_still_get_in(
    private_key: str, tmp_path: Path
) -> None:
    recorder = Recorder()
    with h.running(
        private_key, tmp_path, processor=recorder, max_connections=8, header_timeout=1.0
    ) as app:
        idle = [_connect(app.port) for _ in range(20)]
        time.sleep(0.2)
        closed = [s for s in idle if _closed_within(s, 0.2) is not None]
        assert len(closed) >= 12  # everything beyond the cap, at once
        time.sleep(1.2)  # the header timeout frees the rest
        body, headers = h.delivery("issues.opened")
        assert h.post(app.port, body, headers)[0] == 202
        for s in idle:
            s.close()


def test_case4_a_client_that_disconnects_mid_body_gets_one_line_not_a_traceback(
    private_key: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    body, headers = h.delivery("issues.opened")
    with (
        caplog.at_level(logging.INFO),
        h.running(private_key, tmp_path, processor=Recorder()) as app,
    ):
        sock = _connect(app.port)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(
            b"POST /webhook HTTP/1.1\r\nHost: x\r\n"
            + f"Content-Length: {len(body)}\r\n{head}\r\n".encode()
            + body[:100]
        )
        time.sleep(0.2)
        sock.close()
        time.sleep(0.5)
    assert "Exception in ASGI application" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    refusals = [r for r in caplog.records if getattr(r, "status", None) == 400]
    assert [r.getMessage() for r in refusals] == ["refused: client disconnected mid-body"]


def test_case4_a_slow_client_does_not_hold_the_shutdown(private_key: str, tmp_path: Path) -> None:
    context = h.running(
        private_key, tmp_path, processor=Recorder(), body_timeout=60, shutdown_timeout=1
    )
    app = context.__enter__()
    sock = _connect(app.port)
    sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n")
    sock.sendall(b"X-Hub-Signature-256: sha256=00\r\n\r\n{")
    stop = threading.Event()

    def trickle() -> None:  # one byte every 50 ms, as slowloris does
        while not stop.wait(0.05):
            try:
                sock.sendall(b" ")
            except OSError:
                return

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    context.__exit__(None, None, None)
    took = time.monotonic() - started
    stop.set()
    thread.join()
    sock.close()
    assert took < 5


# --- case 5: unauthenticated memory amplification -------------------------------------------


def test_case5_unverified_bodies_read_at_once_are_capped(private_key: str, tmp_path: Path) -> None:
    size = 600_000
    with h.running(
        private_key, tmp_path, processor=Recorder(), unverified_budget=1_000_000, body_timeout=10
    ) as app:
        holders = []
        for _ in range(1):
            sock = _connect(app.port)
            sock.sendall(
                b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256=00\r\n"
                + f"X-GitHub-Event: issues\r\nContent-Length: {size}\r\n\r\n".encode()
                + b"x" * 1000
            )
            holders.append(sock)
        time.sleep(0.2)
        sock = _connect(app.port)
        started = time.monotonic()
        sock.sendall(
            b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256=00\r\n"
            + f"X-GitHub-Event: issues\r\nContent-Length: {size}\r\n\r\n".encode()
        )
        answer = _answer_within(sock, 5)
        assert answer is not None and answer.startswith(b"HTTP/1.1 503"), answer
        assert time.monotonic() - started < 4
        sock.close()
        # A small real delivery still fits beside the one held.
        body, headers = h.delivery("issues.opened")
        assert h.post(app.port, body, headers)[0] == 202
        for s in holders:
            s.close()


# --- case 6: signed payloads are checked in shape -------------------------------------------


def _issue_payload(**issue: Any) -> dict[str, Any]:
    payload = webhook_payload("issues.opened")
    payload["issue"] = payload["issue"] | issue
    payload["installation"] = {"id": 1}
    return payload


def _without_installation() -> dict[str, Any]:
    payload = webhook_payload("issues.opened")
    payload.pop("installation", None)
    return payload


def _repo_named(name: str) -> dict[str, Any]:
    payload = _issue_payload()
    payload["repository"] = payload["repository"] | {"full_name": name}
    return payload


@pytest.mark.parametrize(
    "payload",
    [
        _issue_payload(number=True),
        _issue_payload(number=0),
        _issue_payload(number=-3),
        _issue_payload(number=2**63),
        _without_installation(),
        _repo_named("../../orgs/evil"),
        _repo_named("Codertocat/Hello-World/../x"),
        _repo_named("Codertocat"),
    ],
    ids=[
        "number-true",
        "number-zero",
        "number-negative",
        "number-huge",
        "no-installation",
        "dotdot-name",
        "dotdot-suffix",
        "no-slash",
    ],
)
def test_case6_signed_payloads_of_the_wrong_shape_get_400_and_are_not_queued(
    payload: dict[str, Any], private_key: str, tmp_path: Path, github: Any
) -> None:
    recorder = Recorder()
    with h.running(private_key, tmp_path, processor=recorder) as app:
        status, answer = h.post(app.port, *h.signed(payload, "issues"))
        time.sleep(0.2)
    assert status == 400, answer
    assert recorder.calls == 0
    assert len(github.calls) == 0


def test_case6_a_repository_outside_the_installation_is_not_acted_on(
    private_key: str, github: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The repository belongs to installation 2; the payload claims installation 1.
    github.get(
        f"https://api.github.com/repos/{h.REPO}/installation",
        json=checker.example(("GET", "/repos/{owner}/{repo}/installation")) | {"id": 2},
    )
    with caplog.at_level(logging.INFO), h.running(private_key, tmp_path) as app:
        assert h.post(app.port, *h.delivery("issues.opened"))[0] == 202
        h.wait(lambda: sum(app.counts().values()) == 1)
    assert [c.request.url for c in github.calls] == [
        f"https://api.github.com/repos/{h.REPO}/installation"
    ]
    assert app.counts() == {"processed": 0, "failed": 1}


def test_case6_a_repository_the_app_is_not_installed_on_fails_at_once(
    private_key: str, github: Any, tmp_path: Path
) -> None:
    github.get(
        f"https://api.github.com/repos/{h.REPO}/installation",
        status=404,
        json={"message": "Not Found", "documentation_url": "https://docs.github.com/rest"},
    )
    with h.running(private_key, tmp_path) as app:
        assert h.post(app.port, *h.delivery("issues.opened"))[0] == 202
        h.wait(lambda: sum(app.counts().values()) == 1)
        time.sleep(0.5)
    assert app.counts() == {"processed": 0, "failed": 1}
    assert len(github.calls) == 1  # not retried: no installation, nothing to retry for

"""Benchmark `dataface-ops serve` under a SIGKILL mid-burst, beside an app that only verifies.

Run on demand (not a test):

    python benchmarks/bench_webhook.py [--deliveries 500] [--clients 32] [--kill-at 250]
                                       [--no-fsync] [--redis redis://127.0.0.1:6379/0]

1. The real app (uvicorn, the huey queue on SQLite, 4 workers, the engine processor) runs in a
   process of its own against a mocked GitHub (the test suite's OpenAPI-checked mock, with
   comments kept in a SQLite file so they outlive the process). 32 clients send signed
   `issues.opened` deliveries (the @octokit/webhooks-examples payload, 50 issues), one
   connection each, as GitHub does. When `--kill-at` have been accepted, the server gets
   SIGKILL and is started again at once; a delivery refused meanwhile is sent again once the
   server answers (as the redelivery sweep would have GitHub do).
2. Every accepted delivery must be processed, with exactly one comment POST (its marker
   carries the delivery id): a delivery cut off mid-way is redone, and the redo finds its
   comment by marker and edits it instead of posting a second one.
3. The same deliveries go to a minimal app that only checks the signature and answers 202.

Figures: accepted per second, p50/p99 time to acknowledge, time to drain after the burst.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret"
REPO = "Codertocat/Hello-World"
HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
ISSUES = 50

# --- the server side (runs in the child process) ---------------------------------------------

# The delivery each worker thread is on: the stand-in planner's marker carries it.
_CURRENT: dict[int, tuple[str, int, int | None]] = {}


def stand_in_collect(repo: Any, policies: Any, numbers: Any, now: Any) -> Any:
    """Read the issue and its comments (two GETs), and find our comment by its marker."""
    from automation.logs import current_context
    from automation.snapshot.models import Snapshot

    delivery = current_context()["delivery"]
    number = numbers[0]
    repo.get_issue(number).title  # noqa: B018
    key = f"<!-- dataface-ops:bench:{delivery} -->"
    found = None
    for comment in repo.get_issue(number).get_comments():
        if comment.body.startswith(key):
            found = comment.id
    _CURRENT[threading.get_ident()] = (delivery, number, found)
    return Snapshot(repo=REPO, taken_at=now)


def stand_in_plan(policies: Any, snapshot: Any, now: Any) -> Any:
    """One comment per delivery: POST, or PATCH when a redo finds it already there."""
    from automation.actions import Plan, UpsertComment

    delivery, number, found = _CURRENT.pop(threading.get_ident())
    key = f"<!-- dataface-ops:bench:{delivery} -->"
    action = UpsertComment(
        reason="bench", number=number, marker=key, body=f"{key} seen", comment_id=found
    )
    return Plan("triage", (action,))


def _state(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("pragma journal_mode=wal")
    db.execute("create table if not exists comments (id integer primary key, issue int, body text)")
    db.execute("create table if not exists calls (method text, path text, pid int)")
    return db


def _mock_github(state_path: str) -> Any:
    import re

    from tests.github_api import checker
    from tests.github_api.fixtures import GitHubMock

    lock = threading.Lock()
    db = _state(state_path)
    mock = GitHubMock()
    base = f"https://api.github.com/repos/{REPO}"

    def note(request: Any) -> None:
        path = request.url.split("api.github.com", 1)[-1]
        with lock:
            db.execute("insert into calls values (?, ?, ?)", (request.method, path, os.getpid()))

    def listed(request: Any) -> tuple[int, dict[str, str], str]:
        note(request)
        number = int(request.url.split("/issues/")[1].split("/")[0])
        with lock:
            rows = db.execute("select id, body from comments where issue = ?", (number,))
            body = [
                checker.comment_json(i, body=b, issue_number=number, repo=REPO) for i, b in rows
            ]
        return 200, {}, json.dumps(body)

    def created(request: Any) -> tuple[int, dict[str, str], str]:
        note(request)
        number = int(request.url.split("/issues/")[1].split("/")[0])
        text = json.loads(request.body)["body"]
        with lock:
            row = db.execute("insert into comments (issue, body) values (?, ?)", (number, text))
            ident = int(row.lastrowid or 0)
        answer = checker.comment_json(ident, body=text, issue_number=number, repo=REPO)
        return 201, {}, json.dumps(answer)

    def edited(request: Any) -> tuple[int, dict[str, str], str]:
        note(request)
        ident = int(request.url.rsplit("/", 1)[1])
        text = json.loads(request.body)["body"]
        with lock:
            db.execute("update comments set body = ? where id = ?", (text, ident))
        return 200, {}, json.dumps(checker.comment_json(ident, body=text, repo=REPO))

    def fixed(payload: Any, status: int = 200) -> Any:
        def answer(request: Any) -> tuple[int, dict[str, str], str]:
            note(request)
            return status, {}, json.dumps(payload)

        return answer

    def issue(request: Any) -> tuple[int, dict[str, str], str]:
        note(request)
        number = int(request.url.rsplit("/", 1)[1])
        return 200, {}, json.dumps(checker.issue_json(number, repo=REPO))

    token = checker.example(("POST", "/app/installations/{installation_id}/access_tokens"))
    token |= {"token": "ghs_bench", "expires_at": "2099-01-01T00:00:00Z"}
    mock.add_callback("POST", "/app/installations/1/access_tokens", fixed(token, 201))
    installation = checker.example(("GET", "/repos/{owner}/{repo}/installation")) | {"id": 1}
    mock.add_callback("GET", f"{base}/installation", fixed(installation))
    branch = checker.example(("GET", "/repos/{owner}/{repo}/branches/{branch}"), repo=REPO)
    branch["commit"]["sha"] = HEAD
    mock.add_callback("GET", f"{base}/branches/master", fixed(branch))
    for path in sorted((ROOT / "policies").glob("*.yaml")):
        name = f"policies/{path.name}"
        text = path.read_text(encoding="utf-8")
        content = {
            "type": "file",
            "encoding": "base64",
            "size": len(text.encode()),
            "name": path.name,
            "path": name,
            "content": base64.b64encode(text.encode()).decode(),
            "sha": "3d21ec53a331a6f037a91c368710b99387d012c1",
            "url": f"{base}/contents/{name}",
            "git_url": None,
            "html_url": None,
            "download_url": None,
            "_links": {"self": f"{base}/contents/{name}", "git": None, "html": None},
        }
        mock.add_callback("GET", re.compile(re.escape(f"{base}/contents/{name}")), fixed(content))
    escaped = re.escape(base)
    mock.add_callback("GET", re.compile(escaped + r"/issues/\d+$"), issue)
    mock.add_callback("GET", re.compile(escaped + r"/issues/\d+/comments(\?.*)?$"), listed)
    mock.add_callback("POST", re.compile(escaped + r"/issues/\d+/comments$"), created)
    mock.add_callback("PATCH", re.compile(escaped + r"/issues/comments/\d+$"), edited)
    return mock


def serve(args: argparse.Namespace) -> int:
    """The real app against the mock, until killed."""
    import uvicorn

    from automation import features as registry
    from automation.app.config import AppConfig
    from automation.app.intake import create_app, server_config
    from automation.app.service import build_service
    from tests.app_fixtures import pem_private_key

    triage = registry.get("triage")
    registry.FEATURES.clear()
    registry.FEATURES["triage"] = registry.Feature(
        "triage", "bench", 10, stand_in_collect, stand_in_plan, triage.routes, triage.sweeps
    )
    mock = _mock_github(args.state)
    mock.start()
    config = AppConfig(
        webhook_secret=SECRET,
        app_id="4242",
        private_key=pem_private_key(),
        bot_login="dataface-ops[bot]",
        queue_path=args.queue,
        redis_url=args.redis or None,
        queue_name=args.name,
        workers=args.workers,
        heartbeat=1.0,
        queue_fsync=not args.no_fsync,
        redeliver_interval=0,
        pacing=False,
    )
    app = create_app(build_service(config))
    uvicorn.Server(server_config(config, app, host="127.0.0.1", port=args.port)).run()
    return 0


def serve_minimal(args: argparse.Namespace) -> int:
    """An app that only verifies the signature and answers 202 (the floor to compare with)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from automation.app.intake import verify_signature

    async def webhook(request: Request) -> Response:
        body = await request.body()
        if not verify_signature(
            SECRET.encode(), body, request.headers.get("x-hub-signature-256", "")
        ):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        return JSONResponse({"ok": "accepted"}, status_code=202)

    app = Starlette(routes=[Route("/webhook", webhook, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None, access_log=False)
    return 0


# --- the driver --------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(mode: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, __file__, mode, "--port", str(port), *extra],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, f"{mode} died at start"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/readyz")
            conn.getresponse().read()
            conn.close()
            return process
        except OSError:
            assert time.monotonic() < deadline, f"{mode} did not start"
            time.sleep(0.02)


def _deliveries(count: int) -> list[tuple[bytes, dict[str, str]]]:
    from automation.app.intake import sign
    from tests.github_api.webhooks import webhook_payload

    out = []
    for n in range(count):
        payload = webhook_payload("issues.opened")
        payload["issue"] = payload["issue"] | {"number": 1 + n % ISSUES}
        payload["installation"] = {"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(SECRET.encode(), body),
        }
        out.append((body, headers))
    return out


def _post(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/webhook", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def burst(
    port_of: Any, deliveries: list[tuple[bytes, dict[str, str]]], clients: int, on_accept: Any
) -> tuple[list[float], int, float]:
    """Send everything; retry what could not get in. Latencies of 202s, refusals, wall time."""
    latencies: list[float] = []
    refused = 0
    lock = threading.Lock()

    def send(delivery: tuple[bytes, dict[str, str]]) -> None:
        nonlocal refused
        while True:
            try:
                status, took = _post(port_of(), *delivery)
            except (OSError, http.client.HTTPException):
                with lock:
                    refused += 1
                time.sleep(0.05)
                continue
            if status in (200, 202):
                with lock:
                    latencies.append(took)
                on_accept(delivery[1]["X-GitHub-Delivery"], status)
                return
            raise SystemExit(f"unexpected answer {status}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(send, deliveries))
    return latencies, refused, time.perf_counter() - started


def main() -> int:
    """Run both servers and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", default="drive", choices=["drive", "serve", "minimal"])
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--kill-at", type=int, default=250)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--queue", default="")
    parser.add_argument("--state", default="")
    parser.add_argument("--no-fsync", action="store_true", help="SQLite commits without fsync")
    parser.add_argument("--redis", default="", help="queue on this Redis/Valkey server instead")
    parser.add_argument("--name", default=f"bench{uuid.uuid4().hex[:8]}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode == "serve":
        return serve(args)
    if args.mode == "minimal":
        return serve_minimal(args)

    work = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    queue, state = str(work / "queue.db"), str(work / "github.db")
    _state(state).close()
    deliveries = _deliveries(args.deliveries)
    port = _free_port()
    server_args: tuple[str, ...] = ("--queue", queue, "--state", state)
    server_args += ("--workers", str(args.workers), *(("--no-fsync",) if args.no_fsync else ()))
    server_args += ("--redis", args.redis, "--name", args.name) if args.redis else ()
    holder: dict[str, Any] = {"process": _start("serve", port, *server_args)}
    accepted: list[str] = []
    answers: dict[int, int] = {}
    lock = threading.Lock()
    killed_at: list[float] = []

    def on_accept(delivery: str, status: int) -> None:
        with lock:
            answers[status] = answers.get(status, 0) + 1
            if status in (200, 202):  # 200: stored before the kill, its 202 lost
                accepted.append(delivery)
            if len(accepted) == args.kill_at and not killed_at:
                killed_at.append(time.perf_counter())
                holder["process"].send_signal(signal.SIGKILL)
                holder["process"].wait()
                holder["process"] = _start("serve", port, *server_args)
                killed_at.append(time.perf_counter())

    latencies, refused, wall = burst(lambda: port, deliveries, args.clients, on_accept)
    burst_end = time.perf_counter()
    db = _state(state)

    def posted() -> dict[str, int]:
        out: dict[str, int] = {}
        for (body,) in db.execute("select body from comments"):
            key = body.split("bench:", 1)[1].split(" ", 1)[0]
            out[key] = out.get(key, 0) + 1
        return out

    deadline = time.monotonic() + 300
    while set(posted()) < set(accepted) and time.monotonic() < deadline:
        time.sleep(0.05)
    drained = time.perf_counter() - burst_end
    time.sleep(1.0)  # anything late would show now
    comments = posted()
    posts = dict(db.execute("select method, count(*) from calls group by method").fetchall())
    comment_posts = db.execute(
        "select count(*) from calls where method = 'POST' and path like '%/comments'"
    ).fetchone()[0]
    holder["process"].send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        holder["process"].wait(30)

    minimal_port = _free_port()
    minimal = _start("minimal", minimal_port)
    fresh = _deliveries(args.deliveries)
    base_latencies, _, base_wall = burst(lambda: minimal_port, fresh, args.clients, lambda *a: None)
    minimal.send_signal(signal.SIGTERM)
    minimal.wait(30)

    backend = "Redis" if args.redis else "SQLite"
    missing = set(accepted) - set(comments)
    duplicates = {k: n for k, n in comments.items() if n > 1}
    downtime = killed_at[1] - killed_at[0] if len(killed_at) == 2 else 0.0
    print(
        f"deliveries: {args.deliveries} from {args.clients} clients, {ISSUES} issues; SIGKILL "
        f"after {args.kill_at} accepted, restarted at once ({downtime:.2f}s to ready)"
    )
    print(f"answers: {dict(sorted(answers.items()))}; connection refused while down: {refused}")
    print(
        f"accepted: {len(accepted)}; processed (one comment each): "
        f"{len(set(accepted) & set(comments))}; missing: {len(missing)}; "
        f"duplicate comment POSTs: {len(duplicates)}"
    )
    print(
        f"GitHub requests: {sum(posts.values())} {dict(sorted(posts.items()))}; "
        f"comment POSTs: {comment_posts}"
    )
    for name, lat, took in (
        (f"dataface-ops serve ({backend} queue, SIGKILL + restart)", latencies, wall),
        ("minimal app (signature check only)", base_latencies, base_wall),
    ):
        print(
            f"{name}: {len(lat) / took:.0f} accepted/s; to acknowledge p50 "
            f"{statistics.median(lat) * 1000:.1f} ms, p99 {_percentile(lat, 0.99) * 1000:.1f} ms"
        )
    print(f"time to drain after the burst: {drained:.2f}s")
    return 1 if missing or duplicates else 0


if __name__ == "__main__":
    sys.exit(main())

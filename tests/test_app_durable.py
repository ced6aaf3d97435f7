"""The queue survives SIGKILL and SIGTERM, and several machines share one Redis queue.

Each test runs the app in processes of its own (tests/app_child.py), on the embedded SQLite
default and on a real Redis server (started by .ci/run in CI).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("huey")

import itertools

from tests import app_harness as h
from tests.github_api.webhooks import webhook_payload


def _deliveries(count: int, subjects: int = 8) -> list[tuple[bytes, dict[str, str]]]:
    out = []
    for n in range(count):
        payload = webhook_payload("issues.opened")
        payload["issue"] = payload["issue"] | {"number": 1 + n % subjects}
        payload["installation"] = {"id": 1}
        out.append(h.signed(payload, "issues", delivery_id=str(uuid.uuid4())))
    return out


def _queue_args(backend: str, tmp_path: Path) -> list[str]:
    if backend == "redis":
        return ["--redis", h.REDIS_URL or "", "--name", f"t{uuid.uuid4().hex[:12]}"]
    return ["--queue", str(tmp_path / "queue.db")]


def _done(log: Path) -> Counter[str]:
    return Counter(d for kind, d, *_ in h.log_lines(log) if kind == "done")


def test_sigkill_mid_burst_then_restart_processes_every_accepted_delivery(
    backend: str, tmp_path: Path
) -> None:
    log = tmp_path / "processed.log"
    args = [*_queue_args(backend, tmp_path), "--workers", "2", "--hold", "0.05"]
    deliveries = _deliveries(120)
    child = h.Child(log, *args)
    accepted: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()

    def send(delivery: tuple[bytes, dict[str, str]]) -> None:
        status = h.try_post(child.port, *delivery)
        if status == 202:
            with lock:
                accepted.append(delivery[1]["X-GitHub-Delivery"])
                if len(accepted) == 60 and not killed.is_set():
                    killed.set()
                    child.kill()  # mid-burst: deliveries are queued and in flight

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(send, deliveries))
    assert killed.is_set()
    killed_pid = child.process.pid
    before = h.log_lines(log)
    in_flight = {d for kind, d, *_ in before if kind == "start"} - {
        d for kind, d, *_ in before if kind == "done"
    }
    assert len(_done(log)) < len(accepted)  # work was left when the process died

    child = h.Child(log, *args, port=child.port)  # the restart, on the same queue
    try:
        h.wait(lambda: set(_done(log)) >= set(accepted), timeout=60)
        time.sleep(0.5)  # nothing more may come
    finally:
        child.terminate()
    done = _done(log)
    # Every accepted delivery. A few more may be done: stored, then killed before the 202
    # went out (GitHub marks those failed; their redelivery is answered as a duplicate).
    sent = {headers["X-GitHub-Delivery"] for _, headers in deliveries}
    assert set(accepted) <= set(done) <= sent
    assert len(set(done) - set(accepted)) <= 8  # at most one per client connection
    # Done twice only if the kill cut it off mid-way (at most one per worker).
    starts = Counter(d for kind, d, *_ in h.log_lines(log) if kind == "start")
    redone = {d for d, n in starts.items() if n > 1}
    assert redone <= in_flight | {d for d, n in done.items() if n > 1}
    assert len(redone) <= 2
    assert all(pid == killed_pid for kind, d, _, pid, _ in before if d in redone)


def test_sigterm_finishes_running_work_and_the_restart_does_the_rest_once(
    backend: str, tmp_path: Path
) -> None:
    log = tmp_path / "processed.log"
    args = [*_queue_args(backend, tmp_path), "--workers", "1", "--hold", "0.1"]
    args += ["--shutdown-timeout", "2"]
    deliveries = _deliveries(30)
    child = h.Child(log, *args)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda d: h.try_post(child.port, *d), deliveries))
    assert statuses == [202] * len(deliveries)
    took = child.terminate()
    assert took < 10
    first = _done(log)
    assert 0 < len(first) < len(deliveries)  # stopped with work left in the queue
    child = h.Child(log, *args, port=child.port)
    try:
        h.wait(lambda: len(_done(log)) == len(deliveries), timeout=60)
        time.sleep(0.5)
    finally:
        child.terminate()
    assert sorted(_done(log).values()) == [1] * len(deliveries)  # each exactly once
    starts = Counter(d for kind, d, *_ in h.log_lines(log) if kind == "start")
    assert set(starts.values()) == {1}  # nothing was cut off: the running one finished


def _overlaps(lines: list[tuple[str, str, str, int, float]]) -> list[tuple[str, str, str]]:
    """Deliveries of one subject whose processing overlapped in time (any process)."""
    spans: dict[str, list[tuple[float, float, str]]] = {}
    began: dict[str, tuple[float, str]] = {}
    for kind, delivery, subject, _, at in lines:
        if kind == "start":
            began[delivery] = (at, subject)
        elif delivery in began:
            start, subject = began.pop(delivery)
            spans.setdefault(subject, []).append((start, at, delivery))
    bad = []
    for subject, items in spans.items():
        items.sort()
        for (_, end, a), (start, _, b) in itertools.pairwise(items):
            if start < end:
                bad.append((subject, a, b))
    return bad


def test_two_machines_on_one_redis_share_dedup_keep_subject_order_and_recover_each_other(
    redis_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "processed.log"
    args = ["--redis", redis_url, "--name", f"t{uuid.uuid4().hex[:12]}", "--workers", "3"]
    args += ["--hold", "0.03"]
    one, two = h.Child(log, *args), h.Child(log, *args)
    try:
        deliveries = _deliveries(90, subjects=4)

        def send_twice(item: tuple[int, tuple[bytes, dict[str, str]]]) -> list[int | None]:
            n, delivery = item
            first, second = (one, two) if n % 2 else (two, one)
            # GitHub may deliver one GUID twice; here each machine gets it once.
            return [h.try_post(first.port, *delivery), h.try_post(second.port, *delivery)]

        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(send_twice, enumerate(deliveries)))
        assert sorted(sorted(a, key=str) for a in answers) == [[200, 202]] * len(deliveries)
        ids = {headers["X-GitHub-Delivery"] for _, headers in deliveries}
        h.wait(lambda: set(_done(log)) == ids, timeout=60)
        lines = h.log_lines(log)
        assert sorted(_done(log).values()) == [1] * len(ids)  # once, across both machines
        pids: Any = {pid for *_, pid, _ in lines}
        assert pids == {one.process.pid, two.process.pid}  # both machines worked
        assert _overlaps(lines) == []  # one delivery per subject at a time, across machines

        # One machine dies mid-burst; the other finishes its work without a restart.
        more = _deliveries(40, subjects=4)
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda d: h.try_post(one.port, *d), more))
        assert statuses == [202] * len(more)
        one.kill()
        wanted = ids | {headers["X-GitHub-Delivery"] for _, headers in more}
        h.wait(lambda: set(_done(log)) >= wanted, timeout=60)
        assert set(_done(log)) == wanted
        assert _overlaps(h.log_lines(log)) == []
    finally:
        for child in (one, two):
            if child.process.poll() is None:
                child.terminate()


def test_dataface_ops_serve_answers_and_stops_on_sigterm(tmp_path: Path, private_key: str) -> None:
    import os
    import signal
    import subprocess
    import sys

    (tmp_path / "app.pem").write_text(private_key, encoding="utf-8")
    port = h.free_port()
    env = dict(os.environ) | {
        "DATAFACE_OPS_WEBHOOK_SECRET": h.SECRET,
        "DATAFACE_OPS_APP_ID": "4242",
        "DATAFACE_OPS_APP_PRIVATE_KEY_FILE": str(tmp_path / "app.pem"),
        "DATAFACE_OPS_BOT_LOGIN": "dataface-ops[bot]",  # no GET /app at start
        "DATAFACE_OPS_QUEUE": str(tmp_path / "queue.db"),
    }
    env.pop("DATAFACE_OPS_APP_PRIVATE_KEY", None)
    env.pop("DATAFACE_OPS_REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "automation.cli", "serve", "--port", str(port)],
        cwd=h.ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:

        def ready() -> bool:
            assert process.poll() is None, process.communicate()[1].decode()[-2000:]
            try:
                return h.get(port, "/readyz")[0] == 200
            except OSError:
                return False

        h.wait(ready, timeout=30)
        assert h.post(port, *h.delivery("ping")) == (200, {"ok": "pong"})
        assert h.get(port, "/metrics")[0] == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then lets SIGTERM end the process as it would have.
    assert process.returncode in (0, -signal.SIGTERM)
    lines = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    assert "Application shutdown complete." in [line["msg"] for line in lines]
    assert {"msg": "ping", "status": 200} in [
        {k: line.get(k) for k in ("msg", "status")} for line in lines
    ]
    assert (tmp_path / "queue.db").exists()

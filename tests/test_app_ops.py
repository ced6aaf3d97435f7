"""Operability of the webhook app: health, readiness, metrics, log lines, the redelivery sweep."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from responses.matchers import query_param_matcher

pytest.importorskip("huey")

from automation.app.logs import JsonFormatter
from automation.app.queue import Delivery, delete_if
from automation.logs import ContextFilter
from tests import app_harness as h
from tests.github_api import checker


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


@pytest.mark.usefixtures("backend")
def test_health_readiness_and_metrics_count_the_queue_and_its_outcomes(
    private_key: str, tmp_path: Path
) -> None:
    from automation.app.queue import Permanent

    gate = threading.Event()
    seen: list[str] = []

    def processor(delivery: Delivery) -> None:
        seen.append(delivery.id)
        if delivery.event.number == 2:
            raise Permanent("bad policy")
        if delivery.event.number == 3 and seen.count(delivery.id) == 1:
            raise RuntimeError("GitHub answered 502")
        assert gate.wait(30)

    def issue(number: int) -> tuple[bytes, dict[str, str]]:
        payload = h.webhook_payload("issues.opened")
        payload["issue"] = payload["issue"] | {"number": number}
        payload["installation"] = {"id": 1}
        return h.signed(payload, "issues")

    with h.running(private_key, tmp_path, processor=processor, workers=1) as app:
        assert h.get(app.port, "/healthz")[0] == 200
        assert json.loads(h.get(app.port, "/readyz")[1]) == {"ready": True}
        for number in (1, 1, 2, 3):
            assert h.post(app.port, *issue(number))[0] == 202
        time.sleep(0.3)  # the first is held; the rest wait behind it
        status, text = h.get(app.port, "/metrics")
        assert status == 200
        metrics = text.decode()
        assert _metric(metrics, "dataface_ops_webhook_queue_depth") == 4
        assert _metric(metrics, "dataface_ops_webhook_queue_age_seconds") >= 0.3
        gate.set()
        h.wait(lambda: app.counts() == {"processed": 3, "failed": 1})
        metrics = h.get(app.port, "/metrics")[1].decode()
    assert _metric(metrics, "dataface_ops_webhook_processed_total") == 3
    assert _metric(metrics, "dataface_ops_webhook_failed_total") == 1
    assert _metric(metrics, "dataface_ops_webhook_retried_total") == 1
    assert _metric(metrics, "dataface_ops_webhook_accepted_total") == 4
    assert _metric(metrics, "dataface_ops_webhook_queue_depth") == 0


def test_readyz_is_503_when_the_backend_is_away(private_key: str, tmp_path: Path) -> None:
    from automation.app.service import build_service

    # A port where no Redis listens: the app starts nothing and says it is not ready.
    service = build_service(
        h.config(private_key, tmp_path, redis_url=f"redis://127.0.0.1:{h.free_port()}/0"),
        processor=lambda d: None,
    )
    assert service.queue.ready() is False


def test_every_log_line_of_a_delivery_carries_its_id(private_key: str, tmp_path: Path) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    logging.getLogger("huey").setLevel(logging.WARNING)
    calls: list[str] = []

    def flaky(delivery: Delivery) -> None:
        calls.append(delivery.id)
        logging.getLogger("dataface_ops.engine").info("planned 0 action(s)")
        if len(calls) == 1:
            raise RuntimeError("GitHub answered 502")

    body, headers = h.delivery("issues.opened")
    try:
        with h.running(private_key, tmp_path, processor=flaky) as app:
            assert h.post(app.port, body, headers)[0] == 202
            h.wait(lambda: app.counts()["processed"] == 1)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        logging.getLogger("huey").setLevel(logging.NOTSET)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    ours = [line for line in lines if line["logger"].startswith("dataface_ops")]
    assert [line["msg"].split(":")[0].split(" in ")[0] for line in ours] == [
        "accepted",
        "planned 0 action(s)",
        "processing failed",
        "planned 0 action(s)",
        "processed",
    ]
    assert {line.get("delivery") for line in ours} == {headers["X-GitHub-Delivery"]}
    assert {line.get("subject") for line in ours[1:]} == {"codertocat/hello-world#1"}
    assert h.SECRET not in stream.getvalue()


def test_the_sweep_reads_back_to_the_previous_sweep_and_skips_what_was_accepted(
    private_key: str, github: Any, tmp_path: Path
) -> None:
    from automation.app.service import build_service

    template = checker.example(("GET", "/app/hook/deliveries"))[0]
    now = time.time()

    def item(n: int, age: float) -> dict[str, Any]:
        return template | {
            "id": n,
            "guid": str(uuid.UUID(int=n)),
            "delivered_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - age)),
            "status_code": 503,
            "status": "Service Unavailable",
        }

    listed = [item(n, 30 * n) for n in range(1, 251)]  # newest first, 30 s apart
    pages: list[str] = []

    def page(request: Any) -> tuple[int, dict[str, str], str]:
        pages.append(request.url)
        assert "status=failure" in request.url
        found = re.search(r"cursor=(\d+)", request.url)
        cursor = int(found.group(1)) if found else 0
        chunk = listed[cursor : cursor + 100]
        headers = {}
        if cursor + 100 < len(listed):
            nxt = "https://api.github.com/app/hook/deliveries?per_page=100&status=failure"
            headers["Link"] = f'<{nxt}&cursor={cursor + 100}>; rel="next"'
        return 200, headers, json.dumps(chunk)

    github.add_callback("GET", re.compile(r"https://api\.github\.com/app/hook/deliveries"), page)
    github.post(
        re.compile(r"https://api\.github\.com/app/hook/deliveries/\d+/attempts"),
        status=202,
        json={},
    )
    service = build_service(
        h.config(private_key, tmp_path, redeliver_window=3 * 86_400), processor=lambda d: None
    )
    # One of them got in later (a redelivery from the App settings): not asked again.
    assert service.queue.submit(str(uuid.UUID(int=7)), "issues", b"{}") == "accepted"
    first = service.sweep(now=now)
    assert first == {d["guid"] for d in listed} - {str(uuid.UUID(int=7))}
    assert len(pages) == 3
    # The next sweep, ten minutes on: it reads only back to the previous sweep (less a
    # minute of overlap), one page, and asks for what failed since.
    pages.clear()
    listed[:0] = [item(1000 + n, -600 + 20 * n) for n in range(5)]
    second = service.sweep(now=now + 600)
    assert len(pages) == 1
    # The five new ones, and the old one inside the minute of overlap (asked for in the
    # first sweep, and not redelivered yet).
    assert second == {str(uuid.UUID(int=n)) for n in (1000, 1001, 1002, 1003, 1004, 1)}


@pytest.mark.usefixtures("backend")
def test_a_lock_is_deleted_only_while_it_holds_the_value_that_was_seen(
    private_key: str, tmp_path: Path
) -> None:
    from automation.app.queue import make_huey

    # A dead worker's lock seen by two workers: the second must not delete the lock the
    # first took over meanwhile (else two deliveries of one subject would run at once).
    storage = make_huey(h.config(private_key, tmp_path), "locks").storage
    storage.put_data("lock:o/r#1", b"dead 1.0")
    assert delete_if(storage, "lock:o/r#1", b"dead 1.0")
    assert storage.put_if_empty("lock:o/r#1", b"alive 2.0")
    assert not delete_if(storage, "lock:o/r#1", b"dead 1.0")
    assert bytes(storage.peek_data("lock:o/r#1")) == b"alive 2.0"


def test_one_sweep_at_a_time_across_machines(private_key: str, github: Any, tmp_path: Path) -> None:
    from automation.app.service import build_service

    config = h.config(private_key, tmp_path, redeliver_interval=300)
    service = build_service(config, processor=lambda d: None)
    now = time.time()
    # Another machine took the lease a minute ago (the interval is 5 minutes): no request.
    service.queue.journal.put_data("sweep:lease", f"other {now - 60}".encode())
    assert service.sweep(now=now) == set()
    assert len(github.calls) == 0
    # Its lease is stale after two intervals (the machine died mid-sweep): taken over.
    github.get(
        "https://api.github.com/app/hook/deliveries",
        json=[],
        match=[query_param_matcher({"per_page": "100", "status": "failure"})],
    )
    assert service.sweep(now=now + 600) == set()
    assert [c.request.method for c in github.calls] == ["GET"]
    assert not service.queue.journal.has_data_for_key("sweep:lease")

"""Measure `dataface-ops serve` against a mocked GitHub: deliveries/s and time to acknowledge.

Run on demand (not a test):

    PYTHONPATH=. python benchmarks/bench_webhook.py [--deliveries 2000] [--clients 16]

It starts the real app on uvicorn on a loopback port, sends signed `issues.opened` deliveries
(the @octokit/webhooks-examples payload) from concurrent clients, one connection each as GitHub
does, and times every answer. Processing runs the real engine processor: installation token,
default-branch head, policies through the contents API, then a fixed stand-in feature that
reads the issue and upserts one comment (so the figures measure the app, not the features), all
answered by the OpenAPI-checked GitHub mock of the test suite.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import socket
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402

from automation import features as registry  # noqa: E402
from automation.actions import Plan, UpsertComment  # noqa: E402
from automation.entrypoints import webhook  # noqa: E402
from automation.markers import marker  # noqa: E402
from automation.snapshot.models import Snapshot  # noqa: E402
from tests.github_api import checker  # noqa: E402
from tests.github_api.fixtures import GitHubMock  # noqa: E402
from tests.github_api.webhooks import webhook_payload  # noqa: E402

SECRET = "bench-secret"
REPO = "Codertocat/Hello-World"
HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


def stand_in_collect(repo: Any, policies: Any, numbers: Any, now: Any) -> Snapshot:
    """Read the subject, as a collector would (one GET)."""
    repo.get_issue(numbers[0]).title  # noqa: B018
    return Snapshot(repo=REPO, taken_at=now)


def stand_in_plan(policies: Any, snapshot: Snapshot, now: Any) -> Plan:
    """One comment (one POST)."""
    key = marker("triage", "issue-1")
    return Plan("triage", (UpsertComment(reason="bench", number=1, marker=key, body=key),))


def _private_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def _mock_github() -> GitHubMock:
    mock = GitHubMock()
    base = f"https://api.github.com/repos/{REPO}"
    token = checker.example(("POST", "/app/installations/{installation_id}/access_tokens"))
    mock.post(
        "/app/installations/1/access_tokens",
        json=token | {"token": "ghs_bench", "expires_at": "2099-01-01T00:00:00Z"},
        status=201,
    )
    branch = checker.example(("GET", "/repos/{owner}/{repo}/branches/{branch}"), repo=REPO)
    branch["commit"]["sha"] = HEAD
    mock.get(f"{base}/branches/master", json=branch)
    for path in sorted((ROOT / "policies").glob("*.yaml")):
        name = f"policies/{path.name}"
        text = path.read_text(encoding="utf-8")
        mock.get(
            f"{base}/contents/{name}",
            json={
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
            },
        )
    mock.get(f"{base}/issues/1", json=checker.issue_json(1, repo=REPO))
    mock.get(f"{base}/issues/1/comments", json=[])
    mock.post(f"{base}/issues/1/comments", json=checker.comment_json(repo=REPO), status=201)
    return mock


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


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--queue-size", type=int, default=256)
    args = parser.parse_args()

    # A fixed stand-in, so the figures measure the app, not whichever features have landed.
    triage = registry.get("triage")
    registry.FEATURES.clear()
    registry.FEATURES["triage"] = registry.Feature(
        "triage", "bench", 10, stand_in_collect, stand_in_plan, triage.routes, triage.sweeps
    )
    config = webhook.AppConfig(
        webhook_secret=SECRET,
        app_id="4242",
        private_key=_private_key(),
        bot_login="dataface-ops[bot]",
        workers=args.workers,
        queue_size=args.queue_size,
        redeliver_interval=0,
        pacing=False,
    )
    service = webhook.build_service(config)
    payload = webhook_payload("issues.opened")
    payload["installation"] = {"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}
    body = json.dumps(payload).encode()
    signature = webhook.sign(SECRET.encode(), body)
    requests = [
        (
            body,
            {
                "Content-Type": "application/json",
                "X-GitHub-Event": "issues",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": signature,
            },
        )
        for _ in range(args.deliveries)
    ]

    mock = _mock_github()
    mock.start()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(webhook.create_app(service), log_config=None, access_log=False, backlog=2048)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            results = list(pool.map(lambda r: _post(port, *r), requests))
        acked = time.perf_counter() - started
        while service.queue.unfinished_tasks:
            time.sleep(0.005)
        done = time.perf_counter() - started
    finally:
        server.should_exit = True
        thread.join(15)
        mock.stop(allow_assert=False)
    problems = mock.problems()
    latencies = sorted(t for _, t in results)
    statuses: dict[int, int] = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    health = service.health()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(f"deliveries: {args.deliveries} from {args.clients} concurrent clients")
    print(f"answers: {dict(sorted(statuses.items()))}; kept for redelivery: {len(service.pending)}")
    print(f"acknowledged: {args.deliveries / acked:.0f} deliveries/s")
    print(
        f"time to acknowledge: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )
    print(
        f"processed end to end ({args.workers} workers): {health['handled']} handled, "
        f"{health['failed']} failed, {health['handled'] / done:.0f} deliveries/s"
    )
    print(f"GitHub requests: {len(mock.calls)}; contract problems: {len(problems)}")
    return 1 if problems or health["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

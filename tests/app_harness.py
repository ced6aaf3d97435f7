"""A harness for the webhook app tests: start it on a loopback port, post signed deliveries."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import uvicorn

from automation.entrypoints import webhook
from tests.github_api.webhooks import webhook_payload

SECRET = "whsec-test-6f1c2b9a"
# The queue's backend: SQLite in tmp_path, or the Redis/Valkey server at this URL (CI runs
# the suite on both: see .ci/run).
REDIS_URL: str | None = None  # set by the `backend` fixture (tests/app_fixtures.py)
REPO = "Codertocat/Hello-World"


def config(private_key: str, tmp_path: Path, **overrides: Any) -> webhook.AppConfig:
    values: dict[str, Any] = {
        "webhook_secret": SECRET,
        "app_id": "4242",
        "private_key": private_key,
        "bot_login": "dataface-ops[bot]",
        "workers": 2,
        "queue_path": str(tmp_path / "queue.db"),
        "redis_url": REDIS_URL,
        "queue_name": f"t{uuid.uuid4().hex[:12]}" if REDIS_URL else "dataface-ops",
        "redeliver_interval": 0,  # tests call sweep() themselves
        "retry_delay": 0.2,
        "heartbeat": 1.0,
        "shutdown_timeout": 5,
        "pacing": False,
    }
    values.update(overrides)
    return webhook.AppConfig(**values)


class Running:
    """A started app: its port and its counters."""

    def __init__(self, port: int, service: Any) -> None:
        self.port = port
        self.service = service

    def counts(self) -> dict[str, int]:
        health = self.service.health()
        return {"processed": health["processed"], "failed": health["failed"]}


@contextlib.contextmanager
def running(
    private_key: str,
    tmp_path: Path,
    processor: Callable[[Any], None] | None = None,
    **overrides: Any,
) -> Iterator[Running]:
    """Run the app (its queue in tmp_path) on uvicorn in a thread."""
    cfg = overrides.pop("config", None) or config(private_key, tmp_path, **overrides)
    service = webhook.build_service(cfg, processor=processor)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(webhook.server_config(cfg, webhook.create_app(service)))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield Running(port, service)
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


def delivery(
    name: str = "issues.opened", *, delivery_id: str | None = None, **changes: Any
) -> tuple[bytes, dict[str, str]]:
    """A signed delivery of a real payload (with an installation), and its headers."""
    payload = webhook_payload(name)
    payload.setdefault(
        "installation", {"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}
    )
    payload.update(changes)
    return signed(payload, name.split(".")[0], delivery_id)


def signed(
    payload: Any, event: str, delivery_id: str | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/abc123",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "1",
        "X-Hub-Signature-256": webhook.sign(SECRET.encode(), body),
    }
    return body, headers


def post(
    port: int, body: bytes, headers: dict[str, str], *, chunked: bool = False
) -> tuple[int, dict[str, Any]]:
    """POST a delivery on a connection of its own, as GitHub does."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if chunked:
            conn.request(
                "POST", "/webhook", body=iter([body]), headers=headers, encode_chunked=True
            )
        else:
            conn.request("POST", "/webhook", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else {}
    finally:
        conn.close()


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def reachable(url: str) -> bool:
    """Whether a Redis/Valkey server answers at this URL."""
    from tests.app_fixtures import reachable as check

    return check(url)


def wait(predicate: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


ROOT = Path(__file__).resolve().parent.parent
HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


def mock_installation(
    github: Any, *, installation_id: int = 1, policies: dict[str, str] | None = None
) -> None:
    """Token, installation of the repository, default-branch head and policies (GitHub mock).

    `policies` replaces the text of shipped policy files by name (`incidents.yaml`)."""

    from tests.github_api import checker

    base = f"https://api.github.com/repos/{REPO}"
    github.post(
        f"/app/installations/{installation_id}/access_tokens",
        json=checker.example(("POST", "/app/installations/{installation_id}/access_tokens"))
        | {"token": "ghs_installation_token", "expires_at": "2099-01-01T00:00:00Z"},
        status=201,
    )
    github.get(
        f"{base}/installation",
        json=checker.example(("GET", "/repos/{owner}/{repo}/installation"))
        | {"id": installation_id},
    )
    branch = checker.example(("GET", "/repos/{owner}/{repo}/branches/{branch}"), repo=REPO)
    branch["commit"]["sha"] = HEAD
    github.get(f"{base}/branches/master", json=branch)
    github.serve_files(REPO, HEAD, shipped_policies(policies))


def shipped_policies(replaced: dict[str, str] | None = None) -> dict[str, str]:
    """The shipped policy files by repository path, as the app reads them at a commit;
    `replaced` swaps a file's text by name (`incidents.yaml`)."""
    return {
        f"policies/{path.name}": (replaced or {}).get(path.name) or path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "policies").glob("*.yaml"))
    }


def redeliver_failed(private_key: str, tmp_path: Path, wanted: set[str], since: float) -> None:
    """Run one redelivery sweep (the first: it reads back to GitHub's retention window)."""
    service = webhook.build_service(
        config(private_key, tmp_path, redeliver_window=time.time() - since), processor=None
    )
    assert service.sweep() == wanted


# --- backends and processes of their own ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Child:
    """The app in a process of its own (tests/app_child.py)."""

    def __init__(self, log: Path, *args: str, port: int | None = None) -> None:
        import subprocess

        self.port = port or free_port()
        self.log = log
        self.stderr = open(log.with_suffix(f".{self.port}.err"), "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.app_child",
                "--port",
                str(self.port),
                "--log",
                str(log),
                *args,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )
        wait(self.ready, timeout=30)

    def ready(self) -> bool:
        assert self.process.poll() is None, "the app process died"
        try:
            return get(self.port, "/readyz")[0] == 200
        except OSError:
            return False

    def kill(self) -> None:
        import signal

        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.stderr.close()

    def terminate(self, timeout: float = 30) -> float:
        """SIGTERM, and how long the process took to exit."""
        import signal

        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout)
        self.stderr.close()
        return time.monotonic() - started


def log_lines(log: Path) -> list[tuple[str, str, str, int, float]]:
    """(kind, delivery, subject, pid, time) per line of a child's processing log."""
    out = []
    if not log.exists():
        return out
    for line in log.read_text().splitlines():
        parts = line.split()
        if len(parts) == 5:
            out.append((parts[0], parts[1], parts[2], int(parts[3]), float(parts[4])))
    return out


def try_post(port: int, body: bytes, headers: dict[str, str]) -> int | None:
    """The status, or None when the server could not be reached or went away."""
    try:
        return post(port, body, headers)[0]
    except (OSError, http.client.HTTPException):
        return None

"""The GitHub App webhook server (probot-style) on Starlette: verify, acknowledge, then work.

Request path, in this order, each refusal one log line and no GitHub request:
body too large (413) -> no X-Hub-Signature-256 (401; sha1-only is refused too) -> body read
with a cap (413) -> constant-time HMAC compare (401) -> JSON (400) -> ping / own events /
duplicates -> enqueue (202), or 503 when the bounded queue is full.

GitHub waits 10 seconds for an answer and never redelivers a failed delivery by itself, so
work happens on a bounded pool of worker threads, and every delivery answered 503 is kept and
redelivered later through the App's deliveries API (GET /app/hook/deliveries, then
POST /app/hook/deliveries/{id}/attempts) once the queue has room.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from automation.events import Event, EventError, event_from_json
from automation.logs import ContextFilter, log_context

if TYPE_CHECKING:
    from github import Auth, Github, GithubIntegration
    from github.Repository import Repository
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from automation.policy.policies import Policies

log = logging.getLogger("dataface_ops.webhook")

# GitHub caps webhook payloads at 25 MB and does not send larger ones.
MAX_BODY_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class AppConfig:
    """What the app needs; the secret and the key never appear in repr or logs."""

    webhook_secret: str = field(repr=False)
    app_id: str = ""
    private_key: str = field(default="", repr=False)
    api_url: str = "https://api.github.com"
    bot_login: str | None = None
    workers: int = 4
    queue_size: int = 256
    dedupe_size: int = 10_000
    max_body: int = MAX_BODY_BYTES
    redeliver_interval: float = 30.0
    redeliver_give_up: int = 20
    policies_prefix: str = "policies"
    dry_run: bool = False
    max_writes: int | None = None
    pacing: bool = True


@dataclass(frozen=True)
class Delivery:
    """One accepted webhook delivery."""

    id: str
    event: Event
    received: float


Processor = Callable[[Delivery], None]
# Given delivery ids (GUIDs) to redeliver, ask GitHub and return the ids it accepted.
Redeliverer = Callable[[set[str]], set[str]]


def _log(
    level: int,
    message: str,
    *args: object,
    delivery: str | None = None,
    repo: str | None = None,
    **fields: object,
) -> None:
    """Log one line carrying the delivery's fields (as context and as record attributes)."""
    with log_context(delivery=delivery, repo=repo):
        log.log(level, message, *args, extra={"delivery": delivery, "repo": repo, **fields})


def verify_signature(secret: bytes, body: bytes, header: str) -> bool:
    """Check `X-Hub-Signature-256: sha256=<hex>` with a constant-time compare."""
    scheme, _, provided = header.partition("=")
    if scheme != "sha256" or not provided:
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode("ascii")
    # Bytes, not str: compare_digest raises on non-ASCII str, and a header can carry any byte.
    return hmac.compare_digest(expected, provided.strip().lower().encode("utf-8", "replace"))


def sign(secret: bytes, body: bytes) -> str:
    """The X-Hub-Signature-256 value GitHub would send for this body."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class SeenDeliveries:
    """A bounded LRU of delivery ids already accepted (GitHub may deliver one twice)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._ids: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._lock = threading.Lock()

    def add(self, delivery_id: str) -> bool:
        """Record the id; False if it was already there."""
        with self._lock:
            if delivery_id in self._ids:
                self._ids.move_to_end(delivery_id)
                return False
            self._ids[delivery_id] = None
            while len(self._ids) > self.size:
                self._ids.popitem(last=False)
            return True

    def discard(self, delivery_id: str) -> None:
        """Forget an id (its delivery was not taken after all)."""
        with self._lock:
            self._ids.pop(delivery_id, None)


class WebhookService:
    """The bounded queue, the worker pool and the redelivery book-keeping."""

    def __init__(
        self,
        config: AppConfig,
        processor: Processor,
        redeliverer: Redeliverer | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.processor = processor
        self.redeliverer = redeliverer
        self.clock = clock
        self.queue: queue.Queue[Delivery | None] = queue.Queue(maxsize=config.queue_size)
        self.seen = SeenDeliveries(config.dedupe_size)
        # Delivery ids answered 503, with how many redelivery requests failed to find them.
        self.pending: dict[str, int] = {}
        # When each pending id was last answered 503 (a sequence number): a redelivery that
        # arrives, and is refused again, while its redelivery request is still in flight
        # must stay pending rather than be taken as done when the request returns.
        self._refusals: dict[str, int] = {}
        self._refusal_seq = 0
        self.handled = 0
        self.failed = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    # --- intake ---------------------------------------------------------------------------

    def submit(self, delivery: Delivery) -> str:
        """Queue a delivery: 'accepted', 'duplicate' or 'full' (kept for redelivery)."""
        if not self.seen.add(delivery.id):
            return "duplicate"
        try:
            self.queue.put_nowait(delivery)
        except queue.Full:
            self.seen.discard(delivery.id)  # the redelivery must not look like a duplicate
            with self._lock:
                self.pending.setdefault(delivery.id, 0)
                self._refusal_seq += 1
                self._refusals[delivery.id] = self._refusal_seq
            return "full"
        with self._lock:
            self.pending.pop(delivery.id, None)
            self._refusals.pop(delivery.id, None)
        return "accepted"

    # --- workers --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker threads and the redelivery loop."""
        self._stop.clear()
        for n in range(self.config.workers):
            thread = threading.Thread(target=self._work, name=f"webhook-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.redeliverer is not None and self.config.redeliver_interval > 0:
            thread = threading.Thread(target=self._redeliver_loop, name="redeliver", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Finish queued work (up to `timeout`), then stop; report anything left."""
        deadline = self.clock() + timeout
        while self.queue.unfinished_tasks and self.clock() < deadline:
            time.sleep(0.05)
        self._stop.set()
        left: list[str] = []
        while True:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                left.append(item.id)
            self.queue.task_done()
        for delivery_id in left:
            _log(
                logging.ERROR,
                "shutting down before processing; redeliver it from the App settings",
                delivery=delivery_id,
                status="unprocessed",
            )
        # Answered 503 and kept for redelivery: the book-keeping dies with the process.
        for delivery_id in self.pending_ids():
            _log(
                logging.ERROR,
                "shutting down before its redelivery was requested; redeliver it from the App "
                "settings",
                delivery=delivery_id,
                status="unprocessed",
            )
        for _ in self._threads:
            try:
                self.queue.put_nowait(None)
            except queue.Full:
                break
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def _work(self) -> None:
        while not self._stop.is_set():
            item = self.queue.get()
            try:
                if item is None:
                    return
                self._process(item)
            finally:
                self.queue.task_done()

    def _process(self, delivery: Delivery) -> None:
        started = self.clock()
        with log_context(delivery=delivery.id, repo=delivery.event.repo):
            try:
                self.processor(delivery)
            except Exception as exc:  # one failed delivery must not stop the worker
                # Forget the id, so that a redelivery (from the App settings or the
                # deliveries API) is processed rather than taken for a duplicate.
                self.seen.discard(delivery.id)
                with self._lock:
                    self.failed += 1
                log.error(
                    "processing failed: %s: %s",
                    type(exc).__name__,
                    exc,
                    extra={"event": delivery.event.key, "status": "failed"},
                )
                return
            with self._lock:
                self.handled += 1
            log.info(
                "processed in %.3fs",
                self.clock() - started,
                extra={"event": delivery.event.key, "status": "processed"},
            )

    # --- redelivery -----------------------------------------------------------------------

    def has_room(self) -> bool:
        """Whether the queue is at most half full (room for redelivered work)."""
        return self.queue.qsize() <= self.config.queue_size // 2

    def redeliver_pending(self) -> int:
        """Ask GitHub to redeliver what was answered 503, if there is room now."""
        if self.redeliverer is None or not self.has_room():
            return 0
        with self._lock:
            wanted = set(self.pending)
            asked_at = self._refusal_seq
        if not wanted:
            return 0
        try:
            requested = self.redeliverer(wanted)
        except Exception as exc:  # kept: the next round tries again
            log.error("redelivery request failed: %s: %s", type(exc).__name__, exc)
            return 0
        with self._lock:
            for delivery_id in wanted:
                if delivery_id in requested:
                    if self._refusals.get(delivery_id, 0) <= asked_at:
                        self.pending.pop(delivery_id, None)
                        self._refusals.pop(delivery_id, None)
                elif delivery_id in self.pending:
                    self.pending[delivery_id] += 1
                    if self.pending[delivery_id] >= self.config.redeliver_give_up:
                        del self.pending[delivery_id]
                        self._refusals.pop(delivery_id, None)
                        _log(
                            logging.ERROR,
                            "GitHub no longer lists this delivery; giving up on redelivery "
                            "(the next scheduled sweep converges)",
                            delivery=delivery_id,
                            status="lost",
                        )
        for delivery_id in sorted(requested):
            _log(logging.INFO, "redelivery requested", delivery=delivery_id)
        return len(requested)

    def _redeliver_loop(self) -> None:
        while not self._stop.wait(self.config.redeliver_interval):
            self.redeliver_pending()

    def pending_ids(self) -> list[str]:
        """Delivery ids answered 503 and waiting for redelivery."""
        with self._lock:
            return sorted(self.pending)

    def health(self) -> dict[str, Any]:
        """Counters for /healthz."""
        with self._lock:
            return {
                "status": "ok",
                "queued": self.queue.qsize(),
                "queue_size": self.config.queue_size,
                "workers": self.config.workers,
                "handled": self.handled,
                "failed": self.failed,
                "pending_redelivery": len(self.pending),
            }


# --- HTTP --------------------------------------------------------------------------------


def create_app(service: WebhookService, *, path: str = "/webhook") -> Starlette:
    """The ASGI app: POST `path` for deliveries, GET /healthz."""
    import contextlib

    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from automation.routing import route

    config = service.config
    secret = config.webhook_secret.encode("utf-8")

    def refuse(status: int, reason: str, request: Request, **fields: Any) -> Response:
        _log(
            logging.WARNING,
            "refused: %s",
            reason,
            delivery=request.headers.get("x-github-delivery"),
            event=request.headers.get("x-github-event"),
            status=status,
            **fields,
        )
        return JSONResponse({"error": reason}, status_code=status)

    async def read_capped(request: Request) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > config.max_body:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def webhook(request: Request) -> Response:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > config.max_body:
            return refuse(413, "payload too large", request, size=int(length))
        signature = request.headers.get("x-hub-signature-256")
        if not signature:
            if request.headers.get("x-hub-signature"):
                return refuse(401, "sha1-only signature refused (X-Hub-Signature-256)", request)
            return refuse(401, "missing X-Hub-Signature-256", request)
        body = await read_capped(request)
        if body is None:
            return refuse(413, "payload too large", request)
        if not verify_signature(secret, body, signature):
            return refuse(401, "bad signature", request)
        # Authentic from here on.
        name = request.headers.get("x-github-event", "")
        delivery_id = request.headers.get("x-github-delivery", "")
        if not name or not delivery_id:
            return refuse(400, "missing X-GitHub-Event or X-GitHub-Delivery", request)
        try:
            event = event_from_json(name, body, delivery_id=delivery_id)
        except EventError as exc:
            return refuse(400, f"malformed payload: {exc}", request)
        fields: dict[str, Any] = {"delivery": delivery_id, "event": event.key, "repo": event.repo}
        if name == "ping":
            _log(logging.INFO, "ping", **fields, status=200)
            return JSONResponse({"ok": "pong"})
        # Logins are case-insensitive; acting on our own writes would only loop.
        if config.bot_login and (event.sender or "").lower() == config.bot_login.lower():
            _log(logging.INFO, "ignored: sent by this app", **fields, status=202)
            return JSONResponse({"ok": "ignored own event"}, status_code=202)
        # Unknown events (and workflow_dispatch, whose sweep belongs to the schedule workflow,
        # not to every dispatch of any workflow) are answered at once, without a queue slot.
        if (
            event.name in ("schedule", "workflow_dispatch")
            or not route(actions_view(event)).features
        ):
            _log(logging.INFO, "ignored: no feature subscribes to this event", **fields, status=200)
            return JSONResponse({"ok": "ignored: no feature subscribes to this event"})
        outcome = service.submit(Delivery(delivery_id, event, service.clock()))
        if outcome == "duplicate":
            _log(logging.INFO, "ignored: duplicate delivery", **fields, status=200)
            return JSONResponse({"ok": "duplicate"})
        if outcome == "full":
            _log(
                logging.WARNING,
                "queue full: answered 503, kept for redelivery",
                **fields,
                status=503,
            )
            return JSONResponse(
                {"error": "busy; will ask GitHub to redeliver"},
                status_code=503,
                headers={"Retry-After": "30"},
            )
        _log(logging.INFO, "accepted", **fields, status=202)
        return JSONResponse({"ok": "accepted"}, status_code=202)

    async def healthz(request: Request) -> Response:
        return JSONResponse(service.health())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        service.start()
        try:
            yield
        finally:
            service.stop()

    return Starlette(
        routes=[Route(path, webhook, methods=["POST"]), Route("/healthz", healthz)],
        lifespan=lifespan,
    )


# --- logging -----------------------------------------------------------------------------

_LOG_FIELDS = ("delivery", "repo", "subject", "feature", "event", "status", "size")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the delivery's fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as JSON."""
        out: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in _LOG_FIELDS:
            value = getattr(record, name, None)
            if value not in (None, ""):
                out[name] = value
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(out, default=str)


def configure_json_logging(level: int = logging.INFO) -> None:
    """Log JSON lines to stderr (the context filter adds delivery, repo, subject, feature)."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("urllib3").setLevel(logging.ERROR)


# --- GitHub side: installation clients, policies, redelivery, the default processor -------


class InstallationClients:
    """One PyGithub client per installation; PyGithub caches each token until it expires."""

    def __init__(self, config: AppConfig) -> None:
        from github import Auth

        self.config = config
        self.app_auth = Auth.AppAuth(config.app_id, config.private_key)
        self._clients: dict[int, Github] = {}
        self._lock = threading.Lock()

    def for_installation(self, installation_id: int) -> Github:
        """The client acting as this installation (JWT -> installation token, cached)."""
        from automation.github import make_github
        from automation.settings import Settings

        with self._lock:
            client = self._clients.get(installation_id)
            if client is None:
                settings = Settings(api_url=self.config.api_url, pacing=self.config.pacing)
                auth = _locked_installation_auth(self.app_auth, installation_id)
                client = make_github(settings, auth=auth)
                self._clients[installation_id] = client
            return client

    def integration(self) -> GithubIntegration:
        """A client acting as the App itself (JWT), for the /app endpoints."""
        from github import GithubIntegration

        from automation.github import make_retry

        pacing = self.config.pacing
        return GithubIntegration(
            auth=self.app_auth,
            base_url=self.config.api_url,
            per_page=100,
            retry=make_retry(pacing=pacing),
            # GitHub asks for at least one second between content-creating requests.
            seconds_between_requests=0.25 if pacing else None,
            seconds_between_writes=1.0 if pacing else None,
            user_agent="dataface-ops",
        )

    def redeliver(self, wanted: set[str]) -> set[str]:
        """Find the deliveries by GUID (GET /app/hook/deliveries), then request new attempts."""
        requester = self.integration().requester
        found: dict[str, int] = {}
        url = "/app/hook/deliveries"
        parameters: dict[str, Any] | None = {"per_page": 100}
        for _ in range(10):  # newest first; GitHub keeps deliveries for a few days
            headers, data = requester.requestJsonAndCheck("GET", url, parameters=parameters)
            for item in data if isinstance(data, list) else []:
                guid = item.get("guid")
                if guid in wanted and guid not in found:
                    found[guid] = int(item["id"])
            next_url = _next_link(headers.get("link", ""))
            if set(found) == wanted or not next_url:
                break
            url, parameters = next_url, None
        requested: set[str] = set()
        for guid, number in found.items():
            requester.requestJsonAndCheck("POST", f"/app/hook/deliveries/{number}/attempts")
            requested.add(guid)
        return requested


def _locked_installation_auth(app_auth: Auth.AppAuth, installation_id: int) -> Auth.Auth:
    """AppInstallationAuth whose token refresh is serialised across worker threads."""
    from github import Auth

    class LockedInstallationAuth(Auth.AppInstallationAuth):
        # PyGithub caches the token until shortly before it expires, but two threads that
        # find it missing at once would both POST .../access_tokens: fetch under a lock.
        _refresh = threading.Lock()

        @property
        def token(self) -> str:
            with self._refresh:
                return str(super().token)

    return LockedInstallationAuth(app_auth, installation_id)


def _next_link(link: str) -> str | None:
    for part in link.split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return url.strip().strip("<>")
    return None


class PolicyCache:
    """Policies read from the default branch through the contents API, cached per commit."""

    def __init__(self, prefix: str = "policies", size: int = 64) -> None:
        self.prefix = prefix
        self.size = size
        self._cache: collections.OrderedDict[tuple[str, str], Policies] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[tuple[str, str], threading.Lock] = {}

    def get(self, repo: Repository, full_name: str, branch: str) -> Policies:
        """Load (or reuse) the policies at the branch's current head commit."""
        from automation.policy.loader import load_policies

        sha = repo.get_branch(branch).commit.sha  # GET /repos/{o}/{r}/branches/{branch}
        key = (full_name.lower(), sha)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            # One load per commit even when several workers miss at once.
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
            try:
                policies = load_policies(
                    contents_reader(repo, sha, self.prefix),
                    prefix=self.prefix,
                    source=f"{full_name}@{sha[:12]}:{self.prefix}",
                )
                with self._lock:
                    self._cache[key] = policies
                    while len(self._cache) > self.size:
                        self._cache.popitem(last=False)
            finally:
                with self._lock:
                    self._loading.pop(key, None)
        return policies


def contents_reader(repo: Repository, ref: str, prefix: str) -> Callable[[str], str | None]:
    """A policy reader over GET /repos/{o}/{r}/contents/{prefix}/{file}?ref={sha}."""
    from github import UnknownObjectException

    def read(filename: str) -> str | None:
        try:
            content = repo.get_contents(f"{prefix}/{filename}", ref=ref)
        except UnknownObjectException:
            return None
        if isinstance(content, list):  # a directory where a file should be
            return None
        try:
            return content.decoded_content.decode("utf-8")
        except UnicodeDecodeError:
            return "\x00"  # YAML rejects it with a located error

    return read


def actions_view(event: Event) -> Event:
    """Webhooks say `pull_request`; the app acts like pull_request_target (base policies)."""
    if event.name == "pull_request":
        return Event("pull_request_target", event.payload, event.delivery_id)
    return event


def _installation_id(payload: Mapping[str, Any]) -> int | None:
    installation = payload.get("installation")
    if isinstance(installation, Mapping) and isinstance(installation.get("id"), int):
        return int(installation["id"])
    return None


def engine_processor(
    config: AppConfig,
    clients: InstallationClients,
    policies: PolicyCache,
    *,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Processor:
    """Process a delivery like `dataface-ops run`: route, read policies, collect, plan, apply."""
    from automation import engine
    from automation.routing import route

    def process(delivery: Delivery) -> None:
        event = actions_view(delivery.event)
        chosen = route(event)
        features = chosen.features
        if not features:
            log.info("no feature subscribes to %s", event.key, extra={"status": "skipped"})
            return
        installation_id = _installation_id(event.payload)
        repository = event.payload.get("repository")
        if installation_id is None or not event.repo or not isinstance(repository, Mapping):
            log.error("the payload names no installation or repository", extra={"status": "bad"})
            return
        branch = str(repository.get("default_branch") or "main")
        client = clients.for_installation(installation_id)
        repo = client.get_repo(event.repo)  # lazy: no request
        loaded = policies.get(repo, event.repo, branch)
        report = engine.run_live(
            repo,
            loaded,
            features,
            chosen.numbers,
            now(),
            dry_run=config.dry_run,
            max_writes=config.max_writes,
        )
        log.info(
            "%s: %d applied, %d failed, %d dry-run",
            ", ".join(features),
            report.count("applied"),
            report.count("failed"),
            report.count("dry-run"),
        )

    return process


def build_service(config: AppConfig, processor: Processor | None = None) -> WebhookService:
    """Wire the service: installation clients, the policy cache and the engine processor."""
    clients = InstallationClients(config)
    chosen = processor or engine_processor(config, clients, PolicyCache(config.policies_prefix))
    return WebhookService(config, chosen, clients.redeliver)


def own_bot_login(config: AppConfig) -> str:
    """The App's bot account, `<slug>[bot]` (GET /app with the App's JWT)."""
    return f"{InstallationClients(config).integration().get_app().slug}[bot]"

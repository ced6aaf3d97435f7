"""HTTP intake on Starlette and uvicorn: verify, check, store durably, then answer.

Request path, in this order, each refusal one log line and no GitHub request:
connection cap and header timeout (closed) -> body too large (413) -> no
X-Hub-Signature-256 (401; sha1-only is refused too) -> room in the budget of unverified
bytes (503) -> body read with a cap (413), a timeout (408) and a clean 400 for a client that
goes away -> constant-time HMAC compare (401) -> JSON (400) -> ping / own events /
unsubscribed events -> shape of the used fields (400) -> stored in the queue (202), or
already there (200), or the backend refused (503, and the sweep asks for a redelivery).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from typing import TYPE_CHECKING, Any

from automation.app.config import AppConfig
from automation.app.processor import actions_view
from automation.app.shape import shape_problem
from automation.events import EventError, event_from_json
from automation.logs import log_context

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from automation.app.service import WebhookService

log = logging.getLogger("dataface_ops.webhook")


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


def _log(
    level: int, message: str, *args: object, delivery: str | None = None, **fields: Any
) -> None:
    """Log one line carrying the delivery's fields (as context and as record attributes)."""
    with log_context(delivery=delivery, repo=fields.get("repo")):
        log.log(level, message, *args, extra={"delivery": delivery, **fields})


class Budget:
    """Bytes of unverified bodies being read at once; a body reserves its declared size."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def reserve(self, size: int) -> bool:
        """Take `size` bytes if they fit now (one event loop: no lock needed)."""
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def release(self, size: int) -> None:
        """Give the bytes back."""
        self.used -= size


def create_app(service: WebhookService, *, path: str = "/webhook") -> Starlette:
    """The ASGI app: POST `path` for deliveries; GET /healthz, /readyz and /metrics."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import ClientDisconnect
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from automation.routing import route

    config = service.config
    queue = service.queue
    metrics = queue.metrics
    secret = config.webhook_secret.encode("utf-8")
    budget = Budget(config.unverified_budget)

    def refuse(status: int, reason: str, request: Request, **fields: Any) -> Response:
        metrics.refused.labels(status=str(status)).inc()
        _log(
            logging.WARNING,
            "refused: %s",
            reason,
            delivery=request.headers.get("x-github-delivery"),
            event=request.headers.get("x-github-event"),
            status=status,
            **fields,
        )
        headers = {"Retry-After": "10"} if status == 503 else {}
        if status in (400, 408, 413, 503):
            # The body may be left unread: end the connection rather than parse the rest.
            headers["Connection"] = "close"
        return JSONResponse({"error": reason}, status_code=status, headers=headers)

    async def read_capped(request: Request) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > config.max_body:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def read_body(request: Request) -> bytes | Response:
        try:
            async with asyncio.timeout(config.body_timeout):
                body = await read_capped(request)
        except TimeoutError:
            return refuse(408, "body not received in time", request)
        except ClientDisconnect:
            return refuse(400, "client disconnected mid-body", request)
        if body is None:
            return refuse(413, "payload too large", request)
        return body

    async def webhook(request: Request) -> Response:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > config.max_body:
            return refuse(413, "payload too large", request, size=int(length))
        signature = request.headers.get("x-hub-signature-256")
        if not signature:
            if request.headers.get("x-hub-signature"):
                return refuse(401, "sha1-only signature refused (X-Hub-Signature-256)", request)
            return refuse(401, "missing X-Hub-Signature-256", request)
        # Bodies read before their signature is known are capped in bytes at once: a chunked
        # body (no length) reserves the largest GitHub sends.
        reserved = int(length) if length.isdigit() else config.max_body
        if not budget.reserve(reserved):
            return refuse(503, "too many unverified bodies at once", request)
        try:
            got = await read_body(request)
            if not isinstance(got, bytes):
                return got
            if not verify_signature(secret, got, signature):
                return refuse(401, "bad signature", request)
        finally:
            budget.release(reserved)
        body = got
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
        problem = shape_problem(event)
        if problem is not None:
            return refuse(400, f"malformed payload: {problem}", request, repo=None)
        try:
            outcome = await run_in_threadpool(queue.submit, delivery_id, name, body)
        except Exception as exc:  # the backend is away: GitHub marks it failed; the sweep
            return refuse(503, f"queue unavailable: {type(exc).__name__}", request)
        if outcome == "duplicate":
            _log(logging.INFO, "ignored: duplicate delivery", **fields, status=200)
            return JSONResponse({"ok": "duplicate"})
        _log(logging.INFO, "accepted", **fields, status=202)
        return JSONResponse({"ok": "accepted"}, status_code=202)

    alert_token = config.alertmanager_token.encode("utf-8")

    async def alertmanager(request: Request) -> Response:
        """Alertmanager's webhook: bearer token, size, JSON, shape, then queued (202)."""
        from automation.app.alerts import (
            EVENT,
            PayloadError,
            delivery_id,
            parse_payload,
            queued_body,
        )

        # Alertmanager sends `Authorization: Bearer <credentials>` (http_config.authorization).
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8", "replace"), alert_token
        ):
            return refuse(401, "missing or wrong bearer token", request)
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > config.alerts_max_body:
            return refuse(413, "payload too large", request, size=int(length))
        try:
            async with asyncio.timeout(config.body_timeout):
                chunks: list[bytes] = []
                size = 0
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > config.alerts_max_body:
                        return refuse(413, "payload too large", request)
                    chunks.append(chunk)
        except TimeoutError:
            return refuse(408, "body not received in time", request)
        except ClientDisconnect:
            return refuse(400, "client disconnected mid-body", request)
        body = b"".join(chunks)
        try:
            group, raw = parse_payload(body)
        except PayloadError as exc:
            return refuse(400, f"malformed payload: {exc}", request)
        repo = config.alerts_repo
        assert repo  # serve refuses a token without a repository
        ident = delivery_id(body)
        fields: dict[str, Any] = {"delivery": ident, "event": EVENT, "repo": repo}
        try:
            outcome = await run_in_threadpool(queue.submit, ident, EVENT, queued_body(repo, raw))
        except Exception as exc:  # the backend is away: Alertmanager retries on a 5xx
            return refuse(503, f"queue unavailable: {type(exc).__name__}", request)
        if outcome == "duplicate":
            _log(logging.INFO, "ignored: duplicate notification", **fields, status=200)
            return JSONResponse({"ok": "duplicate"})
        _log(logging.INFO, "accepted: alert group %s", group.status, **fields, status=202)
        return JSONResponse({"ok": "accepted"}, status_code=202)

    async def healthz(request: Request) -> Response:
        return JSONResponse(service.health())

    async def readyz(request: Request) -> Response:
        ready = await run_in_threadpool(queue.ready)
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    async def prometheus(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        await run_in_threadpool(queue.refresh_gauges)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        await run_in_threadpool(service.start)
        try:
            yield
        finally:
            await run_in_threadpool(service.stop)

    routes = [
        Route(path, webhook, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", prometheus),
    ]
    if config.alertmanager_token and config.alerts_repo:
        # Without a token the receiver does not exist (404): no unauthenticated way in.
        routes.append(Route("/alerts/alertmanager", alertmanager, methods=["POST"]))
    return Starlette(routes=routes, lifespan=lifespan)


def edge_protocol(config: AppConfig) -> type[Any]:
    """uvicorn's h11 protocol with a connection cap and a timeout on the request headers."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class EdgeProtocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > config.max_connections:
                # Beyond the cap: closed at once, so slow clients cannot use up descriptors.
                transport.close()
                return
            self._arm_header_timer()

        def _arm_header_timer(self) -> None:
            # uvicorn itself waits for request headers forever. The timer is armed at the
            # connection and after each response (keep-alive), and fires unless a new request
            # came in since.
            armed = self.cycle
            timer = getattr(self, "_header_timer", None)
            if timer is not None:
                timer.cancel()

            def late() -> None:
                idle = armed is None or armed.response_complete
                if self.cycle is armed and idle and not self.transport.is_closing():
                    self.transport.close()

            self._header_timer = self.loop.call_later(config.header_timeout, late)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            timer = getattr(self, "_header_timer", None)
            if timer is not None:
                timer.cancel()
            super().connection_lost(exc)

    return EdgeProtocol


def server_config(config: AppConfig, app: Starlette, **kwargs: Any) -> uvicorn.Config:
    """uvicorn's configuration with the edge's limits."""
    import uvicorn

    return uvicorn.Config(
        app,
        http=edge_protocol(config),
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_keep_alive=5,
        timeout_graceful_shutdown=max(1, round(config.shutdown_timeout)),
        h11_max_incomplete_event_size=64 * 1024,  # request line and headers
        backlog=2048,
        **kwargs,
    )

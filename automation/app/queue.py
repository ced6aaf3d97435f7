"""The durable delivery queue: huey on SQLite (embedded) or on Redis/Valkey (several machines).

huey stores the queue, the retry schedule and a small key-value journal in one backend, so
the same code runs on a SQLite file or on a Redis/Valkey server shared by many machines.
huey itself removes a task from the queue when a worker takes it, so a SIGKILL mid-task
would lose it; the journal closes that gap:

- `job:<id>`    written with the task, before the 202; deleted once the delivery is done
                (processed, or failed for good). What is there is accepted and unfinished.
- `claim:<id>`  the worker running it (put-if-empty, so a copy of the task runs only once).
- `lock:<key>`  the subject (issue or PR) being processed: one at a time across all workers.
- `worker:<w>`  a heartbeat. A claim or lock of a worker whose heartbeat stopped is stale.
- `seen:<id>`   in a namespace of its own: processed (kept for the dedup window). With the
                job record (put-if-empty) it makes the dedup shared by every machine.

Every worker sweeps the journal on start and then every heartbeat: a job whose claim is
stale, or that is unclaimed and in neither the queue nor the schedule twice in a row, is
queued again. Completion is exactly once (the job record is the token); a delivery cut off
mid-way is processed again from the start, which the executor makes safe (it finds what it
created by identity, so a redone write is an edit, never a second comment).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from automation.app.config import AppConfig
from automation.app.subject import subject_key
from automation.events import Event, EventError, event_from_json
from automation.logs import log_context

log = logging.getLogger("dataface_ops.webhook")


@dataclass(frozen=True)
class Delivery:
    """One accepted webhook delivery."""

    id: str
    event: Event
    received: float


def _body_key(delivery_id: str, record: dict[str, Any]) -> str:
    """Where a job's body is stored (records written before bodies had keys of their own)."""
    key = record.get("body")
    return key if isinstance(key, str) else f"body:{delivery_id}"


class Permanent(Exception):
    """A failure that a retry cannot fix (a bad policy, a repository outside the installation)."""


class RateLimited(Exception):
    """GitHub's rate limit is exhausted until `reset` (epoch seconds)."""

    def __init__(self, reset: float) -> None:
        super().__init__(f"rate limited until {reset:.0f}")
        self.reset = reset


Processor = Callable[[Delivery], None]

_DELETE_IF_LUA = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""


def delete_if(storage: Any, key: str, value: bytes) -> bool:
    """Delete the key only if it still holds `value` (atomic on SQLite and Redis/Valkey).

    Taking over a dead worker's lock must not delete the lock a live worker took meanwhile.
    """
    from huey.storage import RedisStorage, SqliteStorage

    if isinstance(storage, RedisStorage):
        script = storage.conn.register_script(_DELETE_IF_LUA)
        return bool(script(keys=[storage.result_key], args=[key, value]))
    if isinstance(storage, SqliteStorage):
        with storage.db(commit=True) as cursor:
            cursor.execute(
                "delete from kv where queue = ? and key = ? and value = ?",
                (storage.name, key, value),
            )
            return bool(cursor.rowcount == 1)
    raise TypeError(f"no atomic delete for {type(storage).__name__}")


def make_huey(config: AppConfig, name: str | None = None) -> Any:
    """A huey instance on Redis/Valkey when a URL is given, else on the SQLite file."""
    from huey import RedisHuey, SqliteHuey

    name = name or config.queue_name
    if config.redis_url:
        return RedisHuey(name, url=config.redis_url, results=False, utc=True)
    # fsync: the 202 is sent only after the delivery is on disk (WAL, synchronous=FULL);
    # without it a commit is in the OS's hands, which a killed process does not lose.
    return SqliteHuey(
        name, filename=config.queue_path, results=False, utc=True, fsync=config.queue_fsync
    )


class Metrics:
    """Prometheus metrics of one app process (its own registry: tests build many apps)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.registry = CollectorRegistry()
        prefix = "dataface_ops_webhook"
        self.accepted = Counter(f"{prefix}_accepted", "Deliveries accepted", registry=self.registry)
        self.duplicates = Counter(
            f"{prefix}_duplicates", "Deliveries already accepted", registry=self.registry
        )
        self.refused = Counter(
            f"{prefix}_refused", "Requests refused", ["status"], registry=self.registry
        )
        self.processed = Counter(
            f"{prefix}_processed", "Deliveries processed", registry=self.registry
        )
        self.failed = Counter(
            f"{prefix}_failed", "Deliveries failed for good", registry=self.registry
        )
        self.retried = Counter(
            f"{prefix}_retried",
            "Retries scheduled (errors and rate limits)",
            registry=self.registry,
        )
        self.recovered = Counter(
            f"{prefix}_recovered",
            "Deliveries queued again after their worker died",
            registry=self.registry,
        )
        self.depth = Gauge(
            f"{prefix}_queue_depth",
            "Deliveries accepted and not finished (all workers)",
            registry=self.registry,
        )
        self.age = Gauge(
            f"{prefix}_queue_age_seconds",
            "Age of the oldest unfinished delivery",
            registry=self.registry,
        )

    def count(self, counter: Any) -> int:
        """A counter's value, for /healthz and tests."""
        return int(counter._value.get())


class DeliveryQueue:
    """Submit deliveries durably; run workers that process them once, retried, in order."""

    def __init__(
        self,
        config: AppConfig,
        processor: Processor,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        from huey.consumer import Consumer

        self.config = config
        self.processor = processor
        self.clock = clock
        self.metrics = Metrics()
        self.huey = make_huey(config)
        # The journal and the dedup set live beside the queue, in namespaces of their own.
        self.journal = make_huey(config, f"{config.queue_name}-journal").storage
        self.seen = make_huey(config, f"{config.queue_name}-seen").storage
        # Bodies apart: the journal is read whole at each heartbeat and must stay small.
        self.payloads = make_huey(config, f"{config.queue_name}-payloads").storage
        self.worker_id = uuid.uuid4().hex[:16]
        self.task = self.huey.task(name="process_delivery", context=True)(self._run)

        class QuietConsumer(Consumer):  # type: ignore[misc]
            # uvicorn owns the process's signals; the lifespan stops the consumer.
            def _set_signal_handlers(self) -> None:
                pass

        self._consumer_class = QuietConsumer
        self._consumer: Any = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._suspects: set[str] = set()
        self._last_dedupe_sweep = 0.0
        self.started = False

    # --- intake -------------------------------------------------------------------------

    def submit(self, delivery_id: str, name: str, body: bytes) -> str:
        """Store the delivery durably and queue it: 'accepted' or 'duplicate'."""
        if self.seen.has_data_for_key(f"seen:{delivery_id}"):
            self.metrics.duplicates.inc()
            return "duplicate"  # processed already
        now = self.clock()
        # Each acceptance stores its body under a key of its own, named in its job record: the
        # finish of an earlier acceptance of the same GUID (on another machine) deletes only
        # its own body, never this one.
        body_key = f"body:{delivery_id}:{uuid.uuid4().hex[:12]}"
        record = {"name": name, "received": now, "attempt": 0, "body": body_key}
        # The body first, then the job record: the delivery's durable mark and its dedup
        # while unfinished. A crash after it and before the queue write leaves a job that
        # recovery queues.
        self.payloads.put_data(body_key, body)
        if not self.journal.put_if_empty(f"job:{delivery_id}", json.dumps(record).encode()):
            self.payloads.delete_data(body_key)
            self.metrics.duplicates.inc()
            return "duplicate"  # accepted, not finished yet
        # Another machine may have finished this GUID between the `seen` check above and the
        # job record (a finish marks it seen, then deletes its job record): look again.
        if self.seen.has_data_for_key(f"seen:{delivery_id}"):
            self.journal.delete_data(f"job:{delivery_id}")
            self.payloads.delete_data(body_key)
            self.metrics.duplicates.inc()
            return "duplicate"
        try:
            self.huey.enqueue(self.task.s(delivery_id))
        except Exception:
            # Not queued: drop the record, so that GitHub's redelivery is accepted anew.
            self.journal.delete_data(f"job:{delivery_id}")
            raise
        self.metrics.accepted.inc()
        return "accepted"

    # --- workers ------------------------------------------------------------------------

    def start(self) -> None:
        """Beat, recover what dead workers left, then start the workers."""
        self._stop.clear()
        self.heartbeat()
        self.recover()
        if self.config.workers > 0:
            self._consumer = self._consumer_class(
                self.huey,
                workers=self.config.workers,
                worker_type="thread",
                periodic=False,
                initial_delay=0.05,
                backoff=1.5,
                max_delay=0.5,
                scheduler_interval=1,
                check_worker_health=False,
                shutdown_timeout=self.config.shutdown_timeout,
            )
            self._consumer.start()
            thread = threading.Thread(target=self._maintain, name="queue-maintain", daemon=True)
            thread.start()
            self._threads.append(thread)
        self.started = True

    def stop(self, timeout: float | None = None) -> None:
        """Let running deliveries finish (up to the timeout); the rest waits in the queue."""
        self._stop.set()
        if self._consumer is not None:
            if timeout is not None:
                self._consumer.shutdown_timeout = timeout
            self._consumer.stop(graceful=True)
            self._consumer = None
        for thread in self._threads:
            thread.join(5)
        self._threads.clear()
        # Gone: what this worker still holds is recovered at once by the others or the restart.
        self.journal.delete_data(f"worker:{self.worker_id}")
        self.started = False

    def _maintain(self) -> None:
        while not self._stop.wait(self.config.heartbeat):
            try:
                self.heartbeat()
                self.recover()
            except Exception as exc:  # the backend may be away for a moment; try again
                log.warning("queue maintenance failed: %s: %s", type(exc).__name__, exc)

    def heartbeat(self) -> None:
        """Say this worker is alive."""
        self.journal.put_data(f"worker:{self.worker_id}", str(self.clock()).encode())

    def _run(self, delivery_id: str, task: Any = None) -> None:
        """The huey task: claim, lock the subject, process, then finish or retry."""
        from huey.exceptions import RetryTask

        with log_context(delivery=delivery_id):
            raw = self.journal.peek_data(f"job:{delivery_id}")
            if not isinstance(raw, bytes | memoryview):
                return  # done already (a copy queued by recovery)
            if not self._claim(f"claim:{delivery_id}"):
                return  # another live worker runs it
            record = json.loads(bytes(raw))
            body = self.payloads.peek_data(_body_key(delivery_id, record))
            try:
                if not isinstance(body, bytes | memoryview):
                    raise EventError("no stored body")
                event = event_from_json(record["name"], bytes(body), delivery_id=delivery_id)
            except EventError as exc:
                self._finish(delivery_id, None, record, failed=f"stored payload unreadable: {exc}")
                return
            key = subject_key(event)
            if not self._claim_within(f"lock:{key}", self.config.lock_wait):
                self._release(f"claim:{delivery_id}")
                # Not a failure: the subject is busy; come back shortly.
                raise RetryTask(delay=0.2 + (hash(delivery_id) % 5) / 10)
            try:
                self._process(delivery_id, event, record, key)
            finally:
                self._release(f"lock:{key}")

    def _process(self, delivery_id: str, event: Event, record: dict[str, Any], key: str) -> None:
        from huey.exceptions import RetryTask

        started = self.clock()
        delivery = Delivery(delivery_id, event, float(record["received"]))
        with log_context(repo=event.repo, subject=key):
            try:
                self.processor(delivery)
            except RateLimited as exc:
                delay = max(1.0, exc.reset - self.clock() + 1)
                self._retry(delivery_id, record, count=False)
                log.warning(
                    "rate limited: retrying after the reset, in %.0fs",
                    delay,
                    extra={"status": "retrying"},
                )
                raise RetryTask(delay=delay) from None
            except Permanent as exc:
                self._finish(delivery_id, key, record, failed=str(exc))
                return
            except Exception as exc:
                attempt = int(record.get("attempt", 0)) + 1
                if attempt >= self.config.max_attempts:
                    self._finish(
                        delivery_id,
                        key,
                        record,
                        failed=f"{type(exc).__name__}: {exc} (attempt {attempt}, giving up)",
                    )
                    return
                delay = min(
                    self.config.max_retry_delay, self.config.retry_delay * 2 ** (attempt - 1)
                )
                record["attempt"] = attempt
                self._retry(delivery_id, record, count=True)
                log.warning(
                    "processing failed: %s: %s; attempt %d, retrying in %.0fs",
                    type(exc).__name__,
                    exc,
                    attempt,
                    delay,
                    extra={"status": "retrying"},
                )
                raise RetryTask(delay=delay) from None
            self._finish(delivery_id, key, record)
            log.info("processed in %.3fs", self.clock() - started, extra={"status": "processed"})

    def _owns(self, key: str) -> bool:
        held = self.journal.peek_data(key)
        return isinstance(held, bytes | memoryview) and bytes(held).startswith(
            self.worker_id.encode() + b" "
        )

    def _release(self, key: str) -> None:
        """Drop a claim or lock if it is still ours (a stalled worker's was taken over)."""
        held = self.journal.peek_data(key)
        if isinstance(held, bytes | memoryview) and bytes(held).startswith(
            self.worker_id.encode() + b" "
        ):
            delete_if(self.journal, key, bytes(held))

    def _retry(self, delivery_id: str, record: dict[str, Any], *, count: bool) -> None:
        if not self._owns(f"claim:{delivery_id}"):
            return  # taken over while this worker stalled: the new owner carries on
        if count:
            self.journal.put_data(f"job:{delivery_id}", json.dumps(record).encode())
        self.metrics.retried.inc()
        self._release(f"claim:{delivery_id}")

    def _finish(
        self,
        delivery_id: str,
        key: str | None,
        record: dict[str, Any],
        *,
        failed: str | None = None,
    ) -> None:
        if key is not None and not self._owns(f"claim:{delivery_id}"):
            log.warning("finished after its claim was taken over; the new owner counts it")
            return
        if failed is None:
            # Seen first, then the job goes: a redelivery in between is a duplicate either way.
            self.seen.put_data(f"seen:{delivery_id}", str(self.clock()).encode())
        # From here on the delivery counts as done. A failed one is not marked seen: its
        # redelivery (from the App settings or the sweep) is processed, not dropped.
        self.journal.delete_data(f"job:{delivery_id}")
        self._release(f"claim:{delivery_id}")
        self.payloads.delete_data(_body_key(delivery_id, record))
        if failed is not None:
            self.metrics.failed.inc()
            log.error("processing failed: %s", failed, extra={"status": "failed"})
        else:
            self.metrics.processed.inc()

    def _claim_within(self, key: str, seconds: float) -> bool:
        """Take a claim or lock, trying again for up to `seconds` (another worker's hold of
        one subject is usually a second or less)."""
        deadline = time.monotonic() + seconds
        while not self._claim(key):
            if time.monotonic() >= deadline or self._stop.is_set():
                return False
            time.sleep(0.02)
        return True

    def _claim(self, key: str) -> bool:
        """Take a claim or lock; one held by a dead worker is taken over."""
        mine = f"{self.worker_id} {self.clock()}".encode()
        for _ in range(2):
            if self.journal.put_if_empty(key, mine):
                return True
            held = self.journal.peek_data(key)
            if not isinstance(held, bytes | memoryview):
                continue  # released meanwhile
            owner = bytes(held).decode().split(" ", 1)[0]
            if owner == self.worker_id or self._alive(owner):
                return False
            if delete_if(self.journal, key, bytes(held)):
                log.warning("taking over %s from dead worker %s", key, owner)
        return False

    def _alive(self, worker: str, workers: dict[str, float] | None = None) -> bool:
        if workers is None:
            beat = self.journal.peek_data(f"worker:{worker}")
            last = float(bytes(beat)) if isinstance(beat, bytes | memoryview) else -math.inf
        else:
            last = workers.get(worker, -math.inf)
        return self.clock() - last < self.config.heartbeat * 3

    # --- recovery -----------------------------------------------------------------------

    def recover(self) -> int:
        """Queue again the jobs a dead worker left, and the jobs lost between queue and claim."""
        items = self.journal.result_items()
        workers = {
            k.split(":", 1)[1]: float(bytes(v)) for k, v in items.items() if k.startswith("worker:")
        }
        jobs: dict[str, dict[str, Any]] = {}
        claims: dict[str, str] = {}
        for k, v in items.items():
            kind, _, rest = k.partition(":")
            if kind == "job":
                jobs[rest] = json.loads(bytes(v))
            elif kind in ("claim", "lock"):
                owner = bytes(v).decode().split(" ", 1)[0]
                if owner != self.worker_id and not self._alive(owner, workers):
                    delete_if(self.journal, k, bytes(v))  # stale: its worker is gone
                elif kind == "claim":
                    claims[rest] = owner
        waiting = {t.args[0] for t in (*self.huey.pending(), *self.huey.scheduled()) if t.args}
        now = self.clock()
        self.metrics.depth.set(len(jobs))
        self.metrics.age.set(max((now - float(j["received"]) for j in jobs.values()), default=0))
        # Unclaimed and not waiting: lost, or just taken by a worker that has not claimed it
        # yet. Taken for lost only when seen so twice in a row, a heartbeat apart.
        suspects = {d for d in jobs if d not in claims and d not in waiting}
        lost = sorted(suspects & self._suspects)
        self._suspects = suspects - set(lost)
        for delivery_id in lost:
            with log_context(delivery=delivery_id):
                log.warning("recovered: accepted and unfinished; queued again")
            self.metrics.recovered.inc()
            self.huey.enqueue(self.task.s(delivery_id))
        if now - self._last_dedupe_sweep > 3600:
            self._last_dedupe_sweep = now
            self._expire_seen(now)
        return len(lost)

    def _expire_seen(self, now: float) -> None:
        for key, value in self.seen.result_items().items():
            try:
                if now - float(bytes(value)) > self.config.dedupe_seconds:
                    self.seen.delete_data(key)
            except ValueError:
                self.seen.delete_data(key)

    def refresh_gauges(self) -> None:
        """Queue depth and the age of the oldest unfinished delivery, from the journal."""
        now = self.clock()
        received = [
            float(json.loads(bytes(v))["received"])
            for k, v in self.journal.result_items().items()
            if k.startswith("job:")
        ]
        self.metrics.depth.set(len(received))
        self.metrics.age.set(max((now - r for r in received), default=0))

    def has_seen(self, delivery_id: str) -> bool:
        """Whether a delivery is accepted and unfinished, or processed (in the dedup window)."""
        return bool(
            self.journal.has_data_for_key(f"job:{delivery_id}")
            or self.seen.has_data_for_key(f"seen:{delivery_id}")
        )

    def ready(self) -> bool:
        """Whether the backend answers and the workers run."""
        try:
            self.huey.pending_count()
        except Exception:
            return False
        return self.started

    def health(self) -> dict[str, Any]:
        """Counters for /healthz."""
        m = self.metrics
        return {
            "status": "ok",
            "backend": "redis" if self.config.redis_url else "sqlite",
            "worker": self.worker_id,
            "workers": self.config.workers,
            "accepted": m.count(m.accepted),
            "processed": m.count(m.processed),
            "failed": m.count(m.failed),
            "retried": m.count(m.retried),
            "recovered": m.count(m.recovered),
        }

"""Wire the app: the durable queue, the engine processor and the redelivery sweep."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from automation.app.config import AppConfig
from automation.app.processor import InstallationClients, PolicyCache, engine_processor
from automation.app.queue import DeliveryQueue, Processor
from automation.app.redeliver import redeliver_failed

log = logging.getLogger("dataface_ops.webhook")


class WebhookService:
    """The queue with its workers, and the periodic redelivery sweep."""

    def __init__(self, config: AppConfig, processor: Processor | None = None) -> None:
        self.config = config
        self.clients = InstallationClients(config)
        if processor is None:
            from automation.app.alerts import alert_processor, dispatching

            cache = PolicyCache(config.policies_prefix)
            processor = dispatching(
                engine_processor(config, self.clients, cache),
                alert_processor(config, self.clients, cache),
            )
        chosen = processor
        self.queue = DeliveryQueue(config, chosen)
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    def start(self) -> None:
        """Start the workers (after recovering what a previous run left) and the sweep."""
        self.queue.start()
        self._stop.clear()
        if self.config.redeliver_interval > 0:
            self._sweeper = threading.Thread(target=self._sweep_loop, name="redeliver", daemon=True)
            self._sweeper.start()

    def stop(self) -> None:
        """Stop the sweep, then the workers (running deliveries get the shutdown timeout)."""
        self._stop.set()
        if self._sweeper is not None:
            self._sweeper.join(5)
            self._sweeper = None
        self.queue.stop()

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self.config.redeliver_interval):
            try:
                self.sweep()
            except Exception as exc:  # kept: the next round tries again
                log.warning("redelivery sweep failed: %s: %s", type(exc).__name__, exc)

    def sweep(self, now: float | None = None) -> set[str]:
        """One sweep, by one worker at a time across all machines."""
        now = time.time() if now is None else now
        journal = self.queue.journal
        lease = f"{self.queue.worker_id} {now}".encode()
        if not journal.put_if_empty("sweep:lease", lease):
            held = journal.peek_data("sweep:lease")
            present = isinstance(held, bytes | memoryview)
            taken = float(bytes(held).split(b" ", 1)[1]) if present else 0.0
            if now - taken < self.config.redeliver_interval * 2:
                return set()  # another worker sweeps
            journal.put_data("sweep:lease", lease)
        try:
            last = journal.peek_data("sweep:last")
            window_start = now - self.config.redeliver_window
            since = window_start
            if isinstance(last, bytes | memoryview):
                since = max(float(bytes(last)), window_start)
            requester = self.clients.integration().requester
            requested = redeliver_failed(requester, since, self.queue.has_seen)
            # A minute of overlap: a delivery failing while this sweep ran is found next time.
            journal.put_data("sweep:last", str(now - 60).encode())
            return requested
        finally:
            journal.delete_data("sweep:lease")

    def health(self) -> dict[str, Any]:
        """Counters for /healthz."""
        return self.queue.health()


def build_service(config: AppConfig, processor: Processor | None = None) -> WebhookService:
    """The service with the engine processor (or the given one)."""
    return WebhookService(config, processor)

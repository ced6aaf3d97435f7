"""What the webhook app needs; the secret and the key never appear in repr or logs."""

from __future__ import annotations

from dataclasses import dataclass, field

# GitHub caps webhook payloads at 25 MB and does not send larger ones.
MAX_BODY_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class AppConfig:
    """Settings of `dataface-ops serve`."""

    webhook_secret: str = field(repr=False)
    app_id: str = ""
    private_key: str = field(default="", repr=False)
    api_url: str = "https://api.github.com"
    bot_login: str | None = None
    # The queue: a SQLite file (embedded, no service) unless a Redis/Valkey URL is given.
    queue_path: str = "dataface-ops-queue.db"
    redis_url: str | None = field(default=None, repr=False)
    queue_name: str = "dataface-ops"
    # fsync each SQLite commit: a 202 then survives power loss, not only a killed process.
    queue_fsync: bool = True
    workers: int = 4
    # Retries of a failed delivery: 1 s, 2 s, 4 s ... capped; a rate limit waits for its reset.
    max_attempts: int = 8
    retry_delay: float = 1.0
    max_retry_delay: float = 600.0
    # A worker that has not beaten its heartbeat for `heartbeat * 3` seconds is dead, and its
    # unfinished deliveries are done again by the others (or by the next start).
    heartbeat: float = 5.0
    # A delivery whose subject another worker is processing waits this long for it in place
    # before it is rescheduled (the schedule wakes each second: a busy subject cost a second).
    lock_wait: float = 0.5
    # Keep delivery ids this long for dedup (GitHub keeps deliveries for 3 days).
    dedupe_seconds: float = 7 * 86_400
    # The HTTP edge.
    max_body: int = MAX_BODY_BYTES
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    max_connections: int = 256
    # Bytes of bodies read at once before their signature is known (a body reserves its
    # Content-Length); one of GitHub's largest payloads still fits.
    unverified_budget: int = 32 * 1024 * 1024
    shutdown_timeout: float = 20.0
    # Redelivery: how often to sweep GitHub's failed deliveries (0: never).
    redeliver_interval: float = 300.0
    redeliver_window: float = 3 * 86_400
    policies_prefix: str = "policies"
    # The Alertmanager receiver (POST /alerts/alertmanager): off (404) without a token; its
    # incidents go to `alerts_repo`, the tool named by the alert label `alerts_tool_label`.
    alertmanager_token: str = field(default="", repr=False)
    alerts_repo: str | None = None
    alerts_tool_label: str = "tool"
    # Alertmanager's bodies are small next to GitHub's: a group of 1,000 alerts is ~1 MB.
    alerts_max_body: int = 8 * 1024 * 1024
    dry_run: bool = False
    max_writes: int | None = None
    pacing: bool = True

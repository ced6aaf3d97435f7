"""`dataface-ops serve`: the features as a GitHub App webhook server (extra `app`)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from automation.app.config import AppConfig


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `serve`."""
    p = sub.add_parser("serve", help="run the GitHub App webhook server (pip install '.[app]')")
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=3000, help="listen port (default 3000)")
    p.add_argument(
        "--workers", type=int, default=4, help="worker threads (default 4; 0: intake only)"
    )
    p.add_argument(
        "--queue",
        metavar="PATH",
        help="SQLite file of the queue (default $DATAFACE_OPS_QUEUE or dataface-ops-queue.db)",
    )
    p.add_argument(
        "--redis-url",
        help="queue on this Redis/Valkey server instead, shared by every machine "
        "(default $DATAFACE_OPS_REDIS_URL)",
    )
    p.add_argument(
        "--alerts-repo",
        metavar="OWNER/NAME",
        help="repository of the incidents the Alertmanager receiver opens (POST "
        "/alerts/alertmanager, on when $DATAFACE_OPS_ALERTMANAGER_TOKEN is set; default "
        "$DATAFACE_OPS_ALERTS_REPO)",
    )
    p.add_argument(
        "--alerts-tool-label",
        metavar="LABEL",
        help="the alert label naming the MCP tool (default $DATAFACE_OPS_ALERTS_TOOL_LABEL "
        "or 'tool')",
    )
    p.add_argument("--dry-run", action="store_true", default=None, help="plan, never write")
    p.add_argument("--api-url", help="REST API URL (default: $GITHUB_API_URL)")
    p.set_defaults(handler=cmd_serve)


def config_from_env(args: argparse.Namespace, env: dict[str, str] | None = None) -> AppConfig:
    """Build the app's configuration from DATAFACE_OPS_* variables and the flags."""
    from automation.app.config import AppConfig
    from automation.commands.common import UsageError
    from automation.settings import settings_from_env

    env = dict(os.environ) if env is None else env
    settings = settings_from_env(env, api_url=args.api_url, dry_run=args.dry_run)
    secret = env.get("DATAFACE_OPS_WEBHOOK_SECRET", "")
    key = settings.app_private_key or ""
    key_file = env.get("DATAFACE_OPS_APP_PRIVATE_KEY_FILE", "")
    if not key and key_file:
        try:
            key = Path(key_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"cannot read DATAFACE_OPS_APP_PRIVATE_KEY_FILE: {exc.strerror}"
            ) from None
    missing = [
        name
        for name, value in (
            ("DATAFACE_OPS_WEBHOOK_SECRET", secret),
            ("DATAFACE_OPS_APP_ID", settings.app_id),
            ("DATAFACE_OPS_APP_PRIVATE_KEY (or _FILE)", key),
        )
        if not value
    ]
    if missing:
        raise UsageError("serve needs " + ", ".join(missing))
    try:
        from automation.github import Auth

        # Sign one JWT now: a malformed key would otherwise fail every delivery (and the
        # GET /app at start) with a traceback from PyJWT.
        Auth.AppAuth(str(settings.app_id), key).create_jwt()
    except Exception:  # the key's text must not reach the message
        raise UsageError(
            "the App's private key (DATAFACE_OPS_APP_PRIVATE_KEY or _FILE) is not a PEM "
            "RSA private key"
        ) from None
    if args.workers < 0:
        raise UsageError("--workers must be 0 or more")
    redis_url = args.redis_url or env.get("DATAFACE_OPS_REDIS_URL") or None
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise UsageError("the Redis URL must start with redis://, rediss:// or unix://")
    alert_token = env.get("DATAFACE_OPS_ALERTMANAGER_TOKEN", "")
    alerts_repo = getattr(args, "alerts_repo", None) or env.get("DATAFACE_OPS_ALERTS_REPO") or None
    tool_label = (
        getattr(args, "alerts_tool_label", None)
        or env.get("DATAFACE_OPS_ALERTS_TOOL_LABEL")
        or "tool"
    )
    if alert_token:
        from automation.app.shape import FULL_NAME

        if not alerts_repo:
            raise UsageError(
                "DATAFACE_OPS_ALERTMANAGER_TOKEN is set: the Alertmanager receiver needs "
                "--alerts-repo OWNER/NAME (or DATAFACE_OPS_ALERTS_REPO)"
            )
        if not FULL_NAME.fullmatch(alerts_repo):
            raise UsageError(f"--alerts-repo must be OWNER/NAME, not {alerts_repo!r}")
        if len(alert_token) < 16:
            raise UsageError("DATAFACE_OPS_ALERTMANAGER_TOKEN must be at least 16 characters")
    return AppConfig(
        webhook_secret=secret,
        app_id=str(settings.app_id),
        private_key=key,
        api_url=settings.api_url,
        bot_login=env.get("DATAFACE_OPS_BOT_LOGIN") or None,
        workers=args.workers,
        queue_path=args.queue or env.get("DATAFACE_OPS_QUEUE") or "dataface-ops-queue.db",
        redis_url=redis_url,
        policies_prefix=settings.policies_dir,
        dry_run=settings.dry_run,
        max_writes=settings.max_writes,
        pacing=settings.pacing,
        alertmanager_token=alert_token,
        alerts_repo=alerts_repo if alert_token else None,
        alerts_tool_label=tool_label,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve webhooks on uvicorn until interrupted."""
    import dataclasses

    from automation.commands.common import UsageError

    try:
        import uvicorn
    except ImportError:
        raise UsageError("serve needs the app extra: pip install 'dataface-ops[app]'") from None
    from automation.app.intake import create_app, server_config
    from automation.app.logs import configure_json_logging
    from automation.app.processor import own_bot_login
    from automation.app.service import build_service

    config = config_from_env(args)
    if config.redis_url:
        _check_redis(config.redis_url)
    configure_json_logging()
    if config.bot_login is None:
        from automation.github import RequestException

        # GET /app once at start, so the app can recognise (and ignore) its own events.
        try:
            login = own_bot_login(config)
        except RequestException as exc:
            raise UsageError(
                f"cannot reach {config.api_url} to read the App (GET /app): "
                f"{type(exc).__name__}; check --api-url or GITHUB_API_URL"
            ) from None
        config = dataclasses.replace(config, bot_login=login)
    app = create_app(build_service(config))
    # uvicorn handles SIGTERM and SIGINT: it stops taking requests, waits for those in
    # flight (up to the shutdown timeout), then the lifespan stops the workers. Whatever
    # was accepted and not finished stays in the queue for the next start.
    uvicorn.Server(server_config(config, app, host=args.host, port=args.port)).run()
    return 0


def _check_redis(url: str) -> None:
    """One line, not a traceback at startup, when the shared queue's server does not answer."""
    from urllib.parse import urlsplit

    import redis

    from automation.commands.common import UsageError

    try:
        redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5).ping()
    except (redis.RedisError, ValueError) as exc:
        where = urlsplit(url).hostname or url.split("://", 1)[0]  # never the password
        raise UsageError(
            f"cannot reach the queue's Redis/Valkey server at {where}: {type(exc).__name__}"
        ) from None

"""A webhook app in a process of its own, for the SIGKILL, SIGTERM and several-machine tests.

    python -m tests.app_child --port P --log FILE (--queue PATH | --redis URL --name Q)

Its processor writes `start <delivery> <subject> <pid> <t>` and `done ...` lines to FILE
(one write each, flushed), holding each delivery `--hold` seconds in between.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    """Serve until SIGTERM (graceful) or SIGKILL."""
    import uvicorn

    from automation.app.config import AppConfig
    from automation.app.intake import create_app, server_config
    from automation.app.logs import configure_json_logging
    from automation.app.queue import Delivery
    from automation.app.service import build_service
    from automation.app.subject import subject_key

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--queue")
    parser.add_argument("--redis")
    parser.add_argument("--name", default="dataface-ops")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hold", type=float, default=0.05)
    parser.add_argument("--heartbeat", type=float, default=1.0)
    parser.add_argument("--shutdown-timeout", type=float, default=5)
    args = parser.parse_args()

    out = open(args.log, "a", buffering=1)  # noqa: SIM115 - open for the process's life

    def record(delivery: Delivery) -> None:
        subject = subject_key(delivery.event)
        out.write(f"start {delivery.id} {subject} {os.getpid()} {time.time():.6f}\n")
        time.sleep(args.hold)
        out.write(f"done {delivery.id} {subject} {os.getpid()} {time.time():.6f}\n")

    config = AppConfig(
        webhook_secret="whsec-test-6f1c2b9a",
        app_id="4242",
        bot_login="dataface-ops[bot]",
        queue_path=args.queue or "unused.db",
        redis_url=args.redis,
        queue_name=args.name,
        workers=args.workers,
        heartbeat=args.heartbeat,
        retry_delay=0.2,
        redeliver_interval=0,
        shutdown_timeout=args.shutdown_timeout,
        pacing=False,
    )
    configure_json_logging()
    app = create_app(build_service(config, processor=record))
    uvicorn.Server(server_config(config, app, host="127.0.0.1", port=args.port)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

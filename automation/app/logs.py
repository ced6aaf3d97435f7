"""JSON log lines with the delivery id, repository, subject and feature on each."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from automation.logs import ContextFilter

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
    # huey logs each task start and end without the delivery; ours carry it.
    logging.getLogger("huey").setLevel(logging.WARNING)

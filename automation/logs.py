"""Logging with the delivery id, repository, subject and feature on every line."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

_FIELDS = ("delivery", "repo", "subject", "feature")
# A tuple of pairs, immutable, so the default can be shared safely.
_context: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "dataface_ops_log_context", default=()
)


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add fields (delivery, repo, subject, feature) to every log line inside the block."""
    merged = {**dict(_context.get()), **{k: str(v) for k, v in fields.items() if v is not None}}
    token = _context.set(tuple(merged.items()))
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, str]:
    """The fields in force now."""
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Copy the context fields onto each record, and a `context` string for text formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = dict(_context.get())
        for name in _FIELDS:
            setattr(record, name, fields.get(name, ""))
        record.context = " ".join(f"{k}={fields[k]}" for k in _FIELDS if fields.get(k))
        return True


def configure(verbose: bool = False) -> None:
    """Log to stderr as `LEVEL name [context]: message`."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s [%(context)s]: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if not verbose:
        # urllib3 logs every retry at WARNING with the full URL; keep that for -v.
        logging.getLogger("urllib3").setLevel(logging.ERROR)

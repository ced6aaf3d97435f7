"""Ask GitHub to redeliver every delivery that failed since the last sweep.

GitHub never redelivers by itself. A delivery answered with an error (the app was down, the
backend refused the write, a client timeout) is listed as failed by
GET /app/hook/deliveries?status=failure, newest first with cursor paging; the sweep reads
until it passes the previous sweep's start (or GitHub's retention window on the first one),
skips what the app accepted meanwhile, and asks for one new attempt per delivery GUID
(POST /app/hook/deliveries/{id}/attempts).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from automation.logs import log_context

log = logging.getLogger("dataface_ops.webhook")


def _next_link(link: str) -> str | None:
    for part in link.split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return url.strip().strip("<>")
    return None


def _epoch(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def failed_since(requester: Any, since: float, *, max_pages: int = 1000) -> dict[str, int]:
    """GUID -> the newest failed delivery's id, for every failure delivered after `since`."""
    found: dict[str, int] = {}
    url = "/app/hook/deliveries"
    parameters: dict[str, Any] | None = {"per_page": 100, "status": "failure"}
    for _ in range(max_pages):
        headers, data = requester.requestJsonAndCheck("GET", url, parameters=parameters)
        items = data if isinstance(data, list) else []
        older = False
        for item in items:
            at = _epoch(item.get("delivered_at"))
            if at is not None and at < since:
                older = True
                break
            guid, number = item.get("guid"), item.get("id")
            if isinstance(guid, str) and isinstance(number, int) and guid not in found:
                found[guid] = number  # newest first: the first seen is the latest attempt
        next_url = _next_link(headers.get("link", ""))
        if older or not next_url or not items:
            break
        url, parameters = next_url, None
    return found


def redeliver_failed(requester: Any, since: float, accepted: Callable[[str], bool]) -> set[str]:
    """Request a new attempt of each failed delivery the app has not accepted since."""
    requested: set[str] = set()
    for guid, number in sorted(failed_since(requester, since).items()):
        if accepted(guid):
            continue  # a later attempt got in
        with log_context(delivery=guid):
            try:
                requester.requestJsonAndCheck("POST", f"/app/hook/deliveries/{number}/attempts")
            except Exception as exc:  # the next sweep tries again
                log.warning("redelivery request failed: %s: %s", type(exc).__name__, exc)
                continue
            log.info("redelivery requested", extra={"status": "redelivery"})
        requested.add(guid)
    return requested

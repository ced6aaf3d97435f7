"""The per-subject key: deliveries with the same key are processed one at a time."""

from __future__ import annotations

import hashlib

from automation.events import Event


def subject_key(event: Event) -> str:
    """`owner/name#number` for an issue or PR, `owner/name` for repository-wide events, and
    `owner/name#alertmanager:<group>` for an Alertmanager notification: two notifications of
    one alert group never run at once (both would open an incident)."""
    repo = (event.repo or "").lower()
    if event.name == "alertmanager":
        group = event.payload.get("alertmanager")
        key = group.get("groupKey") if isinstance(group, dict) else None
        digest = hashlib.sha256(str(key).encode("utf-8")).hexdigest()[:20]
        return f"{repo}#alertmanager:{digest}"
    number = event.number
    return f"{repo}#{number}" if number else repo

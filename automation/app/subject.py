"""The per-subject key: deliveries with the same key are processed one at a time."""

from __future__ import annotations

from automation.events import Event


def subject_key(event: Event) -> str:
    """`owner/name#number` for an issue or PR, `owner/name` for repository-wide events."""
    repo = (event.repo or "").lower()
    number = event.number
    return f"{repo}#{number}" if number else repo

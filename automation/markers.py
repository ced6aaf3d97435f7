"""Stable identities: the hidden marker in everything the project writes. Pure."""

from __future__ import annotations

MARKER_PREFIX = "<!-- dataface-ops:"


def marker(feature: str, key: str) -> str:
    """Return the hidden marker that identifies what `feature` wrote about `key`."""
    return f"{MARKER_PREFIX}{feature}:{key} -->"

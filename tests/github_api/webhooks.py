"""Load vendored webhook payloads (see tests/fixtures/webhooks/VERSION.json)."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

WEBHOOKS_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"


@functools.cache
def _load(name: str) -> Any:
    path = WEBHOOKS_DIR / f"{name.removesuffix('.json')}.json"
    if not path.is_file():
        available = sorted(p.stem for p in WEBHOOKS_DIR.glob("*.json") if p.stem != "VERSION")
        raise FileNotFoundError(f"no webhook fixture {name!r}; available: {available}")
    return json.loads(path.read_text(encoding="utf-8"))


def webhook_payload(name: str) -> dict[str, Any]:
    """A fresh deep copy of ``tests/fixtures/webhooks/<name>.json``.

    ``name`` is ``"<event>.<action>"`` (e.g. ``"issues.opened"``) or ``"<event>"`` for
    events without actions (``"ping"``, ``"workflow_dispatch"``).
    """
    payload: dict[str, Any] = copy.deepcopy(_load(name))
    return payload

"""Factories for the incidents tests: form bodies, incident issues, comments, reactions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from automation.snapshot.models import Issue, Reaction
from tests.triage_factories import BOT, REPO, comment, event, policies, snapshot

__all__ = ["BOT", "REPO", "comment", "event", "policies", "snapshot"]

UTC = dt.UTC
# Thursday 2026-12-03 10:00 UTC: raj-iyer is primary on ai-primary, maya-chen secondary.
OPENED = dt.datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
HEADINGS = (
    ("tool", "Tool"),
    ("symptom", "Symptom"),
    ("started_at", "Started at"),
    ("impact", "Impact"),
    ("error_rate", "Error rate"),
    ("links", "Links"),
)


def incident_body(**values: str | None) -> str:
    """A body exactly as GitHub renders a submitted tool-incident form (and monitors write)."""
    defaults: dict[str, str | None] = {
        "tool": "run_query",
        "symptom": "Timeouts on every query against the EU warehouse",
        "started_at": "2026-12-03T09:30:00Z",
        "impact": "some users",
        "error_rate": "12%",
        "links": None,
    }
    defaults.update(values)
    return "\n\n".join(
        f"### {label}\n\n{'_No response_' if defaults[key] is None else defaults[key]}"
        for key, label in HEADINGS
    )


def incident(number: int = 201, **overrides: Any) -> Issue:
    """An open incident filed through the form at OPENED (the form sets `incident`)."""
    created = overrides.pop("created_at", OPENED)
    body = overrides.pop("body", None) or incident_body(**overrides.pop("fields", {}))
    fields: dict[str, Any] = {
        "number": number,
        "title": "run_query failing",
        "body": body,
        "author": "lena-fischer",
        "labels": ("incident",),
        "created_at": created,
        "updated_at": created,
        "comments": (),
        "comments_count": 0,
        "reactions_count": 0,
    }
    fields.update(overrides)
    if fields["comments"] is not None:
        fields["comments_count"] = len(fields["comments"])
    return Issue(**fields)


def reaction(user: str, at: dt.datetime, content: str = "eyes", rid: int = 1) -> Reaction:
    """A reaction to the issue."""
    return Reaction(id=rid, user=user, content=content, created_at=at)

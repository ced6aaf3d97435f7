"""Documentation upkeep's rules, shared by its collector and its planner. Pure.

A document's last review is the later of its last change on the default branch (when
changes count as reviews) and its latest `Reviewed: YYYY-MM-DD` line. It is due once that
is older than its review period; a document never reviewed (no line, changes not counted)
is due at once. When changes count, the text is never read (see needs_text).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from automation.markers import marker

if TYPE_CHECKING:
    from automation.policy.docs import DocsPolicy, Document
    from automation.snapshot.models import DocumentState

FEATURE = "docs_upkeep"
# `Reviewed: 2026-03-01`, also as `**Reviewed:** 2026-03-01` or `_Reviewed: ..._`.
_REVIEWED = re.compile(
    r"^[\s>*_-]*reviewed[*_]*\s*:[*_]*\s*(\d{4}-\d{2}-\d{2})", re.IGNORECASE | re.MULTILINE
)


def issue_marker(path: str) -> str:
    """The identity of the one review-due issue of the document at `path`."""
    return marker(FEATURE, path)


def reviewed_on(text: str) -> dt.date | None:
    """The latest valid date of a `Reviewed: YYYY-MM-DD` line (an impossible date is ignored)."""
    dates = []
    for match in _REVIEWED.finditer(text):
        try:
            dates.append(dt.date.fromisoformat(match.group(1)))
        except ValueError:
            continue
    return max(dates, default=None)


def last_review(policy: DocsPolicy, state: DocumentState) -> dt.date | None:
    """The date of the document's last review, or None when it has none."""
    dates = [state.reviewed] if state.reviewed else []
    if policy.changes_count_as_review and state.last_change is not None:
        dates.append(state.last_change.astimezone(dt.UTC).date())
    return max(dates, default=None)


def due_on(policy: DocsPolicy, document: Document, state: DocumentState) -> dt.date | None:
    """The date from which a review is due; None for a document that does not exist."""
    if not state.exists:
        return None
    last = last_review(policy, state)
    if last is None:
        # Never reviewed: due from its last change (or at once, when even that is unknown).
        when = state.last_change.astimezone(dt.UTC).date() if state.last_change else dt.date.min
        return when
    return last + dt.timedelta(days=policy.period(document))


def is_due(policy: DocsPolicy, document: Document, state: DocumentState, now: dt.datetime) -> bool:
    """Whether the document's review is due on `now`'s date (UTC)."""
    due = due_on(policy, document, state)
    return due is not None and due <= now.astimezone(dt.UTC).date()


def needs_text(policy: DocsPolicy, last_change: dt.datetime | None) -> bool:
    """Whether the collector must read the document's text (its Reviewed line) to decide.

    Not when changes count as reviews: a `Reviewed:` line is written by a commit, so its
    date is never later than the last change, and the last change alone decides.
    """
    return not policy.changes_count_as_review or last_change is None

"""Pure rules of the tool lifecycle sweep, shared by its collector and planner: the reminder
issue's identity (a marker per tool and sunset) and when a reminder is due."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from automation.markers import marker
from automation.policy.tools import Lifecycle

if TYPE_CHECKING:
    from automation.policy.tools import Tool, ToolsPolicy
    from automation.snapshot.models import Issue

FEATURE = "tool_lifecycle"
_KEY = re.compile(
    re.escape(marker(FEATURE, "sunset:")[:-4]) + r"([a-z0-9][a-z0-9._-]*):(\d{4}-\d{2}-\d{2}) -->"
)


def reminder_marker(tool: str, sunset: dt.date) -> str:
    """The hidden marker of the one reminder issue for this tool's sunset."""
    return marker(FEATURE, f"sunset:{tool.lower()}:{sunset.isoformat()}")


def reminder_key(issue: Issue) -> tuple[str, dt.date] | None:
    """(tool, sunset) of a reminder issue, from its marker, or None if it is not one."""
    found = _KEY.search(issue.body)
    if found is None:
        return None
    try:
        return found.group(1), dt.date.fromisoformat(found.group(2))
    except ValueError:
        return None


def is_reminder(policy: ToolsPolicy, issue: Issue) -> bool:
    """A reminder this sweep wrote: its marker and its label (anyone can type a marker,
    only triagers can label)."""
    label = policy.reminder_label.lower()
    return reminder_key(issue) is not None and label in (x.lower() for x in issue.labels)


def reminder_from(policy: ToolsPolicy, tool: Tool) -> dt.date | None:
    """The first day (UTC) a deprecated tool's sunset reminder is due; None if it has none."""
    if tool.lifecycle is not Lifecycle.DEPRECATED or tool.sunset is None:
        return None
    return tool.sunset - dt.timedelta(days=policy.sunset_reminder_days)


def reminder_due(policy: ToolsPolicy, tool: Tool, now: dt.datetime) -> bool:
    """Whether the reminder is due at `now`: from the lead day on (UTC), sunset passed too."""
    start = reminder_from(policy, tool)
    return start is not None and now.astimezone(dt.UTC).date() >= start

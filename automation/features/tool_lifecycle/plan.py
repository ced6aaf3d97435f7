"""Tool lifecycle: one reminder issue per deprecated tool and sunset, opened
`sunset_reminder_days` before it, assigned to the tool's area owners and kept current in
place; closed (with one comment) once the tool is removed, its deprecation withdrawn or its
sunset moved.

Pure: no PyGithub, no environment, no clock. A reminder's body holds dates only (no "days
left"), so a daily sweep rewrites nothing until the registry changes.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from automation.actions import Action, EditIssue, Plan, UpsertComment, UpsertIssue
from automation.markers import marker
from automation.policy.tools import Lifecycle
from automation.rendering import render_shipped
from automation.rules.tool_lifecycle import (
    FEATURE,
    is_reminder,
    reminder_due,
    reminder_from,
    reminder_key,
    reminder_marker,
)

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.policy.tools import Tool
    from automation.snapshot.models import Issue, Snapshot

# GitHub assigns at most 10 people to an issue.
MAX_ASSIGNEES = 10


def reminder_title(tool: Tool) -> str:
    """The reminder issue's title."""
    return f"Tool {tool.name} sunsets on {tool.sunset}"


def owners_of(policies: Policies, tool: Tool) -> tuple[str, ...]:
    """The people who own the tool's area (teams expanded to their members)."""
    area = policies.owners.area(tool.area)
    return policies.owners.expand(area.owners) if area is not None else ()


def reminder_body(policies: Policies, snapshot: Snapshot, tool: Tool) -> str:
    """The reminder issue's body, its marker first."""
    assert tool.sunset is not None
    runbook_url = ""
    if tool.runbook:
        server = policies.triage.server_url.rstrip("/")
        runbook_url = f"{server}/{snapshot.repo}/blob/{snapshot.default_branch}/{tool.runbook}"
    return (
        render_shipped(
            "tool_sunset.md.j2",
            marker=reminder_marker(tool.name, tool.sunset),
            tool=tool,
            owners=[f"@{login}" for login in owners_of(policies, tool)],
            runbook_url=runbook_url,
            lead_days=policies.tools.sunset_reminder_days,
        ).strip()
        + "\n"
    )


def _closing(policies: Policies, name: str, sunset: dt.date) -> tuple[str, str] | None:
    """Why a reminder for (tool, sunset) is over, and how it closes; None while it stands."""
    tool = policies.tools.tool(name)
    if tool is None:
        return "is no longer in `policies/tools.yaml`", "not_planned"
    if tool.lifecycle is Lifecycle.REMOVED:
        return f"was removed on {tool.removed_on}", "completed"
    if tool.lifecycle is Lifecycle.ACTIVE:
        return "is active again: its deprecation was withdrawn", "not_planned"
    if tool.sunset != sunset:
        return f"now sunsets on {tool.sunset} (a reminder comes before that day)", "not_planned"
    return None


def _close(issue: Issue, name: str, why: str, reason: str) -> list[Action]:
    tag = marker(FEATURE, f"closed:{issue.number}")
    body = f"{tag}\n`{name}` {why}: this reminder is done."
    actions: list[Action] = []
    existing = next((c for c in issue.comments or () if tag in c.body), None)
    if existing is None or existing.body != body:
        actions.append(
            UpsertComment(
                reason=f"say why the reminder closes: {name} {why}",
                number=issue.number,
                marker=tag,
                body=body,
                comment_id=existing.id if existing else None,
            )
        )
    # The close comes last: the next run keys on the open state to finish the job.
    actions.append(
        EditIssue(
            reason=f"{name} {why}",
            number=issue.number,
            state="closed",
            state_reason="completed" if reason == "completed" else "not_planned",
        )
    )
    return actions


def plan_tool_lifecycle(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Open or update each due sunset reminder; close reminders whose tool moved on."""
    tools = policies.tools
    reminders = [i for i in snapshot.issues if is_reminder(tools, i)]
    by_key: dict[tuple[str, dt.date], Issue] = {}
    for issue in sorted(reminders, key=lambda i: i.number):
        key = reminder_key(issue)
        assert key is not None  # is_reminder checked it
        by_key.setdefault(key, issue)  # the oldest one is the reminder; people made others
    actions: list[Action] = []
    notes: list[str] = []
    for tool in tools.tools:
        start = reminder_from(tools, tool)
        if start is None or tool.sunset is None:
            continue
        if not reminder_due(tools, tool, now):
            notes.append(f"{tool.name}: sunset {tool.sunset}; its reminder is due on {start}")
            continue
        existing = by_key.get((tool.name.lower(), tool.sunset))
        title = reminder_title(tool)
        body = reminder_body(policies, snapshot, tool)
        if existing is None:
            owners = owners_of(policies, tool)[:MAX_ASSIGNEES]
            actions.append(
                UpsertIssue(
                    reason=f"{tool.name} sunsets on {tool.sunset}; the reminder is due "
                    f"{tools.sunset_reminder_days} days before",
                    marker=reminder_marker(tool.name, tool.sunset),
                    title=title,
                    body=body,
                    labels=(tools.reminder_label,),
                    assignees=owners,
                )
            )
        elif existing.state == "open" and (existing.title != title or existing.body != body):
            actions.append(
                UpsertIssue(
                    reason=f"the registry's entry for {tool.name} changed",
                    marker=reminder_marker(tool.name, tool.sunset),
                    title=title,
                    body=body,
                    labels=(tools.reminder_label,),
                    number=existing.number,
                )
            )
    for (name, sunset), issue in sorted(by_key.items(), key=lambda kv: kv[1].number):
        if issue.state != "open":
            continue
        closing = _closing(policies, name, sunset)
        if closing is not None:
            actions.extend(_close(issue, name, *closing))
    return Plan(FEATURE, tuple(actions), tuple(notes))

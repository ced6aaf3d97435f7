"""`dataface-ops incidents explain`: where one incident's clock stands, and why. Pure."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from automation.rules.incidents import (
    acknowledgement,
    find_comment,
    is_incident,
    parse_incident,
    postmortem_due,
    postmortem_due_of,
    postmortem_for,
    severity_of,
    steps,
    tool_of,
    update_clock,
    wants_postmortem,
)

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.snapshot.models import Snapshot


def _iso(at: dt.datetime | None) -> str | None:
    return at.astimezone(dt.UTC).isoformat() if at else None


def explain(
    policies: Policies, snapshot: Snapshot, number: int, now: dt.datetime
) -> dict[str, Any]:
    """The clock of incident `number` as plain data (the JSON format prints it as is)."""
    policy = policies.incidents
    issue = snapshot.issue(number)
    if issue is None:
        return {"number": number, "at": _iso(now), "incident": False, "why": "not in the snapshot"}
    if not is_incident(policy, issue):
        return {
            "number": number,
            "at": _iso(now),
            "incident": False,
            "why": "no incident label and no Tool and Symptom headings",
        }
    severity, reason = severity_of(policies, issue)
    report = parse_incident(policy, issue.body)
    tool = tool_of(policies, report)
    ack = acknowledgement(policy, issue)
    chain = []
    for step in steps(policies, issue, severity):
        if step.done is not None:
            status = "done"
        elif ack is not None and (ack.at is None or ack.at <= step.due):
            status = "not needed (acknowledged)"
        elif issue.state != "open":
            status = "not needed (closed)"
        elif step.due <= now:
            status = "due now (the next run pages)"
        else:
            status = "pending"
        chain.append(
            {
                "step": step.index,
                "to": step.to,
                "after_minutes": step.after_minutes,
                "due": _iso(step.due),
                "pages": list(step.handles),
                "status": status,
                "done_at": _iso(step.done.created_at) if step.done else None,
            }
        )
    clock = update_clock(policy, issue, severity)
    updates = None
    if clock is not None:
        updates = {
            "every_hours": clock.every_hours,
            "last": _iso(clock.last.created_at) if clock.last else None,
            "due": _iso(clock.due),
            "late": now > clock.due,
            "reminded": find_comment(issue, clock.key) is not None,
        }
    postmortem: dict[str, Any] | None = None
    if issue.state == "closed" and wants_postmortem(policies, issue):
        found = postmortem_for(snapshot.issues, number)
        recorded = postmortem_due_of(found) if found else None
        due = recorded[1] if recorded else postmortem_due(policy, issue.closed_at or now)
        postmortem = {
            "number": found.number if found else None,
            "state": found.state if found else "to be opened by the next run",
            "due": _iso(due),
            "overdue": bool(found and found.state == "open" and now > due),
        }
    elif issue.state == "open" and severity in policy.postmortem.severities:
        postmortem = {"number": None, "state": "opened when the incident closes", "due": None}
    return {
        "number": number,
        "at": _iso(now),
        "incident": True,
        "state": issue.state,
        "opened": _iso(issue.created_at),
        "closed": _iso(issue.closed_at),
        "tool": {
            "name": tool.name,
            "area": tool.area,
            "critical": tool.critical,
            "runbook": tool.runbook,
        }
        if tool
        else None,
        "tool_written": report.tool,
        "severity": severity,
        "severity_reason": reason,
        "assignees": list(issue.assignees),
        "acknowledged": {"at": _iso(ack.at), "how": ack.how, "by": ack.who} if ack else None,
        "reactions_read": issue.reactions is not None or issue.reactions_count == 0,
        "escalation": chain,
        "status_updates": updates,
        "postmortem": postmortem,
    }


def explain_lines(document: dict[str, Any]) -> list[str]:
    """The document as lines for people."""
    number = document["number"]
    if not document["incident"]:
        return [f"#{number} is not an incident: {document['why']}"]
    tool = document["tool"]
    lines = [
        f"#{number} ({document['state']}), opened {document['opened']}"
        + (f", closed {document['closed']}" if document["closed"] else ""),
        f"tool: {tool['name']} (area {tool['area']}{', critical' if tool['critical'] else ''})"
        if tool
        else f"tool: {document['tool_written'] or 'none given'} is not registered (needs-info)",
        f"severity: {document['severity']} ({document['severity_reason']})",
        "assignees: " + (", ".join(document["assignees"]) or "nobody"),
    ]
    ack = document["acknowledged"]
    if ack:
        lines.append(f"acknowledged: {ack['at'] or 'time not read'} by {ack['by']} ({ack['how']})")
    else:
        unread = "" if document["reactions_read"] else " (reactions not read)"
        lines.append(f"acknowledged: not yet{unread}")
    if not document["escalation"]:
        lines.append(f"escalation: none for {document['severity']}")
    for step in document["escalation"]:
        done = f" at {step['done_at']}" if step["done_at"] else ""
        lines.append(
            f"escalation step {step['step']}: {step['to']} ({' '.join(step['pages']) or 'nobody'})"
            f" after {step['after_minutes']} min, due {step['due']}: {step['status']}{done}"
        )
    updates = document["status_updates"]
    if updates:
        state = (
            "late" + (", reminded" if updates["reminded"] else "") if updates["late"] else "on time"
        )
        lines.append(
            f"next status update due {updates['due']} (every {updates['every_hours']} h, last "
            f"{updates['last'] or 'never'}): {state}"
        )
    postmortem = document["postmortem"]
    if postmortem:
        where = f"#{postmortem['number']}, " if postmortem["number"] else ""
        due = f", due {postmortem['due']}" if postmortem["due"] else ""
        late = ", overdue" if postmortem.get("overdue") else ""
        lines.append(f"postmortem: {where}{postmortem['state']}{due}{late}")
    else:
        lines.append("postmortem: none for this severity or closing")
    return lines

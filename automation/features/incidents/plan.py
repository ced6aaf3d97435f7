"""MCP tool incidents: label, assign, comment once with the clock, escalate each step once,
remind about late status updates, open one postmortem when a sev1/sev2 closes, remind once
when it is overdue.

Pure: no PyGithub, no environment, no clock. Every decision is read back from the issue:
our comments carry markers (one per escalation step, one per late update), the postmortem
carries the incident's number and its due time. People win: a label a person removed or an
assignee a person took off is never put back (the events say who did it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING, Any

from automation.actions import Action, Plan, UpsertComment, UpsertIssue, Want, edit_to
from automation.markers import marker
from automation.rendering import render_shipped
from automation.rules.incidents import (
    DATA,
    FEATURE,
    Step,
    acknowledgement,
    area_people,
    duration_text,
    find_comment,
    holders,
    is_incident,
    needs_reactions,
    parse_incident,
    postmortem_due,
    postmortem_due_of,
    postmortem_for,
    postmortem_overdue,
    severity_of,
    steps,
    time_to_acknowledge,
    time_to_resolve,
    timeline,
    tool_of,
    update_clock,
    wants_postmortem,
)
from automation.rules.triage import inert, removed_by_person, unassigned_by_person

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.snapshot.models import Issue, Snapshot

TARGETS = {
    "primary": "the primary on call",
    "secondary": "the secondary on call",
    "area-owners": "the tool's area owners",
    "operating-model": "the operating-model owners",
}


def fmt(at: dt.datetime | None) -> str:
    """A time for people: `2026-12-05 09:30 UTC`."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "n/a"


def _after(minutes: int) -> str:
    return duration_text(dt.timedelta(minutes=minutes))


def runbook_url(policies: Policies, snapshot: Snapshot, path: str | None) -> str:
    """Link to a runbook on the default branch."""
    policy = policies.incidents
    base = policy.server_url.rstrip("/")
    return f"{base}/{snapshot.repo}/blob/{snapshot.default_branch}/{path or policy.runbook}"


def ack_ways(policies: Policies) -> str:
    """How to acknowledge, in words."""
    ack = policies.incidents.acknowledgement
    ways = []
    if ack.assignee_comment:
        ways.append("commenting here as an assignee")
    if ack.assignee_reaction:
        ways.append("reacting to the issue as an assignee")
    if ack.label:
        ways.append(f"adding the `{ack.label}` label")
    if not ways:
        return "nothing (the policy counts no acknowledgement)"
    return (
        ", ".join(ways[:-1]) + (", or " if len(ways) > 2 else " or ") + ways[-1]
        if len(ways) > 1
        else ways[0]
    )


def _labels_and_people(
    policies: Policies, issue: Issue, severity: str, now: dt.datetime, bot: str
) -> tuple[list[str], list[str], list[str]]:
    """The labels and assignees the issue should have, and why."""
    policy = policies.incidents
    names = policy.labels
    report = parse_incident(policy, issue.body)
    tool = tool_of(policies, report)
    labels = list(issue.labels)
    reasons: list[str] = []

    def add(label: str, why: str) -> None:
        if label not in labels and not removed_by_person(issue, label, bot):
            labels.append(label)
            reasons.append(why)

    add(names.incident, "an incident")
    if not any(lb.startswith(names.severity_prefix) for lb in labels):
        add(f"{names.severity_prefix}{severity}", f"severity {severity}")
    if tool is not None:
        if not any(lb.startswith(names.tool_prefix) for lb in labels):
            add(f"{names.tool_prefix}{tool.name}", f"tool {tool.name}")
        if not any(lb.startswith(names.area_prefix) for lb in labels):
            add(f"{names.area_prefix}{tool.area}", f"area {tool.area}")
        summary = find_comment(issue, f"incident-{issue.number}")
        data = DATA.search(summary.body) if summary else None
        if names.needs_info in labels and data is not None and data["info"]:
            labels.remove(names.needs_info)  # we asked for the tool, and it is there now
            reasons.append("the tool is registered now")
    else:
        add(names.needs_info, "no registered tool named")
    assignees = list(issue.assignees)
    if not assignees:
        people = [policies.oncall.on_call(policy.rotation, now)]
        if tool is not None and severity in policy.assign_area_owners:
            people.extend(area_people(policies, tool.area)[0])
        assignees = list(dict.fromkeys(people))[:10]  # GitHub takes at most 10
        reasons.append(f"assign {', '.join(assignees)}")
    return labels, assignees, reasons


def _summary(
    policies: Policies, snapshot: Snapshot, issue: Issue, severity: str, why: str
) -> tuple[str, str]:
    """(body, key) of the summary comment; the key digests what it was rendered from."""
    policy = policies.incidents
    report = parse_incident(policy, issue.body)
    tool = tool_of(policies, report)
    owners = area_people(policies, tool.area)[1] if tool else ()
    chain = steps(policies, issue, severity)
    context: dict[str, Any] = {
        "number": issue.number,
        "author": issue.author,
        "needs_info": tool is None,
        "tool_written": inert(report.tool or ""),
        "tool_heading": policy.fields.tool,
        "registered": ", ".join(f"`{t.name}`" for t in policies.tools.tools) or "none",
        "tool": tool.name if tool else None,
        "critical": bool(tool and tool.critical),
        "area": tool.area if tool else None,
        "severity": severity,
        "severity_reason": inert(why),
        "impact": inert(report.impact or ""),
        "error_rate": f"{report.error_rate}%" if report.error_rate is not None else "",
        "started": fmt(report.started_at)
        if report.started_at
        else inert(report.fields.get("started_at", "")),
        "owners": list(owners),
        "runbook_url": runbook_url(policies, snapshot, tool.runbook if tool else None),
        "opened": fmt(issue.created_at),
        "ack_ways": ack_ways(policies),
        "steps": [
            {
                "index": s.index,
                "after": _after(s.after_minutes),
                "target": TARGETS[s.to],
                "due": fmt(s.due),
            }
            for s in chain
        ],
        "update_hours": policy.status_updates.every_hours.get(severity),
        "postmortem_days": policy.postmortem.due_working_days
        if severity in policy.postmortem.severities
        else None,
    }
    key = hashlib.sha256(
        json.dumps(context, sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()[:16]
    tag = marker(FEATURE, f"incident-{issue.number}")
    data = f"key={key}" + (" needs-info" if tool is None else "")
    body = (
        f"{tag}\n{render_shipped('incidents/summary.md.j2', **context).strip()}\n\n"
        f"<!-- dataface-ops:incidents-data {data} -->\n"
    )
    return body, key


def _step_comment(
    policies: Policies, snapshot: Snapshot, issue: Issue, severity: str, step: Step
) -> UpsertComment:
    tool = tool_of(policies, parse_incident(policies.incidents, issue.body))
    tag = marker(FEATURE, step.key)
    text = render_shipped(
        "incidents/escalation.md.j2",
        index=step.index,
        target=TARGETS[step.to],
        handles=list(step.handles),
        number=issue.number,
        severity=severity,
        tool=tool.name if tool else None,
        waited=_after(step.after_minutes),
        opened=fmt(issue.created_at),
        ack_ways=ack_ways(policies),
        runbook_url=runbook_url(policies, snapshot, tool.runbook if tool else None),
    )
    return UpsertComment(
        reason=f"unacknowledged after {_after(step.after_minutes)} ({severity}): step "
        f"{step.index}, {step.to}",
        number=issue.number,
        marker=tag,
        body=f"{tag}\n{text.strip()}\n",
    )


def plan_open(
    policies: Policies, snapshot: Snapshot, issue: Issue, now: dt.datetime
) -> tuple[list[Action], list[Want]]:
    """Triage an open incident and run its clock."""
    policy = policies.incidents
    severity, why = severity_of(policies, issue)
    fresh = find_comment(issue, f"incident-{issue.number}") is None
    wants: list[Want] = []
    bot = snapshot.bot_login
    labels, assignees, reasons = _labels_and_people(policies, issue, severity, now, bot)
    if labels != list(issue.labels) or assignees != list(issue.assignees):
        if not fresh and issue.events is None:
            # Triaged before: whether a person undid one of these is in the events.
            wants.append(Want("events", issue.number))
            labels, assignees, reasons = list(issue.labels), list(issue.assignees), []
        elif not fresh and assignees != list(issue.assignees) and unassigned_by_person(issue, bot):
            assignees = list(issue.assignees)  # a person took ours off: leave it so
    actions: list[Action] = []
    after = issue.model_copy(update={"labels": tuple(labels), "assignees": tuple(assignees)})

    # The escalation chain: each step once, when due and nobody has acknowledged.
    step_comments: list[UpsertComment] = []
    if acknowledgement(policy, after) is None:
        chain = [s for s in steps(policies, after, severity) if s.due <= now and s.done is None]
        if chain and needs_reactions(policy, after):
            wants.append(Want("reactions", issue.number))
            chain = []  # an assignee may have reacted: read before paging anyone
        for step in chain:
            if step.assign and step.assign not in assignees:
                assignees.append(step.assign)
                reasons.append(f"step {step.index}: assign {step.assign}")
            step_comments.append(_step_comment(policies, snapshot, after, severity, step))
    # A step's assignment whose edit failed while its comment went out: put it back, unless
    # a person took that assignee off since.
    for step in steps(policies, after, severity):
        if step.done is not None and step.assign and step.assign not in assignees:
            if issue.events is None:
                wants.append(Want("events", issue.number))
            elif not unassigned_by_person(issue, bot):
                assignees.append(step.assign)
                reasons.append(f"step {step.index} assigned {step.assign}")

    edit = edit_to(issue, labels, assignees, "incident: " + "; ".join(reasons))
    if edit is not None:
        actions.append(edit)

    body, key = _summary(policies, snapshot, after, severity, why)
    existing = find_comment(issue, f"incident-{issue.number}")
    previous = DATA.search(existing.body) if existing else None
    if existing is None or (previous is None or previous["key"] != key):
        actions.append(
            UpsertComment(
                reason="the incident summary" if existing is None else "the incident changed",
                number=issue.number,
                marker=marker(FEATURE, f"incident-{issue.number}"),
                body=body,
                comment_id=existing.id if existing else None,
            )
        )
    actions.extend(step_comments)

    clock = update_clock(policy, after, severity)
    if clock is not None and now > clock.due and find_comment(issue, clock.key) is None:
        tag = marker(FEATURE, clock.key)
        text = render_shipped(
            "incidents/status_reminder.md.j2",
            assignees=assignees,
            number=issue.number,
            severity=severity,
            every_hours=clock.every_hours,
            last=f"{fmt(clock.last.created_at)} by @{clock.last.author}" if clock.last else None,
            opened=fmt(issue.created_at),
            due=fmt(clock.due),
        )
        actions.append(
            UpsertComment(
                reason=f"status update late (every {clock.every_hours} h, due {fmt(clock.due)})",
                number=issue.number,
                marker=tag,
                body=f"{tag}\n{text.strip()}\n",
            )
        )
    return actions, wants


def postmortem_body(policies: Policies, snapshot: Snapshot, issue: Issue) -> tuple[str, str]:
    """(title, body) of the postmortem of a closed incident."""
    policy = policies.incidents
    report = parse_incident(policy, issue.body)
    tool = tool_of(policies, report)
    closed = issue.closed_at or issue.updated_at
    due = postmortem_due(policy, closed)
    tta, ttr = time_to_acknowledge(policy, issue), time_to_resolve(issue)
    tag = marker(FEATURE, f"postmortem-{issue.number}")
    body = render_shipped(
        "incidents/postmortem.md.j2",
        marker=tag,
        data=f"<!-- dataface-ops:incidents-postmortem incident={issue.number} "
        f"due={due.astimezone(dt.UTC).isoformat()} -->",
        number=issue.number,
        title=inert(issue.title),
        tool=tool.name if tool else None,
        area=tool.area if tool else None,
        severity=severity_of(policies, issue)[0],
        holders=list(holders(policies, issue)),
        due=f"{due.strftime('%Y-%m-%d %H:%M')} {policy.postmortem.timezone}",
        working_days=policy.postmortem.due_working_days,
        tta=duration_text(tta) if tta is not None else "not acknowledged",
        ttr=duration_text(ttr) if ttr is not None else "n/a",
        timeline=[
            {
                "at": fmt(e.at).removesuffix(" UTC"),
                "since": duration_text(e.since_open),
                "what": inert(e.what),
            }
            for e in timeline(policies, issue)
        ],
        symptom=inert(report.fields.get("symptom", "")),
        runbook_url=runbook_url(policies, snapshot, tool.runbook if tool else None),
    )
    title = f"{policy.postmortem.title_prefix}#{issue.number} {issue.title}"[:256]
    return title, body


def plan_closed(
    policies: Policies, snapshot: Snapshot, issue: Issue
) -> tuple[list[Action], list[Want]]:
    """One postmortem issue for a closed sev1/sev2 incident."""
    policy = policies.incidents
    if not wants_postmortem(policies, issue) or postmortem_for(snapshot.issues, issue.number):
        return [], []
    wants: list[Want] = []
    if needs_reactions(policy, issue):
        wants.append(Want("reactions", issue.number))
    if policy.acknowledgement.label in issue.labels and issue.events is None:
        wants.append(Want("events", issue.number))  # when the label went on
    if wants:
        return [], wants
    title, body = postmortem_body(policies, snapshot, issue)
    return [
        UpsertIssue(
            reason=f"#{issue.number} ({severity_of(policies, issue)[0]}) was resolved",
            marker=marker(FEATURE, f"postmortem-{issue.number}"),
            title=title,
            body=body,
            labels=(policy.postmortem.label,),
            assignees=holders(policies, issue),
        )
    ], []


def plan_postmortem(issue: Issue, now: dt.datetime) -> list[Action]:
    """One reminder on a postmortem still open past its due time."""
    recorded = postmortem_due_of(issue)
    if recorded is None or not postmortem_overdue(issue, now):
        return []
    key = f"postmortem-overdue-{issue.number}"
    if find_comment(issue, key) is not None:
        return []
    tag = marker(FEATURE, key)
    text = render_shipped(
        "incidents/postmortem_overdue.md.j2",
        assignees=list(issue.assignees),
        incident=recorded[0],
        due=fmt(recorded[1]),
    )
    return [
        UpsertComment(
            reason=f"postmortem of #{recorded[0]} overdue since {fmt(recorded[1])}",
            number=issue.number,
            marker=tag,
            body=f"{tag}\n{text.strip()}\n",
        )
    ]


def plan_incidents(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Plan every incident and postmortem in the snapshot whose comments were read."""
    policy = policies.incidents
    actions: list[Action] = []
    wants: list[Want] = []
    for issue in sorted(snapshot.issues, key=lambda i: i.number):
        if issue.comments is None:
            continue  # context only (listed to find a postmortem), never a subject
        if postmortem_due_of(issue) is not None and issue.author_is_bot:
            actions.extend(plan_postmortem(issue, now))
            continue
        if not is_incident(policy, issue):
            continue
        if issue.state == "open":
            planned, wanted = plan_open(policies, snapshot, issue, now)
        else:
            planned, wanted = plan_closed(policies, snapshot, issue)
        actions.extend(planned)
        wants.extend(wanted)
    return Plan(FEATURE, tuple(actions), wants=tuple(dict.fromkeys(wants)))

"""Eval-regression triage: parse the report, size it, route it, comment once, escalate once.

Pure: no PyGithub, no environment, no clock. People win: a label a person removed or an
assignment a person changed is never undone (the issue's events say who did what).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from automation.actions import Action, AddLabels, EditIssue, Plan, UpsertComment, Want, edit_to
from automation.markers import marker
from automation.policy.templating import render_template
from automation.rules.triage import (
    _DATA,
    FEATURE,
    Report,
    acknowledged,
    added_by_bot,
    area_rule,
    assignment_dropped,
    closed_by_bot,
    due_at,
    find_comment,
    inert,
    is_fresh,
    is_regression,
    parse_report,
    removed_by_person,
    runbook_url,
    severity_label,
    size,
    unassigned_by_person,
)

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.policy.triage import AreaRule
    from automation.snapshot.models import Issue, Snapshot


def _fmt(at: dt.datetime | None) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "n/a"


def duplicate_of(
    policies: Policies, snapshot: Snapshot, issue: Issue, report: Report
) -> int | None:
    """The open regression this one repeats, decided once, at the first triage."""
    existing = find_comment(issue, f"issue-{issue.number}")
    if existing is not None:
        data = _DATA.search(existing.body)
        return int(data.group("n")) if data and data.group("n") else None
    policy = policies.triage
    key = report.duplicate_key
    if not policy.duplicates.enabled or key is None:
        return None
    for other in sorted(snapshot.issues, key=lambda i: i.number):
        if other.number >= issue.number or other.state != "open":
            continue
        if policy.labels.duplicate in other.labels or not is_regression(policy, other):
            continue
        if parse_report(policy, other.body).duplicate_key == key:
            return other.number
    return None


def _assignees_for(
    policies: Policies, rule: AreaRule | None, area: str | None, how: str, now: dt.datetime
) -> tuple[str, ...]:
    policy = policies.triage
    logins: list[str] = []
    if how in ("area-owner", "both"):
        if rule is not None and rule.assignee is not None:
            logins.append(rule.assignee)
        elif area is not None and (found := policies.owners.area(area)) is not None:
            logins.extend(policies.owners.expand(found.owners))
    if how in ("on-call", "both") or not logins:
        logins.append(policies.oncall.on_call(policy.rotation, now))
    # GitHub takes at most 10 assignees; the issue is about one person owning it.
    return tuple(dict.fromkeys(logins))[:10]


def plan_issue(
    policies: Policies, snapshot: Snapshot, issue: Issue, now: dt.datetime
) -> list[Action]:
    """The actions that triage (and, past its SLA, escalate) one issue."""
    policy = policies.triage
    if not is_regression(policy, issue):
        return []
    bot = snapshot.bot_login
    names = policy.labels
    report = parse_report(policy, issue.body)
    baseline, current = report.baseline, report.current
    sizing = None
    if report.fields.get("metric") and baseline is not None and current is not None:
        sizing = size(policy, report.fields["metric"], baseline, current)
    rule = area_rule(policy, report)
    area = rule.area if rule else policy.default_area
    dup = duplicate_of(policies, snapshot, issue, report)

    labels = list(issue.labels)
    reasons: list[str] = []

    def add(label: str, why: str) -> None:
        if label in labels:
            return
        if removed_by_person(issue, label, bot):
            return  # people win: a person removed it, so it stays removed
        labels.append(label)
        reasons.append(why)

    add(policy.label, "an eval regression")
    severity = severity_label(policy, issue)
    if severity is None and sizing is not None:
        add(f"{names.severity_prefix}{sizing.severity}", f"severity {sizing.severity}")
    if area is not None and not any(x.startswith(names.area_prefix) for x in labels):
        add(f"{names.area_prefix}{area}", f"area {area}")
    if report.missing:
        add(names.needs_info, f"missing {', '.join(report.missing)}")
    elif names.needs_info in labels and added_by_bot(issue, names.needs_info, bot):
        labels.remove(names.needs_info)
        reasons.append("every field is filled in now")
    if dup is not None:
        add(names.duplicate, f"duplicate of #{dup}")

    assignees = list(issue.assignees)
    effective_severity = severity_label(policy, issue) or (sizing.severity if sizing else None)
    if (
        not assignees
        and dup is None
        and not unassigned_by_person(issue, bot)
        and not assignment_dropped(issue, bot)
    ):
        how = policy.assign_rule(effective_severity)
        assignees = list(_assignees_for(policies, rule, area, how, now))
        reasons.append(f"assign {', '.join(assignees)} ({how})")

    # Closed once: at the first triage, or later when that close never landed (the bot never
    # closed it; a duplicate a person reopened stays open).
    close = (
        dup is not None
        and policy.duplicates.close
        and names.duplicate in labels
        and (find_comment(issue, f"issue-{issue.number}") is None or not closed_by_bot(issue, bot))
    )

    actions: list[Action] = []
    # Escalation: past the SLA, unacknowledged, once (its comment is the record). The label
    # is the other half of that one decision: a run that failed between the two writes (the
    # label's POST failed, the comment went out) leaves the record without its label, and the
    # next run puts the label back unless a person took it off.
    after = issue.model_copy(update={"labels": tuple(labels), "assignees": tuple(assignees)})
    escalate = _escalation(policies, snapshot, after, now) if dup is None else None
    repair = (
        escalate is None
        and dup is None
        and names.escalated not in labels
        and find_comment(issue, f"escalation-{issue.number}") is not None
        and not removed_by_person(issue, names.escalated, bot)
    )
    if (escalate is not None or repair) and names.escalated not in labels:
        why = (
            f"unacknowledged past its {escalate[1]} h SLA"
            if escalate is not None
            else "escalated (the comment says so) but the label is missing"
        )
        if labels != list(issue.labels) or assignees != list(issue.assignees):
            labels.append(names.escalated)
            reasons.append("escalated")
        else:
            actions.append(AddLabels(reason=why, number=issue.number, labels=(names.escalated,)))

    edit = edit_to(issue, labels, assignees, "triage: " + "; ".join(reasons))
    if edit is not None:
        actions.insert(0, edit)

    severity_now = severity_label(policy, after.model_copy(update={"labels": tuple(labels)}))
    shown = severity_now or (sizing.severity if sizing else None)
    owner_area = policies.owners.area(area) if area else None
    due = (
        issue.created_at + dt.timedelta(hours=policy.sla_hours[shown])
        if shown in policy.sla_hours
        else None
    )
    context = {
        "number": issue.number,
        "title": inert(issue.title),
        "author": issue.author,
        "fields": {k: inert(report.fields.get(k, "")) for k in _field_keys()},
        "missing": list(report.missing),
        "needs_info": bool(report.missing),
        "severity": shown or "unknown",
        "change": sizing.change_text(baseline, current)
        if sizing and baseline is not None and current is not None
        else "n/a",
        "metric_family": sizing.family.name if sizing and sizing.family else None,
        "area": area,
        "area_team": list(policies.owners.codeowners_handles(owner_area.owners))
        if owner_area
        else [],
        "assignees": assignees,
        "sla_hours": policy.sla_hours.get(shown or "", 0),
        "due": _fmt(due),
        "duplicate_of": dup,
        "runbook_url": runbook_url(policy, snapshot),
        "secondary": None,
        "on_call": policies.oncall.on_call(policy.rotation, now),
    }
    tag = marker(FEATURE, f"issue-{issue.number}")
    # Who owns it now is on the issue itself; the summary is rewritten only when what it
    # was rendered from changes (the report, the severity, the area, the template).
    stable = {k: v for k, v in context.items() if k not in ("assignees", "on_call")}
    stable["template"] = policy.comment
    digest = hashlib.sha256(
        json.dumps(stable, sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()[:16]
    data = f"key={digest}" + (f" duplicate-of={dup}" if dup is not None else "")
    body = (
        tag
        + "\n"
        + render_template(policy.comment, context).strip()
        + f"\n\n<!-- dataface-ops:triage-data {data} -->\n"
    )
    existing = find_comment(issue, f"issue-{issue.number}")
    previous = _DATA.search(existing.body) if existing else None
    if existing is None or (
        existing.body != body and (previous is None or previous["key"] != digest)
    ):
        actions.insert(
            1 if actions and isinstance(actions[0], EditIssue) else 0,
            UpsertComment(
                reason="the triage summary" if existing is None else "the report changed",
                number=issue.number,
                marker=tag,
                body=body,
                comment_id=existing.id if existing else None,
            ),
        )

    if close:
        # Last: a closed issue is no longer triaged, so its comment must be there first.
        actions.append(
            EditIssue(
                reason=f"triage: close the duplicate of #{dup}",
                number=issue.number,
                state="closed",
                state_reason="not_planned",
            )
        )

    if escalate is not None:
        esc_tag = marker(FEATURE, f"escalation-{issue.number}")
        # Who was on call when the SLA ran out, not when the comment is written: a run cut
        # short by a rate limit and resumed after a handoff writes the same text.
        esc_context = {
            **context,
            "severity": escalate[0],
            "sla_hours": escalate[1],
            "due": _fmt(escalate[2]),
            "on_call": policies.oncall.on_call(policy.rotation, escalate[2]),
            "secondary": policies.oncall.secondary_on_call(policy.rotation, escalate[2]),
        }
        actions.append(
            UpsertComment(
                reason=f"not acknowledged within {escalate[1]} h ({escalate[0]})",
                number=issue.number,
                marker=esc_tag,
                body=esc_tag
                + "\n"
                + render_template(policy.escalation_comment, esc_context).strip()
                + "\n",
            )
        )
    return actions


def _field_keys() -> tuple[str, ...]:
    from automation.policy.triage import FIELD_KEYS

    return FIELD_KEYS


def _escalation(
    policies: Policies, snapshot: Snapshot, issue: Issue, now: dt.datetime
) -> tuple[str, int, dt.datetime] | None:
    """(severity, SLA hours, due) when the issue must escalate now, else None."""
    policy = policies.triage
    if find_comment(issue, f"escalation-{issue.number}") is not None:
        return None  # exactly once: the escalation comment is the record
    if issue.comments is None and issue.comments_count:
        return None  # comments not read: cannot tell whether it was acknowledged
    severity = severity_label(policy, issue)
    due = due_at(policy, issue)
    if severity is None or due is None or now < due or acknowledged(policy, issue):
        return None
    return severity, policy.sla_hours[severity], due


def plan_triage(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Triage every eval regression in the snapshot."""
    actions: list[Action] = []
    wants: list[Want] = []
    for issue in sorted(snapshot.issues, key=lambda i: i.number):
        if issue.comments is None:
            # Not read: context only (an open regression listed to find duplicates), never
            # a subject. Planning it without its comments could repeat a comment.
            continue
        planned = plan_issue(policies, snapshot, issue, now)
        if wants_events(issue, planned):
            wants.append(Want("events", issue.number))
        actions.extend(planned)
    return Plan(FEATURE, tuple(actions), wants=tuple(wants))


def wants_events(issue: Issue, actions: Sequence[Action]) -> bool:
    """Whether these actions rest on not knowing who changed the issue: they edit labels or
    assignees of an issue triaged before, or put back the label of an escalation already
    made (unless a person took it off). The events say whether a person undid us."""
    if issue.events is not None or is_fresh(issue):
        return False
    if any(isinstance(a, EditIssue) and a.number == issue.number for a in actions):
        return True
    return (
        any(isinstance(a, AddLabels) and a.number == issue.number for a in actions)
        and find_comment(issue, f"escalation-{issue.number}") is not None
    )

"""Render plans and reports as text, Markdown ($GITHUB_STEP_SUMMARY) or JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from automation.actions import (
    Action,
    Outcome,
    Plan,
    Report,
)


def _action_dict(action: Action) -> dict[str, Any]:
    # The action's own fields sit under `fields`: an action with a field named like an
    # envelope key (a check run's `summary`) must not overwrite the envelope.
    fields = dataclasses.asdict(action)
    return {
        "type": action.kind,
        "summary": action.describe(),
        "reason": fields.pop("reason", ""),
        "fields": fields,
    }


# A run meters a plan's writes; what its budget defers waits for the next run. A sweep over
# thousands of items defers thousands of writes: the text and Markdown reports show the
# first few and count the rest (a job summary is capped at 1 MiB; JSON keeps every one).
DEFERRED_SHOWN = 10


def _shown(plan: Plan, status_of: dict[int, Outcome]) -> tuple[list[Action], int]:
    """The actions a human report lists, and how many deferred ones it leaves out."""
    shown: list[Action] = []
    deferred = hidden = 0
    for action in plan.actions:
        outcome = status_of.get(id(action))
        if outcome and outcome.status == "skipped" and outcome.detail.startswith("write budget"):
            deferred += 1
            if deferred > DEFERRED_SHOWN:
                hidden += 1
                continue
        shown.append(action)
    return shown, hidden


def _hidden_line(hidden: int) -> str:
    return f"... and {hidden:,} more deferred to the next run by the write budget"


def render_text(plans: Sequence[Plan], report: Report | None = None) -> str:
    """Render plans (and, after execution, their outcomes) as plain text."""
    status_of = {id(o.action): o for o in report.outcomes} if report else {}
    lines: list[str] = []
    for plan in plans:
        count = len(plan.actions)
        lines.append(f"{plan.feature}: {count} action{'s' if count != 1 else ''}")
        for note in plan.notes:
            lines.append(f"  note: {note}")
        shown, hidden = _shown(plan, status_of)
        for action in shown:
            outcome = status_of.get(id(action))
            status = f"[{outcome.status}] " if outcome else ""
            detail = f" ({outcome.detail})" if outcome and outcome.detail else ""
            lines.append(f"  - {status}{action.describe()}{detail}")
            lines.append(f"      why: {action.reason}")
        if hidden:
            lines.append(f"  {_hidden_line(hidden)}")
    if report is not None:
        lines.extend(f"note: {note}" for note in report.notes)
        lines.extend(f"error: {error}" for error in report.errors)
        lines.append(_totals(report))
        if report.stopped:
            lines.append(f"stopped: {report.stopped}")
    return "\n".join(lines) + "\n"


def _totals(report: Report) -> str:
    return (
        f"applied {report.count('applied')}, dry-run {report.count('dry-run')}, "
        f"skipped {report.count('skipped')}, failed {report.count('failed')}"
    )


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(plans: Sequence[Plan], report: Report | None = None) -> str:
    """Render plans and outcomes as Markdown for $GITHUB_STEP_SUMMARY."""
    status_of = {id(o.action): o for o in report.outcomes} if report else {}
    out = ["## dataface-ops", ""]
    for plan in plans:
        out.append(f"### {plan.feature}")
        out.append("")
        for note in plan.notes:
            out.append(f"> {note}")
            out.append("")
        if not plan.actions:
            out.append("Nothing to change: converged.")
            out.append("")
            continue
        out.append("| action | why | outcome |")
        out.append("| --- | --- | --- |")
        shown, hidden = _shown(plan, status_of)
        for action in shown:
            outcome = status_of.get(id(action))
            result: str = outcome.status if outcome else "planned"
            if outcome and outcome.detail:
                result += f": {outcome.detail}"
            out.append(
                f"| {_md_escape(action.describe())} | {_md_escape(action.reason)} "
                f"| {_md_escape(result)} |"
            )
        if hidden:
            out.append(f"| {_hidden_line(hidden)} | | |")
        out.append("")
    if report is not None:
        for note in report.notes:
            out.append(f"> {_md_escape(note)}")
            out.append("")
        for error in report.errors:
            out.append(f"> **Error**: {_md_escape(error)}")
            out.append("")
        out.append(f"**{_totals(report)}**")
        if report.stopped:
            out.append("")
            out.append(f"Stopped early: {report.stopped}")
        out.append("")
    return "\n".join(out)


def render_json(plans: Sequence[Plan], report: Report | None = None) -> str:
    """Render plans and outcomes as JSON."""
    status_of = {id(o.action): o for o in report.outcomes} if report else {}

    def default(value: object) -> str:
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    data: dict[str, Any] = {
        "plans": [
            {
                "feature": plan.feature,
                "notes": list(plan.notes),
                "actions": [
                    {
                        **_action_dict(a),
                        **(
                            {
                                "outcome": status_of[id(a)].status,
                                "detail": status_of[id(a)].detail,
                            }
                            if id(a) in status_of
                            else {}
                        ),
                    }
                    for a in plan.actions
                ],
            }
            for plan in plans
        ]
    }
    if report is not None:
        data["totals"] = {s: report.count(s) for s in ("applied", "dry-run", "skipped", "failed")}
        data["stopped"] = report.stopped
        data["errors"] = list(report.errors)
        data["notes"] = list(report.notes)
    return json.dumps(data, indent=2, default=default) + "\n"

"""`dataface-ops retro`: what the policies produced over a period, and the changes it calls for."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from automation.features.retro.propose import RetroReport


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `retro`."""
    from automation.commands import common

    p = sub.add_parser(
        "retro",
        help="report what the policies produced over a period; propose policy changes",
    )
    p.add_argument("--since", type=common.parse_time, required=True, help="start (ISO 8601)")
    p.add_argument("--until", type=common.parse_time, help="end (ISO 8601; default: now)")
    p.add_argument(
        "--open-pr",
        action="store_true",
        help="open (or update) one PR with the proposed edits and the re-rendered docs",
    )
    p.add_argument("--dry-run", action="store_true", default=None, help="plan, never write")
    p.add_argument("--at", type=common.parse_time, help="pretend it is this time (ISO 8601)")
    common.add_common(p)
    p.set_defaults(handler=cmd_retro)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / 3600  # durations (incidents' MTTA, MTTR) in hours
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def report_document(report: RetroReport) -> dict[str, Any]:
    """The report as plain JSON data (figures, findings, edits)."""
    data = dataclasses.asdict(report)
    data["trains"]["late"] = [r.number for r in report.trains.late]
    data["trains"]["skipped"] = [r.slot for r in report.trains.skipped]
    data["trains"]["held"] = [r.slot for r in report.trains.held]
    for row, source in zip(data["stale"], report.stale, strict=True):
        row["false_close_rate"] = source.false_close_rate
    for row, triage in zip(data["triage"], report.triage, strict=True):
        row["met_rate"] = triage.met_rate
    for finding in data["findings"]:
        for edit in finding["edits"]:
            edit["loc"] = list(edit["loc"])
    return dict(_plain(data))


def cmd_retro(args: argparse.Namespace) -> int:
    """Read the period's history, report its figures, and with --open-pr propose the edits."""
    from automation.commands import common
    from automation.execute import execute
    from automation.features.retro.collect import collect_period
    from automation.features.retro.plan import plan_period
    from automation.rendering import render_document
    from automation.rules.retro import period_between

    policies = common.policies(args, needs="retro")
    now = common.now(args)
    until = args.until or now
    if args.since >= until:
        raise common.UsageError("--since must be before --until")
    if until > now:
        raise common.UsageError("--until is in the future: the figures would be incomplete")
    period = period_between(args.since, until)
    settings = common.settings(args)
    repo = common.repository(settings)
    snapshot = collect_period(repo, policies, period, now, files=args.open_pr)
    plan, report = plan_period(policies, snapshot, period, now)
    outcome = None
    if args.open_pr:
        outcome = execute([plan], repo, dry_run=settings.dry_run, started=now)
    if args.format == "json":
        document = report_document(report)
        document["repo"] = snapshot.repo
        document["notes"] = list(plan.notes)
        document["actions"] = [
            {"action": a.kind, "describe": a.describe(), "reason": a.reason} for a in plan.actions
        ]
        if outcome is not None:
            document["outcomes"] = [
                {"action": o.action.kind, "status": o.status, "detail": o.detail}
                for o in outcome.outcomes
            ]
        print(json.dumps(document, indent=2))
    else:
        print(render_document("retro_report.md.j2", {"r": report, "repo": snapshot.repo}), end="")
        print()
        for note in plan.notes:
            print(f"note: {note}")
        for item in outcome.outcomes if outcome is not None else ():
            detail = f" ({item.detail})" if item.detail else ""
            print(f"{item.status}: {item.action.describe()}{detail}")
    if outcome is not None and not outcome.ok:
        return common.EXIT_FAILED
    return common.EXIT_OK

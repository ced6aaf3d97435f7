"""`dataface-ops oncall now|schedule`: who is on call, from policies/oncall.yaml alone."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import TYPE_CHECKING

from automation.errors import UsageError

if TYPE_CHECKING:
    from automation.policy.oncall import OncallPolicy


def _fmt(at: dt.datetime) -> str:
    return f"{at.strftime('%a %Y-%m-%d %H:%M %Z')} ({at.astimezone(dt.UTC):%H:%M} UTC)"


def _oncall(args: argparse.Namespace) -> OncallPolicy:
    from automation.commands.common import policies as _policies

    return _policies(args, needs="oncall").oncall


def _weeks(value: str) -> int:
    try:
        weeks = int(value)
    except ValueError:
        weeks = 0
    if not 1 <= weeks <= 52:
        raise argparse.ArgumentTypeError(f"expected a number of weeks from 1 to 52, got {value!r}")
    return weeks


def _rotations(policy: OncallPolicy, wanted: str | None) -> list[str]:
    names = [r.name for r in policy.rotations]
    if wanted is None:
        return names
    if wanted not in names:
        # UsageError: the CLI prints it as one line (exit 2) however the module was started.
        raise UsageError(f"unknown rotation {wanted!r} (known: {', '.join(names)})")
    return [wanted]


def cmd_now(args: argparse.Namespace) -> int:
    """Print who is on call at --at (default: now) in each rotation."""
    from automation.commands.common import now as _now

    policy = _oncall(args)
    at = _now(args)
    rows = []
    for name in _rotations(policy, args.rotation):
        rotation = policy.rotation(name)
        assert rotation is not None
        rows.append(
            (
                name,
                policy.on_call(name, at),
                policy.secondary_on_call(name, at),
                rotation.shift_start(at),
                rotation.next_handoff(at),
            )
        )
    if args.format == "json":
        keys = ("rotation", "primary", "secondary", "shift_start", "next_handoff")
        document = {"at": at, "rotations": [dict(zip(keys, row, strict=True)) for row in rows]}
        print(json.dumps(document, indent=2, default=_iso))
        return 0
    for name, primary, secondary, started, handoff in rows:
        line = (
            f"{name}: primary {primary}, secondary {secondary or 'none'}; "
            f"shift started {_fmt(started)}, next handoff {_fmt(handoff)}"
        )
        print(f"- {line}" if args.format == "markdown" else line)
    return 0


def _iso(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def cmd_schedule(args: argparse.Namespace) -> int:
    """Print who is on call, span by span, for the next N weeks."""
    from automation.commands.common import now as _now

    policy = _oncall(args)
    at = _now(args)
    end = at + dt.timedelta(weeks=args.weeks)
    spans = {name: policy.schedule(name, at, end) for name in _rotations(policy, args.rotation)}
    if args.format == "json":
        document = {
            "from": at.isoformat(),
            "until": end.isoformat(),
            "rotations": [
                {
                    "rotation": name,
                    "shifts": [
                        {
                            "start": shift.start.isoformat(),
                            "end": shift.end.isoformat(),
                            "primary": shift.primary,
                            "secondary": shift.secondary,
                        }
                        for shift in shifts
                    ],
                }
                for name, shifts in spans.items()
            ],
        }
        print(json.dumps(document, indent=2))
        return 0
    bullet = "- " if args.format == "markdown" else "  "
    for name, shifts in spans.items():
        print(f"### {name}\n" if args.format == "markdown" else f"{name}:")
        for shift in shifts:
            print(
                f"{bullet}{_fmt(shift.start)} -> {_fmt(shift.end)}: {shift.primary}"
                f" (secondary {shift.secondary or 'none'})"
            )
    return 0


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `oncall now` and `oncall schedule`."""
    from automation.commands.common import parse_time as _parse_time

    parser = sub.add_parser("oncall", help="who is on call (reads policies/oncall.yaml)")
    osub = parser.add_subparsers(dest="oncall_command", metavar="SUBCOMMAND", required=True)
    for name, handler, text in (
        ("now", cmd_now, "who is on call now (or at --at)"),
        ("schedule", cmd_schedule, "who is on call for the next weeks"),
    ):
        p = osub.add_parser(name, help=text)
        p.add_argument("--at", type=_parse_time, help="pretend it is this time (ISO 8601)")
        p.add_argument("--rotation", help="only this rotation")
        p.add_argument("--policies", help="policy directory (default: policies)")
        p.add_argument(
            "--format", choices=("text", "markdown", "json"), default="text", help="output format"
        )
        if name == "schedule":
            p.add_argument("--weeks", type=_weeks, default=4, metavar="N", help="weeks ahead")
        p.set_defaults(handler=handler)

"""`dataface-ops release next`: when the next train leaves, what is on it, any freeze."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.snapshot.models import Snapshot


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `release next`."""
    from automation.commands.common import add_common as _add_common
    from automation.commands.common import parse_time as _parse_time

    parser = sub.add_parser("release", help="release train tooling")
    rsub = parser.add_subparsers(dest="release_command", metavar="SUBCOMMAND", required=True)
    p = rsub.add_parser(
        "next", help="when the next train leaves, what is on it so far, whether a freeze applies"
    )
    p.add_argument("--at", type=_parse_time, help="pretend it is this time (ISO 8601)")
    p.add_argument(
        "--snapshot",
        metavar="FILE",
        help="read the train's PRs from a snapshot file instead of GitHub",
    )
    p.add_argument(
        "--offline",
        action="store_true",
        help="show the calendar only; read nothing from GitHub",
    )
    _add_common(p)
    p.set_defaults(handler=cmd_release_next)


def next_train(policies: Policies, snapshot: Snapshot | None, now: dt.datetime) -> dict[str, Any]:
    """Everything `release next` reports, as plain data."""
    from automation.features.release.plan import categorize, pull_url, shipped_pulls
    from automation.rules.release import (
        call_train,
        captain_at,
        describe_time,
        last_shipped,
        open_train,
    )

    policy = policies.release
    shipped = last_shipped(policy, snapshot) if snapshot is not None else None
    call = call_train(policy, now, shipped)
    upcoming = call.next_departure
    leaving = call.departure if call.due else upcoming
    prs: list[dict[str, Any]] | None = None
    open_pr: dict[str, Any] | None = None
    since = "the last release"
    if snapshot is not None:
        current = open_train(policy, snapshot)
        if current is not None:
            open_pr = {"number": current.number, "url": pull_url(snapshot, current)}
        if snapshot.comparison is not None:
            prs = []
            for pull in shipped_pulls(policy, snapshot):
                category = categorize(policy, pull, snapshot.comparison)
                prs.append(
                    {
                        "number": pull.number,
                        "title": " ".join(pull.title.split()),
                        "author": pull.author,
                        "category": category.name,
                        "flag": category.flag(pull.body, pull.labels),
                    }
                )
        if shipped is not None:
            since = describe_time(policy, shipped)
    return {
        # The instants behind the human times, for the JSON view (ISO 8601, never prose).
        "instants": {
            "now": now,
            "departure": call.departure.at if call.departure else None,
            "next_departure": upcoming.at if upcoming else None,
            "since": shipped,
        },
        "now": describe_time(policy, now),
        "freeze": call.freeze,
        "due": call.due,
        "reason": call.reason,
        "departure": describe_time(policy, call.departure.at) if call.departure else None,
        "caught_up": bool(call.departure and call.departure.caught_up),
        "slot": call.departure.slot.isoformat() if call.departure else None,
        "next_departure": describe_time(policy, upcoming.at) if upcoming else "none scheduled",
        "next_caught_up": bool(upcoming and upcoming.caught_up),
        "next_slot": upcoming.slot.isoformat() if upcoming else None,
        "captain": captain_at(policies, leaving.at) if leaving else None,
        "source_branch": policy.source_branch,
        "since": since,
        "open_pr": open_pr,
        "prs": prs,
    }


def machine_view(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON document of `release next`: the same fields, every time as ISO 8601."""
    view = {key: value for key, value in data.items() if key != "instants"}
    for key, instant in data["instants"].items():
        view[key] = instant.isoformat() if instant is not None else None
    return view


def cmd_release_next(args: argparse.Namespace) -> int:
    """Print when the next train leaves, what is on it so far, and whether a freeze applies."""
    from automation.commands import common
    from automation.features.release.plan import render

    policies = common.policies(args, needs="release")
    now = common.now(args)
    snapshot: Snapshot | None = None
    if args.snapshot:
        from automation.snapshot.models import Snapshot

        loaded = common.load_snapshot(args.snapshot)
        assert isinstance(loaded, Snapshot)
        snapshot = loaded
    elif not args.offline:
        from automation.features.release.collect import collect_release

        settings = common.settings(args)
        repo = common.repository(settings)
        snapshot = collect_release(repo, policies, None, now, full=True)
    data = next_train(policies, snapshot, now)
    if args.format == "json":
        print(json.dumps(machine_view(data), indent=2))
    else:
        print(render("release_next.md.j2", **data), end="")
    return common.EXIT_OK

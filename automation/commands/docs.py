"""`dataface-ops docs render|check`: the operating model in writing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def cmd_docs_render(args: argparse.Namespace) -> int:
    """Write docs/OPERATING_MODEL.md from the policies."""
    from automation.commands.common import EXIT_OK, UsageError
    from automation.commands.common import now as _now
    from automation.commands.common import policies as _policies
    from automation.docs import DocsError, render_operating_model

    policies = _policies(args)
    target = Path(args.root) / args.output
    try:
        text = render_operating_model(policies, _now(args))
    except DocsError as exc:
        raise UsageError(str(exc)) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return EXIT_OK


def cmd_docs_check(args: argparse.Namespace) -> int:
    """Fail with a diff when the document is out of date; fail on a dead runbook link."""
    from automation.commands.common import EXIT_FAILED, EXIT_OK, UsageError
    from automation.commands.common import policies as _policies
    from automation.docs import DocsError, check_docs

    policies = _policies(args)
    try:
        result = check_docs(policies, Path(args.root), Path(args.output))
    except DocsError as exc:
        raise UsageError(str(exc)) from None
    for problem in result.problems:
        print(f"error: {problem}", file=sys.stderr)
    if result.diff:
        sys.stdout.write(result.diff)
        print(
            f"error: {args.output} is out of date (run: dataface-ops docs render)",
            file=sys.stderr,
        )
    for dead in result.dead_links:
        print(f"error: dead runbook link: {dead}", file=sys.stderr)
    if not result.ok:
        return EXIT_FAILED
    print(f"{args.output} is up to date; every runbook link resolves")
    return EXIT_OK


def add(sub: SubParsers) -> None:
    """Register `docs render` and `docs check`."""
    from automation.commands.common import parse_time as _parse_time

    p = sub.add_parser("docs", help="render and check docs/OPERATING_MODEL.md and runbook links")
    dsub = p.add_subparsers(dest="docs_command", metavar="SUBCOMMAND", required=True)
    for name, handler, text in (
        ("render", cmd_docs_render, "write docs/OPERATING_MODEL.md from the policies"),
        ("check", cmd_docs_check, "fail (with a diff) when it is out of date or a link is dead"),
    ):
        q = dsub.add_parser(name, help=text)
        q.add_argument("--policies", help="policy directory (default: policies)")
        q.add_argument("--root", default=".", help="repository root (default: .)")
        q.add_argument("--output", default="docs/OPERATING_MODEL.md", help="document path")
        if name == "render":
            q.add_argument(
                "--at",
                type=_parse_time,
                help="start the on-call schedule at this time's week (default: now)",
            )
        q.set_defaults(handler=handler)

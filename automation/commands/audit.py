"""`dataface-ops audit`: who owns what, and the loose ends of the operating model."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from automation.github import Repository

    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def read_collaborators(repo: Repository) -> tuple[str, ...] | None:
    """GET /repos/{owner}/{repo}/collaborators (every page); None when the token may not."""
    from automation.github import GithubException
    from automation.snapshot.collect import raws

    try:
        return tuple(str(d["login"]) for d in raws(repo.get_collaborators()))
    except GithubException as exc:
        # Listing collaborators needs push access; a read-only token gets 403 (or 404).
        if exc.status in (403, 404):
            return None
        raise


def cmd_audit(args: argparse.Namespace) -> int:
    """Print who owns what and every loose end; --strict fails when there is one."""
    from automation.audit import Finding, render_audit, run_audit
    from automation.commands.common import EXIT_FAILED, EXIT_OK
    from automation.commands.common import policies as _policies
    from automation.commands.common import repository as _repository
    from automation.commands.common import settings as _settings
    from automation.protection import protection_gaps

    policies = _policies(args)
    collaborators = None
    if not args.offline:
        collaborators = read_collaborators(_repository(_settings(args)))
    report = run_audit(policies, collaborators, *(("--offline",) if args.offline else ()))
    directory = Path(args.policies or os.environ.get("DATAFACE_OPS_POLICIES") or "policies")
    report.findings.extend(
        Finding("unprotected", "", gap.message, file=f"{gap.file}:{gap.line}")
        for gap in protection_gaps(policies, directory)
    )
    sys.stdout.write(render_audit(report))
    return EXIT_FAILED if args.strict and report.findings else EXIT_OK


def add(sub: SubParsers) -> None:
    """Register `audit`."""
    p = sub.add_parser("audit", help="who owns what; people, areas and paths left uncovered")
    p.add_argument("--repo", help="OWNER/NAME (default: $GITHUB_REPOSITORY)")
    p.add_argument("--api-url", help="REST API URL (default: $GITHUB_API_URL)")
    p.add_argument("--policies", help="policy directory (default: policies)")
    p.add_argument("--offline", action="store_true", help="do not ask GitHub for the collaborators")
    p.add_argument("--strict", action="store_true", help="exit 1 when there is any finding")
    p.set_defaults(handler=cmd_audit)

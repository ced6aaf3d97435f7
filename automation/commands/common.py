"""Helpers every command shares: exit statuses, time, settings, policies, the repository.

Commands (cli.py and automation/commands/*) take these from here, never from each other,
so the CLI and its command groups form no circle. Heavy imports stay inside the helpers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from automation.errors import UsageError

if TYPE_CHECKING:
    from automation.github import Repository
    from automation.policy.policies import Policies
    from automation.settings import Settings
    from automation.snapshot.models import Snapshot

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_BUG",
    "EXIT_FAILED",
    "EXIT_OK",
    "UsageError",
    "add_common",
    "add_explain",
    "explained_snapshot",
    "load_snapshot",
    "now",
    "parse_time",
    "policies",
    "print_explained",
    "repository",
    "settings",
]

EXIT_OK = 0
EXIT_FAILED = 1  # some action failed, or a check failed
EXIT_BAD_INPUT = 2  # bad policy, event, settings or snapshot: nothing was written
EXIT_BUG = 3  # a bug in dataface-ops: the traceback is printed, never passed off as bad input


def parse_time(value: str) -> dt.datetime:
    """Parse an ISO 8601 time argument (naive means UTC)."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time such as 2026-11-25T09:00:00Z, got {value!r}"
        ) from None
    if not 1970 <= parsed.year <= 9000:
        # Time zone and week arithmetic near year 1 or 9999 overflows datetime.
        raise argparse.ArgumentTypeError(f"expected a year from 1970 to 9000, got {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def now(args: argparse.Namespace) -> dt.datetime:
    """The run's time: --at when given, else the clock."""
    at: dt.datetime | None = getattr(args, "at", None)
    return at or dt.datetime.now(dt.UTC)


def settings(args: argparse.Namespace) -> Settings:
    """Build the runtime settings from the flags and the environment."""
    from automation.settings import settings_from_env

    return settings_from_env(
        repo=getattr(args, "repo", None),
        api_url=getattr(args, "api_url", None),
        policies_dir=getattr(args, "policies", None),
        dry_run=getattr(args, "dry_run", None),
        max_writes=getattr(args, "max_writes", None),
    )


def policies(args: argparse.Namespace, needs: str | None = None) -> Policies:
    """Load and cross-check the policy directory; `needs` names a file the command reads."""
    from automation.policy.loader import load_policy_dir

    directory = Path(args.policies or os.environ.get("DATAFACE_OPS_POLICIES") or "policies")
    if not directory.is_dir():
        raise UsageError(f"policy directory {str(directory)!r} does not exist (use --policies)")
    loaded = load_policy_dir(directory)
    if needs is not None and needs in loaded.absent:
        raise UsageError(
            f"{loaded.source}/{needs}.yaml is absent and this command reads it "
            f"(`dataface-ops init --features {needs}` writes one)"
        )
    return loaded


def load_snapshot(path: str) -> object:
    """Read a snapshot file, or raise UsageError with one clear line."""
    from pydantic import ValidationError

    from automation.snapshot.models import Snapshot

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read snapshot {path!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a valid snapshot: not UTF-8 text") from None
    try:
        return Snapshot.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(
            f"{path}: not a valid snapshot: {where}: {first['msg']}"
            f" ({exc.error_count()} problem(s))"
        ) from None


def repository(settings: Settings, default_branch: str | None = None) -> Repository:
    """The repository the settings name (lazy: no request until something is read); given
    its default branch (an event's payload names it), links to its files use that branch."""
    from automation.github import known_repo, make_github

    owner, name = settings.owner_and_name
    github = make_github(settings)
    if default_branch:
        return known_repo(github, f"{owner}/{name}", default_branch)
    return github.get_repo(f"{owner}/{name}")


def add_common(parser: argparse.ArgumentParser, *, formats: bool = True) -> None:
    """Add --repo, --api-url, --policies (and --format) to a subcommand."""
    parser.add_argument("--repo", help="OWNER/NAME (default: $GITHUB_REPOSITORY)")
    parser.add_argument(
        "--api-url", help="REST API URL, e.g. https://HOST/api/v3 (default: $GITHUB_API_URL)"
    )
    parser.add_argument("--policies", help="policy directory (default: policies)")
    if formats:  # offered only by commands that honour it: one output contract
        parser.add_argument(
            "--format", choices=("text", "markdown", "json"), default="text", help="output format"
        )


def add_explain(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    command: str,
    help: str,
    explain_help: str,
    handler: Callable[[argparse.Namespace], int],
) -> None:
    """Register `<command> explain NUMBER [--snapshot FILE] [--at TIME]`: how a feature sees
    one item, read live or offline from a snapshot file."""
    parser = sub.add_parser(command, help=help)
    commands = parser.add_subparsers(dest=f"{command}_command", metavar="SUBCOMMAND", required=True)
    q = commands.add_parser("explain", help=explain_help)
    q.add_argument("number", type=int, metavar="NUMBER")
    q.add_argument("--snapshot", metavar="FILE", help="explain offline against a snapshot file")
    q.add_argument("--at", type=parse_time, help="pretend it is this time (ISO 8601)")
    add_common(q)
    q.set_defaults(handler=handler)


def explained_snapshot(args: argparse.Namespace, read_one: Callable[[], object]) -> Snapshot:
    """What `explain` looks at: the --snapshot file, or what `read_one` reads live."""
    from automation.snapshot.models import Snapshot

    loaded = load_snapshot(args.snapshot) if args.snapshot else read_one()
    if not isinstance(loaded, Snapshot):
        raise UsageError("not a snapshot")
    return loaded


def print_explained(
    args: argparse.Namespace, title: str, lines: Sequence[str], document: object
) -> None:
    """Print an explanation in --format: the JSON document, a markdown list under a heading,
    or the lines."""
    if args.format == "json":
        import json

        print(json.dumps(document, indent=2))
    elif args.format == "markdown":
        print(f"### {title}\n")
        print("\n".join(f"- {line}" for line in lines))
    else:
        print("\n".join(lines))

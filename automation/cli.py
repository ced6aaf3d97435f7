"""The dataface-ops command line: the only place that reads the environment.

Heavy modules (PyGithub, Jinja2, the policy models) are imported inside the commands, so
`dataface-ops --help` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from automation.commands.common import (
    EXIT_BAD_INPUT,
    EXIT_BUG,
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
)
from automation.commands.common import add_common as _add_common
from automation.commands.common import load_snapshot as _load_snapshot
from automation.commands.common import now as _now
from automation.commands.common import parse_time as _parse_time
from automation.commands.common import policies as _policies
from automation.commands.common import repository as _repository
from automation.commands.common import settings as _settings

if TYPE_CHECKING:
    from automation.actions import Plan, Report
    from automation.events import Event
    from automation.policy.loader import PolicyProblem
    from automation.protection import Gap


log = logging.getLogger("dataface_ops")

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_BUG",
    "EXIT_FAILED",
    "EXIT_OK",
    "UsageError",
    "build_parser",
    "main",
]


Handler = Callable[[argparse.Namespace], int]


def _emit(
    plans: Sequence[Plan], report: Report | None, fmt: str, summary_path: str | None, out: TextIO
) -> None:
    from automation.render import render_json, render_markdown, render_text

    renderers = {"text": render_text, "markdown": render_markdown, "json": render_json}
    out.write(renderers[fmt](plans, report))
    if summary_path:
        # $GITHUB_STEP_SUMMARY takes Markdown, appended once per step.
        with open(summary_path, "a", encoding="utf-8") as handle:
            handle.write(render_markdown(plans, report))
    output_path = os.environ.get("GITHUB_OUTPUT")
    if output_path and report is not None:
        with open(output_path, "a", encoding="utf-8") as handle:
            handle.write(_step_outputs(plans, report))


# A job's outputs are limited to 1 MB in all; a larger plan is left out, never cut mid-JSON.
MAX_PLAN_OUTPUT = 900_000


def _step_outputs(plans: Sequence[Plan], report: Report) -> str:
    """The action's outputs in $GITHUB_OUTPUT syntax: writes, writes per feature, the plan."""
    import json
    import uuid

    from automation.render import render_json

    feature_of = {id(action): plan.feature for plan in plans for action in plan.actions}
    by_feature = {plan.feature: 0 for plan in plans}
    for outcome in report.outcomes:
        feature = feature_of.get(id(outcome.action))
        if feature is not None and outcome.status in ("applied", "dry-run"):
            by_feature[feature] += 1
    plan_json = json.dumps(json.loads(render_json(plans, report)), separators=(",", ":"))
    if len(plan_json.encode()) > MAX_PLAN_OUTPUT:
        plan_json = json.dumps({"omitted": "the plan is larger than a step output may be"})
    # A random delimiter: nothing in the plan (titles, bodies) can end the value early.
    delimiter = f"dataface_ops_{uuid.uuid4().hex}"
    return (
        f"writes={sum(by_feature.values())}\n"
        f"writes-by-feature={json.dumps(by_feature, separators=(',', ':'))}\n"
        f"plan<<{delimiter}\n{plan_json}\n{delimiter}\n"
    )


# --- commands ------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    """Load and cross-check every policy file."""
    from automation.policy.loader import PolicyError
    from automation.protection import protection_gaps

    try:
        policies = _policies(args)
    except PolicyError as exc:
        if args.format == "text":
            raise  # one line per problem on stderr, as every command reports them
        _annotate(exc)
        print(_validation_document(args.format, None, exc.problems, []), end="")
        return EXIT_BAD_INPUT
    from automation import engine

    directory = Path(args.policies or os.environ.get("DATAFACE_OPS_POLICIES") or "policies")
    on, _ = engine.switched_on(policies, ())
    # The owner-approval check guards the policy files only where it runs at all.
    gaps = protection_gaps(policies, directory) if "ownership" in on else []
    if args.format != "text":
        print(_validation_document(args.format, str(policies.source), [], gaps), end="")
        return EXIT_FAILED if gaps else EXIT_OK
    for gap in gaps:
        print(gap, file=sys.stderr)
    if gaps:
        print(f"{len(gaps)} unprotected path(s): the owner-approval check does not guard them")
        return EXIT_FAILED
    present = len(_policy_names()) - len(policies.absent)
    print(f"{policies.source}: {present} policy files are valid (on: {', '.join(on) or 'none'})")
    return EXIT_OK


def _validation_document(
    fmt: str, source: str | None, problems: Sequence[PolicyProblem], gaps: Sequence[Gap]
) -> str:
    """`validate` as Markdown or as the JSON document of docs/output.schema.json."""
    import dataclasses
    import json

    if fmt == "json":
        data = {
            "valid": not problems,
            "source": source,
            "problems": [dataclasses.asdict(p) for p in problems],
            "unprotected": [dataclasses.asdict(g) for g in gaps],
        }
        return json.dumps(data, indent=2) + "\n"
    if not problems and not gaps:
        return f"### Policies\n\n{source}: every policy file is valid.\n"
    lines = [f"- `{p}`" for p in problems] + [f"- unprotected: `{g}`" for g in gaps]
    count = f"{len(problems)} problem(s), {len(gaps)} unprotected path(s)."
    return "### Policies\n\n" + "\n".join(lines) + f"\n\n{count}\n"


def _workflow_command_escape(text: str) -> str:
    # Workflow commands end at a newline; GitHub's runner decodes these three escapes.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _annotate(exc: BaseException) -> None:
    """In GitHub Actions, show each policy problem on the file and line it names."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    for problem in getattr(exc, "problems", ()):
        escape = _workflow_command_escape
        where = f"file={escape(problem.file)}" + (f",line={problem.line}" if problem.line else "")
        detail = f"{problem.loc}: {problem.message}" if problem.loc else problem.message
        # Annotations go to stdout, where the runner reads workflow commands.
        print(f"::error {where}::{escape(detail)}")


def _policy_names() -> list[str]:
    from automation.policy.loader import POLICY_FILES

    return list(POLICY_FILES)


def cmd_policies_schema(args: argparse.Namespace) -> int:
    """Write (or with --check, compare) the JSON Schemas of the policy files."""
    import tempfile

    from automation.policy.loader import write_schemas

    target = Path(args.output)
    if not args.check:
        for path in write_schemas(target):
            print(f"wrote {path}")
        return EXIT_OK
    with tempfile.TemporaryDirectory() as tmp:
        stale = []
        for fresh in write_schemas(Path(tmp)):
            current = target / fresh.name
            if not current.exists() or current.read_text() != fresh.read_text():
                stale.append(str(current))
    if stale:
        print(
            "out of date: " + ", ".join(stale) + " (run: dataface-ops policies schema)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(f"{target}: schemas are up to date")
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    """Show what the features would change; never writes."""
    from automation import engine
    from automation.snapshot.models import Snapshot

    policies = _policies(args)
    now = _now(args)
    features = engine.resolve_features(args.features)
    if args.snapshot:
        snapshot = _load_snapshot(args.snapshot)
        assert isinstance(snapshot, Snapshot)
        plans = engine.plan_offline(policies, snapshot, features, now)
    else:
        repo = _repository(_settings(args))
        plans, _ = engine.plan_live(repo, policies, features, None, now)
    _emit(plans, None, args.format, None, sys.stdout)
    return EXIT_OK


def cmd_apply(args: argparse.Namespace) -> int:
    """Plan the named features against GitHub and apply the plans."""
    from automation import engine

    settings = _settings(args)
    policies = _policies(args)
    features = engine.resolve_features(args.features)
    repo = _repository(settings)
    report = engine.run_live(
        repo,
        policies,
        features,
        None,
        _now(args),
        dry_run=settings.dry_run,
        max_writes=settings.max_writes,
    )
    _emit(report.plans, report, args.format, settings.step_summary, sys.stdout)
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_run(args: argparse.Namespace) -> int:
    """The GitHub Actions entry point: route the event, then apply the features it names."""
    import dataclasses

    from automation import engine
    from automation.events import event_from_actions
    from automation.routing import route

    settings = _settings(args)
    event = event_from_actions()
    if event.name == "workflow_dispatch" and str(event.inputs.get("dry_run", "")).lower() in (
        "true",
        "1",
        "yes",
    ):
        settings = dataclasses.replace(settings, dry_run=True)
    # The composite action passes its `features` input as DATAFACE_OPS_FEATURES.
    requested = list(args.features) or os.environ.get("DATAFACE_OPS_FEATURES", "").split()
    chosen = route(event, engine.resolve_features(requested) if requested else ())
    log.info("event %s -> features %s", event.key, ", ".join(chosen.features) or "none")
    if not chosen.features:
        print(f"{event.key}: no feature subscribes to this event; nothing to do")
        return EXIT_OK
    if event.repo and settings.repo and event.repo.lower() != settings.repo.lower():
        raise UsageError(f"the event is for {event.repo}, but the run is for {settings.repo}")
    policies = _policies(args)
    on, off = engine.switched_on(policies, chosen.features)
    if not on:
        # Opt-in by file: no policy file turns on a feature this event re-checks.
        print(f"{event.key}: every feature it re-checks is off; nothing to do")
        for line in off:
            print(f"  {line}")
        return EXIT_OK
    repo = _repository(settings, _default_branch(event))
    with _ownership_run(args, event):
        report = engine.run_live(
            repo,
            policies,
            chosen.features,
            chosen.numbers,
            _now(args),
            dry_run=settings.dry_run,
            max_writes=settings.max_writes,
        )
    _emit(report.plans, report, args.format, settings.step_summary, sys.stdout)
    return EXIT_OK if report.ok else EXIT_FAILED


def _default_branch(event: Event) -> str | None:
    """The repository's default branch as the run knows it without a request: the payload's
    `repository.default_branch`, or, for a schedule (whose payload names no repository), the
    branch Actions runs it on, which is the default branch (`GITHUB_REF`)."""
    repository = event.payload.get("repository")
    branch = repository.get("default_branch") if isinstance(repository, dict) else None
    if isinstance(branch, str) and branch:
        return branch
    ref = os.environ.get("GITHUB_REF", "")
    if event.name == "schedule" and ref.startswith("refs/heads/"):
        return ref.removeprefix("refs/heads/")
    return None


def _ownership_run(args: argparse.Namespace, event: Event) -> AbstractContextManager[None]:
    """Tell the ownership collector what the event and the base checkout already hold.

    The payload's PR need not be read again, and the checkout (the action sets
    DATAFACE_OPS_CHECKOUT_SHA to the commit it holds) serves CODEOWNERS and the policies for
    every PR whose base is that commit.
    """
    import re

    from automation.features.ownership.collect import OwnershipRun, ownership_run

    sha = os.environ.get("DATAFACE_OPS_CHECKOUT_SHA", "").strip() or None
    if sha is not None and not re.fullmatch(r"[0-9a-f]{40}", sha):
        raise UsageError(f"DATAFACE_OPS_CHECKOUT_SHA must be a 40-hex commit sha, got {sha!r}")
    directory = Path(args.policies or os.environ.get("DATAFACE_OPS_POLICIES") or "policies")
    subject = event.payload.get("pull_request")
    pushed = None
    if isinstance(subject, Mapping) and event.action == "synchronize" and event.sender:
        head = subject.get("head")
        if isinstance(head, Mapping) and isinstance(head.get("sha"), str):
            pushed = (str(head["sha"]), event.sender)  # a push's sender is its pusher
    return ownership_run(
        OwnershipRun(
            event_pulls=(dict(subject),) if isinstance(subject, Mapping) else (),
            checkout_sha=sha,
            checkout_root=directory.resolve().parent if sha else None,
            pushed=pushed,
        )
    )


def cmd_snapshot_export(args: argparse.Namespace) -> int:
    """Read what the features need from GitHub and write it as a snapshot file."""
    from automation import engine

    settings = _settings(args)
    policies = _policies(args)
    repo = _repository(settings)
    _, snapshots = engine.plan_live(
        repo,
        policies,
        engine.resolve_features(args.features),
        None,
        _now(args),
    )
    if not snapshots:
        raise UsageError("no feature to export a snapshot for")
    merged = engine.merge_snapshots(snapshots)
    Path(args.output).write_text(merged.model_dump_json(indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return EXIT_OK


# --- parser --------------------------------------------------------------------------------


def _add_write_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", default=None, help="plan, never write")
    parser.add_argument(
        "--max-writes", type=int, metavar="N", help="stop cleanly after N writes; rerun resumes"
    )
    parser.add_argument("--at", type=_parse_time, help="pretend it is this time (ISO 8601)")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dataface-ops")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (cheap: imports nothing heavy)."""
    parser = argparse.ArgumentParser(
        prog="dataface-ops",
        description="Enforce the Dataface operating model written in policies/.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("validate", help="validate every policy file; exit 2 on a problem")
    _add_common(p)
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("policies", help="policy tooling")
    psub = p.add_subparsers(dest="policies_command", metavar="SUBCOMMAND", required=True)
    q = psub.add_parser("schema", help="write JSON Schemas to policies/schema/")
    q.add_argument("--output", default="policies/schema")
    q.add_argument("--check", action="store_true", help="fail when the schemas are out of date")
    q.set_defaults(handler=cmd_policies_schema)

    p = sub.add_parser("plan", help="show what would change; never writes")
    p.add_argument("features", nargs="*", metavar="FEATURE")
    p.add_argument("--snapshot", metavar="FILE", help="plan offline against a snapshot file")
    p.add_argument("--at", type=_parse_time, help="pretend it is this time (ISO 8601)")
    _add_common(p)
    p.set_defaults(handler=cmd_plan)

    p = sub.add_parser("apply", help="plan against GitHub and apply")
    p.add_argument("features", nargs="*", metavar="FEATURE")
    _add_common(p)
    _add_write_flags(p)
    p.set_defaults(handler=cmd_apply)

    p = sub.add_parser("run", help="GitHub Actions entry point: route the event and apply")
    p.add_argument("features", nargs="*", metavar="FEATURE", help="limit to these features")
    _add_common(p)
    _add_write_flags(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("snapshot", help="snapshot tooling")
    ssub = p.add_subparsers(dest="snapshot_command", metavar="SUBCOMMAND", required=True)
    q = ssub.add_parser("export", help="write what the features read to a JSON file")
    q.add_argument("features", nargs="*", metavar="FEATURE")
    q.add_argument("-o", "--output", required=True, metavar="FILE")
    q.add_argument("--at", type=_parse_time, help="pretend it is this time (ISO 8601)")
    _add_common(q, formats=False)  # the snapshot file is JSON; nothing else is printed
    q.set_defaults(handler=cmd_snapshot_export)

    for register in EXTRA_COMMANDS:
        register(sub)
    return parser


def _extra_commands() -> list[
    Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]
]:
    """Feature command groups; each module keeps its own heavy imports inside its handlers."""
    from automation.commands import COMMAND_GROUPS

    return list(COMMAND_GROUPS)


EXTRA_COMMANDS = _extra_commands()


def _known_errors() -> tuple[type[BaseException], ...]:
    from automation.events import EventError
    from automation.settings import SettingsError

    return (UsageError, EventError, SettingsError)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from automation.logs import configure, log_context

    configure(verbose=args.verbose)
    handler: Handler = args.handler
    try:
        with log_context(
            repo=getattr(args, "repo", None) or os.environ.get("GITHUB_REPOSITORY"),
            delivery=os.environ.get("GITHUB_RUN_ID"),
        ):
            return handler(args)
    except BaseException as exc:  # one clear line for bad input or GitHub failing
        return _handle_error(exc)
    finally:
        if "automation.github.progress" in sys.modules:
            from automation.github.progress import finish_all

            finish_all()  # the terminal's progress line ends before the shell prompt


def _error(line: str) -> None:
    """One error line on stderr; in GitHub Actions also an annotation on the run."""
    print(line, file=sys.stderr)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::error title=dataface-ops::{_workflow_command_escape(line)}")


def _handle_error(exc: BaseException) -> int:
    """Classify a failure: bad input 2, GitHub or the network failed 1, anything else a bug 3."""
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        raise exc
    if "requests" in sys.modules:
        from automation.github import RequestException

        if isinstance(exc, RequestException):
            # Before OSError: requests' errors are OSErrors, but not bad input. Reads and
            # idempotent writes were retried already; nothing relies on memory between runs.
            from automation.github import failure_text

            _error(f"error: GitHub failed: {failure_text(exc)}; the next run resumes")
            return EXIT_FAILED
    if "automation.policy.loader" in sys.modules:
        from automation.policy.loader import PolicyError

        if isinstance(exc, PolicyError):
            _annotate(exc)
            for problem in exc.problems:
                print(str(problem), file=sys.stderr)
            print(f"{len(exc.problems)} policy problem(s); nothing was written", file=sys.stderr)
            return EXIT_BAD_INPUT
    if "github" in sys.modules:
        from automation.github import (
            BadCredentialsException,
            GithubException,
            RateLimitExceededException,
        )

        if isinstance(exc, RateLimitExceededException):
            where = getattr(exc, "request_line", None)
            _error(
                f"error: {where + ': ' if where else ''}the GitHub rate limit is exhausted; "
                "nothing more was written, and the next run resumes"
            )
            return EXIT_FAILED
        if isinstance(exc, BadCredentialsException):
            _error("error: GitHub rejected the credentials (check GITHUB_TOKEN)")
            return EXIT_BAD_INPUT
        if isinstance(exc, GithubException):
            from automation.github import failure_text

            _error(f"error: {failure_text(exc)}; the next run resumes")
            return EXIT_FAILED
    if "jinja2" in sys.modules:
        from jinja2 import TemplateError

        if isinstance(exc, TemplateError):
            # Templates are trial-rendered at load; real data can still trip one.
            _error(f"error: a policy template does not render: {exc.message or exc}")
            return EXIT_BAD_INPUT
    if "automation.snapshot.collect" in sys.modules:
        from automation.snapshot.collect import SnapshotError

        if isinstance(exc, SnapshotError):
            _error(f"error: unexpected answer from GitHub: {exc}")
            return EXIT_BAD_INPUT
    if isinstance(exc, _known_errors()):
        _error(f"error: {exc}")
        return EXIT_BAD_INPUT
    if isinstance(exc, OSError):
        _error(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        return EXIT_BAD_INPUT
    if isinstance(exc, UnicodeDecodeError):
        _error(f"error: a file is not UTF-8 text ({exc.reason})")
        return EXIT_BAD_INPUT
    # Anything else (a KeyError included) is a bug: show where, never call it bad input.
    import traceback

    traceback.print_exception(exc, file=sys.stderr)
    _error(
        f"error: this is a bug in dataface-ops ({type(exc).__name__}); please report it with "
        f"the traceback above (exit {EXIT_BUG})"
    )
    return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())

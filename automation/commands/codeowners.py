"""`dataface-ops codeowners generate|check|explain`: CODEOWNERS from policies/owners.yaml."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from automation.codeowners import Codeowners
    from automation.policy.policies import Policies

HEADER = (
    "Source: policies/owners.yaml (areas); protected paths: policies/ownership.yaml.\n"
    "CI runs `dataface-ops codeowners check`, which fails when this file drifts."
)


def _policies(args: argparse.Namespace) -> Policies:
    from automation.commands.common import policies as _policies

    return _policies(args)


def generated_text(policies: Policies) -> str:
    """CODEOWNERS text as policies/owners.yaml defines it."""
    from automation.codeowners import generate
    from automation.policy.ownership import codeowners_areas

    return generate(codeowners_areas(policies), HEADER)


def _root(args: argparse.Namespace) -> Path:
    return Path(args.root or ".")


def _existing(root: Path) -> tuple[str, str] | None:
    """(path, text) of the CODEOWNERS GitHub would use in this checkout."""
    from automation.codeowners import find_codeowners
    from automation.errors import UsageError

    def read(path: str) -> str | None:
        try:
            return (root / path).read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return None
        except UnicodeDecodeError:
            raise UsageError(f"{root / path} is not UTF-8 text") from None

    return find_codeowners(read)


def _target(args: argparse.Namespace) -> tuple[Path, str | None]:
    """The CODEOWNERS file to read or write, and its text (None when missing)."""
    from automation.errors import UsageError

    if args.codeowners:
        path = Path(args.codeowners)
        try:
            return path, path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return path, None
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{path} is not UTF-8 text") from None
    root = _root(args)
    found = _existing(root)
    if found is None:
        return root / "CODEOWNERS", None
    return root / found[0], found[1]


def cmd_generate(args: argparse.Namespace) -> int:
    """Write CODEOWNERS from policies/owners.yaml (or print it with --stdout)."""
    text = generated_text(_policies(args))
    if args.stdout:
        sys.stdout.write(text)
        return 0
    path, current = _target(args)
    if current == text:
        print(f"{path}: up to date")
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


def _file_list(args: argparse.Namespace) -> list[str]:
    """The repository's files: --files FILE (one per line, - for stdin) or `git ls-files`."""
    from automation.errors import UsageError

    if args.files:
        try:
            text = sys.stdin.read() if args.files == "-" else Path(args.files).read_text("utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read file list {args.files!r}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"file list {args.files!r} is not UTF-8 text") from None
        return [line.strip() for line in text.splitlines() if line.strip()]
    try:
        done = subprocess.run(
            ["git", "ls-files", "-z"],
            cwd=_root(args),
            capture_output=True,
            check=True,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.CalledProcessError):
        raise UsageError(
            "`git ls-files` failed: run inside a git checkout, or pass --files FILE"
        ) from None
    return [p for p in done.stdout.decode("utf-8", "replace").split("\0") if p]


def known_owners(policies: Policies) -> set[str]:
    """Every CODEOWNERS handle owners.yaml knows: @person and @org/team."""
    owners = policies.owners
    known = {f"@{p.login}" for p in owners.people}
    known |= {f"@{t.github}" for t in owners.teams if t.github}
    return known


def protected_owners(policies: Policies, generated: Codeowners) -> dict[str, tuple[str, ...]]:
    """Each protected pattern of ownership.yaml -> the owners owners.yaml gives it."""
    from automation.policy.ownership import anchored, sample_path

    return {
        anchored(pattern): generated.owners_of(sample_path(pattern))
        for group in policies.ownership.protected
        for pattern in group.paths
    }


def check_problems(policies: Policies, path: Path, text: str | None, files: list[str]) -> list[str]:
    """Everything `codeowners check` reports: drift, then validate()'s problems."""
    from automation.codeowners import MAX_BYTES, parse, validate

    expected = generated_text(policies)
    if text is None:
        return [f"{path}: missing (run: dataface-ops codeowners generate)"]
    problems: list[str] = []
    if len(text.encode("utf-8")) >= MAX_BYTES:
        problems.append(f"{path}: 3 MB or larger, so GitHub ignores it")
    if text != expected:
        problems.append(
            f"{path}: differs from what policies/owners.yaml generates"
            f"{_first_difference(text, expected)} (run: dataface-ops codeowners generate)"
        )
    co = parse(text)
    problems += [
        f"{path}: {p}"
        for p in validate(
            co, files, known_owners(policies), protected_owners(policies, parse(expected))
        )
    ]
    return problems


def _first_difference(actual: str, expected: str) -> str:
    a, e = actual.splitlines(), expected.splitlines()
    for index, (left, right) in enumerate(zip(a, e, strict=False), start=1):
        if left != right:
            return f"; first at line {index}: {left!r}, expected {right!r}"
    if len(a) != len(e):
        return f"; it has {len(a)} lines, expected {len(e)}"
    return ""


def cmd_check(args: argparse.Namespace) -> int:
    """Fail when CODEOWNERS drifts from owners.yaml or has problems GitHub would act on."""
    from automation.protection import protection_gaps

    policies = _policies(args)
    path, text = _target(args)
    files = _file_list(args)
    problems = check_problems(policies, path, text, files)
    directory = Path(args.policies or os.environ.get("DATAFACE_OPS_POLICIES") or "policies")
    problems += [str(g) for g in protection_gaps(policies, directory, files, _root(args))]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} CODEOWNERS problem(s)", file=sys.stderr)
        return 1
    print(f"{path}: matches policies/owners.yaml; checked against {len(files)} files")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Print the rule that owns a path, and the protected group it belongs to."""
    from automation.codeowners import explain, parse
    from automation.errors import UsageError

    path, text = _target(args)
    if text is None:
        raise UsageError(f"no CODEOWNERS found ({path})")
    co = parse(text)
    for target in args.paths:
        target = target.removeprefix("./")
        line = explain(co, target)
        if args.policies is not None or Path("policies").is_dir():
            policies = _policies(args)
            groups = policies.ownership.groups_for(target)
            if groups:
                line += "; protected: " + ", ".join(
                    f"{g.name} ({g.approvals} approval{'s' if g.approvals != 1 else ''})"
                    for g in groups
                )
        print(line)
    return 0


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `codeowners generate|check|explain`."""
    parser = sub.add_parser("codeowners", help="generate, check and explain CODEOWNERS")
    csub = parser.add_subparsers(dest="codeowners_command", metavar="SUBCOMMAND", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--policies", help="policy directory (default: policies)")
        p.add_argument(
            "--codeowners",
            metavar="FILE",
            help="the CODEOWNERS file (default: the one GitHub would use: .github/, root, docs/)",
        )
        p.add_argument("--root", metavar="DIR", help="repository root (default: .)")

    p = csub.add_parser("generate", help="write CODEOWNERS from policies/owners.yaml")
    common(p)
    p.add_argument("--stdout", action="store_true", help="print instead of writing")
    p.set_defaults(handler=cmd_generate)

    p = csub.add_parser(
        "check", help="fail when CODEOWNERS differs from owners.yaml or has problems"
    )
    common(p)
    p.add_argument(
        "--files",
        metavar="FILE",
        help="file list to match rules against, one path a line (default: git ls-files)",
    )
    p.set_defaults(handler=cmd_check)

    p = csub.add_parser("explain", help="print the rule that owns a path")
    common(p)
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(handler=cmd_explain)

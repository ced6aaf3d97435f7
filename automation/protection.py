"""Loose ends in what the owner-approval check protects (pure, apart from reading files).

Two kinds, each with file:line: an area of owners.yaml marked sensitive whose paths no
protected group of ownership.yaml covers (its changes would need no owner), and a file the
running check depends on (workflows, the action, its code, its packaging, the policies,
CODEOWNERS) that no protected group covers: merged unreviewed, it could switch the check off
for every later PR. `validate`, `codeowners check` and `audit` report them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from automation.policy.policies import Policies

# Files of the repository the check itself runs from (besides the policy directory).
_MACHINERY_FILES = ("action.yml", "action.yaml", "pyproject.toml")
_MACHINERY_DIRS = (".github/", "automation/")


@dataclass(frozen=True, order=True)
class Gap:
    """One unprotected thing, located by file and line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


def _what(path: str, policy_dir: str) -> str | None:
    """Why the check depends on this repository file, or None when it does not."""
    from automation.codeowners import LOCATIONS

    if path.startswith(".github/workflows/"):
        return "a workflow: any workflow can post a check of the same name or skip this one"
    if path in LOCATIONS:
        return "the CODEOWNERS GitHub and the check read"
    if path.startswith(f"{policy_dir}/"):
        return "a policy the check reads"
    if path in _MACHINERY_FILES:
        return "the action or the packaging the check is installed from"
    if path.startswith(_MACHINERY_DIRS):
        return "code or configuration the check runs with"
    return None


def _first_line(text: str | None, needles: Sequence[str]) -> int:
    for number, line in enumerate((text or "").splitlines(), start=1):
        if any(n in line for n in needles):
            return number
    return 1


def sensitive_gaps(
    policies: Policies, owners_file: str, lines: Callable[[tuple[str | int, ...]], int]
) -> list[Gap]:
    """Paths of sensitive areas that no protected group covers."""
    from automation.policy.ownership import sample_path

    gaps: list[Gap] = []
    for a_index, area in enumerate(policies.owners.areas):
        if not area.sensitive:
            continue
        for p_index, pattern in enumerate(area.paths):
            if policies.ownership.groups_for(sample_path(pattern)):
                continue
            gaps.append(
                Gap(
                    owners_file,
                    lines(("areas", a_index, "paths", p_index)),
                    f"areas[{a_index}].paths[{p_index}]: area '{area.name}' is sensitive, but "
                    f"no protected path of ownership.yaml covers {pattern!r}: its changes "
                    "need no owner approval",
                )
            )
    return gaps


def machinery_gaps(
    policies: Policies,
    files: Iterable[str],
    read: Callable[[str], str | None],
    policy_dir: str = "policies",
) -> list[Gap]:
    """Files the check depends on that no protected group covers (one line per directory)."""
    gaps: list[Gap] = []
    grouped: dict[str, list[str]] = {}
    for path in sorted(set(files)):
        why = _what(path, policy_dir)
        if why is None or policies.ownership.groups_for(path):
            continue
        if path.startswith(".github/workflows/"):
            line = _first_line(read(path), ("dataface-ops", "uses: ./", "check"))
            gaps.append(Gap(path, line, f"{why}; no protected path covers it"))
            continue
        top = path.split("/", 1)[0] + "/" if "/" in path else path
        grouped.setdefault(top, []).append(path)
    for top, paths in grouped.items():
        why = _what(paths[0], policy_dir) or ""
        more = f" (and {len(paths) - 1} more under {top})" if len(paths) > 1 else ""
        gaps.append(Gap(paths[0], 1, f"{why}; no protected path covers it{more}"))
    return sorted(gaps)


def repository_files(root: Path, policy_dir: str) -> list[str]:
    """The machinery files present under root (no git needed)."""
    from automation.codeowners import LOCATIONS

    found: list[str] = []
    for name in (*_MACHINERY_FILES, *LOCATIONS):
        if (root / name).is_file():
            found.append(name)
    for directory in (*_MACHINERY_DIRS, f"{policy_dir}/"):
        base = root / directory
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                found.append(path.relative_to(root).as_posix())
    return found


def protection_gaps(
    policies: Policies,
    policy_dir: Path,
    files: Iterable[str] | None = None,
    root: Path | None = None,
) -> list[Gap]:
    """Every gap, for the policy directory and the repository around it (default: its parent)."""
    from automation.policy.loader import field_lines

    root = (root or policy_dir.resolve().parent).resolve()
    try:
        relative = policy_dir.resolve().relative_to(root).as_posix()
    except ValueError:
        relative = "policies"  # policies kept outside the repository: look for the usual
    display = f"{str(policy_dir).rstrip('/')}/owners.yaml"
    try:
        owners_text = (policy_dir / "owners.yaml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        owners_text = ""
    lines = field_lines(owners_text)

    def read(path: str) -> str | None:
        try:
            return (root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    listed = repository_files(root, relative) if files is None else list(files)
    return sorted(
        sensitive_gaps(policies, display, lines) + machinery_gaps(policies, listed, read, relative)
    )

"""Load policies/*.yaml into validated models, with file:line errors for every problem."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from automation.policy.base import Loc, PolicyModel
from automation.policy.oncall import OncallPolicy
from automation.policy.owners import OwnersPolicy
from automation.policy.ownership import OwnershipPolicy
from automation.policy.release import ReleasePolicy
from automation.policy.stale import StalePolicy
from automation.policy.triage import TriagePolicy

# One file per concern, each owned in CODEOWNERS. Order is the order problems are reported in.
POLICY_FILES: dict[str, type[PolicyModel]] = {
    "owners": OwnersPolicy,
    "oncall": OncallPolicy,
    "triage": TriagePolicy,
    "ownership": OwnershipPolicy,
    "release": ReleasePolicy,
    "stale": StalePolicy,
}

Reader = Callable[[str], str | None]


@dataclass(frozen=True)
class Policies:
    """Every policy file, validated and cross-checked."""

    owners: OwnersPolicy
    oncall: OncallPolicy
    triage: TriagePolicy
    ownership: OwnershipPolicy
    release: ReleasePolicy
    stale: StalePolicy
    source: str = "policies"


@dataclass(frozen=True, order=True)
class PolicyProblem:
    """One problem, located by file, line and field path."""

    file: str
    line: int
    loc: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        message = " ".join(self.message.split())  # one problem, one line
        return f"{where} {self.loc}: {message}" if self.loc else f"{where}: {message}"


class PolicyError(Exception):
    """Raised with every problem found in the policies."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def format_loc(loc: Loc) -> str:
    """Render a field path as `rotations[0].members[2]`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _line_map(text: str) -> tuple[dict[Loc, int], list[tuple[int, str]]]:
    """Map each field path to its 1-based line; also report duplicate keys, which YAML hides."""
    lines: dict[Loc, int] = {}
    duplicates: list[tuple[int, str]] = []
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None:
        return lines, duplicates

    def walk(node: yaml.Node, loc: Loc) -> None:
        lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key in seen:
                    duplicates.append((key_node.start_mark.line + 1, format_loc((*loc, key))))
                seen.add(key)
                lines[(*loc, key)] = key_node.start_mark.line + 1
                walk(value_node, (*loc, key))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*loc, index))

    walk(root, ())
    return lines, duplicates


def field_lines(text: str) -> Callable[[Loc], int]:
    """The 1-based line of a field path in a policy file's text (1 when it cannot tell)."""
    try:
        lines, _ = _line_map(text)
    except yaml.YAMLError:
        lines = {}
    return lambda loc: _line_for(lines, loc)


def _line_for(lines: dict[Loc, int], loc: Loc) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


@dataclass
class _Parsed:
    model: PolicyModel | None
    lines: dict[Loc, int]


def _parse_file(name: str, display: str, text: str, problems: list[PolicyProblem]) -> _Parsed:
    model_type = POLICY_FILES[name]
    try:
        lines, duplicates = _line_map(text)
        data: Any = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        reason = " ".join(filter(None, [exc.context, exc.problem]))
        problems.append(PolicyProblem(display, line, "", f"YAML syntax error: {reason}"))
        return _Parsed(None, {})
    except yaml.YAMLError as exc:
        # ReaderError (a control character, bad encoding) carries no line, only a position.
        position = getattr(exc, "position", None)
        line = text[:position].count("\n") + 1 if isinstance(position, int) else 1
        reason = getattr(exc, "reason", None) or str(exc)
        problems.append(PolicyProblem(display, line, "", f"YAML error: {reason}"))
        return _Parsed(None, {})
    for line, loc in duplicates:
        problems.append(PolicyProblem(display, line, loc, "duplicate key"))
    if not isinstance(data, dict):
        problems.append(PolicyProblem(display, 1, "", "expected a mapping at the top level"))
        return _Parsed(None, lines)
    try:
        model = model_type.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            error_loc: Loc = tuple(error["loc"])
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            elif error["type"] == "missing":
                message = "required key is missing"
            problems.append(
                PolicyProblem(display, _line_for(lines, error_loc), format_loc(error_loc), message)
            )
        return _Parsed(None, lines)
    return _Parsed(model, lines)


def load_policies(read: Reader, *, prefix: str = "policies", source: str = "") -> Policies:
    """Load, validate and cross-check every policy file; raise PolicyError with all problems."""
    problems: list[PolicyProblem] = []
    parsed: dict[str, _Parsed] = {}
    for name in POLICY_FILES:
        display = f"{prefix}/{name}.yaml"
        text = read(f"{name}.yaml")
        if text is None:
            problems.append(PolicyProblem(display, 0, "", "file is missing"))
            continue
        parsed[name] = _parse_file(name, display, text, problems)
    if problems:
        raise PolicyError(sorted(problems))
    models = {name: p.model for name, p in parsed.items()}
    policies = Policies(**models, source=source or prefix)  # type: ignore[arg-type]
    for name, item in parsed.items():
        assert item.model is not None
        for ref in item.model.cross_check(policies):
            problems.append(
                PolicyProblem(
                    f"{prefix}/{name}.yaml",
                    _line_for(item.lines, ref.loc),
                    format_loc(ref.loc),
                    ref.message,
                )
            )
    if problems:
        raise PolicyError(sorted(problems))
    return policies


def directory_reader(directory: Path) -> Reader:
    """Read policy files from a local directory."""

    def read(filename: str) -> str | None:
        path = directory / filename
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            return "\x00"  # YAML rejects it with a located error

    return read


def load_policy_dir(directory: Path | str = "policies") -> Policies:
    """Load the policies from a local directory."""
    directory = Path(directory)
    return load_policies(directory_reader(directory), prefix=str(directory).rstrip("/"))


def iter_models(policies: Policies) -> Iterator[tuple[str, PolicyModel]]:
    """Yield (file name, model) for every policy file."""
    for name in POLICY_FILES:
        yield name, getattr(policies, name)


def write_schemas(directory: Path) -> list[Path]:
    """Write one JSON Schema per policy file; return the paths written."""
    import json

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model_type in POLICY_FILES.items():
        schema = model_type.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = f"dataface-ops policies/{name}.yaml"
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written

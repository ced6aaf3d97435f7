"""Load policies/*.yaml into validated models, with file:line errors for every problem."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from automation.policy.base import Loc, PolicyFile, PolicyModel
from automation.policy.digest import DigestPolicy
from automation.policy.docs import DocsPolicy
from automation.policy.incidents import IncidentsPolicy
from automation.policy.oncall import OncallPolicy
from automation.policy.owners import OwnersPolicy
from automation.policy.ownership import OwnershipPolicy
from automation.policy.policies import Policies as Policies
from automation.policy.release import ReleasePolicy
from automation.policy.retro import RetroPolicy
from automation.policy.reviews import ReviewsPolicy
from automation.policy.stale import StalePolicy
from automation.policy.suggest import unknown_key_message, with_suggestion
from automation.policy.tools import ToolsPolicy
from automation.policy.triage import TriagePolicy

# One file per concern, each owned in CODEOWNERS. Order is the order problems are reported in.
POLICY_FILES: dict[str, type[PolicyFile]] = {
    "owners": OwnersPolicy,
    "oncall": OncallPolicy,
    "triage": TriagePolicy,
    "ownership": OwnershipPolicy,
    "release": ReleasePolicy,
    "stale": StalePolicy,
    "digest": DigestPolicy,
    "tools": ToolsPolicy,
    "incidents": IncidentsPolicy,
    "retro": RetroPolicy,
    "reviews": ReviewsPolicy,
    "docs": DocsPolicy,
}

# A cross-file reference names its target file by its message; when that file is absent the
# problem says so (the reference is not wrong, the file it points into is missing).
_REFERS_TO = (
    ("unknown person", "owners"),
    ("unknown area", "owners"),
    ("no area of owners.yaml", "owners"),
    ("unknown rotation", "oncall"),
)

Reader = Callable[[str], str | None]


@dataclass(frozen=True, order=True)
class PolicyProblem:
    """One problem, located by file, line and field path."""

    file: str
    line: int
    loc: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        message = _shorten(" ".join(self.message.split()), 240)  # one problem, one short line
        # A key may hold a tab or a newline: shown escaped, the problem stays on one line.
        loc = _shorten(_CONTROL.sub(lambda m: repr(m.group())[1:-1], self.loc), 120)
        return f"{where} {loc}: {message}" if loc else f"{where}: {message}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def _shorten(text: str, limit: int) -> str:
    """Cut a long text (a 1 MB value echoed in a message) to `limit` characters."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


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


# Policy files are a few kilobytes; the contents API (the app's reader) serves files inline
# up to 1 MB, and a bigger file is almost surely a mistake or an attack on the loader.
MAX_POLICY_BYTES = 1_000_000
# The shipped files nest six levels deep; much deeper nesting only exhausts the stack.
MAX_DEPTH = 32
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
ALIAS_PROBLEM = "YAML aliases (*name) are not supported: write the value out"

if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
else:
    # libyaml's parser when PyYAML was built with it: about ten times faster.
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):
    """The safe loader, with dates left as text and every construction error located.

    YAML's own timestamp type raised a bare ValueError for 2026-02-30 from inside the
    loader (a traceback); as text, the models parse it and report the field and line.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Construct one node; a ValueError (`!!int "fifty"`) becomes a located YAML error."""
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value: {exc}", node.start_mark
            ) from None


_Loader.add_constructor(_TIMESTAMP, _Loader.construct_yaml_str)  # type: ignore[type-var]


@dataclass
class _Composed:
    root: yaml.Node | None
    lines: dict[Loc, int]
    problems: list[tuple[int, str, str]]  # line, field path, message


def _walk(root: yaml.Node | None) -> _Composed:
    """Map each field path to its 1-based line; report duplicate keys, aliases, deep nesting.

    Iterative, and it stops at the first node seen twice: an alias shares its anchor's
    node, so following aliases (a billion laughs) would visit billions of nodes, and a
    self-referencing one would never end.
    """
    out = _Composed(root, {}, [])
    if root is None:
        return out
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, Loc, int]] = [(root, (), root.start_mark.line + 1)]
    while stack:
        node, loc, line = stack.pop()
        if id(node) in seen:
            out.problems.append((line, format_loc(loc), ALIAS_PROBLEM))
            return out
        seen.add(id(node))
        out.lines.setdefault(loc, node.start_mark.line + 1)
        if len(loc) > MAX_DEPTH:
            out.problems.append((line, format_loc(loc), f"nested deeper than {MAX_DEPTH} levels"))
            return out
        children: list[tuple[yaml.Node, Loc, int]] = []
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                key_line = key_node.start_mark.line + 1
                if key in keys:
                    out.problems.append((key_line, format_loc((*loc, key)), "duplicate key"))
                keys.add(key)
                out.lines[(*loc, key)] = key_line
                children.append((value_node, (*loc, key), key_line))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                children.append((item, (*loc, index), item.start_mark.line + 1))
        stack.extend(reversed(children))
    return out


def _first_alias_line(text: str) -> int | None:
    """The line of the first alias (the node tree keeps only its anchor's position)."""
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            return int(mark.line) + 1 if mark is not None else None
    return None


# The line maps of the texts the loader parsed last, so a later question about a field's
# line (the protection check's) does not parse a file a second time. A few entries: one run
# loads one policy directory (two at most for a PR against another base).
_LINE_MAPS: dict[str, dict[Loc, int]] = {}
_LINE_MAPS_KEPT = 16


def _remember_lines(text: str, lines: dict[Loc, int]) -> None:
    if len(_LINE_MAPS) >= _LINE_MAPS_KEPT:
        _LINE_MAPS.pop(next(iter(_LINE_MAPS)))
    _LINE_MAPS[text] = lines


def field_lines(text: str) -> Callable[[Loc], int]:
    """The 1-based line of a field path in a policy file's text (1 when it cannot tell)."""
    lines = _LINE_MAPS.get(text)
    if lines is None:
        try:
            lines = _walk(yaml.compose(text, Loader=_Loader)).lines
        except yaml.YAMLError:
            lines = {}
    found = lines
    return lambda loc: _line_for(found, loc)


def _line_for(lines: dict[Loc, int], loc: Loc) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


@dataclass
class _Parsed:
    model: PolicyModel | None
    lines: dict[Loc, int]


def _yaml_problem(display: str, text: str, exc: yaml.YAMLError) -> PolicyProblem:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        reason = " ".join(filter(None, [exc.context, exc.problem]))
        kind = "error" if isinstance(exc, yaml.constructor.ConstructorError) else "syntax error"
        return PolicyProblem(display, line, "", f"YAML {kind}: {reason}")
    # ReaderError (a control character, bad encoding) carries no line, only a position
    # (in bytes with libyaml, in characters without).
    position = getattr(exc, "position", None)
    line = 1
    if isinstance(position, int) and _BaseLoader is yaml.SafeLoader:
        line = text[:position].count("\n") + 1
    elif isinstance(position, int):
        line = text.encode("utf-8", "surrogatepass")[:position].count(b"\n") + 1
    reason = getattr(exc, "reason", None) or str(exc)
    return PolicyProblem(display, line, "", f"YAML error: {reason}")


def _too_large(text: str) -> int | None:
    """The line at which a file passes MAX_POLICY_BYTES, or None if it does not."""
    if len(text) <= MAX_POLICY_BYTES // 4:
        return None  # at most four UTF-8 bytes a character: no need to encode
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= MAX_POLICY_BYTES:
        return None
    return data[:MAX_POLICY_BYTES].count(b"\n") + 1


def _parse_file(name: str, display: str, text: str, problems: list[PolicyProblem]) -> _Parsed:
    model_type = POLICY_FILES[name]
    over = _too_large(text)
    if over is not None:
        size = len(text.encode("utf-8", "surrogatepass"))
        problems.append(
            PolicyProblem(display, over, "", f"the file is larger than 1 MB ({size:,} bytes)")
        )
        return _Parsed(None, {})
    loader = _Loader(text)
    try:
        # Parsed once: compose the node tree, check it, then construct from the same tree.
        composed = _walk(loader.get_single_node())
        for line, loc, message in composed.problems:
            if message == ALIAS_PROBLEM:
                line = _first_alias_line(text) or line
            problems.append(PolicyProblem(display, line, loc, message))
        if any(message != "duplicate key" for _, _, message in composed.problems):
            return _Parsed(None, composed.lines)  # an alias or deep nesting: do not construct
        data: Any = loader.construct_document(composed.root) if composed.root is not None else None
    except yaml.YAMLError as exc:
        problems.append(_yaml_problem(display, text, exc))
        return _Parsed(None, {})
    except RecursionError:
        # PyYAML's pure-Python composer recurses per level (libyaml stops at its own limit).
        problems.append(PolicyProblem(display, 1, "", f"nested deeper than {MAX_DEPTH} levels"))
        return _Parsed(None, {})
    finally:
        loader.dispose()
    lines = composed.lines
    _remember_lines(text, lines)
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
                message = unknown_key_message(model_type, error_loc)
            elif error["type"] == "missing":
                message = "required key is missing"
            problems.append(
                PolicyProblem(display, _line_for(lines, error_loc), format_loc(error_loc), message)
            )
        return _Parsed(None, lines)
    return _Parsed(model, lines)


def _stand_in(model_type: type[PolicyFile]) -> PolicyFile:
    """An empty model for an absent file: its feature is off, and references into it fail."""
    try:
        return model_type.model_validate({})
    except ValidationError:
        required: dict[str, Any] = {
            k: [] for k, f in model_type.model_fields.items() if f.is_required()
        }
        # Only list-shaped required fields (people, rotations, rules) are ever read from a
        # stand-in; release.yaml's train fields are not, as the release feature is off.
        return model_type.model_construct(None, **required)


def _refers_to(file: str, message: str) -> str | None:
    for start, target in _REFERS_TO:
        if message.startswith(start) and target != file:
            return target
    return None


def load_policies(read: Reader, *, prefix: str = "policies", source: str = "") -> Policies:
    """Load, validate and cross-check the policy files present; raise PolicyError with all.

    A feature is opt-in by file: an absent file is no problem (its features are off), but at
    least one file must exist, so a wrong directory is not mistaken for "everything off".
    """
    problems: list[PolicyProblem] = []
    parsed: dict[str, _Parsed] = {}
    absent: set[str] = set()
    for name in POLICY_FILES:
        display = f"{prefix}/{name}.yaml"
        text = read(f"{name}.yaml")
        if text is None:
            absent.add(name)
            continue
        parsed[name] = _parse_file(name, display, text, problems)
    if not parsed:
        names = ", ".join(f"{n}.yaml" for n in POLICY_FILES)
        problems.append(
            PolicyProblem(prefix, 0, "", f"no policy file found ({names}); run `dataface-ops init`")
        )
    if problems:
        raise PolicyError(sorted(problems))
    models = {name: p.model for name, p in parsed.items()}
    models |= {name: _stand_in(POLICY_FILES[name]) for name in absent}
    policies = Policies(
        **models,  # type: ignore[arg-type]
        source=source or prefix,
        absent=frozenset(absent),
    )
    for name, item in parsed.items():
        assert item.model is not None
        for ref in item.model.cross_check(policies):
            message = with_suggestion(ref.message, policies)
            target = _refers_to(name, ref.message)
            if target in absent:
                message = f"{ref.message} ({prefix}/{target}.yaml is missing: add it)"
            problems.append(
                PolicyProblem(
                    f"{prefix}/{name}.yaml",
                    _line_for(item.lines, ref.loc),
                    format_loc(ref.loc),
                    message,
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
    """Yield (file name, model) for every policy file present."""
    for name in POLICY_FILES:
        if name not in policies.absent:
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


def line_map(text: str) -> dict[Loc, int]:
    """Every field path of a policy text and the 1-based line its key (or item) is on."""
    lines = _LINE_MAPS.get(text)
    if lines is None:
        lines = _walk(yaml.compose(text, Loader=_Loader)).lines
    return dict(lines)


def reload_with(policies: Policies, texts: dict[str, str]) -> Policies:
    """The policies with some files' texts replaced, validated and cross-checked like a load;
    raise PolicyError naming every problem (a proposed edit must never break the model)."""
    import dataclasses

    problems: list[PolicyProblem] = []
    replaced: dict[str, PolicyModel] = {}
    lines: dict[str, dict[Loc, int]] = {}
    for name, text in texts.items():
        display = f"{policies.source}/{name}.yaml"
        parsed = _parse_file(name, display, text, problems)
        if parsed.model is not None:
            replaced[name] = parsed.model
            lines[name] = parsed.lines
    if problems:
        raise PolicyError(sorted(problems))
    changes: dict[str, Any] = {**replaced, "absent": policies.absent - set(replaced)}
    updated = dataclasses.replace(policies, **changes)
    for name, model in iter_models(updated):
        for ref in model.cross_check(updated):
            problems.append(
                PolicyProblem(
                    f"{policies.source}/{name}.yaml",
                    _line_for(lines.get(name, {}), ref.loc),
                    format_loc(ref.loc),
                    ref.message,
                )
            )
    if problems:
        raise PolicyError(sorted(problems))
    return updated

"""Edit one scalar of a policy file in place, keeping every comment and the layout.

The retrospective proposes changes such as `days_until_stale: 30 -> 45`. Dumping the
parsed YAML would drop the comments people wrote; instead the loader's line map says on
which line a field's key is, and only the value on that line is rewritten. The result is
parsed again and must hold the new value at that path, or the edit is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from automation.policy.base import Loc


class EditError(ValueError):
    """An edit that cannot be made textually (the value spans lines, the key is absent)."""


@dataclass(frozen=True)
class Edit:
    """Set the scalar at `loc` of policies/<file>.yaml to `new` (with `after`: add the key after
    the line of `after`, at its indentation, unless the file already sets it, say to null)."""

    file: str
    loc: Loc
    old: Any
    new: Any
    after: Loc | None = None

    @property
    def path(self) -> str:
        """The field path as the loader prints it."""
        from automation.policy.loader import format_loc

        return format_loc(self.loc)


def scalar_text(value: Any) -> str:
    """A value as a one-line YAML scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    dumped = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return dumped.removesuffix("\n...").removesuffix("...").strip()


def _lookup(data: Any, loc: Loc) -> Any:
    for part in loc:
        data = data[part]
    return data


_VALUE_END = r"(?=\s*(?:#.*)?$|\s*[,}])"


def apply_edit(text: str, edit: Edit) -> str:
    """Return `text` with the edit made on the one line it concerns."""
    from automation.policy.loader import line_map

    lines = text.splitlines(keepends=True)
    where = line_map(text)
    key = edit.loc[-1]
    if not isinstance(key, str):
        raise EditError(f"{edit.file}.yaml {edit.path}: only mapping values are edited")
    if edit.after is not None and edit.loc not in where:
        if edit.after not in where:
            raise EditError(f"{edit.file}.yaml: no field {edit.after!r} to insert after")
        anchor = lines[where[edit.after] - 1]
        indent = anchor[: len(anchor) - len(anchor.lstrip())]
        newline = "\n" if anchor.endswith("\n") else ""
        lines.insert(
            where[edit.after], f"{indent}{key}: {scalar_text(edit.new)}{newline or chr(10)}"
        )
        if not newline:
            lines[where[edit.after] - 1] += "\n"
    else:
        if edit.loc not in where:
            raise EditError(f"{edit.file}.yaml {edit.path}: not set in the file")
        index = where[edit.loc] - 1
        # `key: value` at the start of the line or inside a flow mapping, up to a comment.
        key_part = rf"((?:^|[\s{{,])['\"]?{re.escape(key)}['\"]?\s*:[ \t]*)"
        pattern = re.compile(key_part + rf"([^\s,}}#][^,}}#\n]*?){_VALUE_END}")
        line = lines[index]
        match = pattern.search(line)
        if match is None:
            raise EditError(f"{edit.file}.yaml {edit.path}: the value is not on one line")
        lines[index] = line[: match.start(2)] + scalar_text(edit.new) + line[match.end(2) :]
    result = "".join(lines)
    try:
        parsed = yaml.safe_load(result)
        got = _lookup(parsed, edit.loc)
    except (yaml.YAMLError, KeyError, IndexError, TypeError) as exc:
        raise EditError(f"{edit.file}.yaml {edit.path}: the edit broke the file: {exc}") from None
    if str(got) != str(edit.new) and got != edit.new:
        raise EditError(f"{edit.file}.yaml {edit.path}: reads {got!r} after the edit")
    return result


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply several edits to one file's text, in order."""
    for edit in edits:
        text = apply_edit(text, edit)
    return text

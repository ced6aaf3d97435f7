""" "Did you mean": the closest known key or name for a typo in a policy file."""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Union

from pydantic import BaseModel

from automation.policy.base import Loc

if TYPE_CHECKING:
    from automation.policy.policies import Policies

# Cross-file messages name what is unknown in one of these forms (see each cross_check).
_UNKNOWN_NAME = re.compile(
    r"unknown (?P<kind>person or team|person|team|area|rotation|severity|tool) '(?P<name>[^']*)'"
)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The one candidate close enough to `word` to be what was meant, if any."""
    found = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.8)
    return found[0] if found else None


def _unwrap(annotation: Any) -> list[Any]:
    """The model types an annotation can hold: through Optional, unions, tuples, lists, dicts."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType, tuple, list, dict, set, frozenset):
        args = typing.get_args(annotation)
        if origin is dict:
            args = args[1:]
        return [found for arg in args if arg is not Ellipsis for found in _unwrap(arg)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def keys_at(model_type: type[BaseModel], loc: Loc) -> list[str]:
    """The keys a mapping at `loc` may hold, following the model's field types."""
    current: list[type[BaseModel]] = [model_type]
    for part in loc:
        if isinstance(part, int):
            continue  # a list index: the item type is already what _unwrap returned
        following: list[type[BaseModel]] = []
        for model in current:
            field = model.model_fields.get(part)
            if field is not None:
                following.extend(_unwrap(field.annotation))
        if not following:
            return []
        current = following
    return sorted({name for model in current for name in model.model_fields})


def unknown_key_message(model_type: type[BaseModel], loc: Loc) -> str:
    """`unknown key`, with the closest allowed key when one is near."""
    key = loc[-1] if loc else ""
    if not isinstance(key, str):
        return "unknown key"
    allowed = keys_at(model_type, loc[:-1])
    guess = closest(key, allowed)
    return f"unknown key (did you mean '{guess}'?)" if guess else "unknown key"


def _names(policies: Policies, kind: str) -> list[str]:
    owners = policies.owners
    people = [p.login for p in owners.people]
    teams = [t.name for t in owners.teams]
    return {
        "person": people,
        "team": teams,
        "person or team": people + teams,
        "area": [a.name for a in owners.areas],
        "rotation": [r.name for r in policies.oncall.rotations],
        "severity": list(policies.triage.sla_hours),
        "tool": [t.name for t in policies.tools.tools],
    }.get(kind, [])


def with_suggestion(message: str, policies: Policies) -> str:
    """Add `(did you mean 'x'?)` to an `unknown person 'y'`-style message when a name is near."""
    match = _UNKNOWN_NAME.search(message)
    if match is None or "did you mean" in message:
        return message
    guess = closest(match["name"], _names(policies, match["kind"]))
    if guess is None or guess == match["name"]:
        return message
    return f"{message} (did you mean '{guess}'?)"

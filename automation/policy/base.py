"""Shared pieces of every policy model: strict frozen models and reference problems."""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict

if TYPE_CHECKING:
    from automation.policy.policies import Policies

Loc = tuple[str | int, ...]

_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(?:\[bot\])?$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class PolicyModel(BaseModel):
    """Base of every policy model: unknown keys are errors and values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def cross_check(self, policies: Policies) -> Iterator[RefProblem]:
        """Yield problems that need the other policy files to see (none by default)."""
        return iter(())


class PolicyFile(PolicyModel):
    """Base of a whole policy file: `enabled: false` turns its feature off, file kept."""

    enabled: bool = True


@dataclass(frozen=True)
class RefProblem:
    """A cross-file problem at a field path inside one policy file."""

    loc: Loc
    message: str


def _login(value: str) -> str:
    if not _LOGIN.match(value):
        raise ValueError(f"not a GitHub login: {value!r}")
    return value


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(f"use lowercase letters, digits, '.', '_' or '-': {value!r}")
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: ZoneInfo opens a file named after the zone, and a name longer than a file
        # name may be (ENAMETOOLONG) is still just an unknown zone.
        raise ValueError(f"unknown IANA time zone: {value!r}") from None
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
    return value


def _glob(value: str) -> str:
    """Check an fnmatch glob (labels, milestones, suites, targets, metrics) as it is read.

    fnmatch never fails: an unclosed `[` silently becomes a literal and a backslash is an
    ordinary character, so a typo validates and then never matches what was meant.
    """
    if "\\" in value:
        raise ValueError(
            f"invalid glob {value!r}: a backslash escapes nothing in a glob "
            "(write [*], [?] or [[] for a literal *, ? or [)"
        )
    index = 0
    while (index := value.find("[", index)) >= 0:
        # fnmatch's own reading: a leading ! negates, and a ] right after [ or [! is literal.
        end = index + 1
        if end < len(value) and value[end] == "!":
            end += 1
        if end < len(value) and value[end] == "]":
            end += 1
        end = value.find("]", end)
        if end < 0:
            raise ValueError(f"invalid glob {value!r}: unclosed '[' (write [[] for a literal [)")
        index = end + 1
    try:
        regex = fnmatch.translate(value)
        re.compile(regex)
    except re.error as exc:
        raise ValueError(f"invalid glob {value!r}: {exc}") from None
    if "(?!)" in regex:  # what fnmatch makes of an empty range such as [z-a]
        raise ValueError(f"invalid glob {value!r}: a [ ] range in it matches nothing")
    return value


Glob = Annotated[str, AfterValidator(_glob)]

# Years a policy date may name: the schedules step a day or a week past any date they read,
# and 9999-12-31 plus one day overflows (a traceback in `oncall now`, not a located problem).
FIRST_YEAR, LAST_YEAR = 1970, 2199


def plausible_date(value: dt.date) -> dt.date:
    """Refuse a date (or time) outside FIRST_YEAR..LAST_YEAR: a typo, and a crash later."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"{value.isoformat()}: use a year from {FIRST_YEAR} to {LAST_YEAR}")
    return value


PolicyDate = Annotated[dt.date, AfterValidator(plausible_date)]
Login = Annotated[str, AfterValidator(_login)]
Slug = Annotated[str, AfterValidator(_slug)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
Regex = Annotated[str, AfterValidator(_regex)]

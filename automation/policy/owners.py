"""policies/owners.yaml: people, teams and the areas they own."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import Field

from automation.policy.base import Login, PolicyFile, PolicyModel, RefProblem, Slug, TimeZone

if TYPE_CHECKING:
    from automation.policy.policies import Policies


class Person(PolicyModel):
    """A person, named everywhere else by GitHub login."""

    login: Login
    name: str
    timezone: TimeZone | None = None


class Team(PolicyModel):
    """A group of people; `github` is the org/slug used in CODEOWNERS when it exists."""

    name: Slug
    description: str = ""
    github: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
    members: tuple[Login, ...] = Field(min_length=1)


class Area(PolicyModel):
    """A part of the repository with owners; `sensitive` areas need owner approval."""

    name: Slug
    description: str
    paths: tuple[str, ...] = Field(min_length=1)
    owners: tuple[str, ...] = Field(min_length=1)
    secondary: Login | None = None
    sensitive: bool = False
    runbook: str | None = None


class OwnersPolicy(PolicyFile):
    """Who is who, and who owns which part of the repository."""

    people: tuple[Person, ...] = Field(min_length=1)
    teams: tuple[Team, ...] = ()
    areas: tuple[Area, ...] = Field(min_length=1)

    def person(self, login: str) -> Person | None:
        """Return the person with this login (case-insensitive, as GitHub logins are)."""
        wanted = login.lower()
        return next((p for p in self.people if p.login.lower() == wanted), None)

    def team(self, name: str) -> Team | None:
        """Return the team with this name."""
        return next((t for t in self.teams if t.name == name), None)

    def area(self, name: str) -> Area | None:
        """Return the area with this name."""
        return next((a for a in self.areas if a.name == name), None)

    def is_known_owner(self, ref: str) -> bool:
        """Whether `ref` names a person or a team."""
        return self.person(ref) is not None or self.team(ref) is not None

    def expand(self, refs: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """Resolve owner references (people and teams) to a sorted tuple of logins."""
        logins: set[str] = set()
        for ref in refs:
            team = self.team(ref)
            if team is not None:
                logins.update(team.members)
            else:
                logins.add(ref)
        return tuple(sorted(logins, key=str.lower))

    def codeowners_handles(self, refs: tuple[str, ...]) -> tuple[str, ...]:
        """Render owner references as CODEOWNERS handles (@login or @org/team)."""
        handles: list[str] = []
        for ref in refs:
            team = self.team(ref)
            if team is None:
                handles.append(f"@{ref}")
            elif team.github:
                handles.append(f"@{team.github}")
            else:
                # A team GitHub does not know is listed member by member.
                handles.extend(f"@{m}" for m in team.members)
        return tuple(dict.fromkeys(handles))

    def cross_check(self, policies: Policies) -> Iterator[RefProblem]:
        """Check names are unique and every reference resolves."""
        yield from _duplicates("people", [p.login.lower() for p in self.people])
        yield from _duplicates("teams", [t.name for t in self.teams])
        yield from _duplicates("areas", [a.name for a in self.areas])
        for t_index, team in enumerate(self.teams):
            if self.person(team.name) is not None:
                yield RefProblem(("teams", t_index, "name"), f"'{team.name}' is also a person")
            for m_index, member in enumerate(team.members):
                if self.person(member) is None:
                    yield RefProblem(
                        ("teams", t_index, "members", m_index), f"unknown person '{member}'"
                    )
        for a_index, area in enumerate(self.areas):
            for o_index, owner in enumerate(area.owners):
                if not self.is_known_owner(owner):
                    yield RefProblem(
                        ("areas", a_index, "owners", o_index),
                        f"unknown person or team '{owner}'",
                    )
            if area.secondary is not None and self.person(area.secondary) is None:
                yield RefProblem(
                    ("areas", a_index, "secondary"), f"unknown person '{area.secondary}'"
                )
            for p_index, pattern in enumerate(area.paths):
                problem = pattern_problem(pattern)
                if problem:
                    yield RefProblem(("areas", a_index, "paths", p_index), problem)


def pattern_problem(pattern: str) -> str | None:
    """Explain why GitHub would reject this CODEOWNERS pattern, or return None."""
    if not pattern.strip():
        return "empty path pattern"
    if pattern.startswith("!"):
        return f"invalid glob {pattern!r}: CODEOWNERS does not support '!' negation"
    if "[" in pattern or "]" in pattern:
        return f"invalid glob {pattern!r}: CODEOWNERS does not support [ ] ranges"
    if any(ch.isspace() for ch in pattern.replace("\\ ", "")):
        return f"invalid glob {pattern!r}: escape spaces as '\\ '"
    if "***" in pattern:
        return f"invalid glob {pattern!r}: '***' is not a pattern"
    if pattern.startswith("#"):
        return f"invalid glob {pattern!r}: a line starting with '#' is a comment in CODEOWNERS"
    if pattern.startswith("\\#"):
        # GitHub's docs list "escaping a pattern starting with # using \\" among the
        # gitignore rules CODEOWNERS does not support: GitHub skips such a line.
        return f"invalid glob {pattern!r}: GitHub does not support escaping a leading '#'"
    from automation.codeowners import compile_pattern

    try:
        compile_pattern(pattern)  # what generate() and the matcher will do with it
    except ValueError as exc:
        return f"invalid glob {pattern!r}: {exc}"
    return None


def _duplicates(field: str, names: list[str]) -> Iterator[RefProblem]:
    counts = Counter(names)
    seen: set[str] = set()
    for index, name in enumerate(names):
        if counts[name] > 1 and name in seen:
            yield RefProblem((field, index), f"duplicate name '{name}'")
        seen.add(name)

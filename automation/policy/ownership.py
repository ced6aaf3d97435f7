"""policies/ownership.yaml: protected paths and the owner approvals they need."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from automation.policy.base import PolicyFile, PolicyModel, RefProblem, Slug
from automation.policy.owners import pattern_problem

if TYPE_CHECKING:
    from automation.policy.policies import Policies


class ProtectedPath(PolicyModel):
    """A path group whose changes need approval from their CODEOWNERS owners."""

    name: Slug
    paths: tuple[str, ...] = Field(min_length=1)
    # Distinct owners who must approve every changed file of the group.
    approvals: int = Field(default=1, ge=1, le=10)
    # The author never counts (GitHub's own rule), unless this says an owner's authorship
    # counts as one approval: GitHub does not let authors approve their own PR.
    allow_author: bool = False
    # Like branch protection's "dismiss stale approvals": only approvals of the head count.
    invalidate_on_push: bool = False
    # GitHub's "require approval of the most recent reviewable push": an approval of the
    # head commit counts only from someone who did not push it (its author or committer).
    # Unset: on when a path of the group lies in an area owners.yaml marks sensitive.
    last_push_approval: bool | None = None


class OwnershipPolicy(PolicyFile):
    """The owner-approval check."""

    check_name: str = Field(default="owner-approval", min_length=1, max_length=100)
    # Ask missing owners for a review (once: never someone already requested or reviewing).
    request_reviews: bool = True
    # Where the members of an @org/team owner come from. `github`: the teams API, and the
    # check fails closed when the token cannot read it (GITHUB_TOKEN cannot). `policy`:
    # owners.yaml's `members`, trusted as written; the summary says so.
    team_source: Literal["github", "policy"] = "github"
    protected: tuple[ProtectedPath, ...] = Field(min_length=1)

    def groups_for(self, path: str) -> tuple[ProtectedPath, ...]:
        """The protected groups one repo-relative path falls under (CODEOWNERS semantics)."""
        from automation.codeowners import compile_pattern

        return tuple(
            group
            for group in self.protected
            if any(compile_pattern(anchored(p)).fullmatch(path) for p in group.paths)
        )

    def last_push_approval(self, group: ProtectedPath, policies: Policies) -> bool:
        """Whether the group needs its head approved by someone who did not push it."""
        if group.last_push_approval is not None:
            return group.last_push_approval
        return any(sensitive_covers(policies, sample_path(pattern)) for pattern in group.paths)

    def cross_check(self, policies: Policies) -> Iterator[RefProblem]:
        """Protected paths are valid patterns, unique, and owned by an area of owners.yaml."""
        from automation.codeowners import generate, parse

        seen: dict[str, int] = {}
        for g_index, group in enumerate(self.protected):
            if group.name in seen:
                yield RefProblem(("protected", g_index, "name"), f"duplicate name '{group.name}'")
            seen.setdefault(group.name, g_index)
        generated = None
        # owners.yaml reports its own bad patterns and owners; only check what generates.
        with contextlib.suppress(ValueError):
            generated = parse(generate(codeowners_areas(policies), ""))
        for g_index, group in enumerate(self.protected):
            for p_index, pattern in enumerate(group.paths):
                problem = pattern_problem(pattern)
                if problem:
                    yield RefProblem(("protected", g_index, "paths", p_index), problem)
                    continue
                if generated is None:
                    continue
                sample = sample_path(pattern)
                if not generated.owners_of(sample):
                    yield RefProblem(
                        ("protected", g_index, "paths", p_index),
                        f"no area of owners.yaml owns {pattern!r}: nobody could approve it",
                    )


def anchored(pattern: str) -> str:
    """A protected directory pattern anchored at the root, as generated CODEOWNERS has it.

    In CODEOWNERS a trailing slash alone does not anchor: `prompts/` would also cover
    `docs/prompts/`. Protected paths mean the top-level directory, like `/prompts/`.
    """
    if pattern.endswith("/") and not pattern.startswith(("/", "**")):
        return "/" + pattern
    return pattern


def sensitive_covers(policies: Policies, path: str) -> bool:
    """Whether a path lies in an area of owners.yaml marked sensitive."""
    from automation.codeowners import compile_pattern

    return any(
        compile_pattern(anchored(p)).fullmatch(path)
        for area in policies.owners.areas
        if area.sensitive
        for p in area.paths
    )


def sample_path(pattern: str) -> str:
    """A path a protected pattern covers (a file inside it, for a directory pattern)."""
    path = pattern.strip("/").replace("**/", "").replace("/**", "")
    return f"{path}/x" if pattern.endswith("/") else path


def codeowners_areas(
    policies: Policies,
) -> list[tuple[str, tuple[str, ...], tuple[str, ...], bool]]:
    """owners.yaml areas as (name, patterns, CODEOWNERS handles, sensitive) for generate()."""
    owners = policies.owners
    return [
        (area.name, area.paths, owners.codeowners_handles(area.owners), area.sensitive)
        for area in owners.areas
    ]

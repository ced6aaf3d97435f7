"""policies/ownership.yaml: protected paths and the approvals they need."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import Field

from automation.policy.base import PolicyModel, RefProblem, Slug
from automation.policy.owners import pattern_problem

if TYPE_CHECKING:
    from automation.policy.loader import Policies


class ProtectedPath(PolicyModel):
    """A path group whose changes need approval from its CODEOWNERS owners."""

    name: Slug
    paths: tuple[str, ...] = Field(min_length=1)
    approvals: int = Field(default=1, ge=1, le=10)


class OwnershipPolicy(PolicyModel):
    """The owner-approval check."""

    check_name: str = "owner-approval"
    protected: tuple[ProtectedPath, ...] = Field(min_length=1)

    def cross_check(self, policies: Policies) -> Iterator[RefProblem]:
        """Every protected path is a valid pattern."""
        for g_index, group in enumerate(self.protected):
            for p_index, pattern in enumerate(group.paths):
                problem = pattern_problem(pattern)
                if problem:
                    yield RefProblem(("protected", g_index, "paths", p_index), problem)

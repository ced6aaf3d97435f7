"""Errors every command shares (a module of its own, so `python -m automation.cli` and the
console script see one and the same class)."""

from __future__ import annotations


class UsageError(Exception):
    """A problem with the input: one clear line, exit status 2."""


class RepositoryNotVisible(UsageError):
    """The repository does not exist, or the token cannot see it."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"repository {name} does not exist or this token cannot see it "
            "(check GITHUB_REPOSITORY or --repo, and the token's access to it)"
        )

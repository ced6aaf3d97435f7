"""Errors every command shares (a module of its own, so `python -m automation.cli` and the
console script see one and the same class)."""

from __future__ import annotations


class UsageError(Exception):
    """A problem with the input: one clear line, exit status 2."""

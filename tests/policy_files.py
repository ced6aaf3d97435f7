"""The shipped policy files, and a helper to break a copy of one at a known line."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"


def edit_policy(path: Path, old: str, new: str) -> int:
    """Replace the first `old` in a file; return the 1-based line it was on."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1))
    return line

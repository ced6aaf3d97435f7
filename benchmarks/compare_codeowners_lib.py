"""Run the tricky CODEOWNERS table against the PyPI `codeowners` library.

Needs that library in the running interpreter (e.g. a throwaway venv):
  python -m venv /tmp/co && /tmp/co/bin/pip install codeowners
  /tmp/co/bin/python benchmarks/compare_codeowners_lib.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codeowners import CodeOwners  # type: ignore[import-not-found]

from automation.codeowners import parse
from tests.codeowners_cases import TRICKY


def main() -> None:
    """Print every case where the library and our matcher (GitHub semantics) differ."""
    wrong = 0
    for text, path, expected in TRICKY:
        ours = parse(text).owners_of(path)
        try:
            lib = tuple(owner for _, owner in CodeOwners(text).of(path))
        except Exception as exc:  # the library raises on some inputs
            lib = (f"<{type(exc).__name__}: {exc}>",)
        if ours != expected:
            print(f"OURS WRONG {text!r} {path!r}: {ours} != {expected}")
        if lib != expected:
            wrong += 1
            print(f"lib: {text!r:40} {path!r:34} expected {expected} got {lib}")
    print(f"library disagrees with GitHub semantics on {wrong}/{len(TRICKY)} cases")


if __name__ == "__main__":
    main()

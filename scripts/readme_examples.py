"""The README's "What it writes" examples, rendered by `dataface-ops plan` from the bundled example.

Each example sits in README.md between `<!-- example:NAME -->` and `<!-- /example -->`.
`--write` renders them in place; `--check` (run by the test suite) fails when the README shows
something the code no longer writes.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
AT = "2026-11-24T12:00:00Z"
BLOCK = re.compile(r"(<!-- example:(?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- /example -->)", re.S)


def _plans() -> list[dict[str, Any]]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "automation.cli",
            "plan",
            "--snapshot",
            str(ROOT / "examples" / "snapshot.json"),
            "--at",
            AT,
            "--policies",
            str(ROOT / "policies"),
            "--format",
            "json",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    plans: list[dict[str, Any]] = json.loads(out)["plans"]
    return plans


def _fields(plans: list[dict[str, Any]], feature: str, kind: str, marker: str) -> dict[str, Any]:
    for plan in plans:
        for action in plan["actions"]:
            fields: dict[str, Any] = action["fields"]
            identity = str(fields.get("marker", "")) + str(fields.get("name", ""))
            if plan["feature"] == feature and action["type"] == kind and marker in identity:
                return fields
    raise SystemExit(f"the example plan has no {feature} {kind} {marker!r}")


def _quoted(text: str, lines: int | None = None) -> str:
    """A GitHub-rendered body as a quote; hidden markers dropped, long bodies cut."""
    kept = [line for line in text.strip().splitlines() if not line.startswith("<!-- dataface-ops")]
    while kept and not kept[-1].strip():
        kept.pop()
    if lines is not None and len(kept) > lines:
        kept = [*kept[:lines], "…"]
    return "\n".join(f"> {line}".rstrip() for line in kept) + "\n"


def render() -> dict[str, str]:
    """Every example, by name, as Markdown."""
    plans = _plans()
    triage = _fields(plans, "triage", "UpsertComment", "triage:issue-101")
    incident = _fields(plans, "incidents", "UpsertComment", "incidents:incident-601")
    check = _fields(plans, "ownership", "UpsertCheckRun", "owner-approval")
    warning = _fields(plans, "stale", "UpsertComment", "stale:warning-450")
    reminder = _fields(plans, "reviews", "UpsertComment", "reviews:reminder-206")
    handoff = _fields(plans, "oncall", "UpsertComment", "oncall:handoff-2026-11-23")
    digest = _fields(plans, "digest", "UpsertIssue", "digest:2026-W47")
    return {
        "triage": "A comment on an eval-regression issue (#101), beside its labels and "
        "assignees:\n\n" + _quoted(triage["body"]),
        "incidents": "The comment on a tool incident filed through the form (#601), beside "
        "its labels and assignees (first lines):\n\n" + _quoted(incident["body"], lines=18),
        "ownership": f"The `owner-approval` check run on a PR's head commit: "
        f"**{check['conclusion']}**, *{check['title']}*\n\n" + _quoted(check["summary"]),
        "reviews": "A reminder on a pull request waiting on its requested owner (#206), beside "
        "a review request to the area's secondary:\n\n" + _quoted(reminder["body"]),
        "stale": "A warning on an inactive pull request (#450), with the `stale` label:\n\n"
        + _quoted(warning["body"]),
        "oncall": "The note on the on-call issue at a handoff (first lines):\n\n"
        + _quoted(handoff["body"], lines=12),
        "digest": f"The weekly digest issue, *{digest['title']}* (first lines):\n\n"
        + _quoted(digest["body"], lines=16),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="render the examples into README")
    parser.add_argument("--check", action="store_true", help="fail when the README drifted")
    args = parser.parse_args()
    examples = render()
    text = README.read_text(encoding="utf-8")
    found = {m["name"] for m in BLOCK.finditer(text)}
    if found != set(examples):
        print(f"README example blocks {sorted(found)} != {sorted(examples)}", file=sys.stderr)
        return 1
    updated = BLOCK.sub(lambda m: m.group(1) + examples[m["name"]] + m.group(4), text)
    if args.write:
        README.write_text(updated, encoding="utf-8")
        return 0
    if updated != text:
        print(
            "README examples are out of date: python scripts/readme_examples.py --write",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

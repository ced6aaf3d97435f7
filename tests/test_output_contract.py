"""One output contract: every `--format json` document matches docs/output.schema.json."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from automation.cli import build_parser, main
from tests.policy_files import POLICIES

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "output.schema.json").read_text(encoding="utf-8"))
EXAMPLE = str(ROOT / "examples" / "snapshot.json")
AT = "2026-11-24T12:00:00Z"


def _validate(document: Any, definition: str) -> None:
    schema = {**SCHEMA, "$ref": f"#/$defs/{definition}"}
    schema.pop("oneOf")
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


def _json_of(capsys: pytest.CaptureFixture[str], *argv: str, status: int = 0) -> Any:
    assert main(list(argv)) == status
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("argv", "definition"),
    [
        (["plan", "--snapshot", EXAMPLE, "--at", AT], "plans"),
        (["validate"], "validate"),
        (["release", "next", "--snapshot", EXAMPLE, "--at", AT], "release_next"),
        (["release", "next", "--offline", "--at", "2026-12-20T12:00:00Z"], "release_next"),
        (["oncall", "now", "--at", AT], "oncall_now"),
        (["oncall", "schedule", "--weeks", "2", "--at", AT], "oncall_schedule"),
        (["stale", "explain", "401", "--snapshot", EXAMPLE, "--at", AT], "stale_explain"),
        (["incidents", "explain", "601", "--snapshot", EXAMPLE, "--at", AT], "incidents_explain"),
        (["incidents", "explain", "603", "--snapshot", EXAMPLE, "--at", AT], "incidents_explain"),
        (["incidents", "explain", "101", "--snapshot", EXAMPLE, "--at", AT], "incidents_explain"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_json_output_matches_the_documented_schema(
    capsys: pytest.CaptureFixture[str], argv: list[str], definition: str
) -> None:
    document = _json_of(capsys, *argv, "--policies", str(POLICIES), "--format", "json")
    _validate(document, definition)
    if definition == "plans":
        assert sum(len(plan["actions"]) for plan in document["plans"]) > 0
    if definition == "stale_explain":
        assert document["verdict"] and document["lines"][-1].endswith(document["verdict"])


def test_validate_json_lists_each_problem_and_exits_2(
    capsys: pytest.CaptureFixture[str], policy_copy: Path
) -> None:
    owners = policy_copy / "owners.yaml"
    owners.write_text(owners.read_text(encoding="utf-8") + "\nbogus_key: 1\n", encoding="utf-8")
    document = _json_of(
        capsys, "validate", "--policies", str(policy_copy), "--format", "json", status=2
    )
    _validate(document, "validate")
    assert document["valid"] is False
    (problem,) = document["problems"]
    assert problem["file"].endswith("owners.yaml") and problem["line"] > 0
    assert "bogus_key" in problem["loc"] + problem["message"]


def test_policy_problems_are_annotations_in_github_actions(
    capsys: pytest.CaptureFixture[str], policy_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    owners = policy_copy / "owners.yaml"
    owners.write_text(owners.read_text(encoding="utf-8") + "\nbogus_key: 1\n", encoding="utf-8")
    assert main(["validate", "--policies", str(policy_copy)]) == 2
    out = capsys.readouterr().out.splitlines()
    (annotation,) = [line for line in out if line.startswith("::error ")]
    assert annotation.startswith(f"::error file={policy_copy / 'owners.yaml'},line=")
    assert "bogus_key" in annotation


def _format_choices(parser: argparse.ArgumentParser, path: str = "") -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.update(_format_choices(child, f"{path} {name}".strip()))
        elif "--format" in action.option_strings:
            found[path] = list(action.choices or ())
    return found


def test_every_command_with_format_offers_the_same_three() -> None:
    offered = _format_choices(build_parser())
    assert {"validate", "plan", "oncall now", "oncall schedule", "release next"} <= set(offered)
    assert {
        path: choices
        for path, choices in offered.items()
        if choices != ["text", "markdown", "json"]
    } == {}


def test_run_errors_are_annotations_in_github_actions(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A bad event payload in Actions: one line on stderr and the same as an annotation."""
    event = tmp_path / "event.json"
    event.write_text("{}", encoding="utf-8")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "issues")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    assert main(["run", "--policies", str(POLICIES)]) == 2
    captured = capsys.readouterr()
    (line,) = [x for x in captured.err.splitlines() if x.startswith("error: ")]
    assert f"::error title=dataface-ops::{line}" in captured.out.splitlines()

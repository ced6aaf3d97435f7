"""Features are opt-in by file: a feature runs when its policy file exists and is enabled."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from automation import features
from automation.cli import main
from tests.github_api.fixtures import GitHubMock
from tests.github_api.webhooks import webhook_payload
from tests.test_output_contract import _validate

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = str(ROOT / "examples" / "snapshot.json")
AT = "2026-11-24T12:00:00Z"


def _only(tmp_path: Path, *names: str) -> Path:
    """A policy directory holding only the named shipped files."""
    target = tmp_path / "policies"
    target.mkdir()
    for name in names:
        shutil.copy(ROOT / "policies" / f"{name}.yaml", target / f"{name}.yaml")
    return target


def test_plan_runs_only_the_features_whose_files_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policies = _only(tmp_path, "owners", "stale")
    args = ["plan", "--snapshot", SNAPSHOT, "--policies", str(policies), "--at", AT]
    assert main([*args, "--format", "json"]) == 0
    assert [p["feature"] for p in json.loads(capsys.readouterr().out)["plans"]] == ["stale"]


def test_naming_a_feature_that_is_off_plans_nothing_for_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policies = _only(tmp_path, "owners", "stale")
    args = ["plan", "release", "--snapshot", SNAPSHOT, "--policies", str(policies), "--at", AT]
    assert main([*args, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["plans"] == []


def test_run_for_an_event_whose_features_are_all_off_does_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    github: GitHubMock,
) -> None:
    """issues.opened re-checks triage, on-call and stale: with only ownership on, no request."""
    policies = _only(tmp_path, "owners", "ownership")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(webhook_payload("issues.opened")))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "issues")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv(
        "GITHUB_REPOSITORY", webhook_payload("issues.opened")["repository"]["full_name"]
    )
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    assert main(["run", "--policies", str(policies)]) == 0
    out = capsys.readouterr().out
    assert "every feature it re-checks is off; nothing to do" in out
    assert f"stale: off ({policies}/stale.yaml absent)" in out
    assert len(github.calls) == 0


@pytest.mark.parametrize(
    ("command", "needs"),
    [(["oncall", "now"], "oncall"), (["release", "next", "--snapshot", SNAPSHOT], "release")],
)
def test_a_command_of_a_feature_whose_file_is_absent_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], needs: str
) -> None:
    policies = _only(tmp_path, "owners", "stale")
    assert main([*command, "--policies", str(policies)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: {policies}/{needs}.yaml is absent and this command reads it "
        f"(`dataface-ops init --features {needs}` writes one)\n"
    )


def test_the_operating_model_leaves_out_the_sections_of_absent_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policies = _only(tmp_path, "owners", "stale")
    output = tmp_path / "OPERATING_MODEL.md"
    args = ["docs", "render", "--policies", str(policies), "--root", str(tmp_path)]
    assert main([*args, "--output", str(output), "--at", AT]) == 0
    text = output.read_text()
    assert "## Stale backlog" in text and "## Release train" not in text


def test_apply_says_once_in_its_report_which_features_are_off(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    github: GitHubMock,
) -> None:
    """Every feature off: no request, exit 0, and one `off` note per feature in the report."""
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    policies = _only(tmp_path, "owners")
    args = ["apply", "--repo", "o/r", "--policies", str(policies), "--dry-run"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.count(f"note: stale: off ({policies}/stale.yaml absent)") == 1
    assert sum(line.startswith("note: ") for line in out.splitlines()) == len(features.FEATURES)
    assert main([*args, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    _validate(document, "plans")  # the documented output contract carries the notes
    assert f"digest: off ({policies}/digest.yaml absent)" in document["notes"]
    assert len(github.calls) == 0

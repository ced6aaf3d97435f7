"""`dataface-ops init`: adopt one feature at a time, in dry-run, from an empty repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from automation import features
from automation.cli import main
from automation.commands.init import workflow_text

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = str(ROOT / "examples" / "snapshot.json")
AT = "2026-11-24T12:00:00Z"
CHOICES = [("stale", "ownership"), *((name,) for name in features.FEATURES)]


@pytest.mark.parametrize("chosen", CHOICES, ids=lambda c: ",".join(c))
def test_init_then_validate_then_plan_runs_only_the_chosen_features(
    tmp_path: Path, chosen: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--features", ",".join(chosen), "--dir", str(tmp_path)]) == 0
    policies = str(tmp_path / "policies")
    assert main(["init", "--check", "--features", ",".join(chosen), "--dir", str(tmp_path)]) == 0
    assert main(["validate", "--policies", policies]) == 0
    capsys.readouterr()
    args = ["plan", "--snapshot", SNAPSHOT, "--policies", policies, "--at", AT, "--format", "json"]
    assert main(args) == 0
    planned = [p["feature"] for p in json.loads(capsys.readouterr().out)["plans"]]
    assert sorted(planned) == sorted(chosen)


def test_init_writes_schema_headers_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from importlib.metadata import version

    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "owners.yaml").write_text("# mine\n")
    assert main(["init", "--features", "ownership", "--dir", str(tmp_path)]) == 0
    assert "kept" in capsys.readouterr().out
    assert (tmp_path / "policies" / "owners.yaml").read_text() == "# mine\n"
    first = (tmp_path / "policies" / "ownership.yaml").read_text().splitlines()[0]
    assert first == (
        "# yaml-language-server: $schema=https://raw.githubusercontent.com/dataface/"
        f"dataface-ops/v{version('dataface-ops')}/policies/schema/ownership.schema.json"
    )
    assert not (tmp_path / "policies" / "stale.yaml").exists()


def test_init_check_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--check", "--features", "stale", "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path}/policies/stale.yaml is missing" in out
    assert f"{tmp_path}/.github/workflows/dataface-ops.yml is missing" in out


def test_init_check_reports_a_chosen_feature_turned_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--features", "stale", "--dir", str(tmp_path)]) == 0
    stale = tmp_path / "policies" / "stale.yaml"
    stale.write_text(stale.read_text() + "enabled: false\n")
    capsys.readouterr()
    assert main(["init", "--check", "--features", "stale", "--dir", str(tmp_path)]) == 1
    assert "stale: off (enabled: false in" in capsys.readouterr().out


def test_unknown_feature_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--features", "stael", "--dir", str(tmp_path)]) == 2
    assert "unknown feature 'stael'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_the_workflow_is_the_adoption_example_in_dry_run() -> None:
    """The packaged copy is examples/adopt/dataface-ops.yml (copy it over when that changes)."""
    packaged = ROOT / "automation" / "templates" / "init" / "dataface-ops.yml"
    assert packaged.read_text() == (ROOT / "examples" / "adopt" / "dataface-ops.yml").read_text()
    workflow = yaml.safe_load(workflow_text())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    ours = [s for s in steps if s["uses"].startswith("dataface/dataface-ops@")]
    assert len(ours) == 3 and all(s["with"]["dry-run"] == "true" for s in ours)

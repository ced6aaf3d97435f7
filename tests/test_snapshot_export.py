"""`snapshot export` reads from GitHub and writes a file `plan --snapshot` accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.cli import main
from automation.snapshot.models import Snapshot
from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock
from tests.policy_files import POLICIES

REPO = "dataface/dataface"
BODY = (
    "### Eval suite\n\ntool-calling-v3\n\n### Metric\n\naccuracy\n\n### Baseline value\n\n0.91\n\n"
    "### Current value\n\n0.70\n\n### Run URL\n\nhttps://evals.example.com/runs/1\n\n"
    "### Commit SHA\n\n0123456789abcdef0123456789abcdef01234567\n\n"
    "### Affected tool or prompt\n\n_No response_\n"
)


def test_export_then_plan_offline_gives_the_live_plan(
    github: GitHubMock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    issue = checker.issue_json(
        7, title="Accuracy dropped", body=BODY, labels=["eval-regression"], assignees=[], repo=REPO
    )
    issue.pop("pull_request", None)  # GitHub's example issue is a PR; this one is not
    issue["comments"] = 0
    issue["created_at"] = issue["updated_at"] = "2026-11-24T11:00:00Z"
    github.get(f"/repos/{REPO}/issues", json=[issue])
    github.get(f"/repos/{REPO}", json=checker.example(("GET", "/repos/{owner}/{repo}"), repo=REPO))
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    monkeypatch.setenv("DATAFACE_OPS_NO_PACING", "1")
    out = tmp_path / "snapshot.json"
    at = "2026-11-24T12:00:00Z"
    common = ["--repo", REPO, "--policies", str(POLICIES), "--at", at]

    assert main(["snapshot", "export", "triage", "-o", str(out), *common]) == 0
    assert github.writes() == []
    snapshot = Snapshot.model_validate_json(out.read_text())
    assert [i.number for i in snapshot.issues] == [7]
    assert snapshot.issues[0].comments == ()
    capsys.readouterr()

    assert main(["plan", "triage", *common]) == 0
    live = capsys.readouterr().out
    assert (
        main(["plan", "triage", "--snapshot", str(out), "--policies", str(POLICIES), "--at", at])
        == 0
    )
    offline = capsys.readouterr().out
    assert "#7: set labels = [eval-regression, severity:sev1" in live
    assert offline == live

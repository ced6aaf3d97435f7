"""`dataface-ops release next`: calendar, freeze, and what is on the train so far."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from automation import cli
from tests.github_api.fixtures import GitHubMock
from tests.release_github import FakeRepo
from tests.release_helpers import ROOT
from tests.test_release_flow import last_week

POLICIES = str(ROOT / "policies")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(["release", "next", "--policies", POLICIES, *args])
    return code, capsys.readouterr().out


def test_next_from_the_example_snapshot(capsys: pytest.CaptureFixture[str]) -> None:
    example = str(ROOT / "examples" / "snapshot.json")
    code, out = run(capsys, "--snapshot", example, "--at", "2026-11-24T12:00:00Z")
    assert code == 0
    lines = out.splitlines()
    assert lines[:4] == [
        "No freeze applies now.",
        "Next train leaves: Tue 2026-11-24 15:00 Europe/London (15:00 UTC).",
        "Release captain then: @tomas-silva",
        "On it so far: 5 PRs merged into main since Tue 2026-11-24 10:30 Europe/London "
        "(10:30 UTC).",
    ]
    assert (
        "  - [prompts] #308 Shorten the chart-suggestion prompt (@lena-fischer)  ! missing "
        "eval results against the baseline"
    ) in lines


def test_next_in_a_freeze_offline(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--offline", "--at", "2026-12-20T12:00:00Z", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["freeze"] == (
        "freeze 'year-end' (2026-12-18 to 2027-01-04): Year-end change freeze; most of the "
        "on-call rota is away."
    )
    assert (data["due"], data["next_departure"], data["next_slot"], data["prs"]) == (
        False,
        "2027-01-05T15:00:00+00:00",  # ISO 8601: machines get instants, people get prose
        "2026-12-22",
        None,
    )
    assert (data["now"], data["departure"], data["since"]) == (
        "2026-12-20T12:00:00+00:00",
        None,
        None,
    )


def test_next_reads_github_even_before_the_train_is_due(
    github: GitHubMock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeRepo(github)
    last_week(fake, merged=5)
    for name, value in {
        "GITHUB_REPOSITORY": "dataface/dataface",
        "GITHUB_TOKEN": "t",
        "GITHUB_API_URL": "https://api.github.com",
        "DATAFACE_OPS_NO_PACING": "1",
    }.items():
        monkeypatch.setenv(name, value)
    code, out = run(capsys, "--at", "2026-11-23T09:00:00Z")
    assert code == 0
    assert "Next train leaves: Tue 2026-11-24 15:00 Europe/London (15:00 UTC)." in out
    assert "On it so far: 5 PRs merged into main since" in out
    assert "A train is due now" not in out
    assert github.writes() == []


def test_next_without_credentials_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "DATAFACE_OPS_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_REPOSITORY", "dataface/dataface")
    code = cli.main(["release", "next", "--policies", POLICIES])
    assert code == cli.EXIT_BAD_INPUT
    assert capsys.readouterr().err.startswith("error: no GitHub credentials")


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom automation import cli\n"
        "try:\n    cli.main(['release', 'next', '--help'])\nexcept SystemExit:\n    pass\n"
        "print([m for m in ('github', 'jinja2', 'pydantic') if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"

"""Progress of long work: requests counted at the GitHub edge, reported on stderr only."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest

from automation.cli import main
from automation.github import make_github
from automation.github.progress import Progress
from automation.settings import Settings
from tests.github_api.fixtures import GitHubMock

ROOT = Path(__file__).resolve().parent.parent
ISSUES = re.compile(r"https://api\.github\.com/repos/o/r/issues(\?.*)?$")


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _read(progress: Progress, github: GitHubMock, times: int) -> None:
    """Send `times` reads through the client the features use."""
    github.get("/repos/o/r", json={"id": 1, "name": "r", "full_name": "o/r"})
    client = make_github(Settings(repo="o/r", token="t", pacing=False), progress=progress)
    for _ in range(times):
        client.requester.requestJsonAndCheck("GET", "/repos/o/r")


def test_a_log_line_every_ten_requests_when_not_a_terminal(
    github: GitHubMock, caplog: pytest.LogCaptureFixture
) -> None:
    stream = io.StringIO()
    with caplog.at_level(logging.INFO, logger="dataface_ops.progress"):
        _read(Progress(stream), github, 25)
    lines = [r.getMessage() for r in caplog.records if r.name == "dataface_ops.progress"]
    assert lines == ["10 read(s), 0 write(s) so far", "20 read(s), 0 write(s) so far"]
    assert stream.getvalue() == ""  # logging (stderr) carries it, not the stream itself


def test_one_updating_line_in_a_terminal(github: GitHubMock) -> None:
    terminal = Terminal()
    ticks = iter(float(n) for n in range(100))
    progress = Progress(terminal, clock=lambda: next(ticks))
    _read(progress, github, 3)
    progress.finish()
    text = terminal.getvalue()
    assert text.count("\n") == 1 and text.endswith("3 read(s), 0 write(s) so far\n")
    assert text.count("\r") == 4  # three redraws in place, then the final line


def test_progress_goes_to_stderr_never_stdout(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through `apply` (a line per request here): stderr has the progress, stdout the report."""
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    monkeypatch.setenv("DATAFACE_OPS_NO_PACING", "1")
    monkeypatch.setattr("automation.github.progress.EVERY", 1)
    github.get(ISSUES, status=404, json={"message": "Not Found"})
    github.get("/repos/o/r", status=404, json={"message": "Not Found"})
    policies = str(ROOT / "policies")
    assert main(["apply", "triage", "--repo", "o/r", "--policies", policies]) == 2
    captured = capsys.readouterr()
    assert "read(s)" not in captured.out
    progress = [line for line in captured.err.splitlines() if "dataface_ops.progress" in line]
    assert [line.rsplit(": ", 1)[1] for line in progress] == [
        "1 read(s), 0 write(s) so far",
        "2 read(s), 0 write(s) so far",
    ]

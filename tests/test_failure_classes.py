"""One classification of failures: bad input exits 2, GitHub or the network failing exits 1
(one line naming the request; the next run resumes), a bug exits 3 with its traceback."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from automation import cli, features
from automation.cli import main
from tests.github_api.fixtures import GitHubMock, injected

ROOT = Path(__file__).resolve().parent.parent
POLICIES = str(ROOT / "policies")
REPO = {"id": 1, "name": "r", "full_name": "o/r", "private": False}
ISSUES = re.compile(r"https://api\.github\.com/repos/o/r/issues(\?.*)?$")


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    monkeypatch.setenv("DATAFACE_OPS_NO_PACING", "1")
    for name in ("GITHUB_STEP_SUMMARY", "DATAFACE_OPS_DRY_RUN", "DATAFACE_OPS_MAX_WRITES"):
        monkeypatch.delenv(name, raising=False)


def _exact(github: GitHubMock, path: str) -> int:
    """How many requests went to exactly this path."""
    return sum(1 for c in github.calls if urlsplit(str(c.request.url)).path == path)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith(("INFO", "DEBUG"))]


@pytest.mark.parametrize("command", ["apply", "plan"])
def test_a_read_that_keeps_failing_is_exit_1_naming_the_request(
    command: str, github: GitHubMock, capsys: pytest.CaptureFixture[str]
) -> None:
    github.get(ISSUES, status=502, json={"message": "Server Error"})
    code = main([command, "triage", "--repo", "o/r", "--policies", POLICIES])
    captured = capsys.readouterr()
    assert code == cli.EXIT_FAILED, captured
    assert "Traceback" not in captured.err
    assert "HTTPConnectionPool" not in captured.out + captured.err
    said = [
        line
        for line in _lines(captured.out + captured.err)
        if "GET /repos/o/r/issues" in line and "next run resumes" in line
    ]
    assert len(said) == 1, captured
    assert "502" in said[0]
    # urllib3 retried the read before giving up.
    assert github.count("GET", "/repos/o/r/issues") == 3


@pytest.mark.parametrize(
    "failure",
    [requests.ConnectionError, requests.ReadTimeout],
    ids=["dropped connection", "timeout"],
)
def test_a_network_failure_on_a_read_is_exit_1_not_bad_input(
    failure: type[requests.RequestException],
    github: GitHubMock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def fail(request: requests.PreparedRequest) -> object:
        # What requests raises: the failed request rides along.
        raise injected(failure("Connection aborted: RemoteDisconnected", request=request))

    github.add_callback("GET", ISSUES, callback=fail)
    code = main(["plan", "triage", "--repo", "o/r", "--policies", POLICIES])
    captured = capsys.readouterr()
    assert code == cli.EXIT_FAILED, captured
    assert "Traceback" not in captured.err
    (line,) = _lines(captured.err)
    assert "GET /repos/o/r/issues" in line and "the next run resumes" in line


def _break_the_planner(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    from automation.features.triage import plan as triage

    def broken(*args: object) -> object:
        raise error

    monkeypatch.setattr(triage, "plan_triage", broken)


@pytest.mark.parametrize(
    "error", [KeyError("severity"), ZeroDivisionError("division by zero")], ids=repr
)
def test_a_bug_is_a_traceback_and_exit_3_never_bad_input(
    error: Exception, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _break_the_planner(monkeypatch, error)
    snapshot = str(ROOT / "examples" / "snapshot.json")
    code = main(["plan", "triage", "--snapshot", snapshot, "--policies", POLICIES])
    err = capsys.readouterr().err
    assert code == cli.EXIT_BUG == 3
    assert "Traceback (most recent call last)" in err
    assert type(error).__name__ in err
    assert "a bug" in err.splitlines()[-1]


def test_an_unknown_feature_is_still_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = str(ROOT / "examples" / "snapshot.json")
    assert main(["plan", "tirage", "--snapshot", snapshot]) == cli.EXIT_BAD_INPUT
    (line,) = _lines(capsys.readouterr().err)
    known = ", ".join(features.FEATURES)  # the running order
    assert line == f"error: unknown feature 'tirage' (known: {known})"


def test_an_unknown_rotation_is_still_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["oncall", "now", "--rotation", "nope", "--policies", POLICIES]) == 2
    (line,) = _lines(capsys.readouterr().err)
    assert line.startswith("error: unknown rotation 'nope' (known: ")


def test_an_exhausted_rate_limit_on_a_read_is_exit_1_naming_the_request(
    github: GitHubMock, capsys: pytest.CaptureFixture[str]
) -> None:
    github.get(
        ISSUES,
        status=403,
        json={"message": "API rate limit exceeded for installation ID 1."},
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4102444800"},
    )
    code = main(["apply", "triage", "--repo", "o/r", "--policies", POLICIES])
    captured = capsys.readouterr()
    assert code == cli.EXIT_FAILED, captured
    (line,) = _lines(captured.err)
    assert line.startswith("error: GET /repos/o/r/issues: the GitHub rate limit is exhausted")
    assert line.endswith("the next run resumes")


def test_a_refused_read_names_the_request(
    github: GitHubMock, capsys: pytest.CaptureFixture[str]
) -> None:
    github.get(ISSUES, status=404, json={"message": "Not Found"})
    github.get("/repos/o/r", json=REPO)  # the repository is there: the 404 is the read's own
    code = main(["apply", "triage", "--repo", "o/r", "--policies", POLICIES])
    captured = capsys.readouterr()
    assert code == cli.EXIT_FAILED, captured
    assert (
        "error: triage: could not read what it needs: GET /repos/o/r/issues: "
        "GitHub answered 404: Not Found; the next run resumes"
    ) in captured.out
    assert _exact(github, "/repos/o/r") == 1  # asked once, after the first 404


def test_a_wrong_repository_or_a_token_that_cannot_see_it_is_one_line(
    github: GitHubMock, capsys: pytest.CaptureFixture[str]
) -> None:
    github.get(ISSUES, status=404, json={"message": "Not Found"})
    github.get("/repos/o/r", status=404, json={"message": "Not Found"})
    code = main(["apply", "--repo", "o/r", "--policies", POLICIES, "--dry-run"])
    captured = capsys.readouterr()
    assert code == cli.EXIT_BAD_INPUT, captured
    assert _lines(captured.err) == [
        "error: repository o/r does not exist or this token cannot see it "
        "(check GITHUB_REPOSITORY or --repo, and the token's access to it)"
    ]
    assert "404" not in captured.out
    assert not github.writes()


def test_a_rejected_token_is_one_line_naming_the_token(
    github: GitHubMock, capsys: pytest.CaptureFixture[str]
) -> None:
    github.get(ISSUES, status=401, json={"message": "Bad credentials"})
    code = main(["apply", "--repo", "o/r", "--policies", POLICIES, "--dry-run"])
    captured = capsys.readouterr()
    assert code == cli.EXIT_BAD_INPUT, captured
    assert _lines(captured.err) == ["error: GitHub rejected the credentials (check GITHUB_TOKEN)"]


def test_a_write_whose_answer_never_came_is_reported_naming_the_request(
    github: GitHubMock,
) -> None:
    from automation.actions import EditIssue, Plan
    from automation.execute import execute
    from automation.github import make_github
    from automation.settings import Settings

    def timeout(request: requests.PreparedRequest) -> object:
        raise injected(requests.ReadTimeout("read timed out", request=request))

    github.add_callback("PATCH", "/repos/o/r/issues/5", callback=timeout)
    repo = make_github(Settings(repo="o/r", token="t", pacing=False)).get_repo("o/r")
    action = EditIssue(reason="r", number=5, labels=("bug",))
    report = execute([Plan("triage", (action,))], repo)
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.detail) == (
        "failed",
        "PATCH /repos/o/r/issues/5: GitHub did not answer in time; the next run resumes",
    )
    assert not report.ok

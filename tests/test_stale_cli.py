"""`dataface-ops stale explain` and `plan stale` on the example snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.cli import main
from automation.features.stale import collect as stale_snapshot
from tests.github_api.fixtures import GitHubMock
from tests.stale_backlog import REPO, Backlog
from tests.test_stale_sweep import NOW, warn_trace

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "examples" / "snapshot.json")
AT = "2026-11-24T12:00:00Z"


@pytest.mark.parametrize(
    ("number", "verdict"),
    [
        (401, "verdict: warn: no activity from a person for 60+ days (not updated since"),
        (403, "verdict: warn: no activity from a person for 60+ days (comment by tomas-silva"),
        (404, "verdict: close: warned on 2026-11-04"),
        (405, "verdict: unstale: comment by lena-fischer on 2026-11-22, after the warning"),
        (406, "verdict: nothing to do"),
        (407, "exempt: label 'roadmap' is exempt"),
        (408, "exempt: assignee maya-chen is exempt"),
        (409, "exempt: milestone '2027.1' is exempt"),
        (410, "exempt: it is pinned"),
        (411, "verdict: rewarn: reopened on 2026-11-21 after the warning of 2026-10-15"),
        (451, "verdict: nothing to do: no rule's scope covers it"),
        (452, "verdict: unstale: committed by Tomás Silva on 2026-11-23"),
        (453, "exempt: author dependabot[bot] is exempt"),
    ],
)
def test_explain_the_example_backlog(
    capsys: pytest.CaptureFixture[str], number: int, verdict: str
) -> None:
    args = ["stale", "explain", str(number), "--snapshot", EXAMPLE, "--at", AT]
    assert main([*args, "--policies", str(ROOT / "policies")]) == 0
    assert verdict in capsys.readouterr().out


def test_plan_on_the_example_warns_closes_and_unstales(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "plan",
        "stale",
        "--snapshot",
        EXAMPLE,
        "--at",
        AT,
        "--policies",
        str(ROOT / "policies"),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("stale: 14 actions\n")
    for line in (
        "#404: set labels = [enhancement, stale, closed-stale]; state = closed (not_planned)",
        "#401: remove label triaged",
        "#405: remove label stale",
        "#411: comment stale:warning-411",
        "#450: add labels stale",
    ):
        assert line in out


def test_explain_live_reads_the_item_and_its_timeline(
    github: GitHubMock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    backlog = Backlog(github, NOW)
    item = backlog.add(7, created=400, updated=1)
    warn_trace(backlog, item, 20)
    backlog.comment(item, "renovate[bot]", 1, "bump")
    backlog.install()
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    monkeypatch.setenv("DATAFACE_OPS_NO_PACING", "1")
    # GraphQL, which the REST-checked mock cannot serve: the pinned read stands in.
    monkeypatch.setattr(stale_snapshot, "read_pinned_issues", lambda repo: frozenset())
    args = ["stale", "explain", "7", "--repo", REPO, "--at", AT]
    assert main([*args, "--policies", str(ROOT / "policies")]) == 0
    out = capsys.readouterr().out
    assert "verdict: close: warned on 2026-11-04" in out
    assert github.count("GET") == 2 and not github.writes()


def test_explain_live_minds_a_pinned_issue_like_the_sweep(
    github: GitHubMock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    backlog = Backlog(github, NOW)
    item = backlog.add(7, created=400, updated=100)
    backlog.install()
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    monkeypatch.setenv("DATAFACE_OPS_NO_PACING", "1")
    monkeypatch.setattr(stale_snapshot, "read_pinned_issues", lambda repo: frozenset({7}))
    args = ["stale", "explain", "7", "--repo", REPO, "--at", AT]
    assert main([*args, "--policies", str(ROOT / "policies")]) == 0
    out = capsys.readouterr().out
    assert "exempt: it is pinned" in out and "verdict: nothing to do" in out
    assert item.labels == []

"""dataface-ops audit: who owns what; people, areas, rotations and paths left uncovered."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from automation import cli
from automation.audit import Finding, run_audit
from automation.policy.loader import load_policy_dir
from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock

ROOT = Path(__file__).resolve().parent.parent
POLICIES = load_policy_dir(ROOT / "policies")
REPO = "dataface/dataface"
EVERYONE = ("maya-chen", "dev-patel", "sam-okafor", "lena-fischer", "raj-iyer", "tomas-silva")


def test_shipped_policies_have_no_loose_ends() -> None:
    report = run_audit(POLICIES, EVERYONE)
    assert report.findings == []
    assert report.notes == []


def test_who_owns_what_expands_teams() -> None:
    holdings = {h.login: h for h in run_audit(POLICIES, EVERYONE).holdings}
    maya = holdings["maya-chen"]
    assert maya.owns == ("mcp-server", "prompts", "cloud-chat", "operating-model")
    assert maya.secondary_for == ()
    assert maya.rotations == ("ai-primary", "ai-secondary")
    assert holdings["tomas-silva"].secondary_for == ("evals",)


def test_people_who_are_not_collaborators() -> None:
    report = run_audit(POLICIES, tuple(p.upper() for p in EVERYONE if p != "tomas-silva"))
    # Logins compare case-insensitively, and each person is reported once, where first named.
    assert report.findings == [
        Finding(
            "not-a-collaborator",
            "owners.yaml people[5]",
            "@tomas-silva is not a collaborator: GitHub will not let them be assigned or "
            "requested for review",
        )
    ]


def _with_gaps() -> object:
    owners = POLICIES.owners
    area = owners.areas[3].model_copy(update={"secondary": None})
    owners = owners.model_copy(update={"areas": (*owners.areas[:3], area, owners.areas[4])})
    rotation = POLICIES.oncall.rotations[1].model_copy(
        update={"members": ("lena-fischer", "lena-fischer")}
    )
    oncall = POLICIES.oncall.model_copy(
        update={"rotations": (POLICIES.oncall.rotations[0], rotation)}
    )
    group = POLICIES.ownership.protected[2].model_copy(
        update={"paths": ("policies/", "infra/terraform/")}
    )
    ownership = POLICIES.ownership.model_copy(
        update={"protected": (*POLICIES.ownership.protected[:2], group)}
    )
    return dataclasses.replace(POLICIES, owners=owners, oncall=oncall, ownership=ownership)


def test_areas_rotations_and_paths_left_uncovered() -> None:
    report = run_audit(_with_gaps(), None)  # type: ignore[arg-type]
    assert [(f.kind, f.where) for f in report.findings] == [
        ("no-secondary", "owners.yaml areas[3]"),
        ("single-person-rotation", "oncall.yaml rotations[1]"),
        ("unowned-protected-path", "ownership.yaml protected[2]"),
    ]
    assert "'infra/terraform/' (operating-model) is owned by no area" in report.findings[2].message
    assert report.notes == [
        "collaborators not checked: the token cannot list them (it needs push access)"
    ]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    monkeypatch.setenv("DATAFACE_OPS_NO_PACING", "1")
    monkeypatch.delenv("GITHUB_API_URL", raising=False)


def _collaborator(login: str) -> dict[str, object]:
    item = checker.example(("GET", "/repos/{owner}/{repo}/collaborators"))[0]
    item.update(login=login)
    return item


def test_cli_lists_collaborators_once_and_reports(
    github: GitHubMock, env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    github.get(
        f"https://api.github.com/repos/{REPO}/collaborators",
        json=[_collaborator(login) for login in EVERYONE[:-1]],
    )
    assert cli.main(["audit", "--strict"]) == 1
    out = capsys.readouterr().out
    assert github.count() == 1
    assert (
        "- [not-a-collaborator] policies/owners.yaml people[5]: @tomas-silva is not a collaborator"
        in out
    )
    assert "| @maya-chen (Maya Chen) | mcp-server, prompts, cloud-chat, operating-model |" in out


def test_cli_without_push_access_notes_it_and_passes(
    github: GitHubMock, env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    github.get(
        f"https://api.github.com/repos/{REPO}/collaborators",
        status=403,
        json={
            "message": "Must have push access to view repository collaborators.",
            "documentation_url": "https://docs.github.com/rest",
        },
    )
    assert cli.main(["audit", "--strict"]) == 0
    out = capsys.readouterr().out
    assert "Findings (0)" in out
    assert "collaborators not checked: the token cannot list them" in out


def test_cli_offline_sends_nothing(
    github: GitHubMock, env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["audit", "--offline"]) == 0
    assert github.count() == 0
    assert "collaborators not checked: --offline" in capsys.readouterr().out

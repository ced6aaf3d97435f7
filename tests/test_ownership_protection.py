"""`validate`, `codeowners check` and `audit` report what the owner-approval check leaves open."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation import cli

UNGUARDED = """    paths: ["policies/", "CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS"]
"""


@pytest.fixture
def repo(policy_copy: Path) -> Path:
    """A checkout whose ownership.yaml protects only the policies and CODEOWNERS again."""
    path = policy_copy / "ownership.yaml"
    text = path.read_text()
    start = text.index('    paths:\n      - "policies/"')
    end = text.index('      - "/pyproject.toml"\n') + len('      - "/pyproject.toml"\n')
    path.write_text(text[:start] + UNGUARDED + text[end:])
    owners = policy_copy / "owners.yaml"
    owners.write_text(
        owners.read_text().replace(
            '"/action.yml", "automation/", "/pyproject.toml"', '"automation/"'
        )
    )
    root = policy_copy.parent
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "events.yml").write_text(
        "name: events\njobs:\n  ownership:\n    steps:\n      - uses: ./\n"
    )
    (root / "automation" / "planners").mkdir(parents=True)
    (root / "automation" / "planners" / "ownership.py").write_text("")
    (root / "automation" / "__init__.py").write_text("")
    (root / "action.yml").write_text("name: x\n")
    (root / "pyproject.toml").write_text("[project]\n")
    return root


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def expected(root: Path) -> list[str]:
    owners = root / "policies" / "owners.yaml"
    line = _line_of(owners, '"policies/", "CODEOWNERS", ".github/"')
    return [
        f"{root}/policies/owners.yaml:{line}: areas[4].paths[2]: area 'operating-model' is "
        "sensitive, but no protected path of ownership.yaml covers '.github/': its changes "
        "need no owner approval",
        f"{root}/policies/owners.yaml:{line}: areas[4].paths[3]: area 'operating-model' is "
        "sensitive, but no protected path of ownership.yaml covers 'automation/': its "
        "changes need no owner approval",
        ".github/workflows/events.yml:5: a workflow: any workflow can post a check of the same "
        "name or skip this one; no protected path covers it",
        "action.yml:1: the action or the packaging the check is installed from; no protected "
        "path covers it",
        "automation/__init__.py:1: code or configuration the check runs with; no protected "
        "path covers it (and 1 more under automation/)",
        "pyproject.toml:1: the action or the packaging the check is installed from; no "
        "protected path covers it",
    ]


def test_validate_reports_each_unprotected_path_with_file_and_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["validate", "--policies", str(repo / "policies")]) == 1
    assert sorted(capsys.readouterr().err.splitlines()) == sorted(expected(repo))


def test_codeowners_check_reports_them_too(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from automation.commands.codeowners import generated_text
    from automation.policy.loader import load_policy_dir

    (repo / "CODEOWNERS").write_text(generated_text(load_policy_dir(repo / "policies")))
    files = tmp_path / "files.txt"
    listed = [
        ".github/workflows/events.yml",
        "action.yml",
        "automation/__init__.py",
        "automation/planners/ownership.py",
        "pyproject.toml",
        "CODEOWNERS",
        *(f"policies/{p.name}" for p in (repo / "policies").glob("*.yaml")),
    ]
    files.write_text("\n".join(listed) + "\n")
    args = ["--root", str(repo), "--policies", str(repo / "policies"), "--files", str(files)]
    assert cli.main(["codeowners", "check", *args]) == 1
    err = capsys.readouterr().err.splitlines()
    # After the 5 rules for areas this small checkout does not have, the gaps.
    assert err[-1] == "11 CODEOWNERS problem(s)"
    assert sorted(err[-7:-1]) == sorted(expected(repo))


def test_audit_reports_them_as_findings(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["audit", "--offline", "--strict", "--policies", str(repo / "policies")]) == 1
    out = capsys.readouterr().out
    for line in expected(repo):
        assert f"- [unprotected] {line}" in out


def test_the_shipped_repository_has_no_gap(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parent.parent
    assert cli.main(["validate", "--policies", str(root / "policies")]) == 0
    assert capsys.readouterr().err == ""

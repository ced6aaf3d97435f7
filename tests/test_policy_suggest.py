"""A typo in a policy file is answered with the closest known key or name."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.cli import main
from tests.policy_files import edit_policy


def _problems(policy_copy: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["validate", "--policies", str(policy_copy)]) == 2
    return [line for line in capsys.readouterr().err.splitlines() if ".yaml:" in line]


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        # A top-level key, a key inside a list item, a key inside a nested model.
        (
            "triage.yaml",
            "default_area:",
            "defualt_area:",
            "unknown key (did you mean 'default_area'?)",
        ),
        (
            "owners.yaml",
            "  - login: raj-iyer",
            "  - logn: raj-iyer",
            "unknown key (did you mean 'login'?)",
        ),
        (
            "stale.yaml",
            "max_writes_per_run:",
            "max_write_per_run:",
            "unknown key (did you mean 'max_writes_per_run'?)",
        ),
    ],
    ids=["top-level", "list-item", "stale"],
)
def test_an_unknown_key_names_the_closest_allowed_key(
    policy_copy: Path,
    capsys: pytest.CaptureFixture[str],
    file: str,
    old: str,
    new: str,
    expected: str,
) -> None:
    line = edit_policy(policy_copy / file, old, new)
    problems = _problems(policy_copy, capsys)
    assert any(f"{file}:{line} " in p and p.endswith(expected) for p in problems), problems


def test_a_key_like_nothing_known_gets_no_guess(
    policy_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_policy(policy_copy / "triage.yaml", "default_area:", "zzzzqqq: x\ndefault_area:")
    problems = _problems(policy_copy, capsys)
    assert any(p.endswith("zzzzqqq: unknown key") for p in problems), problems


def test_an_unknown_person_names_the_closest_login(
    policy_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members = "members: [maya-chen, dev-patel, sam-okafor, raj-iyer]"
    edit_policy(policy_copy / "oncall.yaml", members, members.replace("sam-okafor", "sam-okafur"))
    login, typo = "sam-okafor", "sam-okafur"
    problems = _problems(policy_copy, capsys)
    assert any(f"unknown person '{typo}' (did you mean '{login}'?)" in p for p in problems), (
        problems
    )

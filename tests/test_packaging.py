"""The release contract: one version everywhere, and an action install set that fits it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from automation.cli import main

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _pinned() -> dict[str, str]:
    text = (ROOT / "action" / "requirements.txt").read_text(encoding="utf-8")
    return {
        str(canonicalize_name(name)): version
        for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.MULTILINE)
    }


def test_version_flag_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"dataface-ops {PYPROJECT['project']['version']}"


def test_changelog_heads_with_the_package_version() -> None:
    headings = re.findall(
        r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.MULTILINE
    )
    assert headings[0] == PYPROJECT["project"]["version"]


def test_action_install_set_satisfies_every_runtime_dependency() -> None:
    pinned = _pinned()
    for spec in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(spec)
        name = str(canonicalize_name(requirement.name))
        assert name in pinned, f"{name} is not pinned in action/requirements.txt"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"action/requirements.txt pins {name}=={pinned[name]}, outside {requirement.specifier}"
        )


def test_action_install_set_is_hash_pinned_with_the_build_backend() -> None:
    lines = (ROOT / "action" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pins = [i for i, line in enumerate(lines) if re.match(r"[A-Za-z0-9_.-]+==", line)]
    assert len(pins) == len(_pinned()) > 0
    unhashed = [lines[i] for i in pins if not lines[i + 1].strip().startswith("--hash=sha256:")]
    assert unhashed == []
    assert "setuptools" in _pinned()  # the action installs without build isolation

"""Shared fixtures: the contract-checked GitHub mock and writable copies of the policies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.app_fixtures import backend, private_key, redis_url  # noqa: F401
from tests.github_api.fixtures import github  # noqa: F401
from tests.policy_files import POLICIES, ROOT


@pytest.fixture(autouse=True)
def _cold_ownership_caches() -> None:
    """Each test starts like a fresh process: no CODEOWNERS or policies cached per commit."""
    from automation.features.ownership.collect import clear_caches

    clear_caches()


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped policies."""
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    return target


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A repository root holding copies of policies/ and docs/."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "policies", root / "policies")
    shutil.copytree(ROOT / "docs", root / "docs")
    return root

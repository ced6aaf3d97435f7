"""The environment GitHub Actions gives the acting step, for flow tests that run
`dataface-ops run` in-process on a real event payload."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# `extra` for actions_env: no step summary, no dry run, no write budget from the outer shell.
NO_SUMMARY_NO_LIMITS: dict[str, str | None] = dict.fromkeys(
    ("GITHUB_STEP_SUMMARY", "DATAFACE_OPS_DRY_RUN", "DATAFACE_OPS_MAX_WRITES")
)


def actions_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    event_name: str,
    payload: dict[str, Any],
    repo: str,
    **extra: str | None,
) -> None:
    """Write the event payload and set what the runner sets: the event, the repository, a
    token and the API URL (no pacing: a flow does not test sleeps). `extra` sets more
    variables; a None value unsets one."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload), encoding="utf-8")
    values: dict[str, str | None] = {
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": repo,
        "GITHUB_TOKEN": "ghs_test",
        "GITHUB_API_URL": "https://api.github.com",
        "DATAFACE_OPS_NO_PACING": "1",
        **extra,
    }
    for name, value in values.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def workflow_step_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    event_name: str,
    payload: dict[str, Any],
    repo: str,
) -> None:
    """`actions_env` as our workflow's step sees it: in Actions, with a run id, the step
    summary and outputs files in tmp_path, and the shipped policies."""
    actions_env(
        monkeypatch,
        tmp_path,
        event_name,
        payload,
        repo,
        GITHUB_ACTIONS="true",
        GITHUB_RUN_ID="42",
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
        GITHUB_OUTPUT=str(tmp_path / "output.txt"),
        DATAFACE_OPS_POLICIES=str(ROOT / "policies"),
    )


def issue_event_time(payload: dict[str, Any]) -> dt.datetime:
    """When the run handles an issues event: 40 seconds after the issue was opened."""
    created = dt.datetime.fromisoformat(payload["issue"]["created_at"].replace("Z", "+00:00"))
    return created + dt.timedelta(seconds=40)

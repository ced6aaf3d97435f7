"""The command line: fast help, one clear line for bad input, exit statuses."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from automation.cli import main
from automation.snapshot.models import Snapshot
from tests.github_api.fixtures import GitHubMock
from tests.github_api.webhooks import webhook_payload

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("github", "jinja2", "pydantic", "automation.policy", "yaml")


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "from automation.cli import build_parser\n"
        "try:\n    build_parser().parse_args(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print([m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m in {HEAVY!r}])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith(("INFO", "DEBUG"))]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_plan_with_a_malformed_snapshot_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "snap.json"
    bad.write_text(json.dumps({"repo": "a/b", "taken_at": "yesterday"}))
    assert main(["plan", "--snapshot", str(bad), "--policies", str(ROOT / "policies")]) == 2
    assert "not a valid snapshot" in _one_error_line(capsys)


def test_plan_with_a_missing_snapshot_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "nope.json")
    assert main(["plan", "--snapshot", missing, "--policies", str(ROOT / "policies")]) == 2
    assert "cannot read snapshot" in _one_error_line(capsys)


def test_plan_with_a_snapshot_that_is_not_utf8_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "snap.json"
    bad.write_bytes(b"\xff\xfe{}")
    assert main(["plan", "--snapshot", str(bad), "--policies", str(ROOT / "policies")]) == 2
    assert "not UTF-8" in _one_error_line(capsys)


def test_a_file_that_is_not_utf8_anywhere_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "OPERATING_MODEL.md"
    bad.write_bytes(b"\xff\xfe")
    args = ["docs", "check", "--output", str(bad), "--policies", str(ROOT / "policies")]
    assert main(args) == 2
    assert "not UTF-8" in _one_error_line(capsys)


def test_plan_with_a_snapshot_without_offsets_reads_them_as_utc(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A hand-written snapshot: times without an offset used to raise TypeError mid-plan.
    snap = {
        "repo": "a/b",
        "taken_at": "2026-11-24T12:00:00",
        "issues": [
            {
                "number": 1,
                "title": "x",
                "author": "someone",
                "created_at": "2026-01-01T00:00:00",
                "updated_at": "2026-01-01T00:00:00",
                "comments": [],
            }
        ],
    }
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(snap))
    args = ["plan", "--snapshot", str(path), "--at", "2026-11-24T12:00:00Z"]
    assert main([*args, "--policies", str(ROOT / "policies")]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    # Read as UTC: aware times equal to the UTC instants (a naive time never equals one).
    parsed = Snapshot.model_validate(snap)
    assert parsed.taken_at == dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)
    assert parsed.issues[0].created_at == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    # and planned with: the issue untouched since New Year is warned by the stale sweep.
    assert "#1: add labels stale" in captured.out
    assert "not updated since 2026-01-01" in captured.out


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "9999-12-25T00:00:00Z"])
def test_a_time_out_of_range_is_a_usage_error(
    when: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Near year 1 or 9999, zone conversion and `+ weeks` overflowed with a traceback.
    with pytest.raises(SystemExit) as exit_info:
        main(["oncall", "schedule", "--at", when, "--policies", str(ROOT / "policies")])
    assert exit_info.value.code == 2
    assert "expected a year" in capsys.readouterr().err


def test_unknown_feature_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = str(ROOT / "examples" / "snapshot.json")
    assert main(["plan", "no-such-feature", "--snapshot", snapshot]) == 2
    assert "unknown feature 'no-such-feature'" in _one_error_line(capsys)


def test_run_with_a_malformed_event_payload_writes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    github: object,
) -> None:
    event = tmp_path / "event.json"
    event.write_text("{ this is not json")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "issues")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_REPOSITORY", "dataface/dataface")
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    assert main(["run", "--policies", str(ROOT / "policies")]) == 2
    assert "not valid JSON" in _one_error_line(capsys)
    assert len(github.calls) == 0  # type: ignore[attr-defined]


def test_run_outside_actions_explains_itself(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_EVENT_NAME", raising=False)
    assert main(["run"]) == 2
    assert "GITHUB_EVENT_NAME is not set" in _one_error_line(capsys)


def test_apply_without_credentials_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "DATAFACE_OPS_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    assert main(["apply", "--repo", "dataface/dataface", "--policies", str(ROOT / "policies")]) == 2
    assert "no GitHub credentials" in _one_error_line(capsys)


def test_run_for_an_event_nobody_subscribes_to_does_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    github: GitHubMock,
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(webhook_payload("ping")))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "ping")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    assert main(["run"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert len(github.calls) == 0


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--max-writes", "-1"], {}), ([], {"DATAFACE_OPS_MAX_WRITES": "-3"})],
)
def test_a_negative_write_budget_is_a_usage_error(
    args: list[str],
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    assert main(["apply", "--repo", "o/r", "--policies", str(ROOT / "policies"), *args]) == 2
    assert "write budget must be 0 or more" in _one_error_line(capsys)


def test_a_github_app_key_that_is_not_a_key_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # PyJWT raised InvalidKeyError from inside the first request: a traceback.
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATAFACE_OPS_APP_ID", "1")
    monkeypatch.setenv("DATAFACE_OPS_APP_PRIVATE_KEY", "not a key")
    monkeypatch.setenv("DATAFACE_OPS_INSTALLATION_ID", "2")
    assert main(["plan", "--repo", "o/r", "--policies", str(ROOT / "policies")]) == 2
    assert "not a PEM private key" in _one_error_line(capsys)


def test_a_github_app_key_that_is_a_key_builds_installation_auth() -> None:
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from github import Auth

    from automation.github import make_auth
    from automation.settings import Settings

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    settings = Settings(repo="o/r", app_id="1", app_private_key=pem, installation_id=2)
    auth = make_auth(settings)
    assert isinstance(auth, Auth.AppInstallationAuth)
    # The installation and App it acts for are the configured ones, and its App JWT is
    # signed with this key: the public half verifies it, for the configured App.
    assert auth.installation_id == 2
    assert auth.app_id == "1"
    claims = jwt.decode(
        auth._app_auth.create_jwt(),
        key.public_key(),
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == "1"


def _mutated(fixture: str, change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    payload = webhook_payload(fixture)
    change(payload)
    return payload


# Issue 12, case 7: each payload used to pass the shape checks and either write to the wrong
# subject (`true` is an int to isinstance: triage wrote to #1), skip the repository check, run
# every scheduled feature for real, or end with exit 0 and "nothing to do".
MALFORMED_EVENTS: list[tuple[str, object, str]] = [
    (
        "issues",
        _mutated("issues.opened", lambda p: p["issue"].update(number=True)),
        "issue.number",
    ),
    (
        "issues",
        _mutated("issues.opened", lambda p: p.update(repository="dataface/dataface")),
        "repository",
    ),
    (
        "workflow_dispatch",
        _mutated("workflow_dispatch", lambda p: p.update(inputs=["triage", "stale"])),
        "inputs",
    ),
    (
        "workflow_dispatch",
        _mutated("workflow_dispatch", lambda p: p.update(inputs={"features": 5})),
        "inputs.features",
    ),
    (
        "workflow_dispatch",
        _mutated("workflow_dispatch", lambda p: p.update(inputs={"dry_run": "maybe"})),
        "inputs.dry_run",
    ),
    ("issues", _mutated("issues.opened", lambda p: p["issue"].update(number=0)), "issue.number"),
    ("issues", _mutated("issues.opened", lambda p: p.update(issue=None)), "issue"),
    ("issues", {}, "issue"),
    ("issues", b"", "empty"),
]


@pytest.mark.parametrize(
    ("name", "payload", "where"),
    MALFORMED_EVENTS,
    ids=[
        "number-true",
        "repository-string",
        "inputs-list",
        "features-int",
        "dry-run-maybe",
        "number-zero",
        "issue-null",
        "empty-object",
        "empty-file",
    ],
)
def test_run_refuses_a_malformed_event_with_one_line_and_writes_nothing(
    name: str,
    payload: object,
    where: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    github: GitHubMock,
) -> None:
    event = tmp_path / "event.json"
    event.write_bytes(payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    monkeypatch.setenv("GITHUB_EVENT_NAME", name)
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    # The run is for the payload's own repository: only the malformed part can stop it.
    repo = webhook_payload("issues.opened" if name == "issues" else name)["repository"]
    monkeypatch.setenv("GITHUB_REPOSITORY", repo["full_name"])
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    monkeypatch.delenv("DATAFACE_OPS_FEATURES", raising=False)
    assert main(["run", "--policies", str(ROOT / "policies")]) == 2
    line = _one_error_line(capsys)
    assert line.startswith(f"error: the {name} event"), line
    assert where in line, line
    assert len(github.calls) == 0

"""policies/retro.yaml: validated like the others (one located line per problem), opt-in by
file, and the `retro` command's bad input is one line with nothing read or written."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation import cli
from tests.github_api.fixtures import GitHubMock


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "schedule: yearly\n",
            "retro.yaml:1 schedule: Input should be 'weekly', 'monthly' or 'quarterly'",
        ),
        (
            "thresholds:\n  stale_false_close_rate: 1.5\n",
            "retro.yaml:2 thresholds.stale_false_close_rate:",
        ),
        ("thresholds:\n  oncall_load_ratio: 1\n", "retro.yaml:2 thresholds.oncall_load_ratio:"),
        ("branch: ../main\n", "retro.yaml:1: Value error, not a branch name"),
        (
            "thresholds:\n  stale_close_rate: 0.2\n",
            "retro.yaml:2 thresholds.stale_close_rate: unknown key",
        ),
    ],
)
def test_bad_retro_policy_is_one_located_line(
    policy_copy: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    (policy_copy / "retro.yaml").write_text(text, encoding="utf-8")
    assert cli.main(["validate", "--policies", str(policy_copy)]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and expected in err[0], err


def test_retro_is_off_with_enabled_false(
    policy_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["validate", "--policies", str(policy_copy)]) == cli.EXIT_OK
    assert "retro" in capsys.readouterr().out.split("on:", 1)[1]
    path = policy_copy / "retro.yaml"
    path.write_text(path.read_text().replace("enabled: true", "enabled: false"))
    assert cli.main(["validate", "--policies", str(policy_copy)]) == cli.EXIT_OK
    assert "retro" not in capsys.readouterr().out.split("on:", 1)[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--since", "2026-02-01", "--until", "2026-01-01"],
            "error: --since must be before --until",
        ),
        (["--since", "2026-01-01", "--until", "2030-01-01"], "error: --until is in the future"),
        (["--since", "yesterday"], "expected an ISO 8601 time"),
    ],
)
def test_retro_bad_input_is_one_line_and_reads_nothing(
    github: GitHubMock,
    policy_copy: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    try:
        code = cli.main(
            [
                "retro",
                *args,
                "--at",
                "2027-01-02T00:00:00Z",
                "--repo",
                "o/r",
                "--policies",
                str(policy_copy),
            ]
        )
    except SystemExit as exc:  # argparse refuses a bad time itself
        code = int(exc.code or 0)
    assert code == cli.EXIT_BAD_INPUT
    assert message in capsys.readouterr().err
    assert github.calls == [] or len(github.calls) == 0


def test_retro_without_its_file_says_so(
    policy_copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (policy_copy / "retro.yaml").unlink()
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    code = cli.main(
        ["retro", "--since", "2026-01-01", "--repo", "o/r", "--policies", str(policy_copy)]
    )
    assert code == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: {policy_copy}/retro.yaml is absent and this command reads it "
        "(`dataface-ops init --features retro` writes one)"
    ]

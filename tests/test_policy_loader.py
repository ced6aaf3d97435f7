"""The policy loader: the shipped policies load; broken copies give file:line problems."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from automation.cli import main
from automation.policy.loader import PolicyError, format_loc, load_policy_dir
from tests.policy_files import edit_policy

POLICIES = Path(__file__).resolve().parent.parent / "policies"


def test_shipped_policies_are_valid() -> None:
    policies = load_policy_dir(POLICIES)
    # The loaded area is the one owners.yaml declares, field for field (read here as plain YAML).
    declared = next(
        a
        for a in yaml.safe_load((POLICIES / "owners.yaml").read_text())["areas"]
        if a["name"] == "mcp-server"
    )
    area = policies.owners.area("mcp-server")
    assert area is not None
    assert (area.paths, area.owners, area.secondary, area.sensitive, area.runbook) == (
        tuple(declared["paths"]),
        tuple(declared["owners"]),
        declared["secondary"],
        declared["sensitive"],
        declared["runbook"],
    )
    assert policies.owners.area("no-such-area") is None
    assert {"dataface/ai/", "prompts/"} <= {p for a in policies.owners.areas for p in a.paths}


def test_validate_command_passes_on_shipped_policies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--policies", str(POLICIES)]) == 0
    assert "valid" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "members: [maya-chen, dev-patel, sam-okafor]",
            "members: [maya-chen, bob, sam-okafor]",
            "teams[0].members[1]: unknown person 'bob'",
        ),
        ("owners: [prompt-eng]", "owners: [prompt-team]", "unknown person or team 'prompt-team'"),
        ('paths: ["prompts/"]', 'paths: ["prompts/[ab]"]', "does not support [ ] ranges"),
        ("    sensitive: true\n", "    sensitive: perhaps\n", "sensitive: Input should be"),
        ("    secondary: dev-patel\n", "    secondary: dev-patel\n    colour: blue\n", "colour"),
        ("  - name: prompt-eng\n", "  - name: prompt-eng\n    name: again\n", "duplicate key"),
    ],
    ids=["unknown-member", "unknown-owner", "bad-glob", "wrong-type", "unknown-key", "dup-key"],
)
def test_broken_owners_file_names_file_line_and_field(
    policy_copy: Path, old: str, new: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line = edit_policy(policy_copy / "owners.yaml", old, new)
    assert main(["validate", "--policies", str(policy_copy)]) == 2
    err = capsys.readouterr().err
    matching = [row for row in err.splitlines() if expected in row]
    assert matching, err
    # The problem points at the edited line, or the next one for a key added below it.
    assert any(
        f"owners.yaml:{line} " in row or f"owners.yaml:{line + 1} " in row for row in matching
    )
    assert "nothing was written" in err
    assert "Traceback" not in err


def test_yaml_syntax_error_is_located(
    policy_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = edit_policy(policy_copy / "owners.yaml", "  - name: evals\n", "  - name: [evals\n")
    assert main(["validate", "--policies", str(policy_copy)]) == 2
    err = capsys.readouterr().err
    assert "owners.yaml:" in err and "YAML syntax error" in err
    located = int(err.split("owners.yaml:")[1].split()[0].rstrip(":"))
    assert line <= located <= line + 2


def test_every_problem_is_reported_not_just_the_first(policy_copy: Path) -> None:
    owners = policy_copy / "owners.yaml"
    edit_policy(owners, "members: [raj-iyer, tomas-silva]", "members: [raj-iyer, ghost-1]")
    edit_policy(owners, "owners: [ops-council]", "owners: [nobody-team]")
    edit_policy(owners, 'paths: ["apps/chat/"]', 'paths: ["!apps/chat/"]')
    with pytest.raises(PolicyError) as caught:
        load_policy_dir(policy_copy)
    messages = [str(p) for p in caught.value.problems]
    assert len(messages) == 3, messages
    assert all(m.startswith(f"{policy_copy}/owners.yaml:") for m in messages)


def test_absent_file_is_no_problem_but_bad_top_level_is(policy_copy: Path) -> None:
    (policy_copy / "stale.yaml").unlink()
    (policy_copy / "release.yaml").write_text("- just\n- a list\n")
    with pytest.raises(PolicyError) as caught:
        load_policy_dir(policy_copy)
    assert [str(p) for p in caught.value.problems] == [
        f"{policy_copy}/release.yaml:1: expected a mapping at the top level"
    ]


def test_features_are_opt_in_by_file(policy_copy: Path) -> None:
    """stale.yaml (and owners.yaml it names people from): stale is on, the others say why not."""
    from automation import engine

    for path in policy_copy.glob("*.yaml"):
        if path.name not in ("stale.yaml", "owners.yaml"):
            path.unlink()
    policies = load_policy_dir(policy_copy)
    on, off = engine.switched_on(policies, ())
    assert on == ("stale",)
    assert f"triage: off ({policy_copy}/triage.yaml absent)" in off
    assert len(off) == len(engine.resolve_features(())) - 1


def test_enabled_false_turns_a_feature_off(policy_copy: Path) -> None:
    from automation import engine

    edit_policy(policy_copy / "stale.yaml", "rules:", "enabled: false\nrules:")
    on, off = engine.switched_on(load_policy_dir(policy_copy), ())
    assert "stale" not in on and "release" in on
    assert off == [f"stale: off (enabled: false in {policy_copy}/stale.yaml)"]


def test_reference_into_an_absent_file_names_it(policy_copy: Path) -> None:
    """Cross-file checks still hold among the files present: a dangling one says what is missing."""
    (policy_copy / "oncall.yaml").unlink()
    with pytest.raises(PolicyError) as caught:
        load_policy_dir(policy_copy)
    text = "\n".join(str(p) for p in caught.value.problems)
    assert (
        f"{policy_copy}/triage.yaml" in text
        and f"unknown rotation 'ai-primary' ({policy_copy}/oncall.yaml is missing: add it)" in text
    ), text


def test_empty_release_file_is_not_a_train(policy_copy: Path) -> None:
    (policy_copy / "release.yaml").write_text("# nothing yet\n{}\n")
    with pytest.raises(PolicyError) as caught:
        load_policy_dir(policy_copy)
    missing = {p.loc for p in caught.value.problems if p.message == "required key is missing"}
    assert missing == {"timezone", "weekdays", "time", "source_branch", "release_base"}


def test_no_policy_file_at_all_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_dir(tmp_path)
    assert "run `dataface-ops init`" in str(caught.value)


def test_validate_sends_no_request(policy_copy: Path, github: object) -> None:
    """`validate` never talks to GitHub, valid or not (the github mock records every call)."""
    edit_policy(policy_copy / "owners.yaml", "owners: [evals]", "owners: [nobody]")
    assert main(["validate", "--policies", str(policy_copy)]) == 2
    assert main(["validate", "--policies", str(POLICIES)]) == 0
    assert len(github.calls) == 0  # type: ignore[attr-defined]


def test_missing_policy_directory_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--policies", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


@pytest.mark.parametrize(
    ("loc", "text"),
    [((), ""), (("a",), "a"), (("rotations", 0, "members", 2), "rotations[0].members[2]")],
)
def test_format_loc(loc: tuple[str | int, ...], text: str) -> None:
    assert format_loc(loc) == text


def test_schemas_are_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policies", "schema", "--check", "--output", str(POLICIES / "schema")]) == 0


def test_schema_check_fails_when_out_of_date(tmp_path: Path) -> None:
    shutil.copytree(POLICIES / "schema", tmp_path / "schema")
    (tmp_path / "schema" / "owners.schema.json").write_text("{}\n")
    assert main(["policies", "schema", "--check", "--output", str(tmp_path / "schema")]) == 1


def test_a_time_zone_name_too_long_for_a_file_name_is_a_located_problem(
    policy_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ZoneInfo opens a file named after the zone: a 300-character name is ENAMETOOLONG (an
    # OSError), which must read as an unknown zone, not as a file the CLI could not read.
    long_zone = "x" * 300
    edit_policy(policy_copy / "owners.yaml", "America/New_York", long_zone)
    assert main(["validate", "--policies", str(policy_copy)]) == 2
    err = capsys.readouterr().err
    assert "owners.yaml:" in err and "unknown IANA time zone" in err, err
    assert "Traceback" not in err

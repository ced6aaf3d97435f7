"""Property: whatever happens to a policy file, `validate` never raises a traceback."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automation.cli import main
from automation.policy.loader import POLICY_FILES, PolicyError, load_policies

POLICIES = Path(__file__).resolve().parent.parent / "policies"
TEXTS = {name: (POLICIES / f"{name}.yaml").read_text() for name in POLICY_FILES}
DATA = {name: yaml.safe_load(text) for name, text in TEXTS.items()}
PROBLEM_LINE = re.compile(r"^policies/[a-z]+\.yaml(:\d+)? .*|^policies/[a-z]+\.yaml(:\d+)?: .+")

WRONG_VALUES: list[Any] = [
    None,
    42,
    -1,
    "",
    "nobody-at-all",
    "[bad-glob",
    "!negated/",
    ["x"],
    {"unexpected": 1},
    True,
    "99:99",
    "Not/AZone",
    "{{ undefined_variable }}",
    "{% if %}",
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _mutate(data: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    if not path:
        return value if how == "replace" else data
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        copy = dict(data)
        if not rest and how == "delete":
            copy.pop(head, None)
        elif not rest and how == "unknown-key":
            copy["surprise_key"] = value
        else:
            copy[head] = _mutate(data[head], rest, how, value)
        return copy
    if isinstance(data, list):
        copy_list = list(data)
        if not rest and how == "delete":
            del copy_list[head]
        else:
            copy_list[head] = _mutate(data[head], rest, how, value)
        return copy_list
    return data


@st.composite
def broken_policies(draw: st.DrawFn) -> dict[str, str]:
    texts = dict(TEXTS)
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(POLICY_FILES)))
        kind = draw(st.sampled_from(["data", "data", "data", "text"]))
        if kind == "text":
            text = texts[name]
            cut = draw(st.integers(0, len(text)))
            junk = draw(st.sampled_from([": [", "\t", "- - :", "{", "'", "\x00", "&a *b"]))
            texts[name] = text[:cut] + junk + text[cut:]
            continue
        try:
            data = yaml.safe_load(texts[name]) if texts[name] != TEXTS[name] else DATA[name]
        except yaml.YAMLError:
            continue  # already broken by an earlier text mutation
        if data is None:
            continue
        path = draw(st.sampled_from(_paths(data)))
        how = draw(st.sampled_from(["replace", "delete", "unknown-key"]))
        value = draw(st.sampled_from(WRONG_VALUES))
        try:
            texts[name] = yaml.safe_dump(_mutate(data, path, how, value), sort_keys=False)
        except yaml.YAMLError:
            continue
    return texts


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(texts=broken_policies())
def test_loader_either_loads_or_reports_located_problems(texts: dict[str, str]) -> None:
    try:
        load_policies(lambda filename: texts.get(filename.removesuffix(".yaml")))
    except PolicyError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert PROBLEM_LINE.match(str(problem)), str(problem)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(texts=broken_policies())
def test_validate_command_exits_0_or_2_without_traceback(
    texts: dict[str, str], tmp_path_factory: pytest.TempPathFactory, capsys: Any
) -> None:
    # A checkout holding only policies/ (protected): no unprotected path to report.
    directory = tmp_path_factory.mktemp("repo") / "policies"
    directory.mkdir()
    for name, text in texts.items():
        (directory / f"{name}.yaml").write_text(text)
    code = main(["validate", "--policies", str(directory)])
    _, err = capsys.readouterr()
    # 1: valid, but a sensitive area is left unprotected (a mutation can drop protection).
    assert code in (0, 1, 2)
    assert "Traceback" not in err
    if code == 1:
        assert all("is sensitive, but no protected path" in line for line in err.splitlines())
    if code == 2:
        assert all(
            line.startswith(str(directory)) or "problem(s)" in line for line in err.splitlines()
        )


def test_found_by_fuzzing_mixed_naive_and_aware_override_times_are_a_located_problem() -> None:
    """A number where a time belongs parses as an aware epoch time; the end is naive."""
    texts = dict(TEXTS)
    texts["oncall"] = TEXTS["oncall"].replace('start: "2026-12-10T00:00"', "start: 42", 1)
    assert texts["oncall"] != TEXTS["oncall"]
    with pytest.raises(PolicyError) as caught:
        load_policies(lambda filename: texts.get(filename.removesuffix(".yaml")))
    assert any("both as local times" in str(p) for p in caught.value.problems)

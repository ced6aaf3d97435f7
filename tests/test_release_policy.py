"""policies/release.yaml: broken copies fail at load with file:line and a clear message."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from automation.policy.loader import PolicyError, load_policy_dir
from automation.policy.release import name_values, parse_name, pattern_regex
from tests.release_helpers import ROOT, policies


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", target)
    return target


def _line_of(path: Path, text: str) -> int:
    content = path.read_text()
    return content[: content.index(text)].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        (
            "signoff_areas: [mcp-server, prompts, evals]",
            "signoff_areas: [mcp-server, prompt, evals]",
            "signoff_areas[1]",
            "unknown area 'prompt'",
        ),
        (
            "captain_rotation: release-captain",
            "captain_rotation: release-captains",
            "captain_rotation",
            "unknown rotation 'release-captains' (add it to policies/oncall.yaml)",
        ),
        ("every_weeks: 1", "every_weeks: 2", "anchor", "every_weeks above 1 needs an anchor date"),
        (
            "release_base: stable",
            "release_base: main",
            "release_base",
            "the release base must differ from the source",
        ),
        (
            "branch_pattern: release-train/{date}",
            "branch_pattern: release train/{date}",
            "branch_pattern",
            "'release train/2026-11-24' is not a valid git branch or tag name",
        ),
        (
            "tag_pattern: train-{date}",
            "tag_pattern: train-{sprint}",
            "tag_pattern",
            "unknown placeholder {sprint}",
        ),
        ("tag_pattern: train-{date}", "tag_pattern: train", "tag_pattern", "must contain {date}"),
        (
            "    end: 2027-01-04",
            "    end: 2026-12-01",
            "freezes[0]",
            "ends (2026-12-01) before it starts",
        ),
        (
            '    paths: ["prompts/"]',
            '    paths: ["!prompts/"]',
            "categories[1].paths[0]",
            "'!' negation",
        ),
        (
            "  - name: other\n    title: Other changes",
            "  - name: other\n    title: Other changes\n  - name: misc\n    title: Misc",
            "categories[5]",
            "only one category may have no labels/paths",
        ),
        (
            'title_pattern: "Release train {date}"',
            'title_pattern: "Release train {date.year}"',
            "title_pattern",
            "pattern does not render",
        ),
        (
            'release_name_pattern: "Release train {date}"',
            'release_name_pattern: "Release train {date[day]}"',
            "release_name_pattern",
            "pattern does not render",
        ),
        (
            "timezone: Europe/London",
            "timezone: Europe/Londinium",
            "timezone",
            "unknown IANA time zone",
        ),
    ],
)
def test_broken_release_policy(copy: Path, old: str, new: str, where: str, message: str) -> None:
    path = copy / "release.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(PolicyError) as info:
        load_policy_dir(copy)
    problems = [p for p in info.value.problems if p.file.endswith("release.yaml")]
    assert len(problems) == 1, problems
    assert problems[0].loc == where
    assert message in problems[0].message
    assert problems[0].line >= 1


def test_release_captain_rotation_is_in_oncall() -> None:
    loaded = policies()
    rotation = loaded.oncall.rotation("release-captain")
    assert rotation is not None
    assert (
        loaded.oncall.on_call("release-captain", dt.datetime(2026, 11, 24, 15, tzinfo=dt.UTC))
        == "tomas-silva"
    )


@pytest.mark.parametrize(
    ("pattern", "name", "day"),
    [
        ("release-train/{date}", "release-train/2026-11-24", dt.date(2026, 11, 24)),
        ("release-train/{date}", "release-train/2026-11-24-fix", None),
        ("train/{year}.{month}.{day}", "train/2026.11.24", dt.date(2026, 11, 24)),
        ("train/{year}-w{week}/{date}", "train/2026-w48/2026-11-24", dt.date(2026, 11, 24)),
        ("release-train/{date}", "release-train/2026-13-01", None),
        ("release-train/{date}", "hotfix/login", None),
    ],
)
def test_names_parse_back_to_their_date(pattern: str, name: str, day: dt.date | None) -> None:
    assert parse_name(pattern, name) == day
    if day is not None:
        # The name is what the pattern makes for that day, and the regex takes all of it.
        assert pattern.format(**name_values(day)) == name
        assert pattern_regex(pattern).fullmatch(name)
    # A longer name or another prefix is not a name the pattern makes.
    assert pattern_regex(pattern).fullmatch(name + "-x") is None
    assert pattern_regex(pattern).fullmatch("x" + name) is None


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        ("train/{year}-w{week}/{date}", "train/2026-w01/2026-11-24"),
        ("train/{year}/{date}", "train/1999/2026-11-24"),
    ],
)
def test_a_name_whose_placeholders_disagree_was_made_from_no_date(pattern: str, name: str) -> None:
    # No day fills the pattern with these values (2026-11-24 is in ISO week 48, year 2026).
    assert pattern.format(**name_values(dt.date(2026, 11, 24))) != name
    assert parse_name(pattern, name) is None


@pytest.mark.parametrize(
    ("path", "root"),
    [
        ("prompts/sql/system.md", "prompts"),
        ("apps/prompts/x.md", "apps/prompts"),  # "prompts/" is unanchored, as in CODEOWNERS
        ("evals/suite.py", "evals"),
        ("dataface/evals/runner.py", "dataface/evals"),
        ("dataface/ai/agent.py", "dataface/ai"),
        ("lib/dataface/ai/agent.py", None),  # "dataface/ai/" is anchored
    ],
)
def test_directory_roots(path: str, root: str | None) -> None:
    policy = policies().release
    found = None
    for category in policy.categories:
        if category.paths and category.matches_paths([path]):
            found = policy.directory_roots(category, path)
            break
    assert found == root

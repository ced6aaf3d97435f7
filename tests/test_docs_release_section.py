"""The release-train section of the operating model: people read the model, not YAML."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pydantic
import pytest

from automation.docs import render_operating_model, trains
from automation.policy.loader import Policies, load_policy_dir
from automation.policy.release import ReleasePolicy
from automation.rules.release import departure_of, is_train_day, signoffs

ROOT = Path(__file__).resolve().parent.parent
# The schedule-from date of the committed document is the Monday 2026-11-23.
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
ANCHOR = dt.date(2026, 11, 23)


def _section(text: str) -> str:
    start = text.index("\n## Release train\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _render(policies: Policies, **changes: object) -> str:
    release = policies.release.model_copy(update=changes)
    return _section(render_operating_model(dataclasses.replace(policies, release=release), NOW))


@pytest.fixture(scope="module")
def policies() -> Policies:
    return load_policy_dir(ROOT / "policies")


@pytest.fixture(scope="module")
def section(policies: Policies) -> str:
    return _section(render_operating_model(policies, NOW))


def test_no_raw_yaml_is_left(section: str) -> None:
    assert "Also set in `policies/release.yaml`" not in section
    assert "```" not in section
    assert "[cutting or skipping a release train](runbooks/release-train.md)" in section


def test_cadence_branches_and_names(policies: Policies, section: str) -> None:
    release = policies.release
    hhmm = release.time.strftime("%H:%M")
    weekdays = " and ".join(d.capitalize() for d in release.weekdays)
    assert f"every week on {weekdays} at {hhmm} {release.timezone}." in section
    assert f"into `{release.release_base}`" in section
    assert f"from the head of `{release.source_branch}`" in section
    labels = ", ".join(f"`{label}`" for label in release.labels)
    assert f"labelled {labels}." in section
    # The example names are those of the first train leaving from the schedule-from date.
    first = next(t.departure for t in trains(policies, ANCHOR) if t.departure is not None)
    assert f"| what | pattern | for a train leaving {first.day.isoformat()} |" in section
    assert (
        f"| train branch | `{release.branch_pattern}` | `{release.branch_name(first.day)}` |"
    ) in section
    assert f"| tag | `{release.tag_pattern}` | `{release.tag_name(first.day)}` |" in section
    assert (
        f"| release PR title | `{release.title_pattern}` | {release.title(first.day)} |" in section
    )
    assert (
        f"| release name | `{release.release_name_pattern}` | {release.release_name(first.day)} |"
    ) in section
    assert f"within {release.max_body_chars:,} characters" in section


def test_freezes_and_blackouts_are_a_table(policies: Policies, section: str) -> None:
    release = policies.release
    assert release.freezes and release.blackout_dates
    assert "| no trains | from | to | why |" in section
    for freeze in release.freezes:
        assert f"| freeze `{freeze.name}` | {freeze.start} | {freeze.end} | {freeze.reason} |" in (
            section
        )
    for blackout in release.blackout_dates:
        assert f"| blackout date | {blackout.date} | {blackout.date} | {blackout.reason} |" in (
            section
        )
    assert release.catch_up
    assert "A train held by a freeze or a blackout date catches up" in section


def test_upcoming_trains_come_from_the_planner_calendar(policies: Policies, section: str) -> None:
    release = policies.release
    rows = trains(policies, ANCHOR)
    assert len(rows) == 8
    assert all(is_train_day(release, r.slot) for r in rows)
    assert rows[0].slot >= ANCHOR
    for row in rows:
        assert row.departure == departure_of(release, row.slot)
        assert row.departure is not None
        line = next(x for x in section.splitlines() if x.startswith(f"| {row.slot:%a %Y-%m-%d} |"))
        assert f"| {row.departure.day:%a %Y-%m-%d} {release.time:%H:%M} |" in line
        assert f"| @{row.captain} |" in line
    # The shipped calendar: the summit blackout moves that Tuesday's train to the Wednesday,
    # and the year-end freeze holds two trains that catch up on the first free Tuesday.
    assert (
        "| Tue 2026-12-08 | Wed 2026-12-09 15:00 | 2026-12-09 15:00 | @sam-okafor | held by the "
        "blackout date (Dataface Summit keynote demo day); catches up |"
    ) in section
    assert (
        "| Tue 2026-12-29 | Tue 2027-01-05 15:00 | 2027-01-05 15:00 | @sam-okafor | held by the "
        "`year-end` freeze; catches up; one train with the row above |"
    ) in section
    assert "The table lists the trains scheduled from 2026-11-23" in section


def test_changelog_categories_and_flags(policies: Policies, section: str) -> None:
    for category in policies.release.categories:
        row = next(x for x in section.splitlines() if x.startswith(f"| {category.title} | "))
        for label in category.labels:
            assert f"`{label}`" in row
        for path in category.paths:
            assert f"`{path}`" in row
        if category.needs:
            assert row.endswith(f"| {category.needs} |")
            flag = next(x for x in section.splitlines() if x.startswith(f"- **{category.title}**"))
            assert f"({category.needs})" in flag
            if category.satisfied_by:
                assert f"matches `{category.satisfied_by}`" in flag
            for label in category.satisfied_labels:
                assert f"`{label}`" in flag
        else:
            assert row.endswith("| - |")
    assert f"**{policies.release.fallback().title}** takes the rest" in section


def test_signoff_areas_and_captain_rotation(policies: Policies, section: str) -> None:
    release = policies.release
    assert [s.area for s in signoffs(policies)] == list(release.signoff_areas)
    for signoff in signoffs(policies):
        assert f"| {signoff.area} | {', '.join(signoff.handles)} |" in section
    assert release.captain_rotation is not None
    rotation = policies.oncall.rotation(release.captain_rotation)
    assert rotation is not None
    assert f"[`{rotation.name}` rotation](#rotation-{rotation.name})" in section
    assert ", ".join(f"@{m}" for m in rotation.members) + " in turn" in section


def test_a_held_train_without_catch_up_does_not_leave(policies: Policies) -> None:
    section = _render(policies, catch_up=False)
    assert "does not catch up" in section
    assert "| Tue 2026-12-08 | does not leave | - | - | held by the blackout date" in section
    assert "| Tue 2026-12-22 | does not leave | - | - | held by the `year-end` freeze |" in section


def test_fortnightly_cadence_names_its_anchor(policies: Policies) -> None:
    section = _render(
        policies, every_weeks=2, anchor=dt.date(2026, 12, 1), weekdays=("monday", "thursday")
    )
    assert (
        "every 2 weeks on Monday and Thursday at 15:00 Europe/London, counting weeks from the "
        "week of 2026-12-01." in section
    )
    assert "| Mon 2026-11-30 | Mon 2026-11-30 15:00 |" in section
    assert "| Mon 2026-12-07 |" not in section


def test_empty_calendar_signoff_and_captain_are_said_in_words(policies: Policies) -> None:
    section = _render(
        policies, freezes=(), blackout_dates=(), signoff_areas=(), captain_rotation=None
    )
    assert "No freeze windows or blackout dates are defined" in section
    assert "No sign-off areas are set" in section
    assert "No release-captain rotation is set" in section
    assert "Also set in" not in section


def test_a_pipe_in_a_reason_does_not_break_the_table(policies: Policies) -> None:
    blackout = policies.release.blackout_dates[0].model_copy(update={"reason": "demo | keynote"})
    section = _render(policies, blackout_dates=(blackout,))
    assert f"| blackout date | {blackout.date} | {blackout.date} | demo \\| keynote |" in section


def test_a_field_the_section_does_not_know_is_still_shown(policies: Policies) -> None:
    grown = pydantic.create_model(
        "GrownReleasePolicy", __base__=ReleasePolicy, train_horn=(str, "toot")
    )
    release = grown(**policies.release.model_dump())
    text = render_operating_model(dataclasses.replace(policies, release=release), NOW)
    section = _section(text)
    assert "Also set in `policies/release.yaml`:\n\n```yaml\ntrain_horn: toot\n```" in section

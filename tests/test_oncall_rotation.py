"""Who is on call: handoffs across DST, overrides spanning a handoff, vacations, layers,
primary and secondary, a rotation of one person, and the policy's own checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from automation.cli import main
from automation.policy.loader import PolicyError, load_policies
from automation.policy.oncall import OncallPolicy, Rotation
from tests.triage_factories import ROOT

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def rotation(**overrides: Any) -> Rotation:
    fields: dict[str, Any] = {
        "name": "r",
        "members": ("a", "b", "c"),
        "timezone": "Europe/London",
        "start": dt.date(2026, 1, 5),  # a Monday
        "handoff_weekday": "monday",
        "handoff_time": dt.time(10, 0),
    }
    fields.update(overrides)
    return Rotation.model_validate(fields)


# Europe/London: BST from Sun 2026-03-29, GMT again from Sun 2026-10-25. The handoff stays at
# 10:00 local, so it moves from 10:00 UTC to 09:00 UTC and back.
@pytest.mark.parametrize(
    ("when", "member"),
    [
        ("2026-03-23T09:59", "b"),
        ("2026-03-23T10:00", "c"),  # GMT: 10:00 local = 10:00 UTC
        ("2026-03-30T08:59", "c"),
        ("2026-03-30T09:00", "a"),  # BST: 10:00 local = 09:00 UTC
        ("2026-10-19T08:59", "b"),
        ("2026-10-19T09:00", "c"),
        ("2026-10-26T09:59", "c"),  # GMT again: 09:59 UTC is 09:59 local, before the handoff
        ("2026-10-26T10:00", "a"),
        ("2025-12-29T10:00", "c"),  # before the rotation's start date, the order still holds
    ],
)
def test_handoffs_across_dst_london(when: str, member: str) -> None:
    assert rotation().member_at(at(when)) == member


@pytest.mark.parametrize(
    ("when", "member"),
    [
        ("2026-03-02T13:59", "b"),
        ("2026-03-02T14:00", "c"),  # EST: 09:00 local = 14:00 UTC
        ("2026-03-09T12:59", "c"),
        ("2026-03-09T13:00", "a"),  # EDT from Sun 2026-03-08: 09:00 local = 13:00 UTC
    ],
)
def test_handoffs_across_dst_new_york(when: str, member: str) -> None:
    r = rotation(timezone="America/New_York", handoff_time=dt.time(9, 0))
    assert r.member_at(at(when)) == member


def test_shift_start_and_next_handoff_keep_local_wall_clock() -> None:
    r = rotation()
    start = r.shift_start(at("2026-03-29T12:00"))  # Sunday, just after the clocks change
    assert start.isoformat() == "2026-03-23T10:00:00+00:00"
    nxt = r.next_handoff(at("2026-03-29T12:00"))
    assert nxt.isoformat() == "2026-03-30T10:00:00+01:00"
    assert nxt.astimezone(UTC) == at("2026-03-30T09:00")


# A handoff at a wall time the clocks skip or repeat. Europe/London skips 01:00-02:00 on
# Sun 2026-03-29; America/New_York repeats 01:00-02:00 on Sun 2026-11-01 (EDT, then EST).
@pytest.mark.parametrize(
    ("timezone", "when", "member", "shift_start_utc"),
    [
        # 01:30 does not exist: the handoff is 02:30 BST (01:30 UTC), an hour into the gap.
        ("Europe/London", "2026-03-29T00:59", "b", "2026-03-22T01:30"),
        ("Europe/London", "2026-03-29T01:00", "b", "2026-03-22T01:30"),  # 02:00 BST
        ("Europe/London", "2026-03-29T01:29", "b", "2026-03-22T01:30"),
        ("Europe/London", "2026-03-29T01:30", "c", "2026-03-29T01:30"),
        # 01:30 happens twice: the handoff is the first (EDT, 05:30 UTC), and the second
        # pass through 01:00-02:00 (EST, 06:00-07:00 UTC) does not hand back.
        ("America/New_York", "2026-11-01T05:29", "c", "2026-10-25T05:30"),
        ("America/New_York", "2026-11-01T05:30", "a", "2026-11-01T05:30"),
        ("America/New_York", "2026-11-01T06:00", "a", "2026-11-01T05:30"),
        ("America/New_York", "2026-11-01T06:29", "a", "2026-11-01T05:30"),
        ("America/New_York", "2026-11-01T06:45", "a", "2026-11-01T05:30"),
    ],
)
def test_handoff_at_a_skipped_or_repeated_local_time(
    timezone: str, when: str, member: str, shift_start_utc: str
) -> None:
    r = rotation(timezone=timezone, handoff_weekday="sunday", handoff_time=dt.time(1, 30))
    start = r.shift_start(at(when))
    assert r.member_at(at(when)) == member
    assert start.astimezone(UTC) == at(shift_start_utc)
    assert start.astimezone(UTC) <= at(when) < r.next_handoff(at(when)).astimezone(UTC)


def test_schedule_across_a_fall_back_handoff_has_one_change() -> None:
    policy = OncallPolicy(
        rotations=(
            rotation(
                timezone="America/New_York", handoff_weekday="sunday", handoff_time=dt.time(1, 30)
            ),
        )
    )
    shifts = policy.schedule("r", at("2026-10-31T12:00"), at("2026-11-09T12:00"))
    assert [(s.start.astimezone(UTC).isoformat(), s.primary) for s in shifts] == [
        ("2026-10-31T12:00:00+00:00", "c"),
        ("2026-11-01T05:30:00+00:00", "a"),  # 01:30 EDT
        ("2026-11-08T06:30:00+00:00", "b"),  # 01:30 EST
    ]
    ends = [s.end.astimezone(UTC) for s in shifts[:-1]]
    assert ends == [s.start.astimezone(UTC) for s in shifts[1:]]


def test_two_week_shifts() -> None:
    r = rotation(members=("a", "b"), shift_weeks=2)
    assert r.member_at(at("2026-01-18T12:00")) == "a"
    assert r.member_at(at("2026-01-19T10:00")) == "b"
    assert r.shift_start(at("2026-01-26T12:00")) == r.shift_start(at("2026-01-19T10:00"))
    assert r.member_at(at("2026-02-02T10:00")) == "a"


COVER = {
    "kind": "cover",
    "member": "dee",
    "start": "2026-03-29T18:00",  # Sunday evening, before Monday's handoff
    "end": "2026-03-31T10:00",  # Tuesday morning, after it
}


@pytest.mark.parametrize(
    ("override", "when", "member"),
    [
        (COVER, "2026-03-29T16:59", "c"),  # 17:59 BST: before the cover
        (COVER, "2026-03-29T17:00", "dee"),  # 18:00 BST
        (COVER, "2026-03-30T09:00", "dee"),  # the handoff inside the cover
        (COVER, "2026-03-31T08:59", "dee"),
        (COVER, "2026-03-31T09:00", "a"),  # the cover ends: the new shift's member
        ({**COVER, "replaces": "c"}, "2026-03-29T17:00", "dee"),
        ({**COVER, "replaces": "c"}, "2026-03-30T09:00", "a"),  # only while c was on call
    ],
)
def test_cover_spanning_a_handoff(override: dict[str, str], when: str, member: str) -> None:
    assert rotation(overrides=(override,)).member_at(at(when)) == member


VACATION = {"kind": "vacation", "member": "a", "start": "2026-03-30", "end": "2026-04-01"}


@pytest.mark.parametrize(
    ("overrides", "when", "member"),
    [
        ((VACATION,), "2026-03-30T09:00", "b"),  # a is away: the next member stands in
        ((VACATION,), "2026-04-01T22:59", "b"),  # 23:59 BST on the last day
        ((VACATION,), "2026-04-01T23:00", "a"),  # 00:00 BST the day after: back
        (
            (VACATION, {**VACATION, "member": "b"}),
            "2026-03-31T12:00",
            "c",
        ),  # a and b both away
        (
            (VACATION, {**VACATION, "member": "b"}, {**VACATION, "member": "c"}),
            "2026-03-31T12:00",
            "a",
        ),  # everyone away: the schedule stands
        ((VACATION, COVER), "2026-03-30T12:00", "dee"),  # a cover wins over a vacation
    ],
)
def test_vacations(overrides: tuple[dict[str, str], ...], when: str, member: str) -> None:
    assert rotation(overrides=overrides).member_at(at(when)) == member


def test_a_rotation_of_one_person() -> None:
    policy = OncallPolicy(
        rotations=(
            rotation(
                name="solo",
                members=("ada",),
                overrides=(
                    {
                        "kind": "vacation",
                        "member": "ada",
                        "start": "2026-03-30",
                        "end": "2026-04-05",
                    },
                ),
            ),
        ),
    )
    for when in ("2026-01-05T10:00", "2026-03-30T09:00", "2026-10-26T10:00", "2027-06-01T00:00"):
        assert policy.on_call("solo", at(when)) == "ada"
        assert policy.secondary_on_call("solo", at(when)) is None
    shifts = policy.schedule("solo", at("2026-03-23T12:00"), at("2026-04-20T12:00"))
    assert [(s.primary, s.secondary) for s in shifts] == [("ada", None)]


def test_layers_take_over_on_their_days() -> None:
    r = rotation(
        layers=({"name": "weekend", "members": ("w1", "w2"), "weekdays": ("saturday", "sunday")},)
    )
    assert r.member_at(at("2026-03-27T12:00")) == "c"  # Friday
    assert r.member_at(at("2026-03-28T12:00")) == "w2"  # Saturday, shift 11: w2
    assert r.member_at(at("2026-03-29T22:59")) == "w2"  # Sunday 23:59 BST
    assert r.member_at(at("2026-03-29T23:00")) == "c"  # Monday 00:00 BST


def test_secondary_from_the_backing_rotation_never_the_primary() -> None:
    policy = OncallPolicy(
        rotations=(
            rotation(name="primary", secondary="backup"),
            rotation(name="backup", members=("a", "x")),
        )
    )
    # 2026-03-23: primary c, backup rotation x (shift 11 of 2).
    assert policy.secondary_on_call("primary", at("2026-03-24T12:00")) == "x"
    # 2026-03-30: primary a, backup a -> the next backup member who is not the primary.
    assert policy.on_call("primary", at("2026-03-31T12:00")) == "a"
    assert policy.secondary_on_call("primary", at("2026-03-31T12:00")) == "x"
    # Without a backing rotation: the next member of the rotation.
    solo = OncallPolicy(rotations=(rotation(),))
    assert solo.secondary_on_call("r", at("2026-03-31T12:00")) == "b"


def test_schedule_merges_spans_and_shows_overrides() -> None:
    policy = OncallPolicy(rotations=(rotation(overrides=(COVER,)),))
    shifts = policy.schedule("r", at("2026-03-23T12:00"), at("2026-04-06T12:00"))
    assert [(s.start.astimezone(UTC).isoformat(), s.primary, s.secondary) for s in shifts] == [
        ("2026-03-23T12:00:00+00:00", "c", "a"),
        ("2026-03-29T17:00:00+00:00", "dee", "a"),
        ("2026-03-31T09:00:00+00:00", "a", "b"),
        ("2026-04-06T09:00:00+00:00", "b", "c"),
    ]
    assert shifts[-1].end == at("2026-04-06T12:00")


def _load(oncall_yaml: str) -> None:
    files = {p.name: p.read_text() for p in (ROOT / "policies").glob("*.yaml")}
    files["oncall.yaml"] = oncall_yaml
    load_policies(files.get)


SHIPPED = (ROOT / "policies" / "oncall.yaml").read_text()


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "member: raj-iyer",
            "member: nobody-here",
            "policies/oncall.yaml:15 rotations[0].overrides[0].member: unknown person "
            "'nobody-here'",
        ),
        (
            "secondary: ai-secondary",
            "secondary: ai-tertiary",
            "policies/oncall.yaml:11 rotations[0].secondary: unknown rotation 'ai-tertiary'",
        ),
        (
            '        end: "2026-12-14T10:00"',
            '        end: "2026-12-01T10:00"',
            "policies/oncall.yaml:14 rotations[0].overrides[0]: Value error, end is before start",
        ),
        (
            "        start: 2026-12-21",
            '        start: "2026-12-21T10:00"',
            "policies/oncall.yaml:20 rotations[0].overrides[1]: Value error, a vacation takes "
            "dates (YYYY-MM-DD), not times",
        ),
    ],
)
def test_policy_problems_name_file_line_and_field(old: str, new: str, problem: str) -> None:
    assert old in SHIPPED
    with pytest.raises(PolicyError) as info:
        _load(SHIPPED.replace(old, new, 1))
    assert [str(p) for p in info.value.problems] == [problem]


def test_oncall_now_and_schedule_commands(capsys: pytest.CaptureFixture[str]) -> None:
    policies = str(ROOT / "policies")
    assert main(["oncall", "now", "--at", "2026-11-24T12:00:00Z", "--policies", policies]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ai-primary: primary sam-okafor, secondary dev-patel; ")
    assert "next handoff Mon 2026-11-30 10:00 GMT (10:00 UTC)" in out
    args = ["oncall", "schedule", "--weeks", "2", "--at", "2026-12-07T12:00:00Z"]
    assert main([*args, "--rotation", "ai-primary", "--policies", policies]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "ai-primary:",
        "  Mon 2026-12-07 12:00 GMT (12:00 UTC) -> Thu 2026-12-10 00:00 GMT (00:00 UTC): "
        "maya-chen (secondary tomas-silva)",
        "  Thu 2026-12-10 00:00 GMT (00:00 UTC) -> Mon 2026-12-14 10:00 GMT (10:00 UTC): "
        "raj-iyer (secondary tomas-silva)",
        "  Mon 2026-12-14 10:00 GMT (10:00 UTC) -> Mon 2026-12-21 10:00 GMT (10:00 UTC): "
        "dev-patel (secondary lena-fischer)",
        # sam-okafor is on vacation: raj-iyer, the next member, takes the week.
        "  Mon 2026-12-21 10:00 GMT (10:00 UTC) -> Mon 2026-12-21 12:00 GMT (12:00 UTC): "
        "raj-iyer (secondary dev-patel)",
    ]
    assert main(["oncall", "now", "--rotation", "nope", "--policies", policies]) == 2
    assert "unknown rotation 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize(("start", "end"), [("22:00", "06:00"), ("09:00", "09:00")])
def test_a_layer_that_would_never_be_on_is_a_policy_problem(start: str, end: str) -> None:
    # from <= clock < to: an overnight layer (22:00 -> 06:00) used to validate and never apply.
    layer = (
        "    layers:\n      - name: nights\n        members: [raj-iyer]\n"
        f'        from_time: "{start}"\n        to_time: "{end}"\n'
    )
    text = SHIPPED.replace("    overrides:\n", layer + "    overrides:\n", 1)
    assert text != SHIPPED
    with pytest.raises(PolicyError) as info:
        _load(text)
    assert [p.loc for p in info.value.problems] == ["rotations[0].layers[0]"]
    assert "cannot cross midnight" in info.value.problems[0].message

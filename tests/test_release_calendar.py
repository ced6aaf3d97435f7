"""Table tests of the release calendar: due or not, DST, freezes, blackouts, catch-up."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automation.policy.oncall import WEEKDAYS
from automation.policy.release import Blackout, Freeze, ReleasePolicy
from automation.rules.release import blocked, call_train, latest_departure, next_departure
from tests.release_helpers import UTC, t


def local_date(policy: ReleasePolicy, at: dt.datetime) -> dt.date:
    return at.astimezone(ZoneInfo(policy.timezone)).date()


# The branches a train needs (required, like its day and time).
BRANCHES = {"source_branch": "main", "release_base": "stable"}
LONDON = ReleasePolicy(
    timezone="Europe/London", weekdays=("tuesday",), time=dt.time(15, 0), **BRANCHES
)
HOLIDAYS = LONDON.model_copy(
    update={
        "freezes": (
            Freeze(name="year-end", start=dt.date(2026, 12, 18), end=dt.date(2026, 12, 30)),
        ),
        "blackout_dates": (Blackout(date=dt.date(2026, 12, 8), reason="Summit demo day"),),
    }
)
NO_CATCH_UP = HOLIDAYS.model_copy(update={"catch_up": False})
FORTNIGHTLY = LONDON.model_copy(update={"every_weeks": 2, "anchor": dt.date(2026, 11, 17)})
NEW_YORK_2AM = ReleasePolicy(
    timezone="America/New_York", weekdays=("sunday",), time=dt.time(2, 30), **BRANCHES
)
TWICE = LONDON.model_copy(update={"weekdays": ("tuesday", "thursday"), "time": dt.time(9, 0)})


@pytest.mark.parametrize(
    ("policy", "at", "shipped", "due", "slot", "day"),
    [
        # Boundaries: 15:00 London is 15:00 UTC in November (GMT); due from that second on.
        (LONDON, "2026-11-24T14:59:59", "2026-11-17T16:00", False, "2026-11-17", "2026-11-17"),
        (LONDON, "2026-11-24T15:00:00", "2026-11-17T16:00", True, "2026-11-24", "2026-11-24"),
        (LONDON, "2026-11-26T09:00:00", "2026-11-17T16:00", True, "2026-11-24", "2026-11-24"),
        # Shipped after it left: the train of the 24th is done until the next Tuesday.
        (LONDON, "2026-11-26T09:00:00", "2026-11-24T17:30", False, "2026-11-24", "2026-11-24"),
        (LONDON, "2026-12-01T15:00:00", "2026-11-24T17:30", True, "2026-12-01", "2026-12-01"),
        # No release ever: the latest departure is due.
        (LONDON, "2026-11-25T08:00:00", None, True, "2026-11-24", "2026-11-24"),
        # Summer (BST): 15:00 London is 14:00 UTC.
        (LONDON, "2026-07-14T13:59:59", "2026-07-07T16:00", False, "2026-07-07", "2026-07-07"),
        (LONDON, "2026-07-14T14:00:00", "2026-07-07T16:00", True, "2026-07-14", "2026-07-14"),
        # The Tuesday after the clocks go forward (29 March 2026): 14:00 UTC.
        (LONDON, "2026-03-31T14:00:00", "2026-03-24T16:00", True, "2026-03-31", "2026-03-31"),
        (LONDON, "2026-03-31T13:30:00", "2026-03-24T16:00", False, "2026-03-24", "2026-03-24"),
        # The Tuesday after they go back (25 October 2026): 15:00 UTC again.
        (LONDON, "2026-10-27T14:30:00", "2026-10-20T15:00", False, "2026-10-20", "2026-10-20"),
        (LONDON, "2026-10-27T15:00:00", "2026-10-20T15:00", True, "2026-10-27", "2026-10-27"),
        # 02:30 does not exist in New York on 8 March 2026: it reads as 07:30 UTC (03:30 EDT).
        (
            NEW_YORK_2AM,
            "2026-03-08T07:29:59",
            "2026-03-01T08:00",
            False,
            "2026-03-01",
            "2026-03-01",
        ),
        (NEW_YORK_2AM, "2026-03-08T07:30:00", "2026-03-01T08:00", True, "2026-03-08", "2026-03-08"),
        # Two trains a week.
        (TWICE, "2026-11-26T09:00:00", "2026-11-24T10:00", True, "2026-11-26", "2026-11-26"),
        # Every two weeks from 17 November: not the 24th, but 1 December.
        (FORTNIGHTLY, "2026-11-24T15:00:00", "2026-11-17T16:00", False, "2026-11-17", "2026-11-17"),
        (FORTNIGHTLY, "2026-12-01T15:00:00", "2026-11-17T16:00", True, "2026-12-01", "2026-12-01"),
        # Blackout Tuesday 8 December: held, then leaves Wednesday at 15:00 (catch-up).
        (HOLIDAYS, "2026-12-09T14:59:00", "2026-12-01T16:00", False, "2026-12-01", "2026-12-01"),
        (HOLIDAYS, "2026-12-09T15:00:00", "2026-12-01T16:00", True, "2026-12-08", "2026-12-09"),
        # Freeze 18-30 December holds the trains of the 22nd and 29th: both leave on the 31st.
        (HOLIDAYS, "2026-12-31T15:00:00", "2026-12-15T16:00", True, "2026-12-29", "2026-12-31"),
        (HOLIDAYS, "2026-12-31T14:00:00", "2026-12-15T16:00", False, "2026-12-15", "2026-12-15"),
        # Without catch-up the held trains are dropped: the next is the regular 5 January one.
        (NO_CATCH_UP, "2026-12-31T15:00:00", "2026-12-15T16:00", False, "2026-12-15", "2026-12-15"),
        (NO_CATCH_UP, "2027-01-05T15:00:00", "2026-12-15T16:00", True, "2027-01-05", "2027-01-05"),
    ],
)
def test_due(
    policy: ReleasePolicy,
    at: str,
    shipped: str | None,
    due: bool,
    slot: str,
    day: str,
) -> None:
    call = call_train(policy, t(at), t(shipped) if shipped else None)
    assert call.due is due, call.reason
    assert call.freeze is None
    assert call.departure is not None
    assert (call.departure.slot.isoformat(), call.departure.day.isoformat()) == (slot, day)


@pytest.mark.parametrize(
    ("policy", "at", "freeze", "next_day"),
    [
        (HOLIDAYS, "2026-12-08T15:00", "blackout date 2026-12-08: Summit demo day", "2026-12-09"),
        (
            HOLIDAYS,
            "2026-12-18T00:00",
            "freeze 'year-end' (2026-12-18 to 2026-12-30)",
            "2026-12-31",
        ),
        (
            HOLIDAYS,
            "2026-12-30T23:59",
            "freeze 'year-end' (2026-12-18 to 2026-12-30)",
            "2026-12-31",
        ),
        (
            NO_CATCH_UP,
            "2026-12-22T15:00",
            "freeze 'year-end' (2026-12-18 to 2026-12-30)",
            "2027-01-05",
        ),
    ],
)
def test_freeze_blocks_even_an_unshipped_train(
    policy: ReleasePolicy, at: str, freeze: str, next_day: str
) -> None:
    call = call_train(policy, t(at), t("2026-11-17T16:00"))
    assert not call.due
    assert call.freeze == freeze
    assert call.next_departure is not None
    assert call.next_departure.day.isoformat() == next_day
    assert call.reason.startswith(f"no train: {freeze}; the next train leaves")


def test_freeze_edges_are_local_dates() -> None:
    # 23:30 UTC on 17 December is still the 17th in London: not frozen yet.
    assert blocked(HOLIDAYS, dt.date(2026, 12, 17)) is None
    assert call_train(HOLIDAYS, t("2026-12-17T23:30"), None).freeze is None
    tokyo = HOLIDAYS.model_copy(update={"timezone": "Asia/Tokyo"})
    # In Tokyo it is already 08:30 on the 18th: the year-end freeze has begun.
    assert call_train(tokyo, t("2026-12-17T23:30"), None).freeze == (
        "freeze 'year-end' (2026-12-18 to 2026-12-30)"
    )


def test_catch_up_names_what_held_the_train() -> None:
    call = call_train(HOLIDAYS, t("2026-12-09T15:00"), t("2026-12-01T16:00"))
    assert call.departure is not None and call.departure.caught_up
    assert call.reason == (
        "the train of 2026-12-08 left Wed 2026-12-09 15:00 Europe/London (15:00 UTC), "
        "catching up after blackout date 2026-12-08: Summit demo day"
    )


@pytest.mark.parametrize(
    ("policy", "at", "expected"),
    [
        (LONDON, "2026-11-24T14:59", "2026-11-24T15:00"),
        (LONDON, "2026-11-24T15:00", "2026-12-01T15:00"),
        (LONDON, "2026-03-25T00:00", "2026-03-31T14:00"),
        (HOLIDAYS, "2026-12-15T15:30", "2026-12-31T15:00"),
        (FORTNIGHTLY, "2026-11-18T00:00", "2026-12-01T15:00"),
    ],
)
def test_next_departure(policy: ReleasePolicy, at: str, expected: str) -> None:
    found = next_departure(policy, t(at))
    assert found is not None
    assert found.at == t(expected)


def test_next_departure_reports_the_earliest_held_train() -> None:
    found = next_departure(HOLIDAYS, t("2026-12-20T12:00"))
    assert found is not None
    assert (found.slot, found.day) == (dt.date(2026, 12, 22), dt.date(2026, 12, 31))


def test_latest_departure_compares_in_utc_across_dst() -> None:
    # 14:30 UTC on a July Tuesday is 15:30 BST: that day's train has left.
    found = latest_departure(LONDON, t("2026-07-14T14:30"))
    assert found is not None and found.slot == dt.date(2026, 7, 14)


ZONES = ("Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC")


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    weekdays=st.sets(st.sampled_from(WEEKDAYS), min_size=1),
    hour=st.integers(0, 23),
    minute=st.sampled_from((0, 15, 30, 45)),
    every=st.integers(1, 3),
    catch_up=st.booleans(),
    at=st.datetimes(
        min_value=dt.datetime(2026, 1, 1),
        max_value=dt.datetime(2027, 12, 31),
        timezones=st.just(UTC),
    ),
)
def test_calendar_properties(
    zone: str,
    weekdays: set[str],
    hour: int,
    minute: int,
    every: int,
    catch_up: bool,
    at: dt.datetime,
) -> None:
    policy = HOLIDAYS.model_copy(
        update={
            "timezone": zone,
            "weekdays": tuple(sorted(weekdays)),
            "time": dt.time(hour, minute),
            "every_weeks": every,
            "anchor": dt.date(2026, 1, 6),
            "catch_up": catch_up,
        }
    )
    before = latest_departure(policy, at)
    after = next_departure(policy, at)
    assert after is not None and after.at > at
    assert before is not None and before.at <= at
    for departure in (before, after):
        # A train never leaves on a blocked day, and leaves at the policy's local time.
        assert blocked(policy, departure.day) is None
        local = departure.at.astimezone(ZoneInfo(zone))
        assert local.date() == departure.day
        assert departure.caught_up == (departure.day != departure.slot)
        if not catch_up:
            assert not departure.caught_up
    # Nothing leaves strictly between the two.
    middle = latest_departure(policy, after.at - dt.timedelta(seconds=1))
    assert middle is not None and middle.at <= at
    # Due exactly when the latest departure is after the last shipment.
    assert call_train(policy, at, before.at - dt.timedelta(seconds=1)).due == (
        blocked(policy, local_date(policy, at)) is None
    )
    assert not call_train(policy, at, before.at).due

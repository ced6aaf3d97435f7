"""The review loop's rules and planner: working hours per time zone (weekends, holidays, DST),
who is overdue, exemptions, escalation, and never re-requesting a removed reviewer."""

from __future__ import annotations

import datetime as dt

import pytest

from automation.actions import RequestReviewers, UpsertComment
from automation.features.reviews.plan import plan_reviews
from automation.policy.reviews import WorkingHours
from automation.rules.reviews import (
    overdue,
    reminder_marker,
    review_figures,
    waiting,
    working_hours,
)
from automation.simulate import simulate
from automation.snapshot.models import Comment
from tests.reviews_factories import (
    policies,
    pull,
    removed,
    requested,
    review,
    snapshot,
    utc,
)

DAY = WorkingHours()  # 09:00-17:00, Monday to Friday
XMAS = frozenset({dt.date(2026, 12, 24), dt.date(2026, 12, 25)})


@pytest.mark.parametrize(
    ("start", "end", "zone", "holidays", "hours"),
    [
        # One whole working day.
        ("2026-11-30T09:00", "2026-11-30T17:00", "UTC", frozenset(), 8.0),
        # Friday 16:00 to Monday 10:00: the weekend counts nothing.
        ("2026-12-04T16:00", "2026-12-07T10:00", "Europe/London", frozenset(), 2.0),
        # Wednesday 16:00 to Monday 10:00 over Christmas Eve and Day (holidays).
        ("2026-12-23T16:00", "2026-12-28T10:00", "UTC", XMAS, 2.0),
        # The same days without the holidays: Thursday and Friday count.
        ("2026-12-23T16:00", "2026-12-28T10:00", "UTC", frozenset(), 18.0),
        # The same evening (UTC) is a working day in Los Angeles, the night in London/Kolkata.
        ("2026-12-01T17:00", "2026-12-02T01:00", "America/Los_Angeles", frozenset(), 8.0),
        ("2026-12-01T17:00", "2026-12-02T01:00", "Europe/London", frozenset(), 0.0),
        ("2026-12-01T17:00", "2026-12-02T01:00", "Asia/Kolkata", frozenset(), 0.0),
        # Kolkata's day starts 03:30 UTC (UTC+5:30).
        ("2026-12-01T03:00", "2026-12-01T05:00", "Asia/Kolkata", frozenset(), 1.5),
        # DST: New York's Monday after spring-forward starts 13:00 UTC (EDT), not 14:00.
        ("2026-03-06T22:00", "2026-03-09T14:00", "America/New_York", frozenset(), 1.0),
        # ... and after fall-back at 14:00 UTC (EST).
        ("2026-10-30T22:00", "2026-11-02T15:00", "America/New_York", frozenset(), 1.0),
        # Berlin: Friday before spring-forward (CET) and Monday after (CEST).
        ("2026-03-27T15:00", "2026-03-30T08:00", "Europe/Berlin", frozenset(), 2.0),
        # The holiday is the reviewer's local date: 25 December in Kolkata starts 18:30 UTC
        # on the 24th, so the 24th's Kolkata day (03:30-11:30 UTC) is a holiday too.
        ("2026-12-24T03:30", "2026-12-24T11:30", "Asia/Kolkata", XMAS, 0.0),
        ("2026-12-23T03:30", "2026-12-23T11:30", "Asia/Kolkata", XMAS, 8.0),
        # The end before the start.
        ("2026-11-30T12:00", "2026-11-30T10:00", "UTC", frozenset(), 0.0),
    ],
)
def test_working_hours(
    start: str, end: str, zone: str, holidays: frozenset[dt.date], hours: float
) -> None:
    assert working_hours(utc(start), utc(end), zone, DAY, holidays) == pytest.approx(hours)


def test_working_hours_across_a_dst_night_count_real_hours() -> None:
    # A day from 00:00 to 23:00 local on the Sunday Berlin springs forward is 22 real hours.
    always = WorkingHours(start=dt.time(0), end=dt.time(23), days=("sunday",))
    assert working_hours(
        utc("2026-03-28T23:00"), utc("2026-03-29T23:00"), "Europe/Berlin", always
    ) == pytest.approx(22.0)


MONDAY = utc("2026-11-30T17:00")  # 09:00 in Los Angeles (maya-chen), 17:00 in London


def test_each_reviewer_waits_in_their_own_time_zone() -> None:
    pr = pull(created=MONDAY, reviewers=("maya-chen", "sam-okafor"))
    now = utc("2026-12-02T18:00")  # Wednesday
    by_login = {w.handle: w.hours for w in waiting(policies(), pr, now)}
    # Los Angeles: Monday 8 + Tuesday 8 + Wednesday 09:00-10:00 = 17; London: Tuesday 8 +
    # Wednesday 09:00-17:00 = 16 (Monday's request came at the end of its day).
    assert by_login == {"maya-chen": pytest.approx(17.0), "sam-okafor": pytest.approx(16.0)}


def _actions(pr: object, now: dt.datetime, **policy: object) -> list[object]:
    return list(plan_reviews(policies(**policy), snapshot(pr, now=now), now).actions)  # type: ignore[arg-type]


REMIND = utc("2026-12-02T18:00")  # maya-chen: 17 working hours
ESCALATE = utc("2026-12-04T23:00")  # maya-chen: 8+8+8+8+6 = 38 working hours


def test_an_overdue_owner_gets_one_reminder_naming_them() -> None:
    (action,) = _actions(pull(created=MONDAY), REMIND)
    assert isinstance(action, UpsertComment)
    assert action.number == 7 and action.comment_id is None
    assert action.body.startswith(reminder_marker(7))
    assert "@maya-chen" in action.body and "2026-11-30" in action.body
    assert "Asked as well" not in action.body


def test_not_yet_overdue_and_non_owners_get_nothing() -> None:
    assert _actions(pull(created=MONDAY), utc("2026-12-01T23:00")) == []  # 14 hours
    # raj-iyer owns no area the PR touches (dataface/ai/ is mcp-server's).
    assert _actions(pull(created=MONDAY, reviewers=("raj-iyer",)), ESCALATE) == []
    # A PR touching no area at all.
    assert _actions(pull(created=MONDAY, paths=("README.md",)), ESCALATE) == []


def test_a_requested_team_is_named_by_its_github_handle() -> None:
    pr = pull(created=MONDAY, reviewers=(), teams=("ai-platform",))
    (action,) = _actions(pr, REMIND)  # UTC: Tuesday 8 + Wednesday 9 = 17 hours
    assert isinstance(action, UpsertComment) and "@dataface/ai-platform" in action.body


def test_past_the_second_threshold_the_secondary_is_requested() -> None:
    comment, ask = _actions(pull(created=MONDAY), ESCALATE)
    assert isinstance(comment, UpsertComment) and "Asked as well: @dev-patel" in comment.body
    assert ask == RequestReviewers(reason=ask.reason, number=7, reviewers=("dev-patel",))  # type: ignore[union-attr]


def test_holidays_delay_the_reminder() -> None:
    pr = pull(created=utc("2026-12-23T17:00"))  # Wednesday 09:00 in Los Angeles
    # Wednesday 8 + Monday 28th 8 = 16 on Monday evening; without the holidays Thursday
    # and Friday would have made it overdue on Thursday.
    assert _actions(pr, utc("2026-12-26T12:00")) == []
    assert _actions(pr, utc("2026-12-26T12:00"), holidays=[]) != []


@pytest.mark.parametrize(
    ("why", "changes"),
    [
        ("draft", {"draft": True}),
        ("exempt label", {"labels": ("on-hold",)}),
        ("closed", {"state": "closed"}),
        (
            "changes requested",
            {"reviews": (review("sam-okafor", "CHANGES_REQUESTED", utc("2026-12-01T10:00")),)},
        ),
    ],
)
def test_exempt_pull_requests_are_left_alone(why: str, changes: dict[str, object]) -> None:
    pr = pull(created=MONDAY).model_copy(update=changes)
    assert _actions(pr, ESCALATE) == [], why


def test_changes_requested_then_asked_again_is_waiting_again() -> None:
    # maya-chen asked for changes, then the author asked her again: she is requested.
    pr = pull(
        created=MONDAY,
        reviews=(review("maya-chen", "CHANGES_REQUESTED", utc("2026-11-30T18:00")),),
        events=(requested("maya-chen", MONDAY),),
    )
    assert _actions(pr, REMIND) != []


def test_draft_time_does_not_count() -> None:
    pr = pull(
        created=MONDAY,
        events=(
            requested("maya-chen", MONDAY),
            requested("maya-chen", MONDAY).model_copy(
                update={"event": "ready_for_review", "created_at": utc("2026-12-02T17:00")}
            ),
        ),
    )
    assert [w.hours for w in waiting(policies(), pr, REMIND)] == [pytest.approx(1.0)]


def test_a_reviewer_a_person_removed_is_never_requested_again() -> None:
    events = (
        requested("maya-chen", MONDAY),
        requested("dev-patel", MONDAY),
        removed("dev-patel", utc("2026-11-30T18:00"), actor="tomas-silva"),
    )
    pr = pull(created=MONDAY, events=events)
    actions = _actions(pr, ESCALATE)
    assert [type(a).__name__ for a in actions] == ["UpsertComment"]
    assert "dev-patel" not in actions[0].body  # type: ignore[attr-defined]


def test_a_bot_removing_a_request_does_not_block_it() -> None:
    events = (
        requested("maya-chen", MONDAY),
        removed("dev-patel", utc("2026-11-30T18:00"), actor="github-actions[bot]", bot=True),
    )
    actions = _actions(pull(created=MONDAY, events=events), ESCALATE)
    assert any(isinstance(a, RequestReviewers) for a in actions)


def test_the_secondary_is_not_asked_when_already_requested_reviewed_or_the_author() -> None:
    for pr in (
        pull(created=MONDAY, reviewers=("maya-chen", "dev-patel")),
        pull(created=MONDAY, reviews=(review("dev-patel", "COMMENTED", MONDAY),)),
        pull(created=MONDAY, author="dev-patel"),
    ):
        assert not any(isinstance(a, RequestReviewers) for a in _actions(pr, ESCALATE))


def test_the_reminder_is_updated_in_place_and_then_left_alone() -> None:
    now = REMIND
    (first,) = _actions(pull(created=MONDAY), now)
    assert isinstance(first, UpsertComment)
    mine = Comment(
        id=99,
        author="github-actions[bot]",
        author_is_bot=True,
        body=first.body,
        created_at=now,
        updated_at=now,
    )
    assert _actions(pull(created=MONDAY, comments=(mine,)), now) == []
    # A second owner overdue too: the same comment is edited.
    both = pull(created=MONDAY, reviewers=("maya-chen", "sam-okafor"), comments=(mine,))
    (edit,) = _actions(both, utc("2026-12-03T18:00"))
    assert isinstance(edit, UpsertComment) and edit.comment_id == 99
    assert "@maya-chen" in edit.body and "@sam-okafor" in edit.body
    # A person quoting the marker is not our comment: ours is still written.
    quoted = mine.model_copy(update={"author": "raj-iyer", "author_is_bot": False})
    (again,) = _actions(pull(created=MONDAY, comments=(quoted,)), now)
    assert isinstance(again, UpsertComment) and again.comment_id is None


def test_locked_pull_requests_get_no_comment_but_a_note() -> None:
    pr = pull(created=MONDAY, locked=True)
    plan = plan_reviews(policies(), snapshot(pr, now=REMIND), REMIND)
    assert plan.actions == () and any("locked" in n for n in plan.notes)


@pytest.mark.parametrize(
    "now", [REMIND, ESCALATE, utc("2026-12-10T12:00"), utc("2027-01-04T12:00")]
)
def test_plan_simulate_plan_is_empty(now: dt.datetime) -> None:
    prs = (
        pull(7, created=MONDAY),
        pull(8, created=MONDAY, reviewers=("maya-chen", "sam-okafor")),
        pull(9, created=MONDAY, reviewers=(), teams=("ai-platform",)),
        pull(10, created=MONDAY, paths=("evals/suite.py",), reviewers=("raj-iyer",)),
    )
    snap = snapshot(*prs, now=now)
    plan = plan_reviews(policies(), snap, now)
    assert plan.actions
    after = simulate(snap, plan)
    assert plan_reviews(policies(), after, now).actions == ()
    # Once the secondaries are requested they wait too: later their own reminder is due,
    # and the comment names them (edited in place, never a second comment).
    later = now + dt.timedelta(days=30)
    after = after.model_copy(update={"taken_at": later})
    step = plan_reviews(policies(), after, later)
    settled = simulate(after, step)
    assert plan_reviews(policies(), settled, later).actions == ()
    for pr in settled.pulls:
        ours = [c for c in pr.comments or () if reminder_marker(pr.number) in c.body]
        assert len(ours) <= 1


def test_overdue_needs_requested_owners_only() -> None:
    pr = pull(created=MONDAY, reviewers=("maya-chen", "raj-iyer"))
    assert [w.handle for w in overdue(policies(), pr, ESCALATE)] == ["maya-chen"]


def test_review_figures_per_area() -> None:
    ready = utc("2026-11-30T10:00")
    prs = [
        pull(
            n,
            created=ready,
            reviews=(
                review("raj-iyer", "COMMENTED", ready + dt.timedelta(hours=1)),  # not an owner
                review("maya-chen", "COMMENTED", ready + dt.timedelta(hours=first)),
                review("dev-patel", "APPROVED", ready + dt.timedelta(hours=approve)),
            ),
        )
        for n, first, approve in ((1, 2, 10), (2, 4, 20), (3, 6, 30), (4, 8, 40))
    ]
    prs.append(pull(5, created=ready, paths=("evals/x.py",), reviews=()))
    (row,) = review_figures(policies(), prs)
    assert row.area == "mcp-server"
    assert (row.reviewed, row.first_review_median, row.first_review_p90) == (4, 5.0, 8.0)
    assert (row.approved, row.approval_median, row.approval_p90) == (4, 25.0, 40.0)
    # The sweep reports them as notes (the job summary).
    notes = plan_reviews(policies(), snapshot(*prs, now=ready), ready).notes
    assert any(
        n.startswith("review figures mcp-server: first owner review median 5.0 h") for n in notes
    )


def test_exempt_authors_people_teams_and_bots() -> None:
    for author, exempt in (("dependabot[bot]", ("dependabot[bot]",)), ("raj-iyer", ("evals",))):
        pr = pull(created=MONDAY, author=author)
        assert _actions(pr, ESCALATE, exempt_authors=()) != []
        assert _actions(pr, ESCALATE, exempt_authors=exempt) == []

"""The incidents planner and its rules, as tables: severity, acknowledgement, each escalation
step, late status updates, the postmortem and its timeline, a handoff and a DST change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from automation.actions import EditIssue, UpsertComment, UpsertIssue, Want
from automation.features.incidents.plan import plan_incidents
from automation.markers import marker
from automation.rules.incidents import (
    acknowledgement,
    add_working_days,
    parse_incident,
    severity_for,
    steps,
    timeline,
    tool_of,
)
from automation.simulate import simulate
from automation.snapshot.models import Issue
from tests.incident_factories import (
    BOT,
    OPENED,
    comment,
    event,
    incident,
    incident_body,
    policies,
    reaction,
    snapshot,
)

MIN = dt.timedelta(minutes=1)
SUMMARY = marker("incidents", "incident-201")


def _plan(issue: Issue, now: dt.datetime) -> tuple[object, ...]:
    return plan_incidents(policies(), snapshot(issue, now=now), now).actions


def _triaged(issue: Issue, now: dt.datetime) -> Issue:
    """The incident as the planner leaves it when it first sees it at `now`."""
    snap = snapshot(issue, now=now)
    done = simulate(snap, plan_incidents(policies(), snap, now))
    found = done.issue(issue.number)
    assert isinstance(found, Issue)
    return found


# --- severity ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "impact", "rate", "expected"),
    [
        ("describe_dataset", "all users", "1%", ("sev1", "impact 'all users'")),
        ("describe_dataset", "ALL USERS", None, ("sev1", "impact 'ALL USERS'")),
        ("run_query", "internal only", "25%", ("sev1", "error rate 25% >= 25%")),
        ("run_query", "internal only", "24.9%", ("sev2", "error rate 24.9% >= 10%")),
        ("run_query", "internal only", "5%", ("sev2", "run_query is critical")),
        ("describe_dataset", "internal only", "25%", ("sev2", "error rate 25% >= 10%")),
        ("describe_dataset", "internal only", "10 %", ("sev2", "error rate 10% >= 10%")),
        ("describe_dataset", "some users", "2%", ("sev2", "impact 'some users'")),
        ("describe_dataset", "internal only", "9.9%", ("sev3", "the default")),
        ("describe_dataset", "a few dashboards", None, ("sev3", "the default")),
        ("describe_dataset", None, "banana", ("sev3", "the default")),
        ("no_such_tool", "internal only", "50%", ("sev2", "error rate 50% >= 10%")),
    ],
)
def test_severity_from_impact_error_rate_and_criticality(
    tool: str, impact: str | None, rate: str | None, expected: tuple[str, str]
) -> None:
    report = parse_incident(
        policies().incidents, incident_body(tool=tool, impact=impact, error_rate=rate)
    )
    severity, why = severity_for(policies(), report, tool_of(policies(), report))
    assert severity == expected[0]
    assert expected[1] in why


def test_the_form_body_is_read_field_by_field() -> None:
    report = parse_incident(
        policies().incidents,
        incident_body(tool="`Run_Query`", error_rate="35%", links="https://grafana/x\nhttps://y"),
    )
    assert report.tool == "Run_Query"
    assert tool_of(policies(), report) is not None
    assert report.error_rate == Decimal(35)
    assert report.started_at == dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)
    assert report.fields["links"] == "https://grafana/x\nhttps://y"
    assert report.form


# --- triage --------------------------------------------------------------------------------


def test_a_form_filed_incident_is_labelled_assigned_and_commented_once() -> None:
    now = OPENED + MIN
    actions = _plan(incident(), now)
    assert actions[0] == EditIssue(
        reason=actions[0].reason,  # type: ignore[attr-defined]
        number=201,
        labels=("incident", "severity:sev2", "tool:run_query", "area:mcp-server"),
        assignees=("raj-iyer",),  # the primary on call: sev2 does not add the area owners
    )
    assert isinstance(actions[1], UpsertComment) and actions[1].marker == SUMMARY
    body = actions[1].body
    assert "**sev2**: rule 3: error rate 12% >= 10%" in body
    assert "@dataface/ai-platform" in body  # the tool's owners
    assert "/blob/main/docs/runbooks/tool-incident.md" in body  # the tool's runbook
    assert "step 1 pages the secondary on call (2026-12-03 11:00 UTC)" in body
    assert "a status update every 4 h" in body
    assert len(actions) == 2
    # plan -> simulate -> plan is empty
    assert _plan(_triaged(incident(), now), now) == ()


def test_sev1_also_assigns_the_tools_area_owners() -> None:
    actions = _plan(incident(fields={"impact": "all users"}), OPENED + MIN)
    edit = actions[0]
    assert isinstance(edit, EditIssue)
    assert edit.labels == ("incident", "severity:sev1", "tool:run_query", "area:mcp-server")
    assert edit.assignees == ("raj-iyer", "dev-patel", "maya-chen", "sam-okafor")


def test_an_unknown_tool_asks_for_it_naming_the_registered_tools_then_lifts_needs_info() -> None:
    now = OPENED + MIN
    filed = incident(fields={"tool": "run_querry"})
    actions = _plan(filed, now)
    edit = actions[0]
    assert isinstance(edit, EditIssue)
    assert edit.labels == ("incident", "severity:sev2", "needs-info")
    assert edit.assignees == ("raj-iyer",)
    body = actions[1].body  # type: ignore[attr-defined]
    assert "@lena-fischer, the tool `run_querry` is not in the registry" in body
    assert "`run_query`, `describe_dataset`, `get_cached_profile`" in body
    assert "needs-info -->" in body
    # The reporter fixes the tool: needs-info comes off, tool and area go on, and the same
    # comment is edited in place.
    triaged = _triaged(filed, now)
    fixed = triaged.model_copy(update={"body": incident_body(tool="run_query")})
    later = now + MIN
    snap = snapshot(fixed.model_copy(update={"events": ()}), now=later)
    actions = plan_incidents(policies(), snap, later).actions
    edit = actions[0]
    assert isinstance(edit, EditIssue)
    assert edit.labels == ("incident", "severity:sev2", "tool:run_query", "area:mcp-server")
    update = actions[1]
    assert isinstance(update, UpsertComment) and update.comment_id is not None
    assert "needs-info" not in update.body


def test_a_person_removed_label_stays_removed() -> None:
    now = OPENED + MIN
    triaged = _triaged(incident(), now)
    undone = triaged.model_copy(
        update={
            "labels": ("incident", "severity:sev2", "tool:run_query"),
            "events": (event("unlabeled", "maya-chen", label="area:mcp-server", at=now),),
        }
    )
    assert _plan(undone, now + MIN) == ()
    # Without the events, it asks for them rather than guess.
    plan = plan_incidents(
        policies(), snapshot(undone.model_copy(update={"events": None}), now=now), now
    )
    assert plan.actions == () and plan.wants == (Want("events", 201),)


# --- acknowledgement -----------------------------------------------------------------------

ASSIGNED = incident(assignees=("raj-iyer",))
AT = OPENED + 5 * MIN


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        ({"comments": (comment(1, "looking", author="raj-iyer", at=AT),)}, (AT, "comment")),
        ({"comments": (comment(1, "me too", author="sam-okafor", at=AT),)}, None),
        ({"comments": (comment(1, "bot", at=AT),)}, None),
        ({"reactions": (reaction("raj-iyer", AT),), "reactions_count": 1}, (AT, "reaction")),
        ({"reactions": (reaction("sam-okafor", AT),), "reactions_count": 1}, None),
        (
            {
                "labels": ("incident", "acknowledged"),
                "events": (event("labeled", "sam-okafor", label="acknowledged", at=AT),),
            },
            (AT, "label acknowledged"),
        ),
        ({"labels": ("incident", "acknowledged")}, (None, "label acknowledged")),
        (
            {
                "comments": (comment(1, "on it", author="raj-iyer", at=AT + MIN),),
                "reactions": (reaction("raj-iyer", AT),),
            },
            (AT, "reaction"),
        ),
    ],
    ids=[
        "assignee-comment",
        "other-comment",
        "bot-comment",
        "assignee-reaction",
        "other-reaction",
        "label-timed",
        "label-untimed",
        "earliest-wins",
    ],
)
def test_acknowledgement(
    update: dict[str, object], expected: tuple[dt.datetime | None, str] | None
) -> None:
    ack = acknowledgement(policies().incidents, ASSIGNED.model_copy(update=update))
    if expected is None:
        assert ack is None
    else:
        assert ack is not None and ack.at == expected[0] and ack.how.startswith(expected[1])


# --- escalation ----------------------------------------------------------------------------


def _sev1(now: dt.datetime, **update: object) -> Issue:
    filed = incident(fields={"impact": "all users"})
    return _triaged(filed, OPENED + MIN).model_copy(update=update)


def _step_markers(actions: tuple[object, ...]) -> list[str]:
    return [
        a.marker.removeprefix("<!-- dataface-ops:incidents:").removesuffix(" -->")
        for a in actions
        if isinstance(a, UpsertComment) and "escalation" in a.marker
    ]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (14, []),
        (15, ["escalation-secondary"]),
        (29, ["escalation-secondary"]),
        (30, ["escalation-secondary", "escalation-area-owners"]),
        (60, ["escalation-secondary", "escalation-area-owners", "escalation-operating-model"]),
    ],
)
def test_each_sev1_step_is_due_after_its_minutes(minutes: int, expected: list[str]) -> None:
    now = OPENED + minutes * MIN
    assert _step_markers(_plan(_sev1(now), now)) == expected


def test_steps_page_once_each_say_how_long_they_waited_and_the_secondary_is_assigned() -> None:
    now = OPENED + 15 * MIN
    issue = _sev1(now)
    actions = _plan(issue, now)
    # maya-chen is secondary and already assigned as an area owner: no edit needed.
    assert [type(a).__name__ for a in actions] == ["UpsertComment"]
    body = actions[0].body  # type: ignore[attr-defined]
    assert body.startswith(marker("incidents", "escalation-secondary"))
    assert "@maya-chen: #201 (sev1, `run_query`) has waited 15 min" in body
    after = simulate(snapshot(issue, now=now), actions).issue(201)
    assert isinstance(after, Issue)
    assert _plan(after, now) == ()
    later = now + 15 * MIN
    assert _step_markers(_plan(after, later)) == ["escalation-area-owners"]
    area = next(
        a for a in _plan(after, later) if isinstance(a, UpsertComment) and "area" in a.marker
    )
    assert "@dataface/ai-platform: #201 (sev1, `run_query`) has waited 30 min" in area.body
    ops = [a for a in _plan(after, OPENED + 60 * MIN) if "operating-model" in str(a)]
    assert "@dataface/ops-council" in ops[0].body  # type: ignore[attr-defined]


def test_a_sev2_secondary_step_assigns_the_secondary() -> None:
    now = OPENED + 60 * MIN
    issue = _triaged(incident(), OPENED + MIN)
    actions = _plan(issue, now)
    assert actions[0] == EditIssue(
        reason=actions[0].reason,  # type: ignore[attr-defined]
        number=201,
        assignees=("raj-iyer", "maya-chen"),
    )
    assert _step_markers(actions) == ["escalation-secondary"]


@pytest.mark.parametrize(
    "update",
    [
        {"comments_extra": comment(2, "on it", author="raj-iyer", at=OPENED + 10 * MIN)},
        {"labels_extra": "acknowledged"},
    ],
    ids=["assignee-comment", "label"],
)
def test_an_acknowledged_incident_does_not_escalate(update: dict[str, object]) -> None:
    now = OPENED + 60 * MIN
    issue = _sev1(now)
    if "comments_extra" in update:
        issue = issue.model_copy(
            update={"comments": (*(issue.comments or ()), update["comments_extra"])}
        )
    else:
        issue = issue.model_copy(update={"labels": (*issue.labels, "acknowledged")})
    assert _step_markers(_plan(issue, now)) == []


def test_unread_reactions_are_read_before_anyone_is_paged() -> None:
    now = OPENED + 15 * MIN
    issue = _sev1(now, reactions_count=1, reactions=None)
    plan = plan_incidents(policies(), snapshot(issue, now=now), now)
    assert plan.wants == (Want("reactions", 201),) and _step_markers(plan.actions) == []
    acked = issue.model_copy(update={"reactions": (reaction("raj-iyer", OPENED + 2 * MIN),)})
    assert _plan(acked, now) == ()


def test_a_handoff_during_the_incident_pages_who_is_on_call_at_the_steps_time() -> None:
    # Monday 2026-12-07 09:30 UTC (GMT): raj-iyer's shift until the 10:00 handoff, when
    # maya-chen takes ai-primary and tomas-silva ai-secondary; a sev2 steps at 60 min.
    opened = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)
    on_call = policies().oncall
    assert on_call.on_call("ai-primary", opened) == "raj-iyer"
    assert on_call.secondary_on_call("ai-primary", opened) == "maya-chen"
    issue = _triaged(incident(created_at=opened), opened + MIN)
    assert issue.assignees == ("raj-iyer",)
    (step,) = steps(policies(), issue, "sev2")[:1]
    assert step.people == ("tomas-silva",)  # the secondary at 10:30, after the handoff
    actions = _plan(issue, opened + 60 * MIN)
    assert isinstance(actions[0], EditIssue)
    assert actions[0].assignees == ("raj-iyer", "tomas-silva")
    assert "@tomas-silva: #201" in actions[1].body  # type: ignore[attr-defined]


def test_a_handoff_on_the_day_clocks_go_forward_is_at_local_time() -> None:
    # Monday 2026-03-30, the day after the UK went to BST: the 10:00 handoff is 09:00 UTC.
    # A sev2 opened 08:30 UTC steps at 09:30 UTC: after the handoff (a GMT reading would
    # put it before, and page last week's secondary).
    opened = dt.datetime(2026, 3, 30, 8, 30, tzinfo=dt.UTC)
    on_call = policies().oncall
    before = on_call.secondary_on_call("ai-primary", opened)
    after = on_call.secondary_on_call("ai-primary", opened + 60 * MIN)
    assert before != after
    issue = _triaged(incident(created_at=opened), opened + MIN)
    (step, _) = steps(policies(), issue, "sev2")
    assert step.due == dt.datetime(2026, 3, 30, 9, 30, tzinfo=dt.UTC)
    assert step.people == (after,)


def test_steps_are_minutes_of_real_time_across_a_fall_back() -> None:
    # 2026-10-25 01:00 BST is 00:00 UTC; the clocks go back at 02:00 BST. The 240-minute
    # step is due four real hours later (04:00 UTC), not at 05:00 local.
    opened = dt.datetime(2026, 10, 25, 0, 0, tzinfo=dt.UTC)
    issue = _triaged(incident(created_at=opened), opened + MIN)
    due = [s.due for s in steps(policies(), issue, "sev2")]
    assert due == [opened + dt.timedelta(hours=1), opened + dt.timedelta(hours=4)]
    assert due[1].astimezone(ZoneInfo("Europe/London")).hour == 4


# --- status updates ------------------------------------------------------------------------


def _reminders(actions: tuple[object, ...]) -> list[UpsertComment]:
    return [a for a in actions if isinstance(a, UpsertComment) and "status-after" in a.marker]


def test_a_late_status_update_gets_one_reminder_per_gap() -> None:
    ack = comment(5, "Looking into it", author="raj-iyer", at=OPENED + 20 * MIN)
    issue = _triaged(incident(), OPENED + MIN)
    issue = issue.model_copy(update={"comments": (*(issue.comments or ()), ack)})
    # sev2: every 4 h after the last update (the assignee's comment at 10:20).
    assert _reminders(_plan(issue, OPENED + 4 * 60 * MIN + 20 * MIN)) == []
    late = OPENED + 4 * 60 * MIN + 21 * MIN
    (reminder,) = _reminders(_plan(issue, late))
    assert reminder.marker == marker("incidents", "status-after-5")
    assert "@raj-iyer: #201 (sev2) wants a status update every 4 h" in reminder.body
    assert "was 2026-12-03 10:20 UTC by @raj-iyer" in reminder.body
    reminded = simulate(snapshot(issue, now=late), [reminder]).issue(201)
    assert isinstance(reminded, Issue)
    assert _reminders(_plan(reminded, late + 60 * MIN)) == []  # once per gap
    # Anyone's "Status:" line is an update; the clock restarts from it.
    update = comment(7, "Status: mitigated, watching", author="sam-okafor", at=late + MIN)
    updated = reminded.model_copy(update={"comments": (*(reminded.comments or ()), update)})
    assert _reminders(_plan(updated, late + 4 * 60 * MIN)) == []
    (again,) = _reminders(_plan(updated, late + 4 * 60 * MIN + 2 * MIN))
    assert again.marker == marker("incidents", "status-after-7")


def test_sev3_wants_no_status_updates() -> None:
    issue = _triaged(
        incident(
            fields={"error_rate": "1%", "tool": "describe_dataset", "impact": "internal only"}
        ),
        OPENED,
    )
    assert "severity:sev3" in issue.labels
    assert _plan(issue, OPENED + dt.timedelta(days=3)) == ()


# --- postmortems ---------------------------------------------------------------------------


def _closed(issue: Issue, at: dt.datetime, **update: object) -> Issue:
    return issue.model_copy(
        update={"state": "closed", "state_reason": "completed", "closed_at": at, **update}
    )


def test_closing_a_sev2_opens_one_postmortem_with_its_timeline() -> None:
    now = OPENED + 60 * MIN
    issue = _triaged(incident(), OPENED + MIN)
    issue = simulate(snapshot(issue, now=now), _plan(issue, now)).issue(201)  # step 1
    assert isinstance(issue, Issue)
    extra = (
        comment(11, "On it", author="maya-chen", at=OPENED + 70 * MIN),
        comment(
            12,
            "Status: failing over to the US warehouse",
            author="raj-iyer",
            at=OPENED + 2 * 60 * MIN,
        ),
    )
    issue = issue.model_copy(update={"comments": (*(issue.comments or ()), *extra)})
    closed_at = OPENED + 3 * 60 * MIN  # Thursday 13:00 UTC
    closed = _closed(issue, closed_at)
    (action,) = _plan(closed, closed_at + MIN)
    assert isinstance(action, UpsertIssue)
    assert action.title == "Postmortem: #201 run_query failing"
    assert action.labels == ("postmortem",) and action.assignees == ("raj-iyer", "maya-chen")
    assert action.marker == marker("incidents", "postmortem-201")
    # Five working days from Thursday: Fri, Mon, Tue, Wed, Thu.
    assert "| Due | 2026-12-10 13:00 Europe/London (5 working days" in action.body
    rows = [line for line in action.body.splitlines() if line.startswith("| 2026-")]
    assert rows == [
        "| 2026-12-03 10:00 | 0 min | opened by @lena-fischer |",
        "| 2026-12-03 11:00 | 1 h 00 min | escalated to secondary (@maya-chen) |",
        "| 2026-12-03 11:10 | 1 h 10 min | acknowledged by @maya-chen (comment) |",
        "| 2026-12-03 11:10 | 1 h 10 min | update by @maya-chen: On it |",
        "| 2026-12-03 12:00 | 2 h 00 min | update by @raj-iyer: Status: failing over to the US"
        " warehouse |",
        "| 2026-12-03 13:00 | 3 h 00 min | resolved (closed) |",
    ]
    assert "| Time to acknowledge | 1 h 10 min |" in action.body
    # Created once: with the postmortem there, nothing more.
    after = simulate(snapshot(closed, now=closed_at), [action])
    assert plan_incidents(policies(), after, closed_at + MIN).actions == ()


@pytest.mark.parametrize(
    ("update", "why"),
    [
        ({"state_reason": "not_planned"}, "closed as not planned"),
        ({"labels": ("incident", "severity:sev3")}, "sev3"),
    ],
)
def test_no_postmortem(update: dict[str, object], why: str) -> None:
    closed = _closed(incident(), OPENED + 60 * MIN, **update)
    assert _plan(closed, OPENED + 61 * MIN) == (), why


def test_the_label_acknowledgement_time_is_read_for_the_timeline() -> None:
    closed = _closed(
        _triaged(incident(), OPENED + MIN),
        OPENED + 60 * MIN,
    ).model_copy(update={"labels": ("incident", "severity:sev2", "acknowledged")})
    plan = plan_incidents(policies(), snapshot(closed, now=OPENED), OPENED + 61 * MIN)
    assert plan.actions == () and plan.wants == (Want("events", 201),)
    timed = closed.model_copy(
        update={
            "events": (event("labeled", "dev-patel", label="acknowledged", at=OPENED + 9 * MIN),)
        }
    )
    (action,) = _plan(timed, OPENED + 61 * MIN)
    assert "| 2026-12-03 10:09 | 9 min | acknowledged by @dev-patel (label acknowledged) |" in (
        action.body  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize(
    ("closed", "days", "due"),
    [
        # Friday afternoon: the weekend does not count.
        ("2026-12-04T15:00:00+00:00", 1, "2026-12-07T15:00:00+00:00"),
        ("2026-12-04T15:00:00+00:00", 5, "2026-12-11T15:00:00+00:00"),
        # Saturday: counted from Monday.
        ("2026-12-05T10:00:00+00:00", 1, "2026-12-07T10:00:00+00:00"),
        # Across the October fall-back: 14:00 BST (13:00 UTC) stays 14:00 local (GMT).
        ("2026-10-23T13:00:00+00:00", 5, "2026-10-30T14:00:00+00:00"),
        # Across the March spring-forward: 14:00 GMT stays 14:00 local (BST, 13:00 UTC).
        ("2026-03-27T14:00:00+00:00", 1, "2026-03-30T13:00:00+00:00"),
    ],
)
def test_due_in_working_days_in_local_time(closed: str, days: int, due: str) -> None:
    got = add_working_days(dt.datetime.fromisoformat(closed), days, ZoneInfo("Europe/London"))
    assert got == dt.datetime.fromisoformat(due)


def test_an_overdue_postmortem_gets_one_reminder_and_a_closed_one_none() -> None:
    closed_at = OPENED + 60 * MIN
    closed = _closed(_triaged(incident(), OPENED + MIN), closed_at)
    (create,) = _plan(closed, closed_at)
    made = simulate(snapshot(closed, now=closed_at), [create])
    postmortem = next(i for i in made.issues if i.number != 201)
    due = dt.datetime(2026, 12, 10, 11, 0, tzinfo=dt.UTC)  # Thursday + 5 working days
    assert plan_incidents(policies(), made, due).actions == ()
    (reminder,) = plan_incidents(policies(), made, due + MIN).actions
    assert isinstance(reminder, UpsertComment) and reminder.number == postmortem.number
    assert "@raj-iyer: this postmortem of #201 was due 2026-12-10 11:00 UTC" in reminder.body
    reminded = simulate(made, [reminder])
    assert plan_incidents(policies(), reminded, due + 60 * MIN).actions == ()
    done = made.model_copy(
        update={
            "issues": tuple(
                i.model_copy(update={"state": "closed"}) if i.number == postmortem.number else i
                for i in made.issues
            )
        }
    )
    assert plan_incidents(policies(), done, due + MIN).actions == ()


def test_timeline_of_an_incident_without_acknowledgement() -> None:
    closed = _closed(incident(), OPENED + 30 * MIN)
    assert [e.what for e in timeline(policies(), closed)] == [
        "opened by @lena-fischer",
        "resolved (closed)",
    ]
    assert BOT.endswith("[bot]")

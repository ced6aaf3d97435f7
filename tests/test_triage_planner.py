"""The triage planner: exact plans over snapshot tables, people win, duplicates, escalation."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from automation.actions import AddLabels, EditIssue, Plan, UpsertComment
from automation.features.triage.plan import plan_triage
from automation.markers import marker
from automation.policy.loader import Policies
from automation.simulate import simulate
from automation.snapshot.models import Issue, Snapshot
from tests.triage_factories import (
    BOT,
    NOW,
    comment,
    event,
    form_body,
    issue,
    policies,
    snapshot,
    triage_comment,
)

# On call in ai-primary at NOW (Tue 2026-11-24): sam-okafor; secondary (ai-secondary): dev-patel.
ON_CALL = "sam-okafor"


def plan(snap: Snapshot, now: dt.datetime = NOW, pols: Policies | None = None) -> Plan:
    return plan_triage(pols or policies(), snap, now)


def shape(p: Plan) -> list[tuple[object, ...]]:
    """Each action without its prose: what it writes."""
    out: list[tuple[object, ...]] = []
    for a in p.actions:
        if isinstance(a, EditIssue):
            out.append(("edit", a.number, a.labels, a.assignees, a.state))
        elif isinstance(a, UpsertComment):
            out.append(("comment", a.number, a.marker, a.comment_id))
        elif isinstance(a, AddLabels):
            out.append(("add", a.number, a.labels))
        else:
            out.append((a.kind, a.describe()))
    return out


def converges(snap: Snapshot, now: dt.datetime = NOW, pols: Policies | None = None) -> None:
    first = plan(snap, now, pols)
    after = simulate(snap, first)
    assert plan(after, now, pols).actions == ()


TRIAGE = marker("triage", "issue-101")
ESCALATION = marker("triage", "escalation-101")


@pytest.mark.parametrize(
    ("case", "subject", "expected"),
    [
        (
            "sev2 form issue: on-call only",
            issue(),
            [
                (
                    "edit",
                    101,
                    ("eval-regression", "severity:sev2", "area:mcp-server"),
                    (ON_CALL,),
                    None,
                ),
                ("comment", 101, TRIAGE, None),
            ],
        ),
        (
            "sev1: area owner and on-call",
            issue(body=form_body(current="0.70")),
            [
                (
                    "edit",
                    101,
                    ("eval-regression", "severity:sev1", "area:mcp-server"),
                    ("dev-patel", ON_CALL),
                    None,
                ),
                ("comment", 101, TRIAGE, None),
            ],
        ),
        (
            "area from the affected prompt wins over the suite",
            issue(body=form_body(current="0.90", target="prompts/sql_agent.md")),
            [
                (
                    "edit",
                    101,
                    ("eval-regression", "severity:sev3", "area:prompts"),
                    (ON_CALL,),
                    None,
                ),
                ("comment", 101, TRIAGE, None),
            ],
        ),
        (
            "recognised by title alone, no label yet",
            issue(
                labels=(),
                title="Eval regression in chat-e2e latency",
                body=form_body(
                    suite="chat-e2e", metric="p95_latency_ms", baseline="800", current="1000"
                ),
            ),
            [
                (
                    "edit",
                    101,
                    ("eval-regression", "severity:sev2", "area:cloud-chat"),
                    (ON_CALL,),
                    None,
                ),
                ("comment", 101, TRIAGE, None),
            ],
        ),
        (
            "unparseable body: needs-info, still owned",
            issue(body="The evals look bad today."),
            [
                ("edit", 101, ("eval-regression", "area:evals", "needs-info"), (ON_CALL,), None),
                ("comment", 101, TRIAGE, None),
            ],
        ),
        (
            "partial body: severity known, needs-info for the rest",
            issue(body=form_body(run_url=None, commit=None)),
            [
                (
                    "edit",
                    101,
                    ("eval-regression", "severity:sev2", "area:mcp-server", "needs-info"),
                    (ON_CALL,),
                    None,
                ),
                ("comment", 101, TRIAGE, None),
            ],
        ),
        ("not a regression", issue(labels=("bug",), title="Docs typo", body="typo"), []),
        ("closed", issue(state="closed"), []),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_first_triage(case: str, subject: Issue, expected: list[tuple[object, ...]]) -> None:
    snap = snapshot(subject)
    assert shape(plan(snap)) == expected
    converges(snap)


def test_triage_costs_two_writes_and_the_comment_names_what_matters() -> None:
    p = plan(snapshot(issue(body=form_body(run_url=None))))
    assert len(p.actions) == 2
    body = p.actions[1].body  # type: ignore[attr-defined]
    assert body.startswith(TRIAGE)
    assert "**Run URL**" in body
    assert "docs/runbooks/eval-regression.md" in body
    full = plan(snapshot(issue())).actions[1].body  # type: ignore[attr-defined]
    assert "https://github.com/dataface/dataface/blob/main/docs/runbooks/eval-regression.md" in full
    assert "**sev2**" in full and "@sam-okafor" in full and "2026-11-25 11:00 UTC" in full


def test_needs_info_is_removed_once_the_report_is_complete() -> None:
    before = issue(
        labels=("eval-regression", "area:mcp-server", "needs-info"),
        assignees=(ON_CALL,),
        comments=(triage_comment(101),),
        events=(event("labeled", BOT, label="needs-info"),),
    )
    assert shape(plan(snapshot(before))) == [
        ("edit", 101, ("eval-regression", "area:mcp-server", "severity:sev2"), None, None),
        ("comment", 101, TRIAGE, 9001),
    ]
    converges(snapshot(before))


def test_needs_info_a_person_added_stays() -> None:
    subject = issue(
        labels=("eval-regression", "severity:sev2", "area:mcp-server", "needs-info"),
        assignees=(ON_CALL,),
        comments=(triage_comment(101),),
        events=(event("labeled", "maya-chen", label="needs-info"),),
    )
    first = plan(snapshot(subject))
    assert [a for a in first.actions if isinstance(a, EditIssue)] == []
    # The same issue with the label added by the bot: the complete report removes it.
    by_bot = subject.model_copy(update={"events": (event("labeled", BOT, label="needs-info"),)})
    edits = [a for a in plan(snapshot(by_bot)).actions if isinstance(a, EditIssue)]
    assert [e.labels for e in edits] == [("eval-regression", "severity:sev2", "area:mcp-server")]


# --- people win ----------------------------------------------------------------------------


def _triaged(**overrides: object) -> Issue:
    """#101 after its first triage, with the bot's comment in place."""
    first = plan(snapshot(issue()))
    after = simulate(snapshot(issue()), first).issue(101)
    assert isinstance(after, Issue)
    return after.model_copy(update=overrides)


@pytest.mark.parametrize(
    ("case", "overrides"),
    [
        (
            "a person removed the severity label",
            {
                "labels": ("eval-regression", "area:mcp-server"),
                "events": (
                    event("labeled", BOT, label="severity:sev2"),
                    event("unlabeled", "maya-chen", label="severity:sev2"),
                ),
            },
        ),
        (
            "a person removed the area label",
            {
                "labels": ("eval-regression", "severity:sev2"),
                "events": (event("unlabeled", "dev-patel", label="area:mcp-server"),),
            },
        ),
        (
            "a person unassigned the on-call and left it unassigned",
            {
                "assignees": (),
                "events": (
                    event("assigned", BOT, assignee=ON_CALL),
                    event("unassigned", ON_CALL, assignee=ON_CALL),
                ),
            },
        ),
        ("a person reassigned it", {"assignees": ("lena-fischer",), "events": ()}),
        (
            "a person chose another severity",
            {"labels": ("eval-regression", "severity:sev1", "area:mcp-server"), "events": ()},
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_people_win(case: str, overrides: dict[str, object]) -> None:
    subject = _triaged(**overrides)
    edits = [a for a in plan(snapshot(subject)).actions if isinstance(a, EditIssue)]
    assert edits == []
    converges(snapshot(subject))


def test_a_person_severity_shows_in_the_comment() -> None:
    subject = _triaged(labels=("eval-regression", "severity:sev1", "area:mcp-server"), events=())
    actions = plan(snapshot(subject)).actions
    assert shape(plan(snapshot(subject))) == [("comment", 101, TRIAGE, 1001)]
    assert "**sev1**" in actions[0].body  # type: ignore[attr-defined]


def test_a_label_the_bot_added_and_a_person_readded_is_not_a_removal() -> None:
    subject = _triaged(
        labels=("eval-regression", "area:mcp-server"),
        events=(
            event("unlabeled", "maya-chen", label="severity:sev2"),
            event("labeled", "maya-chen", label="severity:sev2"),
            event("unlabeled", BOT, label="severity:sev2"),
        ),
    )
    edits = [a for a in plan(snapshot(subject)).actions if isinstance(a, EditIssue)]
    assert [e.labels for e in edits] == [("eval-regression", "area:mcp-server", "severity:sev2")]


# --- duplicates ----------------------------------------------------------------------------


def _original() -> Issue:
    """#100, open and triaged: the regression later reports repeat."""
    first = snapshot(issue(100))
    after = simulate(first, plan(first)).issue(100)
    assert isinstance(after, Issue)
    return after


def test_duplicate_is_labelled_and_linked_not_assigned() -> None:
    snap = snapshot(_original(), issue(105, body=form_body(current="0.86")))
    p = plan(snap)
    assert shape(p) == [
        (
            "edit",
            105,
            ("eval-regression", "severity:sev2", "area:mcp-server", "duplicate"),
            None,
            None,
        ),
        ("comment", 105, marker("triage", "issue-105"), None),
    ]
    assert "duplicate of #100" in p.actions[1].body  # type: ignore[attr-defined]
    converges(snap)


@pytest.mark.parametrize(
    ("case", "other"),
    [
        ("another metric", issue(105, body=form_body(metric="pass_rate"))),
        ("another suite", issue(105, body=form_body(suite="tool-calling-v2"))),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_not_a_duplicate(case: str, other: Issue) -> None:
    p = plan(snapshot(_original(), other))
    edits = [a for a in p.actions if isinstance(a, EditIssue)]
    assert edits and "duplicate" not in (edits[0].labels or ())


def test_closed_original_is_not_duplicated_and_the_older_one_is_never_the_duplicate() -> None:
    closed = _original().model_copy(update={"state": "closed"})
    p = plan(snapshot(closed, issue(105)))
    assert all("duplicate" not in (a.labels or ()) for a in p.actions if isinstance(a, EditIssue))
    # #100 is older: it is never marked a duplicate of the newer #105; #105 is the duplicate.
    both = plan(snapshot(_original(), _triaged().model_copy(update={"number": 105})))
    assert [a.number for a in both.actions] == [105, 105]
    edits = [a for a in both.actions if isinstance(a, EditIssue)]
    assert [(e.number, "duplicate" in (e.labels or ())) for e in edits] == [(105, True)]
    assert "duplicate of #100" in both.actions[1].body  # type: ignore[attr-defined]


def test_duplicate_is_closed_when_the_policy_says_so() -> None:
    base = policies()
    triage = base.triage.model_copy(
        update={"duplicates": base.triage.duplicates.model_copy(update={"close": True})}
    )
    pols = dataclasses.replace(base, triage=triage)
    snap = snapshot(_original(), issue(105))
    p = plan(snap, pols=pols)
    # Labels, the comment, then the close: a closed issue is no longer triaged.
    assert [type(a).__name__ for a in p.actions] == ["EditIssue", "UpsertComment", "EditIssue"]
    edits = [a for a in p.actions if isinstance(a, EditIssue)]
    assert [(e.state, e.state_reason) for e in edits] == [(None, None), ("closed", "not_planned")]
    converges(snap, pols=pols)


def test_duplicate_decision_is_remembered_when_the_original_is_not_read() -> None:
    snap = snapshot(_original(), issue(105))
    after = simulate(snap, plan(snap))
    alone = snapshot(*(i for i in after.issues if i.number == 105))
    assert plan(alone).actions == ()


# --- escalation ----------------------------------------------------------------------------

DAY = dt.timedelta(hours=24)


def _escalation_case(**overrides: object) -> Snapshot:
    first = snapshot(issue(created_at=NOW - DAY - dt.timedelta(minutes=1)))
    after = simulate(first, plan(first, NOW - DAY))
    subject = after.issue(101)
    assert isinstance(subject, Issue)
    return snapshot(subject.model_copy(update=overrides))


def test_escalates_once_past_the_sla() -> None:
    snap = _escalation_case()
    p = plan(snap)
    assert shape(p) == [("add", 101, ("escalated",)), ("comment", 101, ESCALATION, None)]
    text = p.actions[-1].body  # type: ignore[attr-defined]
    assert "@dev-patel (secondary on call)" in text
    assert "@dataface/ai-platform" in text
    after = simulate(snap, p)
    assert plan(after).actions == ()
    # A person removes the escalated label: the escalation is not repeated.
    issue_after = after.issue(101)
    assert isinstance(issue_after, Issue)
    removed = issue_after.model_copy(
        update={
            "labels": tuple(x for x in issue_after.labels if x != "escalated"),
            "events": (event("unlabeled", "maya-chen", label="escalated"),),
        }
    )
    assert plan(snapshot(removed), NOW + DAY).actions == ()


@pytest.mark.parametrize(
    ("case", "overrides", "now", "escalates"),
    [
        ("just before the deadline", {}, NOW - dt.timedelta(minutes=2), False),
        ("exactly at the deadline", {}, NOW - dt.timedelta(minutes=1), True),
        ("past the deadline", {}, NOW, True),
        (
            "acknowledged by the triaged label",
            {"labels": ("eval-regression", "severity:sev2", "area:mcp-server", "triaged")},
            NOW,
            False,
        ),
        (
            "acknowledged by the assignee's comment",
            {"comments_extra": comment(77, "looking", author="sam-okafor")},
            NOW,
            False,
        ),
        (
            "a comment by someone else is no acknowledgement",
            {"comments_extra": comment(77, "+1", author="lena-fischer")},
            NOW,
            True,
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_escalation_table(
    case: str, overrides: dict[str, object], now: dt.datetime, escalates: bool
) -> None:
    extra = overrides.pop("comments_extra", None)
    snap = _escalation_case(**overrides)
    if extra is not None:
        subject = snap.issues[0]
        snap = snapshot(
            subject.model_copy(
                update={"comments": (*(subject.comments or ()), extra), "comments_count": 2}
            )
        )
    markers = [a.marker for a in plan(snap, now).actions if isinstance(a, UpsertComment)]
    assert (ESCALATION in markers) is escalates
    converges(snap, now)


def test_issues_whose_comments_were_not_read_are_context_only() -> None:
    for subject in (issue(comments=None, comments_count=3), issue(comments=None)):
        assert plan(snapshot(subject)) == Plan("triage")


def test_an_assignee_github_dropped_is_not_retried_forever() -> None:
    # The triage edit landed (the bot's labels are there) but GitHub dropped the assignee,
    # e.g. a login without access to the repository.
    subject = _triaged(
        assignees=(),
        events=(
            event("labeled", BOT, label="severity:sev2"),
            event("labeled", BOT, label="area:mcp-server"),
        ),
    )
    assert [a for a in plan(snapshot(subject)).actions if isinstance(a, EditIssue)] == []
    # Without any sign of the bot's edit (it failed), the whole edit is tried again.
    retry = _triaged(assignees=(), labels=("eval-regression",), events=())
    edits = [a for a in plan(snapshot(retry)).actions if isinstance(a, EditIssue)]
    assert [(e.labels, e.assignees) for e in edits] == [
        (("eval-regression", "severity:sev2", "area:mcp-server"), (ON_CALL,))
    ]


def test_an_absurd_number_asks_for_info_instead_of_crashing_the_sweep() -> None:
    # Decimal("1e999999999") parses, but sizing it overflowed and stopped every issue's plan.
    odd = issue(101, body=form_body(baseline="1e999999999"))
    fine = issue(102, body=form_body(suite="retrieval", metric="recall"))
    p = plan(snapshot(odd, fine))
    edits = {a.number: a for a in p.actions if isinstance(a, EditIssue)}
    assert edits[101].labels is not None and "needs-info" in edits[101].labels
    assert 102 in edits
    assert all(len(a.body) < 65_536 for a in p.actions if isinstance(a, UpsertComment))


@pytest.mark.parametrize(
    "where",
    [
        {"body": form_body(suite=f"tool-calling {ESCALATION}")},
        {"body": form_body(metric="accuracy <!-- dataface-ops:triage-data key=0 -->")},
        {"title": f"Eval regression: tool-calling accuracy {ESCALATION}"},
    ],
    ids=["suite", "metric", "title"],
)
def test_a_marker_typed_into_the_report_does_not_pass_for_ours(where: dict[str, str]) -> None:
    # The summary echoes the report: a marker in a field or the title made the bot's own
    # summary look like the escalation record, so the regression never escalated.
    first = snapshot(issue(created_at=NOW - DAY - dt.timedelta(minutes=1), **where))
    summary = [a for a in plan(first, NOW - DAY).actions if isinstance(a, UpsertComment)]
    assert len(summary) == 1
    assert summary[0].body.count("<!-- dataface-ops:") == 2  # its marker and its data
    after = simulate(first, plan(first, NOW - DAY))
    markers = [a.marker for a in plan(after, NOW).actions if isinstance(a, UpsertComment)]
    assert markers == [ESCALATION]

"""Issue 12's seen cases for triage, escalation and the on-call handoff: a decision carried by
two writes is derived again from whichever half landed, and a comment's text is a function of
the state and the policy, never of when it is written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from automation.actions import AddLabels, EditIssue, UpsertComment, UpsertIssue
from automation.features.oncall.plan import plan_oncall
from automation.features.triage.plan import plan_triage
from automation.markers import marker
from automation.policy.loader import Policies
from automation.simulate import simulate
from automation.snapshot.models import Issue, Snapshot
from tests.faults import scenarios
from tests.faults.harness import Scenario, baseline, run_once
from tests.faults.injector import FaultyGitHub
from tests.faults.issues import BOT as TOKEN_BOT
from tests.faults.issues import FakeIssues
from tests.triage_factories import BOT, NOW, event, issue, policies, snapshot

ESCALATION = marker("triage", "escalation-101")
DAY = dt.timedelta(hours=24)


def _escalation_case(filed: dt.datetime) -> Snapshot:
    """#101 filed and triaged at `filed` (sev2: due a day later), never acknowledged."""
    first = snapshot(issue(created_at=filed), now=filed)
    after = simulate(first, plan_triage(policies(), first, filed))
    return snapshot(*after.issues, now=filed + DAY)


def test_case_1_escalation_whose_label_was_lost_gets_it_back_and_no_second_comment() -> None:
    snap = _escalation_case(NOW - DAY - dt.timedelta(hours=1))
    first = plan_triage(policies(), snap, NOW)
    label, note = first.actions
    assert isinstance(label, AddLabels) and label.labels == ("escalated",)
    assert isinstance(note, UpsertComment) and note.marker == ESCALATION
    # The label's POST failed and was not applied; the comment went out.
    half = simulate(snap, [note])
    again = plan_triage(policies(), half, NOW + dt.timedelta(hours=1))
    assert [(type(a), getattr(a, "labels", None)) for a in again.actions] == [
        (AddLabels, ("escalated",))
    ]
    assert plan_triage(policies(), simulate(half, again), NOW).actions == ()


def test_case_1_a_person_who_took_escalated_off_still_wins() -> None:
    snap = _escalation_case(NOW - DAY - dt.timedelta(hours=1))
    after = simulate(snap, plan_triage(policies(), snap, NOW))
    subject = after.issue(101)
    assert isinstance(subject, Issue) and "escalated" in subject.labels
    removed = subject.model_copy(
        update={
            "labels": tuple(x for x in subject.labels if x != "escalated"),
            "events": (
                *(subject.events or ()),
                event("unlabeled", "maya-chen", label="escalated", at=NOW),
            ),
        }
    )
    assert plan_triage(policies(), snapshot(removed), NOW + DAY).actions == ()


def test_case_1_the_sweep_reads_the_events_before_it_puts_escalated_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the collector: a person's removal is in the events, which must be read."""

    def build(mock: FaultyGitHub) -> scenarios.World:
        world = scenarios.build_escalation(mock)
        fake = world.fake  # type: ignore[attr-defined]
        assert isinstance(fake, FakeIssues)
        # Escalated yesterday by the bot; then a person took the label off.
        fake.now = NOW - dt.timedelta(hours=2)
        fake._set_labels(101, [*(x["name"] for x in fake.issues[101]["labels"]), "escalated"])
        fake.comment(101, TOKEN_BOT, f"{ESCALATION}\nEscalation.\n", fake.now)
        fake.event(101, "unlabeled", "maya-chen", NOW - dt.timedelta(hours=1), label="escalated")
        fake.issues[101]["labels"] = [
            x for x in fake.issues[101]["labels"] if x["name"] != "escalated"
        ]
        return world

    scenario = Scenario("removed", build, ("apply", "triage"), scenarios.ESCALATED_AT)
    mock = FaultyGitHub()
    mock.start()
    try:
        world = build(mock)
        run = run_once(scenario, mock, world, scenario.at, tmp_path, monkeypatch)
        assert (run.code, run.writes) == (0, 0), run.out + run.err
        assert mock.count("GET", "/issues/101/events") == 1
    finally:
        problems = mock.problems()
        mock.stop(allow_assert=False)
    assert problems == []


def test_case_3_the_escalation_text_does_not_depend_on_when_it_is_written() -> None:
    # Due Mon 2026-11-30 09:00 UTC; the ai-primary handoff is at 10:00, and the run that
    # escalates may be rate-limited at 09:30 and resumed at 10:30.
    snap = _escalation_case(dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC))
    bodies = set()
    for when in ("2026-11-30T09:30:00+00:00", "2026-11-30T10:30:00+00:00"):
        p = plan_triage(policies(), snap, dt.datetime.fromisoformat(when))
        bodies |= {a.body for a in p.actions if isinstance(a, UpsertComment)}
    assert len(bodies) == 1, bodies
    (body,) = bodies
    # Who was secondary when the SLA ran out (Sun 2026-11-29 .. Mon 10:00: sam-okafor's shift).
    assert "@dev-patel (secondary on call)" in body


# --- the on-call handoff -----------------------------------------------------------------

WEEK = dt.timedelta(days=7)
NEXT = NOW + WEEK  # Tue 2026-12-01, raj-iyer's shift since Mon 2026-11-30 10:00


def _pinned() -> Issue:
    created = NOW - WEEK
    snap = snapshot(now=created)
    first = plan_oncall(policies(), snap, created)
    made = simulate(snap, first).issues[0]
    return made.model_copy(update={"number": 7, "created_at": created, "comments": ()})


def _regression() -> Issue:
    return issue(
        labels=("eval-regression", "severity:sev2", "area:mcp-server"),
        assignees=("sam-okafor",),
        events=(event("assigned", BOT, assignee="sam-okafor", at=NOW - dt.timedelta(hours=1)),),
    )


def _note(actions: tuple[object, ...]) -> str:
    (note,) = [a for a in actions if isinstance(a, UpsertComment)]
    return note.body


def test_case_3_the_handoff_note_does_not_depend_on_when_it_is_written() -> None:
    snap = snapshot(_pinned(), _regression())
    notes = {
        _note(plan_oncall(policies(), snap, at).actions)
        for at in (NEXT, NEXT + dt.timedelta(hours=3))
    }
    assert len(notes) == 1, notes


def test_case_3_the_handoff_note_is_the_same_when_the_hand_over_landed_first() -> None:
    """A run whose note failed after the hand-over edit went through: the next run writes
    the note the unfaulted run would have written."""
    snap = snapshot(_pinned(), _regression(), now=NEXT)
    first = plan_oncall(policies(), snap, NEXT)
    kinds = [type(a) for a in first.actions]
    assert kinds == [UpsertIssue, EditIssue, UpsertComment]
    landed = simulate(snap, first.actions[:2])
    resumed = plan_oncall(policies(), landed, NEXT + dt.timedelta(hours=1))
    assert [type(a) for a in resumed.actions] == [UpsertComment]
    assert _note(resumed.actions) == _note(first.actions)
    assert "Handed to @raj-iyer (nobody had acknowledged them): #101" in _note(resumed.actions)


def test_an_unfaulted_escalation_baseline_writes_the_label_then_the_comment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = baseline(scenarios.ESCALATION, tmp_path, monkeypatch)
    assert expected.writes == 2
    labels = expected.state["#101"]["labels"]
    assert "escalated" in labels
    assert [body.split("\n")[0] for _, body in expected.state["#101"]["comments"]] == [
        marker("triage", "issue-101"),
        ESCALATION,
    ]


# --- a duplicate the policy closes: the comment before the close ---------------------


def _closing() -> Policies:
    import dataclasses

    base = policies()
    duplicates = base.triage.duplicates.model_copy(update={"close": True})
    return dataclasses.replace(
        base, triage=base.triage.model_copy(update={"duplicates": duplicates})
    )


def _duplicate_case() -> Snapshot:
    first = snapshot(issue(100))
    original = simulate(first, plan_triage(policies(), first, NOW)).issue(100)
    assert isinstance(original, Issue)
    return snapshot(original, issue(105, events=()))


def test_a_duplicate_is_closed_only_after_its_comment() -> None:
    pols = _closing()
    p = plan_triage(pols, _duplicate_case(), NOW)
    kinds = [(type(a).__name__, getattr(a, "state", None)) for a in p.actions]
    # A closed issue is no longer triaged: closed first, its comment could never follow.
    assert kinds == [("EditIssue", None), ("UpsertComment", None), ("EditIssue", "closed")]


def test_a_duplicate_whose_close_failed_is_closed_by_the_next_run() -> None:
    pols = _closing()
    snap = _duplicate_case()
    p = plan_triage(pols, snap, NOW)
    landed = simulate(snap, p.actions[:2])  # the close's PATCH failed
    again = plan_triage(pols, landed, NOW + dt.timedelta(hours=1))
    assert [(type(a).__name__, getattr(a, "state", None)) for a in again.actions] == [
        ("EditIssue", "closed")
    ]


def test_a_duplicate_a_person_reopened_stays_open() -> None:
    pols = _closing()
    snap = _duplicate_case()
    closed = simulate(snap, plan_triage(pols, snap, NOW))
    subject = closed.issue(105)
    assert isinstance(subject, Issue) and subject.state == "closed"
    reopened = subject.model_copy(
        update={
            "state": "open",
            "events": (*(subject.events or ()), event("reopened", "maya-chen", at=NOW)),
        }
    )
    later = snapshot(*(i for i in closed.issues if i.number != 105), reopened)
    again = plan_triage(pols, later, NOW + dt.timedelta(hours=1))
    assert [a for a in again.actions if getattr(a, "number", None) == 105] == []


# --- the executor: a write GitHub failed holds back the later writes to that issue ----


def test_after_github_fails_a_write_the_later_writes_to_that_issue_wait(
    github: object,
) -> None:
    from automation.actions import Plan
    from automation.execute import execute
    from automation.github import make_github
    from automation.settings import Settings
    from tests.github_api import checker
    from tests.github_api.fixtures import GitHubMock

    assert isinstance(github, GitHubMock)
    api = "/repos/o/r"
    github.patch(f"{api}/issues/5", status=502, json={"message": "Server Error"})
    github.post(f"{api}/issues/6/labels", json=[checker.label_json("x", repo="o/r")])
    tag = marker("triage", "issue-5")
    plan = Plan(
        "triage",
        (
            EditIssue(reason="r", number=5, labels=("x",)),
            AddLabels(reason="r", number=6, labels=("x",)),
            UpsertComment(reason="r", number=5, marker=tag, body=f"{tag}\nsummary"),
        ),
    )
    repo = make_github(Settings(repo="o/r", token="t", pacing=False)).get_repo("o/r")
    report = execute([plan], repo)
    assert [(o.status, o.action.number) for o in report.outcomes] == [  # type: ignore[attr-defined]
        ("failed", 5),
        ("applied", 6),
        ("skipped", 5),
    ]
    assert "#5 failed" in report.outcomes[2].detail
    assert github.count("POST", "/issues/5/comments") == 0
    assert not report.ok


def test_a_write_github_refuses_for_good_does_not_hold_back_the_rest(github: object) -> None:
    """A locked issue refuses comments to apps (403), but its labels still go on."""
    from automation.actions import Plan
    from automation.execute import execute
    from automation.github import make_github
    from automation.settings import Settings
    from tests.github_api import checker
    from tests.github_api.fixtures import GitHubMock

    assert isinstance(github, GitHubMock)
    api = "/repos/o/r"
    github.post(
        f"{api}/issues/5/comments",
        status=403,
        json={"message": "Unable to create comment because issue is locked."},
    )
    github.post(f"{api}/issues/5/labels", json=[checker.label_json("stale", repo="o/r")])
    tag = marker("stale", "warning-5")
    plan = Plan(
        "stale",
        (
            UpsertComment(reason="r", number=5, marker=tag, body=f"{tag}\nwarning"),
            AddLabels(reason="r", number=5, labels=("stale",)),
        ),
    )
    repo = make_github(Settings(repo="o/r", token="t", pacing=False)).get_repo("o/r")
    report = execute([plan], repo)
    assert [o.status for o in report.outcomes] == ["failed", "applied"]

"""Table tests for each figure of the retrospective, its period, its proposals, its policy
edits and its plan (pure: snapshots built by hand, no network)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from automation.actions import CommitFiles, UpsertPullRequest
from automation.features.retro import figures
from automation.features.retro.plan import plan_period, plan_retro
from automation.features.retro.propose import build_report
from automation.policy.edit import Edit, EditError, apply_edit
from automation.policy.loader import PolicyError, load_policy_dir, reload_with
from automation.policy.policies import Policies
from automation.rules.incidents import figures as incident_figures
from automation.rules.retro import (
    PR_MARKER,
    due_period,
    last_period,
    period_between,
    tree_key,
)
from automation.rules.reviews import review_figures
from automation.simulate import simulate
from automation.snapshot.models import (
    ChangedFile,
    Comment,
    Issue,
    IssueEvent,
    PolicyFiles,
    PullRequest,
    Reaction,
    Review,
    Snapshot,
)

ROOT = Path(__file__).resolve().parent.parent
POLICIES = load_policy_dir(ROOT / "policies")
BOT = "github-actions[bot]"
T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)  # a Monday
PERIOD = period_between(
    dt.datetime(2026, 3, 1, tzinfo=dt.UTC), dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
)
NOW = dt.datetime(2026, 4, 2, tzinfo=dt.UTC)


def ev(kind: str, actor: str, hours: float, **kw: object) -> IssueEvent:
    return IssueEvent(
        event=kind,
        actor=actor,
        actor_is_bot=actor.endswith("[bot]"),
        created_at=T0 + dt.timedelta(hours=hours),
        **kw,  # type: ignore[arg-type]
    )


def issue(number: int, labels: list[str], events: list[IssueEvent], **kw: object) -> Issue:
    return Issue(
        number=number,
        title=f"#{number}",
        author="tomas-silva",
        labels=tuple(labels),
        created_at=kw.pop("created_at", T0),  # type: ignore[arg-type]
        updated_at=T0,
        events=tuple(events),
        **kw,  # type: ignore[arg-type]
    )


def snap(*items: Issue, now: dt.datetime = NOW) -> Snapshot:
    return Snapshot(
        repo="o/r",
        taken_at=now,
        bot_login=BOT,
        issues=tuple(i for i in items if not isinstance(i, PullRequest)),
        pulls=tuple(i for i in items if isinstance(i, PullRequest)),
    )


# --- triage --------------------------------------------------------------------------------

SEV2 = ["eval-regression", "severity:sev2"]


@pytest.mark.parametrize(
    ("events", "closed_hours", "decided", "met", "escalated"),
    [
        ([ev("labeled", "maya-chen", 3, label="triaged")], None, 1, 1, 0),
        # A comment by an assignee acknowledges; by someone else it does not.
        (
            [ev("assigned", BOT, 0, assignee="dev-patel"), ev("commented", "dev-patel", 5)],
            None,
            1,
            1,
            0,
        ),
        ([ev("commented", "lena-fischer", 5)], None, 1, 0, 0),
        # Late, and escalated by the project at the deadline.
        (
            [
                ev("labeled", BOT, 24, label="escalated"),
                ev("labeled", "maya-chen", 30, label="triaged"),
            ],
            None,
            1,
            0,
            1,
        ),
        # The project's own `triaged` label is no acknowledgement.
        ([ev("labeled", BOT, 1, label="triaged")], None, 1, 0, 0),
        # Closed unacknowledged before the deadline: a false alarm, not judged.
        ([], 2, 0, 0, 0),
    ],
)
def test_triage_sla_met(
    events: list[IssueEvent], closed_hours: float | None, decided: int, met: int, escalated: int
) -> None:
    closed = T0 + dt.timedelta(hours=closed_hours) if closed_hours is not None else None
    item = issue(1, SEV2, events, closed_at=closed, state="closed" if closed else "open")
    rows = {r.severity: r for r in figures.triage_rows(POLICIES, snap(item), PERIOD, 0.9)}
    assert (rows["sev2"].decided, rows["sev2"].met, rows["sev2"].escalated) == (
        decided,
        met,
        escalated,
    )
    assert rows["sev2"].sla_hours == 24


def test_triage_deadline_not_reached_is_not_judged() -> None:
    item = issue(1, SEV2, [])
    rows = {
        r.severity: r
        for r in figures.triage_rows(
            POLICIES, snap(item, now=T0 + dt.timedelta(hours=2)), PERIOD, 0.9
        )
    }
    assert (rows["sev2"].regressions, rows["sev2"].decided) == (1, 0)


def test_triage_outside_the_period_is_left_out() -> None:
    item = issue(1, SEV2, [], created_at=PERIOD.until + dt.timedelta(hours=1))
    rows = {r.severity: r for r in figures.triage_rows(POLICIES, snap(item), PERIOD, 0.9)}
    assert rows["sev2"].regressions == 0


# --- on call -------------------------------------------------------------------------------


def test_pages_split_on_call_and_area_nights_in_the_persons_zone() -> None:
    on_call = POLICIES.oncall.on_call("ai-primary", T0)
    # 09:00 UTC Monday is 01:00 in Los Angeles (maya-chen): a night page for her.
    items = [
        issue(1, ["eval-regression"], [ev("assigned", BOT, 0, assignee=on_call)]),
        issue(2, ["eval-regression", "area:evals"], [ev("assigned", BOT, 0, assignee="raj-iyer")]),
        issue(3, ["incident"], [ev("assigned", BOT, 0, assignee="maya-chen")]),
        # A person assigning is no page.
        issue(4, ["eval-regression"], [ev("assigned", "sam-okafor", 0, assignee="sam-okafor")]),
    ]
    load = figures.oncall_load(POLICIES, snap(*items), PERIOD)
    rows = {r.login: r for r in load.rows}
    assert rows[on_call].on_call_pages >= 1
    if on_call != "raj-iyer":
        assert (rows["raj-iyer"].pages, rows["raj-iyer"].area_pages) == (1, 1)
    assert rows["maya-chen"].nights_and_weekends == 1
    assert rows["sam-okafor"].pages == 0
    # Hours on call follow the rotation: a month is about four weekly shifts among four people.
    assert sum(r.hours_on_call for r in load.rows) == pytest.approx(31 * 24)
    assert all(r.weekend_hours_on_call <= r.hours_on_call for r in load.rows)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1, 1, 1, 1], 0.0), ([0, 0, 0, 4], 0.75), ([], None), ([0, 0], None)],
)
def test_gini(values: list[float], expected: float | None) -> None:
    assert figures.gini(values) == expected


# --- stale ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "closes"),
    [
        ([ev("labeled", BOT, 0, label="stale"), ev("closed", BOT, 1)], [False]),
        (
            [
                ev("labeled", BOT, 0, label="stale"),
                ev("closed", BOT, 1),
                ev("reopened", "lena-fischer", 5),
            ],
            [True],
        ),
        # Reopened by a bot: no person undid it.
        (
            [ev("labeled", BOT, 0, label="stale"), ev("closed", BOT, 1), ev("reopened", BOT, 5)],
            [False],
        ),
        # Closed by a person, or by the bot without the stale label: not the sweep's close.
        ([ev("labeled", BOT, 0, label="stale"), ev("closed", "maya-chen", 1)], []),
        (
            [
                ev("labeled", BOT, 0, label="stale"),
                ev("unlabeled", "maya-chen", 1, label="stale"),
                ev("closed", BOT, 2),
            ],
            [],
        ),
    ],
)
def test_stale_closes(events: list[IssueEvent], closes: list[bool]) -> None:
    item = issue(1, [], events)
    assert [again for _, again in figures.stale_closes(POLICIES, item, BOT)] == closes


def test_false_close_rate_per_rule() -> None:
    close = [ev("labeled", BOT, 0, label="stale"), ev("closed", BOT, 1)]
    undo = [*close, ev("reopened", "dev-patel", 2)]
    pull = PullRequest(
        number=9, title="x", author="dev-patel", created_at=T0, updated_at=T0, events=tuple(undo)
    )
    items = [issue(1, ["stale"], close), issue(2, [], undo), pull]
    rows = {r.rule: r for r in figures.stale_rows(POLICIES, snap(*items), PERIOD)}
    assert (rows["backlog"].closed, rows["backlog"].reopened) == ([1, 2], [2])
    assert rows["backlog"].false_close_rate == 0.5
    assert (rows["pull-requests"].closed, rows["pull-requests"].reopened) == ([9], [9])


# --- trains --------------------------------------------------------------------------------


def train(number: int, day: str, merged: dt.datetime) -> PullRequest:
    return PullRequest(
        number=number,
        title=f"Release train {day}",
        author=BOT,
        author_is_bot=True,
        labels=("release-train",),
        created_at=merged,
        updated_at=merged,
        state="closed",
        merged=True,
        merged_at=merged,
    )


def test_trains_late_skipped_and_held() -> None:
    december = period_between(
        dt.datetime(2026, 12, 1, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    )
    london = dt.timedelta(hours=0)  # GMT in December
    at = lambda day, hour: dt.datetime(2026, 12, day, 15 + hour, tzinfo=dt.UTC) + london  # noqa: E731
    pulls = [
        train(1, "2026-12-01", at(1, 2)),  # on time
        train(2, "2026-12-09", at(11, 1)),  # held by the blackout to the 9th, then two days late
        # 2026-12-15: nothing merged (skipped); 22nd and 29th: the freeze, leaving in January.
    ]
    result = figures.trains(POLICIES, snap(*pulls), december)
    assert [r.slot.isoformat() for r in result.rows] == [
        "2026-12-01",
        "2026-12-08",
        "2026-12-15",
        "2026-12-22",
        "2026-12-29",
    ]
    assert [r.number for r in result.late] == [2]
    assert [r.slot.isoformat() for r in result.skipped] == ["2026-12-15"]
    assert [r.slot.isoformat() for r in result.held] == ["2026-12-08", "2026-12-22", "2026-12-29"]


# --- reviews and incidents: the features' own figures ------------------------------------


def reviewed(
    number: int,
    path: str,
    hours: float,
    reviewer: str = "lena-fischer",
    created: dt.datetime = T0,
    **kw: object,
) -> PullRequest:
    """A PR opened at `created` touching `path`, first reviewed by `reviewer` `hours` later."""
    return PullRequest(
        number=number,
        title="x",
        author="tomas-silva",
        created_at=created,
        updated_at=created,
        events=(),
        files=(ChangedFile(filename=path),),
        reviews=(
            Review(
                id=number,
                user=reviewer,
                state="APPROVED",
                submitted_at=created + dt.timedelta(hours=hours),
            ),
        ),
        **kw,  # type: ignore[arg-type]
    )


def test_review_rows_are_the_review_loops_figures_over_the_period() -> None:
    pulls = [
        reviewed(1, "prompts/a.md", 10),
        reviewed(2, "prompts/b.md", 30, reviewer="maya-chen"),
        # Opened before the period: not this period's wait.
        reviewed(3, "prompts/c.md", 500, created=T0 - dt.timedelta(days=30)),
        # Files not read (no review by a person): not counted, as in the review loop.
        reviewed(4, "prompts/d.md", 400).model_copy(update={"files": None}),
        # A review by someone who does not own the area does not end the wait.
        reviewed(5, "evals/x.py", 1, reviewer="dev-patel"),
    ]
    report = build_report(POLICIES, snap(*pulls), PERIOD)
    in_period = [p for p in pulls if p.created_at in PERIOD]
    assert report.reviews == review_figures(POLICIES, in_period)
    rows = {r.area: r for r in report.reviews}
    assert set(rows) == {"prompts"}
    assert (rows["prompts"].reviewed, rows["prompts"].first_review_p90) == (2, 30)


def incident(
    number: int, severity: str, ack: float | None, resolve: float | None, **kw: object
) -> Issue:
    """An incident held by dev-patel, acknowledged by their comment `ack` hours after it was
    opened, closed `resolve` hours after."""
    comments = ()
    if ack is not None:
        at = T0 + dt.timedelta(hours=ack)
        comments = (
            Comment(id=number, author="dev-patel", body="on it", created_at=at, updated_at=at),
        )
    return issue(
        number,
        ["incident", f"severity:{severity}"],
        [],
        assignees=("dev-patel",),
        comments=comments,
        state="closed" if resolve is not None else "open",
        closed_at=None if resolve is None else T0 + dt.timedelta(hours=resolve),
        **kw,
    )


def test_incident_rows_are_the_incident_features_figures() -> None:
    at = T0 + dt.timedelta(hours=2)
    items = [
        incident(1, "sev1", 0.5, 4),
        incident(
            2,
            "sev1",
            None,
            8,
            reactions=(Reaction(id=1, user="dev-patel", content="eyes", created_at=at),),
        ),
        # A comment by someone who does not hold it is no acknowledgement; the label is.
        issue(
            3,
            ["incident", "severity:sev2", "acknowledged"],
            [ev("labeled", "maya-chen", 3, label="acknowledged")],
            comments=(Comment(id=9, author="maya-chen", body="+1", created_at=T0, updated_at=T0),),
        ),
    ]
    report = build_report(POLICIES, snap(*items), PERIOD)
    assert report.incidents == incident_figures(POLICIES, items, PERIOD.since, PERIOD.until)
    rows = {r.severity: r for r in report.incidents}
    hour = dt.timedelta(hours=1)
    assert (rows["sev1"].mtta_median, rows["sev1"].mttr_median) == (1.25 * hour, 6 * hour)
    assert (rows["sev2"].mtta_median, rows["sev2"].closed, rows["sev2"].mttr_median) == (
        3 * hour,
        0,
        None,
    )


# --- period --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "now", "label", "since", "due"),
    [
        ("monthly", "2026-12-02T06:00", "2026-11", "2026-11-01", True),
        ("monthly", "2026-12-05T06:00", "2026-11", "2026-11-01", False),
        ("monthly", "2026-01-01T00:00", "2025-12", "2025-12-01", True),
        ("weekly", "2026-11-30T10:00", "2026-W48", "2026-11-23", True),
        ("quarterly", "2027-01-02T00:00", "2026-Q4", "2026-10-01", True),
        ("quarterly", "2026-05-02T00:00", "2026-Q1", "2026-01-01", False),
    ],
)
def test_period_and_due(schedule: str, now: str, label: str, since: str, due: bool) -> None:
    policy = POLICIES.retro.model_copy(update={"schedule": schedule})
    at = dt.datetime.fromisoformat(now).replace(tzinfo=dt.UTC)
    period = last_period(policy, at)
    assert (period.label, period.since.date().isoformat()) == (label, since)
    assert (due_period(policy, at) is not None) == due


# --- edits ---------------------------------------------------------------------------------


def test_edit_keeps_comments_and_refuses_what_it_cannot_do() -> None:
    text = (
        "# head\nrules:\n  - name: a  # the first\n    days: 30   # keep me\nflow: {x: 1, y: 2}\n"
    )
    out = apply_edit(text, Edit("stale", ("rules", 0, "days"), 30, 45))
    assert out == text.replace("days: 30   # keep me", "days: 45   # keep me")
    out = apply_edit(text, Edit("stale", ("flow", "y"), 2, 3))
    assert "flow: {x: 1, y: 3}" in out
    out = apply_edit(text, Edit("stale", ("every",), None, 2, after=("flow",)))
    assert out.endswith("flow: {x: 1, y: 2}\nevery: 2\n")
    with pytest.raises(EditError, match="not set"):
        apply_edit(text, Edit("stale", ("rules", 0, "missing"), 1, 2))
    with pytest.raises(EditError, match="one line"):
        apply_edit("a:\n  - 1\n", Edit("stale", ("a",), None, 2))


def test_edits_that_break_the_model_are_refused() -> None:
    text = (ROOT / "policies/stale.yaml").read_text()
    bad = apply_edit(text, Edit("stale", ("rules", 0, "days_until_stale"), 30, -1))
    with pytest.raises(PolicyError, match="days_until_stale"):
        reload_with(POLICIES, {"stale": bad})


# --- proposals and the plan ----------------------------------------------------------------


# No train PRs in these snapshots: every departure would count as skipped.
QUIET_TRAINS = dataclasses.replace(
    POLICIES,
    retro=POLICIES.retro.model_copy(
        update={"thresholds": POLICIES.retro.thresholds.model_copy(update={"trains_skipped": 99})}
    ),
)


def _stale_history(closed: int, reopened: int) -> list[PullRequest]:
    out = []
    for n in range(closed):
        events = [ev("labeled", BOT, 0, label="stale"), ev("closed", BOT, 1)]
        if n < reopened:
            events.append(ev("reopened", "dev-patel", 2))
        out.append(
            PullRequest(
                number=100 + n,
                title="x",
                author="dev-patel",
                created_at=T0 - dt.timedelta(days=90),
                updated_at=T0,
                events=tuple(events),
            )
        )
    return out


@pytest.mark.parametrize(
    ("closed", "reopened", "proposed"),
    [(10, 1, False), (10, 2, True), (4, 2, False)],  # 10 % is within; 4 closes are too few
)
def test_stale_threshold(closed: int, reopened: int, proposed: bool) -> None:
    report = build_report(QUIET_TRAINS, snap(*_stale_history(closed, reopened)), PERIOD)
    assert bool([f for f in report.findings if f.policy == "stale"]) == proposed


def _slow(area_path: str, count: int, hours: float, start: int = 200) -> list[PullRequest]:
    """`count` PRs under `area_path`, the last one reviewed `hours` after it was opened."""
    return [reviewed(start + n, area_path, hours if n == count - 1 else 2) for n in range(count)]


def _variant(**changes: object) -> Policies:
    """QUIET_TRAINS with reviews.yaml fields changed, `no_secondary` areas without one, or
    `absent` policy files."""
    absent = frozenset(changes.pop("absent", ()))  # type: ignore[call-overload]
    bare = set(changes.pop("no_secondary", ()))  # type: ignore[call-overload]
    owners = QUIET_TRAINS.owners.model_copy(
        update={
            "areas": tuple(
                a.model_copy(update={"secondary": None}) if a.name in bare else a
                for a in QUIET_TRAINS.owners.areas
            )
        }
    )
    reviews = QUIET_TRAINS.reviews.model_copy(update=changes)
    return dataclasses.replace(QUIET_TRAINS, owners=owners, reviews=reviews, absent=absent)


@pytest.mark.parametrize(
    ("policies", "pulls", "expected"),
    [
        # p90 of 5 is the slowest: 60 h over 48 h. Halfway from the 16 h reminder to 32 h.
        (_variant(), _slow("prompts/a.md", 5, 60), [("prompts", (32, 24))]),
        (_variant(), _slow("prompts/a.md", 5, 40), []),  # within 48 h
        (_variant(), _slow("prompts/a.md", 4, 60), []),  # four reviews are too few
        # Two slow areas, one policy field: one edit, the second area refers to it.
        (
            _variant(),
            _slow("prompts/a.md", 5, 60) + _slow("evals/a.py", 5, 70, start=300),
            [("prompts", (32, 24)), ("evals", None)],
        ),
        # No escalation at all: turn it on at twice the reminder.
        (
            _variant(escalate_after_hours=None),
            _slow("prompts/a.md", 5, 60),
            [("prompts", (None, 32))],
        ),
        # No room between the reminder and the escalation: advice.
        (
            _variant(remind_after_hours=16, escalate_after_hours=17),
            _slow("prompts/a.md", 5, 60),
            [("prompts", None)],
        ),
        # The area has no secondary to ask, or the review loop is off: advice.
        (_variant(no_secondary=["prompts"]), _slow("prompts/a.md", 5, 60), [("prompts", None)]),
        (_variant(absent=["reviews"]), _slow("prompts/a.md", 5, 60), [("prompts", None)]),
    ],
    ids=[
        "over",
        "within",
        "too-few",
        "two-areas",
        "no-escalation",
        "no-room",
        "no-secondary",
        "off",
    ],
)
def test_review_proposals(
    policies: Policies,
    pulls: list[PullRequest],
    expected: list[tuple[str, tuple[object, object] | None]],
) -> None:
    evals_reviewer = {p.number: p for p in pulls}
    pulls = [
        p.model_copy(update={"reviews": (p.reviews[0].model_copy(update={"user": "raj-iyer"}),)})
        if p.files and p.files[0].filename.startswith("evals/") and p.reviews
        else p
        for p in evals_reviewer.values()
    ]
    report = build_report(policies, snap(*pulls), PERIOD)
    found = [
        (
            f.subject.removeprefix("area `").removesuffix("`"),
            (f.edits[0].old, f.edits[0].new) if f.edits else None,
        )
        for f in report.findings
        if f.policy == "reviews"
    ]
    assert found == expected
    for f in report.findings:
        for edit in f.edits:
            assert edit.loc == ("escalate_after_hours",)
            assert "@lena-fischer" in f.advice and "60 h" in f.figure


def _incidents(severity: str, count: int, ack: float, resolve: float) -> list[Issue]:
    return [incident(400 + n, severity, ack, resolve) for n in range(count)]


@pytest.mark.parametrize(
    ("policies", "items", "expected"),
    [
        # sev2 MTTA 3 h over 2 h: the first step (secondary, 60 min) in half the time.
        (
            QUIET_TRAINS,
            _incidents("sev2", 5, 3, 10),
            [("MTTA", ("escalation", "sev2", 0, "after_minutes"), 60, 30)],
        ),
        # sev2 MTTR 84 h over 48 h: status updates every 2 h instead of 4.
        (
            QUIET_TRAINS,
            _incidents("sev2", 5, 1, 84),
            [("MTTR", ("status_updates", "every_hours", "sev2"), 4, 2)],
        ),
        # sev1 both: 15 → 8 minutes; updates already hourly, so MTTR is advice.
        (
            QUIET_TRAINS,
            _incidents("sev1", 5, 1, 10),
            [
                ("MTTA", ("escalation", "sev1", 0, "after_minutes"), 15, 8),
                ("MTTR", None, None, None),
            ],
        ),
        # sev3 has no escalation chain and no status updates: advice only.
        (
            QUIET_TRAINS,
            _incidents("sev3", 5, 30, 400),
            [("MTTA", None, None, None), ("MTTR", None, None, None)],
        ),
        (QUIET_TRAINS, _incidents("sev2", 4, 3, 84), []),  # four incidents are too few
        (QUIET_TRAINS, _incidents("sev2", 5, 1, 40), []),  # within both targets
        # incidents.yaml absent: the figures still come, as advice.
        (
            dataclasses.replace(QUIET_TRAINS, absent=frozenset({"incidents"})),
            _incidents("sev2", 5, 3, 84),
            [("MTTA", None, None, None), ("MTTR", None, None, None)],
        ),
    ],
    ids=["mtta", "mttr", "sev1", "sev3", "too-few", "within", "absent"],
)
def test_incident_proposals(
    policies: Policies, items: list[Issue], expected: list[tuple[object, ...]]
) -> None:
    report = build_report(policies, snap(*items), PERIOD)
    found = [
        (
            f.figure.split()[0],
            *((e.loc, e.old, e.new) if (e := next(iter(f.edits), None)) else (None,) * 3),
        )
        for f in report.findings
        if f.policy == "incidents"
    ]
    assert found == expected


def test_edit_sets_a_null_value_or_inserts_a_missing_key() -> None:
    edit = Edit("reviews", ("escalate_after_hours",), None, 32, after=("remind_after_hours",))
    text = "remind_after_hours: 16 # two days\n"
    assert apply_edit(text, edit) == text + "escalate_after_hours: 32\n"
    text = "remind_after_hours: 16\nescalate_after_hours: null # never\n"
    assert apply_edit(text, edit) == "remind_after_hours: 16\nescalate_after_hours: 32 # never\n"


def _with_files(snapshot: Snapshot) -> Snapshot:
    files = {
        f"policies/{n}.yaml": (ROOT / f"policies/{n}.yaml").read_text()
        for n in ("triage", "stale", "release")
    }
    files["docs/OPERATING_MODEL.md"] = (ROOT / "docs/OPERATING_MODEL.md").read_text()
    return snapshot.model_copy(
        update={
            "branches": {"main": "a" * 40, tree_key("main"): "b" * 40},
            "base_policies": (PolicyFiles(ref="a" * 40, files=files),),
        }
    )


def test_plan_opens_one_pr_and_converges() -> None:
    snapshot = _with_files(snap(*_stale_history(10, 5)))
    plan, _ = plan_period(QUIET_TRAINS, snapshot, PERIOD, NOW)
    assert [a.kind for a in plan.actions] == ["CommitFiles", "UpsertPullRequest"]
    commit = plan.actions[0]
    assert isinstance(commit, CommitFiles)
    assert [path for path, _ in commit.files] == ["policies/stale.yaml", "docs/OPERATING_MODEL.md"]
    assert (commit.parent, commit.base_tree, commit.exists) == ("a" * 40, "b" * 40, False)
    pull = plan.actions[1]
    assert isinstance(pull, UpsertPullRequest)
    assert PR_MARKER in pull.body and "`30` → `45`" in pull.body
    assert "5 of the 10 items" in pull.body
    after = simulate(snapshot, plan)
    again, _ = plan_period(QUIET_TRAINS, after, PERIOD, NOW)
    assert again.actions == ()
    # New figures update the same PR and move its branch.
    more = after.model_copy(update={"pulls": (*after.pulls, *_stale_history(12, 12)[10:])})
    changed, _ = plan_period(QUIET_TRAINS, more, PERIOD, NOW)
    number = next(p.number for p in after.pulls if p.head_ref == "dataface-ops/retro")
    kinds = [
        (a.kind, getattr(a, "number", None), getattr(a, "exists", None)) for a in changed.actions
    ]
    assert kinds == [("CommitFiles", None, True), ("UpsertPullRequest", number, None)]
    assert "7 of the 12 items" in changed.actions[1].body  # type: ignore[attr-defined]


def test_no_files_read_means_no_pr() -> None:
    plan, report = plan_period(QUIET_TRAINS, snap(*_stale_history(10, 5)), PERIOD, NOW)
    assert plan.actions == () and report.edits
    assert "no PR: the policy files were not read" in plan.notes


def test_sweep_outside_its_window_plans_nothing() -> None:
    plan = plan_retro(POLICIES, snap(), dt.datetime(2026, 4, 20, tzinfo=dt.UTC))
    assert plan.actions == () and plan.notes[0].startswith("not due")


@pytest.mark.parametrize(("labels", "linked"), [(("ops-retro",), True), ((), False)])
def test_digest_links_the_open_retrospective_pr(labels: tuple[str, ...], linked: bool) -> None:
    from automation.features.digest.plan import plan_digest

    retro = PullRequest(
        number=77,
        title="Operating-model retrospective 2026-03: 1 policy change(s)",
        body=f"{PR_MARKER}\nproposals",
        author=BOT,
        author_is_bot=True,
        labels=labels,
        created_at=T0,
        updated_at=T0,
    )
    plan = plan_digest(POLICIES, snap(retro), NOW)
    body = plan.actions[0].body  # type: ignore[attr-defined]
    assert ("Retrospective: #77 proposes policy changes" in body) == linked


def test_an_unlabelled_pr_gets_its_label_back_and_nothing_else() -> None:
    snapshot = _with_files(snap(*_stale_history(10, 5)))
    plan, _ = plan_period(QUIET_TRAINS, snapshot, PERIOD, NOW)
    after = simulate(snapshot, plan)
    bare = tuple(
        p.model_copy(update={"labels": ()}) if p.head_ref == "dataface-ops/retro" else p
        for p in after.pulls
    )
    again, _ = plan_period(QUIET_TRAINS, after.model_copy(update={"pulls": bare}), PERIOD, NOW)
    assert [(a.kind, getattr(a, "labels", None)) for a in again.actions] == [
        ("AddLabels", ("ops-retro",))
    ]

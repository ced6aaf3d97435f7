"""plan_digest: table tests over snapshot factories, idempotence, the week boundaries."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from automation import markers as plan
from automation.actions import Plan, UpsertIssue
from automation.features.digest.plan import compute_figures, departures, percentile, plan_digest
from automation.policy.loader import load_policy_dir
from automation.rules.digest import report_week
from automation.simulate import simulate
from automation.snapshot.models import (
    ChangedFile,
    CheckRun,
    Issue,
    IssueEvent,
    PullRequest,
    Release,
    Snapshot,
)

ROOT = Path(__file__).resolve().parent.parent
POLICIES = load_policy_dir(ROOT / "policies")
NOW = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)  # Tuesday of W48: reports W47
BOT = "dataface-ops[bot]"


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def issue(number: int, created: str, **kw: Any) -> Issue:
    kw.setdefault("updated_at", t(kw.pop("updated", created)))
    if "closed" in kw:
        kw["closed_at"] = t(kw.pop("closed"))
        kw.setdefault("state", "closed")
        kw.setdefault("state_reason", "completed")
    return Issue(
        number=number, title=f"item {number}", author="sam-okafor", created_at=t(created), **kw
    )


def regression(number: int, created: str, severity: str, *events: IssueEvent, **kw: Any) -> Issue:
    return issue(
        number,
        created,
        labels=("eval-regression", f"severity:{severity}"),
        events=tuple(events),
        **kw,
    )


def ev(kind: str, actor: str, at: str, label: str | None = None) -> IssueEvent:
    return IssueEvent(event=kind, actor=actor, created_at=t(at), label=label)


def merged_pull(number: int, merged: str, *files: str, sha: str = "", **kw: Any) -> PullRequest:
    return PullRequest(
        number=number,
        title=f"PR {number}",
        author="dev-patel",
        created_at=t(merged) - dt.timedelta(days=1),
        updated_at=t(merged),
        closed_at=t(merged),
        state="closed",
        merged=True,
        merged_at=t(merged),
        head_sha=sha or f"{number:040d}",
        files=tuple(ChangedFile(filename=f) for f in files),
        **kw,
    )


def snap(*items: Issue, pulls: tuple[PullRequest, ...] = (), **kw: Any) -> Snapshot:
    return Snapshot(
        repo="dataface/dataface", taken_at=NOW, bot_login=BOT, issues=items, pulls=pulls, **kw
    )


@pytest.mark.parametrize(
    ("now", "label", "start"),
    [
        (t("2026-11-24T12:00:00"), "2026-W47", "2026-11-16"),
        (t("2026-11-23T00:00:00"), "2026-W47", "2026-11-16"),
        (t("2026-11-22T23:59:59"), "2026-W46", "2026-11-09"),
        (t("2027-01-04T06:00:00"), "2026-W53", "2026-12-28"),
        (t("2027-01-11T06:00:00"), "2027-W01", "2027-01-04"),
    ],
)
def test_report_week_is_the_last_complete_iso_week(
    now: dt.datetime, label: str, start: str
) -> None:
    week = report_week(now)
    assert (week.label, week.start.date().isoformat()) == (label, start)


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([], 0.9, None),
        ([5.0], 0.9, 5.0),
        ([1.0, 2.0], 0.9, 2.0),
        ([float(i) for i in range(1, 11)], 0.9, 9.0),
        ([3.0, 1.0, 2.0], 0.5, 2.0),
    ],
)
def test_percentile_nearest_rank(values: list[float], share: float, expected: float | None) -> None:
    assert percentile(values, share) == expected


def test_departures_follow_the_release_cadence_in_its_time_zone() -> None:
    week = report_week(NOW)
    winter = departures(POLICIES, week.start, week.end)
    assert [d.astimezone(dt.UTC).isoformat() for d in winter] == ["2026-11-17T15:00:00+00:00"]
    summer = departures(POLICIES, t("2026-06-01T00:00:00"), t("2026-06-08T00:00:00"))
    assert [d.astimezone(dt.UTC).isoformat() for d in summer] == ["2026-06-02T14:00:00+00:00"]


def test_departures_keep_an_every_other_week_cadence() -> None:
    import dataclasses

    release = POLICIES.release.model_copy(update={"every_weeks": 2, "anchor": dt.date(2026, 11, 3)})
    policies = dataclasses.replace(POLICIES, release=release)
    both = departures(policies, t("2026-11-09T00:00:00"), t("2026-11-23T00:00:00"))
    assert [d.date().isoformat() for d in both] == ["2026-11-17"]
    off = compute_figures(policies, snap(), t("2026-11-17T12:00:00"))  # reports W46: off
    assert (off.trains_due, off.trains_skipped) == (0, 0)


ACK_CASES = [
    pytest.param(
        regression(
            1,
            "2026-11-17T09:00:00",
            "sev1",
            ev("labeled", "maya-chen", "2026-11-17T10:30:00", "triaged"),
        ),
        ([1], [1], [], 1.5),
        id="triaged label by a person acknowledges",
    ),
    pytest.param(
        regression(
            1,
            "2026-11-17T09:00:00",
            "sev1",
            ev("labeled", BOT, "2026-11-17T09:01:00", "triaged"),
            ev("commented", BOT, "2026-11-17T09:01:00"),
        ),
        ([1], [], [1], None),
        id="the bot never acknowledges; deadline in week is a breach",
    ),
    pytest.param(
        regression(
            1,
            "2026-11-17T09:00:00",
            "sev2",
            ev("commented", "lena-fischer", "2026-11-17T10:00:00"),
            ev("commented", "dev-patel", "2026-11-17T12:00:00"),
            assignees=("dev-patel",),
        ),
        ([1], [1], [], 3.0),
        id="only the assignee's comment counts",
    ),
    pytest.param(
        regression(
            1,
            "2026-11-13T09:00:00",
            "sev3",
            ev("labeled", "raj-iyer", "2026-11-17T09:00:00", "triaged"),
        ),
        ([], [1], [1], 96.0),
        id="acknowledged in the week, after a deadline in the week",
    ),
    pytest.param(
        regression(
            1,
            "2026-11-17T09:00:00",
            "sev1",
            closed="2026-11-17T10:00:00",
            state_reason="not_planned",
        ),
        ([1], [], [], None),
        id="closed before the deadline (a false alarm): no breach",
    ),
    pytest.param(
        regression(1, "2026-11-17T09:00:00", "sev1", closed="2026-11-17T14:00:00"),
        ([1], [], [1], None),
        id="closed after the deadline without acknowledgement: a breach",
    ),
    pytest.param(
        regression(1, "2026-11-22T20:00:00", "sev1"),
        ([1], [], [], None),
        id="deadline falls next week: not this week's breach",
    ),
    pytest.param(
        regression(1, "2026-11-12T09:00:00", "sev2"),
        ([], [], [], None),
        id="deadline passed last week: that week's breach",
    ),
    pytest.param(
        regression(
            1,
            "2026-11-18T09:00:00",
            "sev9",
            ev("labeled", "raj-iyer", "2026-11-20T09:00:00", "triaged"),
        ),
        ([1], [1], [], 48.0),
        id="severity without an SLA: timed, never a breach",
    ),
]


@pytest.mark.parametrize(("item", "expected"), ACK_CASES)
def test_acknowledgement_and_breaches(
    item: Issue, expected: tuple[list[int], list[int], list[int], float | None]
) -> None:
    figures = compute_figures(POLICIES, snap(item), NOW)
    assert (
        figures.regressions_opened,
        figures.regressions_acknowledged,
        figures.breaches,
        figures.median_hours,
    ) == expected


def test_acknowledgement_and_severity_follow_the_triage_policy() -> None:
    import dataclasses

    triage = POLICIES.triage.model_copy(
        update={
            "labels": POLICIES.triage.labels.model_copy(update={"severity_prefix": "sev/"}),
            "acknowledgement": POLICIES.triage.acknowledgement.model_copy(
                update={"label": "Acked", "assignee_comment": False}
            ),
        }
    )
    policies = dataclasses.replace(POLICIES, triage=triage)
    acked = issue(
        1,
        "2026-11-17T09:00:00",
        labels=("eval-regression", "sev/sev1"),
        assignees=("dev-patel",),
        events=(
            ev("commented", "dev-patel", "2026-11-17T09:30:00"),  # not an ack by this policy
            ev("labeled", "maya-chen", "2026-11-17T11:00:00", "acked"),
        ),
    )
    figures = compute_figures(policies, snap(acked), NOW)
    assert figures.regressions_acknowledged == [1]
    assert figures.median_hours == 2.0
    assert figures.breaches == []  # sev1 has 4 h; acknowledged after 2 h
    assert [r.severity for r in figures.by_severity if r.acknowledged] == ["sev1"]


@pytest.mark.parametrize(
    ("trains", "shipped", "late", "skipped", "closed_unmerged"),
    [
        pytest.param((), [], [], 1, [], id="no train at all: the week's departure was skipped"),
        pytest.param(
            (merged_pull(10, "2026-11-17T16:00:00", "CHANGELOG.md", labels=("release-train",)),),
            [10],
            [],
            0,
            [],
            id="on time",
        ),
        pytest.param(
            (merged_pull(10, "2026-11-18T15:00:01", "CHANGELOG.md", labels=("release-train",)),),
            [10],
            [10],
            0,
            [],
            id="merged just over a day after departure: late",
        ),
        pytest.param(
            (
                PullRequest(
                    number=11,
                    title="train",
                    author=BOT,
                    labels=("release-train",),
                    created_at=t("2026-11-17T15:00:00"),
                    updated_at=t("2026-11-18T09:00:00"),
                    closed_at=t("2026-11-18T09:00:00"),
                    state="closed",
                ),
            ),
            [],
            [],
            1,
            [11],
            id="release PR closed unmerged: skipped",
        ),
        pytest.param(
            (merged_pull(12, "2026-11-16T09:00:00", "CHANGELOG.md", labels=("release-train",)),),
            [12],
            [12],
            1,
            [],
            id="last week's train merged Monday: late, and this week's departure skipped",
        ),
    ],
)
def test_release_trains(
    trains: tuple[PullRequest, ...],
    shipped: list[int],
    late: list[int],
    skipped: int,
    closed_unmerged: list[int],
) -> None:
    f = compute_figures(POLICIES, snap(pulls=trains), NOW)
    assert (
        f.trains_due,
        f.trains_shipped,
        f.trains_late,
        f.trains_skipped,
        f.trains_closed_unmerged,
    ) == (1, shipped, late, skipped, closed_unmerged)


@pytest.mark.parametrize(
    ("pull", "runs", "expected"),
    [
        pytest.param(
            merged_pull(20, "2026-11-18T09:00:00", "prompts/a.md"), (), ["missing"], id="no check"
        ),
        pytest.param(
            merged_pull(20, "2026-11-18T09:00:00", "prompts/a.md"),
            (CheckRun(id=1, name="owner-approval", head_sha=f"{20:040d}", conclusion="success"),),
            [],
            id="passing check",
        ),
        pytest.param(
            merged_pull(20, "2026-11-18T09:00:00", "prompts/a.md"),
            (
                CheckRun(id=1, name="owner-approval", head_sha=f"{20:040d}", conclusion="success"),
                CheckRun(id=2, name="owner-approval", head_sha=f"{20:040d}", conclusion="failure"),
            ),
            ["failure"],
            id="the latest run counts",
        ),
        pytest.param(
            merged_pull(20, "2026-11-18T09:00:00", "prompts/a.md"),
            (CheckRun(id=1, name="ci", head_sha=f"{20:040d}", conclusion="success"),),
            ["missing"],
            id="another check does not count",
        ),
        pytest.param(
            merged_pull(20, "2026-11-18T09:00:00", "apps/chat/x.ts"), (), [], id="unprotected path"
        ),
        pytest.param(
            merged_pull(20, "2026-11-18T09:00:00", "CODEOWNERS"),
            (),
            ["missing"],
            id="CODEOWNERS itself",
        ),
        pytest.param(
            merged_pull(20, "2026-11-14T09:00:00", "prompts/a.md"), (), [], id="merged last week"
        ),
        pytest.param(
            merged_pull(20, "2026-11-18T09:00:00").model_copy(
                update={
                    "files": (
                        ChangedFile(
                            filename="archive/x.md",
                            status="renamed",
                            previous_filename="prompts/x.md",
                        ),
                    )
                }
            ),
            (),
            ["missing"],
            id="a rename out of a protected path",
        ),
    ],
)
def test_audit_of_protected_merges(
    pull: PullRequest, runs: tuple[CheckRun, ...], expected: list[str]
) -> None:
    f = compute_figures(POLICIES, snap(pulls=(pull,), check_runs=runs), NOW)
    assert [row.check for row in f.audit] == expected


def test_a_pr_title_cannot_fake_a_digest_marker_or_break_the_table() -> None:
    fake = plan.marker("digest", "2026-W48")
    pull = merged_pull(20, "2026-11-18T09:00:00", "CODEOWNERS").model_copy(
        update={"title": f"a|b {fake}"}
    )
    (action,) = plan_digest(POLICIES, snap(pulls=(pull,)), NOW).actions
    assert isinstance(action, UpsertIssue)
    assert fake not in action.body  # next week's run would take this issue for its own
    assert "| #20 a\\|b &lt;!-- dataface-ops:digest:2026-W48 --> |" in action.body


def test_stale_warnings_and_closes() -> None:
    items = (
        issue(1, "2026-01-01T00:00:00", labels=("stale",), updated="2026-11-18T06:00:00"),
        issue(2, "2026-01-01T00:00:00", labels=("stale",), updated="2026-11-09T06:00:00"),
        issue(
            3,
            "2026-01-01T00:00:00",
            labels=("stale",),
            closed="2026-11-20T06:00:00",
            state_reason="not_planned",
        ),
        issue(4, "2026-01-01T00:00:00", labels=("stale",), closed="2026-11-20T06:00:00"),
        issue(5, "2026-01-01T00:00:00", closed="2026-11-20T06:00:00", state_reason="not_planned"),
    )
    # The sweep closes pull requests too; GitHub records no state_reason for them.
    pulls = (
        PullRequest(
            number=6,
            title="stale PR",
            author="dev-patel",
            labels=("stale",),
            created_at=t("2026-01-01T00:00:00"),
            updated_at=t("2026-11-20T06:00:00"),
            closed_at=t("2026-11-20T06:00:00"),
            state="closed",
        ),
        merged_pull(7, "2026-11-20T06:00:00", "README.md", labels=("stale",)),
    )
    f = compute_figures(POLICIES, snap(*items, pulls=pulls), NOW)
    assert (f.stale_warned, f.stale_closed) == ([1], [3, 6])


def test_backlog_and_trend_exclude_the_digest_issues() -> None:
    items = (
        issue(1, "2026-10-01T00:00:00"),
        issue(2, "2026-11-03T00:00:00", closed="2026-11-18T00:00:00"),
        issue(3, "2026-11-19T00:00:00"),
        issue(4, "2026-11-17T00:00:00", labels=("ops-digest",)),
    )
    f = compute_figures(POLICIES, snap(*items), NOW)
    assert (f.backlog_before, f.backlog) == (2, 2)
    assert [(r.week, r.backlog) for r in f.trend] == [
        ("2026-W44", 1),
        ("2026-W45", 2),
        ("2026-W46", 2),
        ("2026-W47", 2),
    ]


def _busy_snapshot() -> Snapshot:
    return snap(
        regression(
            1,
            "2026-11-17T09:00:00",
            "sev1",
            ev("labeled", "maya-chen", "2026-11-17T10:00:00", "triaged"),
        ),
        regression(2, "2026-11-18T09:00:00", "sev2"),
        issue(3, "2026-06-01T00:00:00", labels=("stale",), updated="2026-11-19T00:00:00"),
        pulls=(
            merged_pull(
                10, "2026-11-17T16:00:00", "dataface/ai/tools/x.py", labels=("release-train",)
            ),
        ),
        releases=(Release(id=1, tag="v1", published_at=t("2026-11-17T17:00:00")),),
    )


def test_first_run_opens_the_weeks_issue() -> None:
    result = plan_digest(POLICIES, _busy_snapshot(), NOW)
    [action] = result.actions
    assert isinstance(action, UpsertIssue)
    assert (action.number, action.title, action.labels, action.marker) == (
        None,
        "Operating digest 2026-W47",
        ("ops-digest",),
        plan.marker("digest", "2026-W47"),
    )
    assert action.body.startswith(plan.marker("digest", "2026-W47"))
    assert (
        "| merges into protected paths without a passing `owner-approval` | 1 | #10 |"
        in action.body
    )
    assert action.reason == "no digest issue for 2026-W47 yet"


def test_plan_simulate_plan_is_empty() -> None:
    snapshot = _busy_snapshot()
    first = plan_digest(POLICIES, snapshot, NOW)
    after = simulate(snapshot, first)
    assert plan_digest(POLICIES, after, NOW) == Plan("digest", (), first.notes)
    # Later in the same week, the same answer: nothing to write.
    assert not plan_digest(POLICIES, after, NOW + dt.timedelta(days=4))


def test_changed_figures_edit_the_same_issue() -> None:
    snapshot = _busy_snapshot()
    after = simulate(snapshot, plan_digest(POLICIES, snapshot, NOW))
    number = next(i.number for i in after.issues if "ops-digest" in i.labels)
    grown = after.model_copy(
        update={"issues": (*after.issues, regression(9, "2026-11-20T09:00:00", "sev3"))}
    )
    [action] = plan_digest(POLICIES, grown, NOW).actions
    assert isinstance(action, UpsertIssue)
    assert action.number == number
    assert action.reason == "the figures for 2026-W47 changed since the last run"


def test_an_unlabelled_issue_carrying_the_marker_is_not_taken_for_the_digest() -> None:
    body = f"copied from the digest\n{plan.marker('digest', '2026-W47')}\n"
    planted = issue(50, "2026-11-23T08:00:00", body=body)
    [action] = plan_digest(POLICIES, snap(planted), NOW).actions
    assert isinstance(action, UpsertIssue)
    assert action.number is None  # a new digest issue, not an edit of #50


def test_next_week_opens_a_new_issue() -> None:
    snapshot = _busy_snapshot()
    after = simulate(snapshot, plan_digest(POLICIES, snapshot, NOW))
    [action] = plan_digest(POLICIES, after, NOW + dt.timedelta(days=7)).actions
    assert isinstance(action, UpsertIssue)
    assert (action.number, action.title) == (None, "Operating digest 2026-W48")


def test_example_snapshot_plans_this_weeks_digest() -> None:
    snapshot = Snapshot.model_validate_json((ROOT / "examples/snapshot.json").read_text())
    result = plan_digest(POLICIES, snapshot, NOW)
    [action] = result.actions
    assert isinstance(action, UpsertIssue)
    assert action.title == "Operating digest 2026-W47"
    # The example is shared by every feature, so only the shape is asserted here; the figures
    # themselves are asserted on purpose-built snapshots above.
    [note] = result.notes
    assert re.fullmatch(
        r"2026-W47: \d+ regressions opened, \d+ SLA breaches, \d+ unapproved merges", note
    )
    assert not plan_digest(POLICIES, simulate(snapshot, result), NOW)

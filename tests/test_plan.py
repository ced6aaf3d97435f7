"""Actions, simulate() and the renderings of plans and reports."""

from __future__ import annotations

import json

import pytest

from automation.actions import (
    ACTION_TYPES,
    AddLabels,
    CommitFiles,
    CreateRelease,
    EditIssue,
    Outcome,
    Plan,
    RemoveLabel,
    Report,
    RequestReviewers,
    SetBranch,
    SetCommitStatus,
    UpsertCheckRun,
    UpsertComment,
    UpsertIssue,
    UpsertPullRequest,
)
from automation.markers import marker
from automation.render import render_json, render_markdown, render_text
from automation.simulate import simulate
from tests.factories import BOT, NOW, make_comment, make_issue, make_pull, make_snapshot

MARK = marker("triage", "issue-1")


def test_marker_is_a_hidden_html_comment() -> None:
    assert marker("stale", "warning-4") == "<!-- dataface-ops:stale:warning-4 -->"


def test_simulate_labels_assignees_and_state() -> None:
    snap = make_snapshot(issues=(make_issue(1, labels=("bug",)),))
    after = simulate(
        snap,
        [
            AddLabels(reason="r", number=1, labels=("eval-regression", "bug")),
            RemoveLabel(reason="r", number=1, label="bug"),
            EditIssue(
                reason="r",
                number=1,
                assignees=("maya-chen",),
                state="closed",
                state_reason="not_planned",
            ),
        ],
    )
    issue = after.issue(1)
    assert issue is not None
    assert issue.labels == ("eval-regression",)
    assert issue.assignees == ("maya-chen",)
    assert (issue.state, issue.state_reason, issue.closed_at) == ("closed", "not_planned", NOW)


def test_simulate_upserts_a_comment_by_marker() -> None:
    snap = make_snapshot(issues=(make_issue(1, comments=(make_comment(5, body="hi"),)),))
    once = simulate(snap, [UpsertComment(reason="r", number=1, marker=MARK, body=f"{MARK} v1")])
    twice = simulate(once, [UpsertComment(reason="r", number=1, marker=MARK, body=f"{MARK} v2")])
    comments = twice.issue(1).comments  # type: ignore[union-attr]
    assert comments is not None and len(comments) == 2
    assert comments[1].body == f"{MARK} v2" and comments[1].author == BOT
    assert twice.issue(1).comments_count == 2  # type: ignore[union-attr]


def test_simulate_creates_issue_pr_branch_check_and_release() -> None:
    snap = make_snapshot(issues=(make_issue(7),), pulls=(make_pull(9),))
    after = simulate(
        snap,
        [
            UpsertIssue(reason="r", marker=MARK, title="Digest", body=MARK, labels=("ops-digest",)),
            SetBranch(reason="r", name="release-train/2026-11-24", sha="a" * 40),
            UpsertPullRequest(
                reason="r", head="release-train/2026-11-24", base="main", title="Train", body="b"
            ),
            RequestReviewers(
                reason="r", number=9, reviewers=("maya-chen",), team_reviewers=("evals",)
            ),
            UpsertCheckRun(
                reason="r",
                name="owner-approval",
                head_sha="b" * 40,
                conclusion="failure",
                title="t",
                summary="s",
            ),
            SetCommitStatus(
                reason="r", sha="b" * 40, context="c", state="success", description="d"
            ),
            CreateRelease(reason="r", tag="v1", target_sha="c" * 40, name="v1", body="notes"),
        ],
    )
    assert after.issue(10) is not None and after.issue(10).labels == ("ops-digest",)  # type: ignore[union-attr]
    train = after.pull(11)
    assert train is not None and train.head_sha == "a" * 40 and train.author == BOT
    assert after.pull(9).requested_reviewers == ("maya-chen",)  # type: ignore[union-attr]
    assert [c.conclusion for c in after.check_runs] == ["failure"]
    assert [r.tag for r in after.releases] == ["v1"]
    again = simulate(
        after,
        [
            UpsertCheckRun(
                reason="r",
                name="owner-approval",
                head_sha="b" * 40,
                conclusion="success",
                title="t",
                summary="s",
                check_run_id=after.check_runs[0].id,
            )
        ],
    )
    assert [c.conclusion for c in again.check_runs] == ["success"]


def test_every_action_type_describes_itself_and_simulates() -> None:
    samples = {
        AddLabels: AddLabels(reason="r", number=1, labels=("a",)),
        RemoveLabel: RemoveLabel(reason="r", number=1, label="a"),
        EditIssue: EditIssue(reason="r", number=1, labels=()),
        UpsertComment: UpsertComment(reason="r", number=1, marker=MARK, body=MARK),
        UpsertIssue: UpsertIssue(reason="r", marker=MARK, title="t", body=MARK),
        UpsertCheckRun: UpsertCheckRun(
            reason="r", name="n", head_sha="a" * 40, conclusion="success", title="t", summary="s"
        ),
        SetCommitStatus: SetCommitStatus(
            reason="r", sha="a" * 40, context="c", state="success", description="d"
        ),
        RequestReviewers: RequestReviewers(reason="r", number=1, reviewers=("x",)),
        SetBranch: SetBranch(reason="r", name="b", sha="a" * 40),
        UpsertPullRequest: UpsertPullRequest(reason="r", head="b", base="main", title="t", body=""),
        CreateRelease: CreateRelease(reason="r", tag="v", target_sha="a" * 40, name="v", body=""),
        CommitFiles: CommitFiles(
            reason="r", branch="b", parent="a" * 40, base_tree="c" * 40, message="m", files=()
        ),
    }
    assert set(samples) == set(ACTION_TYPES)
    snap = make_snapshot(issues=(make_issue(1),))
    for action in samples.values():
        assert action.describe()
        simulate(snap, [action])


def _report() -> tuple[Plan, Report]:
    actions = (
        AddLabels(reason="inactive | 60 days", number=4, labels=("stale",)),
        AddLabels(reason="inactive", number=5, labels=("stale",)),
    )
    plan = Plan("stale", actions, notes=("1 item deferred to the next run",))
    report = Report(
        outcomes=[Outcome(actions[0], "applied"), Outcome(actions[1], "skipped", "budget")],
        plans=[plan],
    )
    return plan, report


def test_render_text_lists_actions_reasons_and_outcomes() -> None:
    plan, report = _report()
    text = render_text([plan], report)
    assert "stale: 2 actions" in text
    assert "[applied] #4: add labels stale" in text
    assert "[skipped] #5: add labels stale (budget)" in text
    assert "why: inactive | 60 days" in text
    assert "applied 1, dry-run 0, skipped 1, failed 0" in text


def test_render_markdown_escapes_table_cells_and_says_converged() -> None:
    plan, report = _report()
    md = render_markdown([plan, Plan("triage")], report)
    assert "| #4: add labels stale | inactive \\| 60 days | applied |" in md
    assert "### triage\n\nNothing to change: converged." in md
    assert "> 1 item deferred to the next run" in md


def test_render_json_round_trips() -> None:
    plan, report = _report()
    data = json.loads(render_json([plan], report))
    assert data["totals"] == {"applied": 1, "dry-run": 0, "skipped": 1, "failed": 0}
    first = data["plans"][0]["actions"][0]
    assert (first["type"], first["fields"]["number"], first["outcome"]) == (
        "AddLabels",
        4,
        "applied",
    )


def test_render_json_keeps_an_actions_own_summary_apart_from_the_envelope() -> None:
    check = UpsertCheckRun(
        reason="owners approved",
        head_sha="a" * 40,
        name="owner-approval",
        conclusion="success",
        title="All owners approved",
        summary="**prompts/**: approved by @lena",
    )
    (action,) = json.loads(render_json([Plan("ownership", (check,))]))["plans"][0]["actions"]
    assert action["summary"] == check.describe()
    assert action["fields"]["summary"] == "**prompts/**: approved by @lena"
    assert action["reason"] == "owners approved"


@pytest.mark.parametrize("plan", [Plan("x"), Plan("x", notes=("n",))])
def test_an_empty_plan_is_falsy(plan: Plan) -> None:
    assert not plan
    # Actions, and only actions, make it true: notes alone do not.
    assert Plan(plan.feature, (EditIssue(reason="r", number=1, labels=("a",)),), plan.notes)

"""Documentation upkeep's rules and planner: the Reviewed line, periods and overrides, one
issue per document (opened, kept current, reopened next cycle, closed on review)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from automation.actions import EditIssue, UpsertIssue
from automation.features.docs_upkeep.plan import issue_body, plan_docs_upkeep
from automation.policy.docs import DocsPolicy
from automation.policy.loader import Policies
from automation.rules.docs_upkeep import issue_marker, needs_text, reviewed_on
from automation.simulate import simulate
from automation.snapshot.models import DocumentState, Issue, Snapshot
from tests.reviews_factories import REPO, shipped, utc

NOW = utc("2026-12-01T06:00")
RUNBOOK = "docs/runbooks/deploy-mcp-tool.md"  # mcp-server's, every 180 days
OWNERS = ("dev-patel", "maya-chen", "sam-okafor")  # team ai-platform


def policies(**docs: Any) -> Policies:
    base = shipped()
    data = {
        "documents": [{"path": RUNBOOK, "area": "mcp-server"}],
        **docs,
    }
    return dataclasses.replace(base, docs=DocsPolicy.model_validate(data))


def state(
    changed: str | None = "2026-05-01T10:00", reviewed: str | None = None, **kw: Any
) -> DocumentState:
    return DocumentState(
        path=RUNBOOK,
        last_change=utc(changed) if changed else None,
        last_change_sha="a" * 40 if changed else None,
        reviewed=dt.date.fromisoformat(reviewed) if reviewed else None,
        text_read=True,
        **kw,
    )


def snap(doc: DocumentState, *issues: Issue) -> Snapshot:
    return Snapshot(repo=REPO, taken_at=NOW, documents=(doc,), issues=issues)


def actions(p: Policies, doc: DocumentState, *issues: Issue) -> list[object]:
    return list(plan_docs_upkeep(p, snap(doc, *issues), NOW).actions)


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("# Runbook\n\nReviewed: 2026-03-01\n", "2026-03-01"),
        ("**Reviewed:** 2026-03-01", "2026-03-01"),
        ("_Reviewed: 2026-03-01_\nreviewed: 2026-04-02", "2026-04-02"),  # the latest wins
        ("Reviewed: 2026-02-30", None),  # no such date
        ("We reviewed: 2026-03-01 in the meeting", None),  # not a line of its own
        ("no line", None),
    ],
)
def test_reviewed_line(text: str, date: str | None) -> None:
    assert reviewed_on(text) == (dt.date.fromisoformat(date) if date else None)


@pytest.mark.parametrize(
    ("docs", "doc", "due"),
    [
        ({}, state("2026-06-05T10:00"), False),  # changed 179 days ago
        ({}, state("2026-06-04T10:00"), True),  # 180 days ago: due today
        ({}, state("2026-01-01T10:00", reviewed="2026-11-01"), False),  # a later Reviewed line
        # Per-document override.
        (
            {"documents": [{"path": RUNBOOK, "area": "mcp-server", "review_days": 30}]},
            state("2026-10-15T10:00"),
            True,
        ),
        ({"review_days": 365}, state("2026-01-01T10:00"), False),
        # Only the Reviewed line counts: a recent change is no review.
        ({"changes_count_as_review": False}, state("2026-11-30T10:00"), True),
        (
            {"changes_count_as_review": False},
            state("2026-11-30T10:00", reviewed="2026-10-01"),
            False,
        ),
    ],
)
def test_due(docs: dict[str, Any], doc: DocumentState, due: bool) -> None:
    got = actions(policies(**docs), doc)
    assert bool(got) is due
    if due:
        (action,) = got
        assert isinstance(action, UpsertIssue) and action.number is None
        assert action.title == f"Review due: {RUNBOOK}"
        assert action.body.startswith(issue_marker(RUNBOOK))
        assert action.labels == ("docs-review",) and action.assignees == OWNERS


def test_the_text_is_read_only_when_it_can_decide() -> None:
    # A Reviewed line is written by a commit: when commits count, the commit decides.
    assert not needs_text(policies().docs, utc("2026-01-01T00:00"))
    assert needs_text(policies().docs, None)
    assert needs_text(policies(changes_count_as_review=False).docs, utc("2026-11-01T00:00"))


def bot_issue(number: int, body: str, state: str = "open", closed: str | None = None) -> Issue:
    return Issue(
        number=number,
        title=f"Review due: {RUNBOOK}",
        body=body,
        state=state,  # type: ignore[arg-type]
        author="github-actions[bot]",
        author_is_bot=True,
        labels=("docs-review",),
        created_at=utc("2026-06-01T00:00"),
        updated_at=utc("2026-06-01T00:00"),
        closed_at=utc(closed) if closed else None,
    )


def test_an_open_issue_is_kept_current_and_closed_when_the_review_lands() -> None:
    p = policies()
    due = state("2026-01-01T10:00")
    body = issue_body(p, p.docs.documents[0], due)
    assert actions(p, due, bot_issue(40, body)) == []
    (edit,) = actions(p, due, bot_issue(40, "stale text\n" + issue_marker(RUNBOOK)))
    # The marker must open the body to count: a quote further down is not ours.
    assert isinstance(edit, UpsertIssue) and edit.number is None
    (update,) = actions(p, due, bot_issue(40, issue_marker(RUNBOOK) + "\nold text"))
    assert isinstance(update, UpsertIssue) and update.number == 40
    # The review landed: a newer commit (or a Reviewed line).
    for landed in (state("2026-11-20T10:00"), state("2026-01-01T10:00", reviewed="2026-11-20")):
        (close,) = actions(p, landed, bot_issue(40, body))
        assert close == EditIssue(
            reason=close.reason,
            number=40,
            state="closed",
            state_reason="completed",  # type: ignore[union-attr]
        )


def test_next_cycle_reopens_the_same_issue_but_a_hand_close_is_respected() -> None:
    p = policies()
    due = state("2026-01-01T10:00")  # due since 2026-06-30
    body = issue_body(p, p.docs.documents[0], due)
    # Closed in an earlier cycle (before this one fell due): reopened, text updated.
    reopen, update = actions(p, due, bot_issue(40, "x " + body, "closed", "2026-02-01T00:00"))
    assert isinstance(reopen, EditIssue) and reopen.state == "open"
    assert reopen.assignees == OWNERS
    assert isinstance(update, UpsertIssue) and update.number == 40
    # Closed by a person after it fell due: left closed.
    plan = plan_docs_upkeep(p, snap(due, bot_issue(40, body, "closed", "2026-07-15T00:00")), NOW)
    assert plan.actions == () and any("closed by hand" in n for n in plan.notes)


def test_a_missing_document_is_a_note_not_an_issue() -> None:
    plan = plan_docs_upkeep(policies(), snap(DocumentState(path=RUNBOOK, exists=False)), NOW)
    assert plan.actions == () and any("not on the default branch" in n for n in plan.notes)


def test_another_persons_issue_with_the_marker_is_not_ours() -> None:
    p = policies()
    due = state("2026-01-01T10:00")
    forged = bot_issue(40, issue_body(p, p.docs.documents[0], due)).model_copy(
        update={"author": "octocat", "author_is_bot": False}
    )
    (create,) = actions(p, due, forged)
    assert isinstance(create, UpsertIssue) and create.number is None


@pytest.mark.parametrize(
    "doc",
    [
        state("2026-01-01T10:00"),
        state("2026-11-20T10:00"),
        state(None),
        state(reviewed="2026-01-02"),
    ],
)
def test_plan_simulate_plan_is_empty(doc: DocumentState) -> None:
    p = policies()
    s = snap(doc)
    plan = plan_docs_upkeep(p, s, NOW)
    after = simulate(s, plan)
    assert plan_docs_upkeep(p, after, NOW).actions == ()

"""End to end: documentation upkeep through `dataface-ops run` on a real workflow_dispatch
payload and the shipped policies/docs.yaml, with every call checked against GitHub's REST
description: review-due issues opened for the owners, kept, reopened next cycle, closed
when the review lands; a second run writes nothing; the reads counted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from automation.cli import main
from automation.rules.docs_upkeep import issue_marker
from tests.docs_github import FakeDocs, last_cycle_issue
from tests.faults.issues import FakeIssues
from tests.flow_env import workflow_step_env
from tests.github_api.fixtures import GitHubMock
from tests.github_api.webhooks import webhook_payload
from tests.reviews_factories import shipped, utc

NOW = utc("2026-12-01T06:00")
REPO = "octo-org/octo-repo"  # the repository of the workflow_dispatch example
EVAL = "docs/runbooks/eval-regression.md"  # evals' (raj-iyer, tomas-silva), every 90 days
DEPLOY = "docs/runbooks/deploy-mcp-tool.md"  # mcp-server's, every 180 days
TRAIN = "docs/runbooks/release-train.md"  # operating-model's (maya-chen, raj-iyer)


@pytest.fixture
def world(
    github: GitHubMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[FakeIssues, FakeDocs]:
    workflow_step_env(
        monkeypatch, tmp_path, "workflow_dispatch", webhook_payload("workflow_dispatch"), REPO
    )
    issues = FakeIssues(github, REPO, NOW)
    docs = FakeDocs(github, REPO)
    for document in shipped().docs.documents:
        docs.commit(document.path, NOW - dt.timedelta(days=20), "# fresh\n")
    docs.commit(EVAL, utc("2026-08-01T10:00"), "# Eval regressions\n")  # 122 days: due
    # Reviewed (and so changed) within its period.
    docs.commit(DEPLOY, utc("2026-10-01T10:00"), "# Deploy\n\nReviewed: 2026-10-01\n")
    # Due, with the issue of its last cycle closed in May.
    docs.commit(TRAIN, utc("2026-04-01T10:00"), "# Trains\n")
    last_cycle_issue(issues, 1, TRAIN)
    return issues, docs


def _run(issues: FakeIssues, at: dt.datetime) -> int:
    issues.now = at
    return main(["run", "docs_upkeep", "--at", at.isoformat()])


def _reads(github: GitHubMock) -> list[str]:
    return [c.request.path_url for c in github.calls if c.request.method == "GET"]


def test_review_due_issues_open_reopen_and_close(
    github: GitHubMock, world: tuple[FakeIssues, FakeDocs], tmp_path: Path
) -> None:
    issues, docs = world
    assert _run(issues, NOW) == 0
    state = issues.state()
    assert state["#1"]["state"] == "open"  # reopened for this cycle, text brought up to date
    assert state["#1"]["assignees"] == ["maya-chen", "raj-iyer"]
    assert state["#1"]["body"].startswith(issue_marker(TRAIN))
    assert "due since 2026-09-28" in state["#1"]["body"]
    (new,) = [n for n in state if n != "#1"]
    assert state[new]["title"] == f"Review due: {EVAL}"
    assert state[new]["labels"] == ["docs-review"] and state[new]["assignees"] == [
        "raj-iyer",
        "tomas-silva",
    ]
    # Reads: one last-commit read per document and one page of review-due issues; no text
    # (commits count as reviews, so a Reviewed line cannot decide).
    documents = len(shipped().docs.documents)
    reads = _reads(github)
    assert sum("/commits?" in r for r in reads) == documents
    assert sum("/issues?" in r for r in reads) == 1 and len(reads) == documents + 1
    summary = (tmp_path / "summary.md").read_text()
    assert f"documents: {documents} read, 2 due for review" in summary

    # A second run the next day writes nothing.
    writes = len(github.writes())
    assert _run(issues, NOW + dt.timedelta(days=1)) == 0
    assert len(github.writes()) == writes

    # The review lands: a commit to the eval runbook with a Reviewed line. Its issue closes.
    docs.commit(EVAL, NOW + dt.timedelta(days=2), "# Eval regressions\n\nReviewed: 2026-12-03\n")
    assert _run(issues, NOW + dt.timedelta(days=3)) == 0
    after = issues.state()
    assert after[new]["state"] == "closed" and after[new]["state_reason"] == "completed"
    assert after["#1"]["state"] == "open"
    writes = len(github.writes())
    assert _run(issues, NOW + dt.timedelta(days=4)) == 0
    assert len(github.writes()) == writes


def test_an_issue_a_person_closed_this_cycle_stays_closed(
    github: GitHubMock, world: tuple[FakeIssues, FakeDocs]
) -> None:
    issues, _ = world
    issues.issues[1]["closed_at"] = "2026-10-15T12:00:00Z"  # after it fell due (09-28)
    assert _run(issues, NOW) == 0
    assert issues.state()["#1"]["state"] == "closed"
    assert [c.request.method for c in github.writes()] == ["POST"]  # only the eval runbook's


def test_only_a_reviewed_line_counts_when_changes_do_not(
    github: GitHubMock,
    world: tuple[FakeIssues, FakeDocs],
    policy_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (policy_copy / "docs.yaml").write_text(
        "changes_count_as_review: false\n"
        "documents:\n"
        f"  - {{path: {EVAL}, area: evals}}\n"
        f"  - {{path: {DEPLOY}, area: mcp-server}}\n"
    )
    monkeypatch.setenv("DATAFACE_OPS_POLICIES", str(policy_copy))
    issues, docs = world
    docs.commit(EVAL, NOW - dt.timedelta(days=300), "# Evals\n\n**Reviewed:** 2026-11-01\n")
    docs.commit(DEPLOY, NOW - dt.timedelta(days=1), "# Deploy (a typo fixed yesterday)\n")
    assert _run(issues, NOW) == 0
    (new,) = [n for n in issues.state() if n != "#1"]
    assert issues.state()[new]["title"] == f"Review due: {DEPLOY}"
    assert "Reviewed line none" in issues.state()[new]["body"]
    reads = _reads(github)
    assert sorted(r.split("/contents/")[1] for r in reads if "/contents/" in r) == [DEPLOY, EVAL]
    docs.commit(DEPLOY, NOW + dt.timedelta(days=1), "# Deploy\n\nReviewed: 2026-12-02\n")
    assert _run(issues, NOW + dt.timedelta(days=1)) == 0
    assert issues.state()[new]["state"] == "closed"

"""Tool lifecycle (issue 16, item 6): one sunset reminder per deprecated tool, before its
sunset, to its area owners; closed once the tool is removed. Planner tables, then end to end
through `dataface-ops run` against the contract-checked GitHub mock."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from automation import cli
from automation.actions import EditIssue, UpsertComment, UpsertIssue
from automation.features.tool_lifecycle.plan import plan_tool_lifecycle, reminder_body
from automation.policy.loader import load_policy_dir
from automation.policy.policies import Policies
from automation.policy.tools import ToolsPolicy
from automation.rules.tool_lifecycle import reminder_key, reminder_marker
from automation.simulate import simulate
from automation.snapshot.models import Comment, Issue, Snapshot
from tests.faults.issues import FakeIssues
from tests.flow_env import NO_SUMMARY_NO_LIMITS, actions_env
from tests.github_api.fixtures import GitHubMock
from tests.github_api.webhooks import webhook_payload
from tests.policy_files import ROOT

REPO = "dataface/dataface"
SUNSET = dt.date(2027, 1, 12)
OWNERS = ("dev-patel", "maya-chen", "sam-okafor")  # mcp-server's owners: team ai-platform
SHIPPED = load_policy_dir(ROOT / "policies")


def policies(lead: int = 14, **tool: Any) -> Policies:
    entry = {
        "name": "query_metrics",
        "area": "mcp-server",
        "runbook": "docs/runbooks/tool-incident.md",
        "lifecycle": "deprecated",
        "deprecated_on": "2026-11-30",
        "sunset": SUNSET.isoformat(),
        "replacement": "query_metrics_v3",
    } | tool
    entry = {k: v for k, v in entry.items() if v is not None}
    tools = ToolsPolicy.model_validate(
        {
            "sunset_reminder_days": lead,
            "tools": [entry, {"name": "query_metrics_v3", "area": "mcp-server"}],
        }
    )
    return dataclasses.replace(SHIPPED, tools=tools)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def snapshot(*issues: Issue, now: dt.datetime) -> Snapshot:
    return Snapshot(repo=REPO, taken_at=now, issues=issues, bot_login="dataface-ops[bot]")


def reminder(
    number: int, body: str, *, state: str = "open", comments: tuple[Comment, ...] = ()
) -> Issue:
    return Issue(
        number=number,
        title="Tool query_metrics sunsets on 2027-01-12",
        body=body,
        state=state,  # type: ignore[arg-type]
        author="dataface-ops[bot]",
        author_is_bot=True,
        labels=("tool-lifecycle",),
        created_at=at("2026-12-29T00:00:00+00:00"),
        updated_at=at("2026-12-29T00:00:00+00:00"),
        comments=comments,
    )


# --- lead time edges ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lead", "now", "opens"),
    [
        (14, "2026-12-28T23:59:59+00:00", False),  # the day before the lead day (UTC)
        (14, "2026-12-29T00:00:00+00:00", True),  # the lead day itself, from midnight UTC
        (14, "2026-12-28T20:00:00-05:00", True),  # 01:00 UTC on the lead day (New York evening)
        (14, "2027-01-12T12:00:00+00:00", True),  # the sunset day, still deprecated
        (14, "2027-02-01T12:00:00+00:00", True),  # past the sunset: still reminded once
        (0, "2027-01-11T23:59:59+00:00", False),  # lead 0: only on the day itself
        (0, "2027-01-12T00:00:00+00:00", True),
        (365, "2026-01-12T00:00:00+00:00", True),
    ],
    ids=[
        "day-before",
        "lead-day",
        "lead-day-in-utc",
        "sunset",
        "past",
        "lead0-before",
        "lead0",
        "lead365",
    ],
)
def test_lead_time_edges(lead: int, now: str, opens: bool) -> None:
    when = at(now)
    plan = plan_tool_lifecycle(policies(lead), snapshot(now=when), when)
    if not opens:
        assert plan.actions == ()
        due = SUNSET - dt.timedelta(days=lead)
        assert plan.notes == (f"query_metrics: sunset 2027-01-12; its reminder is due on {due}",)
        return
    (action,) = plan.actions
    assert isinstance(action, UpsertIssue) and action.number is None
    assert action.title == "Tool query_metrics sunsets on 2027-01-12"
    assert action.labels == ("tool-lifecycle",)
    assert action.assignees == OWNERS
    assert action.marker == reminder_marker("query_metrics", SUNSET)
    assert action.body.startswith(action.marker + "\n")
    assert "its replacement is `query_metrics_v3`" in action.body
    assert "@dev-patel, @maya-chen, @sam-okafor" in action.body


def test_reminder_is_updated_in_place_and_a_closed_one_stays_closed() -> None:
    now = at("2027-01-02T09:00:00+00:00")
    pol = policies()
    body = reminder_body(pol, snapshot(now=now), pol.tools.tools[0])
    # Converged: the same body and title.
    assert plan_tool_lifecycle(pol, snapshot(reminder(7, body), now=now), now).actions == ()
    # The registry's description changed: the one issue is edited, no second one.
    changed = policies(description="Metric queries (schema 2)")
    (edit,) = plan_tool_lifecycle(changed, snapshot(reminder(7, body), now=now), now).actions
    assert isinstance(edit, UpsertIssue) and edit.number == 7 and edit.assignees == ()
    # A person closed it: never reopened, never a second one.
    closed = snapshot(reminder(7, body, state="closed"), now=now)
    assert plan_tool_lifecycle(changed, closed, now).actions == ()
    # Without the label (anyone can type a marker into a body) it is not ours.
    stranger = reminder(7, body).model_copy(update={"labels": ()})
    (opened,) = plan_tool_lifecycle(pol, snapshot(stranger, now=now), now).actions
    assert isinstance(opened, UpsertIssue) and opened.number is None


@pytest.mark.parametrize(
    ("change", "why", "reason"),
    [
        (
            {"lifecycle": "removed", "removed_on": "2027-01-12", "sunset": None},
            "was removed on 2027-01-12",
            "completed",
        ),
        (
            {"lifecycle": "active", "deprecated_on": None, "sunset": None, "replacement": None},
            "is active again: its deprecation was withdrawn",
            "not_planned",
        ),
        (
            {"sunset": "2027-03-01"},
            "now sunsets on 2027-03-01 (a reminder comes before that day)",
            "not_planned",
        ),
    ],
    ids=["removed", "withdrawn", "sunset-moved"],
)
def test_a_reminder_closes_with_one_comment_when_its_tool_moves_on(
    change: dict[str, Any], why: str, reason: str
) -> None:
    now = at("2027-01-13T09:00:00+00:00")
    pol = policies()
    body = reminder_body(pol, snapshot(now=now), pol.tools.tools[0])
    after = policies(**change)
    plan = plan_tool_lifecycle(after, snapshot(reminder(7, body), now=now), now)
    comments = [a for a in plan.actions if isinstance(a, UpsertComment)]
    closes = [a for a in plan.actions if isinstance(a, EditIssue)]
    assert [c.body.split("\n", 1)[1] for c in comments] == [
        f"`query_metrics` {why}: this reminder is done."
    ]
    assert [(c.number, c.state, c.state_reason) for c in closes] == [(7, "closed", reason)]
    assert plan.actions[-1] in closes  # the close comes last
    # plan -> simulate -> plan: converged (the moved sunset's new reminder is not due yet).
    after_state = simulate(snapshot(reminder(7, body), now=now), plan)
    assert plan_tool_lifecycle(after, after_state, now).actions == ()


def test_the_comment_made_before_a_failed_close_is_not_made_twice() -> None:
    now = at("2027-01-13T09:00:00+00:00")
    pol = policies()
    body = reminder_body(pol, snapshot(now=now), pol.tools.tools[0])
    removed = policies(lifecycle="removed", removed_on="2027-01-12", sunset=None)
    first = plan_tool_lifecycle(removed, snapshot(reminder(7, body), now=now), now)
    comment = first.actions[0]
    assert isinstance(comment, UpsertComment)
    said = Comment(
        id=1,
        author="dataface-ops[bot]",
        author_is_bot=True,
        body=comment.body,
        created_at=now,
        updated_at=now,
    )
    again = plan_tool_lifecycle(
        removed, snapshot(reminder(7, body, comments=(said,)), now=now), now
    )
    assert [type(a).__name__ for a in again.actions] == ["EditIssue"]


def test_plan_simulate_plan_is_empty() -> None:
    now = at("2027-01-02T09:00:00+00:00")
    pol = policies()
    plan = plan_tool_lifecycle(pol, snapshot(now=now), now)
    assert len(plan.actions) == 1
    assert plan_tool_lifecycle(pol, simulate(snapshot(now=now), plan), now).actions == ()


def test_marker_key_round_trip() -> None:
    issue = reminder(1, reminder_marker("query_metrics", SUNSET) + "\ntext")
    assert reminder_key(issue) == ("query_metrics", SUNSET)
    assert (
        reminder_key(reminder(1, "<!-- dataface-ops:tool_lifecycle:sunset:x:2027-13-01 -->"))
        is None
    )


# --- end to end through `dataface-ops run` --------------------------------------------------


@pytest.fixture
def run_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """`dataface-ops run` as the Actions step runs it: a real workflow_dispatch payload."""

    def run(when: str, policy_dir: Path) -> int:
        payload = webhook_payload("workflow_dispatch")
        payload["inputs"] = {"features": "tool_lifecycle"}
        payload["repository"]["full_name"] = REPO
        actions_env(
            monkeypatch, tmp_path, "workflow_dispatch", payload, REPO, **NO_SUMMARY_NO_LIMITS
        )
        return cli.main(["run", "--policies", str(policy_dir), "--at", when])

    return run


def requests_since(github: GitHubMock, since: int) -> list[str]:
    return [
        f"{c.request.method} {c.request.path_url.split('?')[0]}" for c in list(github.calls)[since:]
    ]


def test_end_to_end_reminds_once_then_closes_when_removed(
    github: GitHubMock, run_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    from tests.policy_files import edit_policy

    policy_dir = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policy_dir)
    fake = FakeIssues(github, REPO, at("2026-12-29T09:00:00+00:00"))
    api = f"/repos/{REPO}"

    # Before the lead day: one read, nothing written.
    assert run_env("2026-12-28T09:00:00Z", policy_dir) == 0
    assert requests_since(github, 0) == [f"GET {api}/issues"]
    assert fake.issues == {}

    # The lead day (14 days before 2027-01-12): one issue, labelled, assigned to the owners.
    before = len(github.calls)
    assert run_env("2026-12-29T09:00:00Z", policy_dir) == 0
    assert requests_since(github, before) == [f"GET {api}/issues", f"POST {api}/issues"]
    (created,) = github.json_bodies("POST")
    assert created["labels"] == ["tool-lifecycle"]
    assert created["assignees"] == list(OWNERS)
    state = fake.state()["#1"]
    assert state["title"] == "Tool query_metrics sunsets on 2027-01-12"
    assert state["assignees"] == list(OWNERS) and state["state"] == "open"

    # A second run (the next day too): one read, nothing written.
    for when in ("2026-12-29T09:00:00Z", "2026-12-30T09:00:00Z"):
        before = len(github.calls)
        assert run_env(when, policy_dir) == 0
        assert requests_since(github, before) == [f"GET {api}/issues"]

    # The tool is removed: one comment, then the close. Then converged.
    edit_policy(
        policy_dir / "tools.yaml",
        "    lifecycle: deprecated\n    deprecated_on: 2026-11-30\n    sunset: 2027-01-12\n",
        "    lifecycle: removed\n    deprecated_on: 2026-11-30\n    removed_on: 2027-01-12\n",
    )
    fake.now = at("2027-01-12T16:00:00+00:00")
    before = len(github.calls)
    assert run_env("2027-01-12T16:00:00Z", policy_dir) == 0
    assert requests_since(github, before) == [
        f"GET {api}/issues",
        f"POST {api}/issues/1/comments",
        f"PATCH {api}/issues/1",
    ]
    state = fake.state()["#1"]
    assert (state["state"], state["state_reason"]) == ("closed", "completed")
    assert [body.split("\n", 1)[1] for _, body in state["comments"]] == [
        "`query_metrics` was removed on 2027-01-12: this reminder is done."
    ]
    before = len(github.calls)
    assert run_env("2027-01-13T16:00:00Z", policy_dir) == 0
    assert requests_since(github, before) == [f"GET {api}/issues"]
    assert len(fake.issues) == 1


def test_a_withdrawn_deprecation_closes_its_reminder_when_no_tool_is_deprecated_any_more(
    github: GitHubMock, run_env: Any, tmp_path: Path
) -> None:
    import shutil

    from tests.policy_files import edit_policy

    policy_dir = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policy_dir)
    now = at("2027-01-02T09:00:00+00:00")
    fake = FakeIssues(github, REPO, now)
    body = reminder_body(SHIPPED, snapshot(now=now), SHIPPED.tools.tool("query_metrics"))  # type: ignore[arg-type]
    fake.issue(
        1,
        title="Tool query_metrics sunsets on 2027-01-12",
        body=body,
        labels=("tool-lifecycle",),
        author="github-actions[bot]",
        created=at("2026-12-29T09:00:00+00:00"),
    )
    # Every tool active again: the registry has nothing deprecated or removed.
    edit_policy(
        policy_dir / "tools.yaml",
        "    lifecycle: deprecated\n    deprecated_on: 2026-11-30\n    sunset: 2027-01-12\n",
        "",
    )
    assert run_env("2027-01-02T09:00:00Z", policy_dir) == 0
    state = fake.state()["#1"]
    assert (state["state"], state["state_reason"]) == ("closed", "not_planned")


def test_a_scheduled_run_links_the_runbook_on_the_branch_actions_names(
    github: GitHubMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A schedule's payload names no repository (so no default branch); Actions runs it on
    the default branch and says which in GITHUB_REF. Seen: the reminder linked `blob/main`
    on a repository whose default branch is `develop`."""
    FakeIssues(github, REPO, at("2026-12-29T09:00:00+00:00"))
    actions_env(
        monkeypatch,
        tmp_path,
        "schedule",
        {"schedule": "41 7 * * *"},
        REPO,
        GITHUB_REF="refs/heads/develop",
        **NO_SUMMARY_NO_LIMITS,
    )
    assert (
        cli.main(
            [
                "run",
                "tool_lifecycle",
                "--policies",
                str(ROOT / "policies"),
                "--at",
                "2026-12-29T09:00:00Z",
            ]
        )
        == 0
    )
    (created,) = github.json_bodies("POST")
    assert f"/{REPO}/blob/develop/docs/runbooks/tool-incident.md" in created["body"]

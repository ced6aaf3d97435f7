"""Each feature's representative scenario, built on the fakes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from automation.plan import MARKER_PREFIX
from tests.faults.harness import Scenario, World
from tests.faults.injector import FaultyGitHub
from tests.faults.issues import BOT, FakeIssues
from tests.github_api import checker
from tests.github_api.webhooks import webhook_payload
from tests.triage_factories import form_body

REPO = "dataface/dataface"
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def marker_duplicates(fake: FakeIssues) -> list[str]:
    """A marker (one of ours) carried by two comments of an issue, or by two issues."""
    found: list[str] = []
    for number, comments in fake.comments.items():
        seen: set[str] = set()
        for comment in comments:
            for line in (comment.get("body") or "").splitlines():
                if line.startswith(MARKER_PREFIX) and "-data " not in line:
                    if line in seen:
                        found.append(f"#{number}: {line}")
                    seen.add(line)
    bodies: dict[str, int] = {}
    for number, issue in fake.issues.items():
        first = (issue.get("body") or "").split("\n", 1)[0]
        if first.startswith(MARKER_PREFIX) and issue["state"] == "open":
            if first in bodies:
                found.append(f"issues #{bodies[first]} and #{number}: {first}")
            bodies[first] = number
    return found


class IssuesWorld(World):
    def __init__(self, fake: FakeIssues) -> None:
        self.fake = fake

    def set_now(self, at: dt.datetime) -> None:
        self.fake.now = at

    def state(self) -> Any:
        return self.fake.state()

    def duplicates(self) -> list[str]:
        return marker_duplicates(self.fake)


def _regression(fake: FakeIssues, number: int, created: dt.datetime, **kw: Any) -> None:
    fake.issue(
        number,
        title=kw.pop("title", "Eval regression: tool-calling accuracy"),
        body=kw.pop("body", form_body()),
        labels=kw.pop("labels", ("eval-regression",)),
        author="raj-iyer",
        created=created,
        **kw,
    )


# --- triage: an issues.opened event ---------------------------------------------------

FILED = at("2026-11-24T11:00:00")


def build_triage(mock: FaultyGitHub) -> World:
    fake = FakeIssues(mock, REPO, FILED)
    _regression(fake, 100, FILED - dt.timedelta(days=1), body=form_body(suite="chat-e2e"))
    _regression(fake, 101, FILED)
    return IssuesWorld(fake)


def triage_event() -> tuple[str, dict[str, Any]]:
    payload = webhook_payload("issues.opened")
    payload["repository"]["full_name"] = REPO
    issue = payload["issue"]
    issue.update(number=101, title="Eval regression: tool-calling accuracy", body=form_body())
    issue["labels"] = [checker.label_json("eval-regression", repo=REPO)]
    issue.update(assignee=None, assignees=[])
    return "issues", payload


TRIAGE = Scenario(
    name="triage",
    build=build_triage,
    argv=("run", "triage"),
    at=FILED + dt.timedelta(seconds=40),
    event=triage_event(),
)


# --- escalation: the scheduled sweep past the SLA -------------------------------------


def triaged(fake: FakeIssues, number: int, filed: dt.datetime) -> None:
    """A regression filed at `filed` and triaged by the planner right then."""
    from automation.plan import EditIssue, UpsertComment
    from automation.planners.triage import plan_triage
    from tests.faults.harness import shipped_policies
    from tests.triage_factories import issue, snapshot

    _regression(fake, number, filed)
    plan = plan_triage(
        shipped_policies(), snapshot(issue(number, created_at=filed), now=filed), filed
    )
    for action in plan.actions:
        if isinstance(action, EditIssue):
            fake.now = filed
            if action.labels is not None:
                fake._set_labels(number, list(action.labels))
            if action.assignees is not None:
                fake._set_assignees(number, list(action.assignees))
        elif isinstance(action, UpsertComment):
            fake.comment(number, BOT, action.body, filed)
        else:
            raise AssertionError(action)


def build_escalation(mock: FaultyGitHub) -> World:
    """#101, a sev2 filed Monday 11:00 and triaged then; nobody acknowledged it."""
    fake = FakeIssues(mock, REPO, ESCALATED_AT)
    triaged(fake, 101, at("2026-11-23T11:00:00"))
    return IssuesWorld(fake)


ESCALATED_AT = at("2026-11-24T12:00:00")
ESCALATION = Scenario(
    name="escalation",
    build=build_escalation,
    argv=("apply", "triage"),
    at=ESCALATED_AT,
)


# --- the on-call handoff: the next shift ----------------------------------------------

HANDOFF_AT = at("2026-12-01T12:00:00")  # raj-iyer's shift since Mon 2026-11-30 10:00 GMT


def build_oncall(mock: FaultyGitHub) -> World:
    """The pinned issue written last shift, and #101 the bot gave sam-okafor then."""
    from automation.plan import UpsertIssue
    from automation.planners.oncall import plan_oncall
    from automation.snapshot.models import Snapshot
    from tests.faults.harness import shipped_policies

    created = at("2026-11-24T10:30:00")
    fake = FakeIssues(mock, REPO, created)
    empty = Snapshot(repo=REPO, taken_at=created)
    (roster,) = plan_oncall(shipped_policies(), empty, created).actions
    assert isinstance(roster, UpsertIssue)
    fake.issue(
        7, title=roster.title, body=roster.body, labels=roster.labels, author=BOT, created=created
    )
    fake.user(BOT)
    fake.issues[7]["user"]["type"] = "Bot"
    triaged(fake, 101, at("2026-11-24T11:00:00"))
    assert [a["login"] for a in fake.issues[101]["assignees"]] == ["sam-okafor"]
    return IssuesWorld(fake)


ONCALL = Scenario(
    name="oncall",
    build=build_oncall,
    argv=("apply", "oncall"),
    at=HANDOFF_AT,
)


# --- the weekly digest ----------------------------------------------------------------


def build_digest(mock: FaultyGitHub) -> World:
    """The week of tests/test_digest_flow.py: regressions, stale items, merges, releases."""
    from tests import test_digest_flow as week

    fake = FakeIssues(mock, REPO, DIGEST_AT)
    for data in (*week.OPEN_ITEMS, *week.CLOSED_ITEMS):
        fake.add(data)
    fake.timelines.update(week.TIMELINES)
    api = fake.api
    mock.serve("GET", api, checker.example("repos/get", repo=REPO, default_branch="trunk"))
    mock.serve("GET", f"{api}/pulls", week.PULLS)
    for number, files in week.FILES.items():
        mock.serve("GET", f"{api}/pulls/{number}/files", files)
    for sha, conclusion in week.RUNS.items():
        mock.serve("GET", f"{api}/commits/{sha}/check-runs", week.check_runs(sha, conclusion))
    mock.serve("GET", f"{api}/releases", week.RELEASES)
    return IssuesWorld(fake)


DIGEST_AT = at("2026-11-24T12:00:00")
DIGEST = Scenario(name="digest", build=build_digest, argv=("apply", "digest"), at=DIGEST_AT)

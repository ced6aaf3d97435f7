"""The stale planner: table scenarios asserting the exact plan, idempotence, the budget."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automation.actions import EditIssue, Plan, UpsertComment
from automation.execute import execute
from automation.features.stale.plan import plan_stale
from automation.policy.loader import Policies, load_policy_dir
from automation.policy.stale import StalePolicy
from automation.rules.stale import needs_activity, warning_marker
from automation.simulate import simulate
from automation.snapshot.models import Comment, Issue, IssueEvent, PullRequest
from tests.factories import BOT, NOW, ago, make_snapshot

ROOT = Path(__file__).resolve().parent.parent

RULE: dict[str, Any] = {
    "name": "backlog",
    "days_until_stale": 60,
    "days_until_close": 14,
    "exempt_labels": ["keep", "area:*"],
    "exempt_assignees": ["ai-platform"],
    "exempt_authors": ["lena-fischer", "renovate[bot]"],
    "exempt_milestones": ["v2.*"],
    "warning_comment": "Stale {{ kind }} #{{ number }}: closes on {{ close_on }}.",
    "closing_comment": "Closed #{{ number }} after {{ days_until_close }} days.",
    "on_stale": {"add": ["inactive"], "remove": ["triaged"]},
    "on_close": {"add": ["closed-stale"], "remove": ["inactive"]},
}


@cache
def shipped() -> Policies:
    return load_policy_dir(ROOT / "policies")


def policies(*rules: dict[str, Any], budget: int = 50) -> Policies:
    stale = StalePolicy.model_validate(
        {"rules": list(rules or (RULE,)), "max_writes_per_run": budget}
    )
    return dataclasses.replace(shipped(), stale=stale)


def comment(author: str, days: float, body: str = "", cid: int = 0) -> Comment:
    at = ago(days=days)
    return Comment(
        id=cid or int(days * 1000) + len(author),
        author=author,
        author_is_bot=author.endswith("[bot]"),
        body=body,
        created_at=at,
        updated_at=at,
    )


def event(kind: str, actor: str, days: float, label: str | None = None) -> IssueEvent:
    return IssueEvent(
        event=kind,
        actor=actor,
        actor_is_bot=actor.endswith("[bot]"),
        created_at=ago(days=days),
        label=label,
    )


def warned(number: int, days: float) -> tuple[tuple[Comment, ...], tuple[IssueEvent, ...]]:
    """The trace the sweep leaves when it warns: its label, then its comment."""
    body = f"Stale issue #{number}\n\n{warning_marker(number)}\n"
    return (comment(BOT, days, body),), (event("labeled", BOT, days, "stale"),)


def issue(
    number: int = 7,
    *,
    updated: float,
    created: float = 400,
    read: bool = True,
    comments: tuple[Comment, ...] = (),
    events: tuple[IssueEvent, ...] = (),
    **kw: Any,
) -> Issue:
    """An open issue, `created` and `updated` days ago; activity read unless read=False."""
    return Issue(
        number=number,
        title=f"Issue {number}",
        author=kw.pop("author", "dev-patel"),
        created_at=ago(days=created),
        updated_at=ago(days=updated),
        comments=comments if read else None,
        events=events if read else None,
        **kw,
    )


def pull(number: int = 8, *, draft: bool = False, **kw: Any) -> PullRequest:
    item = issue(number, **kw)
    data = item.model_dump()
    data.update(draft=draft, title=f"PR {number}")
    return PullRequest.model_validate(data)


def describe(plan: Plan) -> list[str]:
    return [a.describe() for a in plan.actions]


W7 = "#7: comment stale:warning-7"
ADD7 = "#7: add labels stale, inactive"
CLOSE7 = [
    "#7: comment stale:close-7-2026-11-09",
    "#7: set labels = [stale, closed-stale]; state = closed (not_planned)",
]
UNSTALE7 = ["#7: remove label inactive", "#7: remove label stale"]
WARNED_LABELS = ("stale", "inactive")

SCENARIOS: list[tuple[str, Issue, list[str]]] = [
    ("young issue: created after the threshold", issue(updated=10, created=10, read=False), []),
    ("untouched for 90 days: warn (cheap filter)", issue(updated=90, read=False), [W7, ADD7]),
    ("untouched for exactly 60 days: warn", issue(updated=60, read=False), [W7, ADD7]),
    (
        "updated 59 days ago, the update was a person's comment",
        issue(updated=59, comments=(comment("sam-okafor", 59),)),
        [],
    ),
    (
        "updated 2 days ago only by this project's comment: warn",
        issue(updated=2, comments=(comment(BOT, 2, "triage note"),)),
        [W7, ADD7],
    ),
    (
        "updated 3 days ago only by this project's label: warn",
        issue(updated=3, events=(event("labeled", BOT, 3, "area:x-not-exempt"),)),
        [W7, ADD7],
    ),
    (
        "another bot's comment is not activity: warn",
        issue(updated=1, comments=(comment("dependabot[bot]", 1),)),
        [W7, ADD7],
    ),
    (
        "a person's label change 5 days ago",
        issue(updated=5, events=(event("labeled", "raj-iyer", 5, "question"),)),
        [],
    ),
    (
        "a person's assignment 5 days ago",
        issue(updated=5, events=(event("assigned", "raj-iyer", 5),)),
        [],
    ),
    (
        "an edit the timeline does not list (updated_at unexplained)",
        issue(updated=5, comments=(comment("sam-okafor", 100),)),
        [],
    ),
    (
        "a subscription is not activity: warn",
        issue(updated=4, events=(event("subscribed", "raj-iyer", 4),)),
        [W7, ADD7],
    ),
    (
        "warn removes on_stale.remove labels",
        issue(updated=90, read=False, labels=("triaged", "bug")),
        [W7, "#7: remove label triaged", ADD7],
    ),
    ("exempt label", issue(updated=90, read=False, labels=("keep",)), []),
    ("exempt label, other case", issue(updated=90, read=False, labels=("Keep",)), []),
    ("exempt label by wildcard", issue(updated=90, read=False, labels=("area:evals",)), []),
    (
        "wildcard does not match a longer prefix",
        issue(updated=90, read=False, labels=("sub-area:evals",)),
        [W7, ADD7],
    ),
    (
        "exempt assignee through the team",
        issue(updated=90, read=False, assignees=("sam-okafor",)),
        [],
    ),
    ("assignee not exempt", issue(updated=90, read=False, assignees=("raj-iyer",)), [W7, ADD7]),
    ("exempt author", issue(updated=90, read=False, author="lena-fischer"), []),
    ("exempt bot author", issue(updated=90, read=False, author="renovate[bot]"), []),
    ("exempt milestone by wildcard", issue(updated=90, read=False, milestone="v2.1"), []),
    ("milestone not exempt", issue(updated=90, read=False, milestone="someday"), [W7, ADD7]),
    ("pinned", issue(updated=90, read=False, pinned=True), []),
    (
        "warned 5 days ago, nothing since",
        issue(updated=5, labels=WARNED_LABELS, comments=warned(7, 5)[0], events=warned(7, 5)[1]),
        [],
    ),
    (
        "warned 15 days ago, nothing since: close",
        issue(updated=15, labels=WARNED_LABELS, comments=warned(7, 15)[0], events=warned(7, 15)[1]),
        CLOSE7,
    ),
    (
        "warned 15 days ago, this project commented since: still close",
        issue(
            updated=1,
            labels=WARNED_LABELS,
            comments=(*warned(7, 15)[0], comment(BOT, 1, "digest mention")),
            events=warned(7, 15)[1],
        ),
        CLOSE7,
    ),
    (
        "warned 15 days ago, a bot relabelled since: still close",
        issue(
            updated=2,
            labels=WARNED_LABELS,
            comments=warned(7, 15)[0],
            events=(*warned(7, 15)[1], event("labeled", "triage-helper[bot]", 2, "bug")),
        ),
        CLOSE7,
    ),
    (
        "warned 15 days ago by a personal token's user: its marker comment is no activity",
        issue(
            updated=15,
            labels=WARNED_LABELS,
            comments=(comment("ops-machine", 15, f"Stale issue #7\n\n{warning_marker(7)}\n"),),
            events=(event("labeled", "ops-machine", 15, "stale"),),
        ),
        CLOSE7,
    ),
    (
        "the closing comment went out but the close failed: close, no second comment",
        issue(
            updated=1,
            labels=WARNED_LABELS,
            comments=(
                *warned(7, 16)[0],
                comment(BOT, 1, "Closed #7 after 14 days.\n\n<!-- dataface-ops:stale:close-7 -->"),
            ),
            events=warned(7, 16)[1],
        ),
        CLOSE7[1:],
    ),
    (
        "a person commented after the warning: un-stale",
        issue(
            updated=3,
            labels=WARNED_LABELS,
            comments=(*warned(7, 10)[0], comment("maya-chen", 3, "still needed")),
            events=warned(7, 10)[1],
        ),
        UNSTALE7,
    ),
    (
        "a person set the issue type after the warning (types replace labels): un-stale",
        issue(
            updated=3,
            labels=WARNED_LABELS,
            comments=warned(7, 10)[0],
            events=(*warned(7, 10)[1], event("issue_type_added", "maya-chen", 3)),
        ),
        UNSTALE7,
    ),
    (
        "a person removed the stale label: nothing left to do",
        issue(
            updated=3,
            labels=("inactive",),
            comments=warned(7, 10)[0],
            events=(*warned(7, 10)[1], event("unlabeled", "maya-chen", 3, "stale")),
        ),
        [],
    ),
    (
        "reopened by a person after the warning: un-stale",
        issue(
            updated=1,
            labels=WARNED_LABELS,
            comments=warned(7, 30)[0],
            events=(
                *warned(7, 30)[1],
                event("closed", "maya-chen", 5),
                event("reopened", "maya-chen", 1),
            ),
        ),
        UNSTALE7,
    ),
    (
        "reopened by a bot after the warning: a fresh warning, not a close",
        issue(
            updated=1,
            labels=WARNED_LABELS,
            comments=warned(7, 30)[0],
            events=(*warned(7, 30)[1], event("reopened", "sync[bot]", 1)),
        ),
        [W7],
    ),
    (
        "a person's activity after the warning is itself 70 days old: fresh warning",
        issue(
            updated=70,
            labels=WARNED_LABELS,
            comments=(*warned(7, 100)[0], comment("maya-chen", 70)),
            events=warned(7, 100)[1],
        ),
        [W7],
    ),
    (
        "a person applied the stale label, no warning comment yet: warn in a comment",
        issue(
            updated=2,
            labels=("stale",),
            comments=(comment("maya-chen", 80),),
            events=(event("labeled", "maya-chen", 2, "stale"),),
        ),
        [W7, "#7: add labels inactive"],
    ),
    (
        "exempt now but carrying the stale label: un-stale without reading history",
        issue(updated=1, read=False, labels=(*WARNED_LABELS, "keep")),
        UNSTALE7,
    ),
    (
        "carrying the stale label, history unread: left alone",
        issue(updated=20, read=False, labels=WARNED_LABELS),
        [],
    ),
    ("closed issue", issue(updated=90, read=False, state="closed"), []),
]


@pytest.mark.parametrize(
    ("item", "expected"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS]
)
def test_issue_scenarios(item: Issue, expected: list[str]) -> None:
    snapshot = make_snapshot(issues=(item,))
    plan = plan_stale(policies(), snapshot, NOW)
    assert describe(plan) == expected
    assert all(a.reason for a in plan.actions)


PR_RULE = {**RULE, "name": "prs", "scope": "prs", "on_stale": {}, "on_close": {}}
W8 = "#8: comment stale:warning-8"
ADD8 = "#8: add labels stale"
PR_CLOSE = ["#8: comment stale:close-8-2026-11-09", "#8: set state = closed"]
PR_SCENARIOS: list[tuple[str, dict[str, Any], PullRequest, list[str]]] = [
    ("stale PR: warn", PR_RULE, pull(updated=90, read=False), [W8, ADD8]),
    ("draft PR left out", PR_RULE, pull(updated=90, read=False, draft=True), []),
    (
        "draft PR swept when drafts are in",
        {**PR_RULE, "include_drafts": True},
        pull(updated=90, read=False, draft=True),
        [W8, ADD8],
    ),
    (
        "issues-only rule leaves PRs alone",
        {**RULE, "scope": "issues"},
        pull(updated=90, read=False),
        [],
    ),
    (
        "PR closes without a state reason",
        PR_RULE,
        pull(updated=15, labels=("stale",), comments=warned(8, 15)[0], events=warned(8, 15)[1]),
        PR_CLOSE,
    ),
    (
        "a push after the warning (commit event by a person): un-stale",
        PR_RULE,
        pull(
            updated=2,
            labels=("stale",),
            comments=warned(8, 10)[0],
            events=(*warned(8, 10)[1], event("committed", "Dev Patel", 2)),
        ),
        ["#8: remove label stale"],
    ),
    (
        "a push of older commits after the warning (only updated_at moved): un-stale",
        PR_RULE,
        pull(updated=2, labels=("stale",), comments=warned(8, 10)[0], events=warned(8, 10)[1]),
        ["#8: remove label stale"],
    ),
    (
        "a review after the warning: un-stale",
        PR_RULE,
        pull(
            updated=2,
            labels=("stale",),
            comments=warned(8, 10)[0],
            events=(*warned(8, 10)[1], event("reviewed", "maya-chen", 2)),
        ),
        ["#8: remove label stale"],
    ),
    (
        "close without a comment when closing_comment is null",
        {**PR_RULE, "closing_comment": None},
        pull(updated=15, labels=("stale",), comments=warned(8, 15)[0], events=warned(8, 15)[1]),
        ["#8: set state = closed"],
    ),
    (
        "never closed when days_until_close is null",
        {**PR_RULE, "days_until_close": None},
        pull(updated=400, labels=("stale",), comments=warned(8, 400)[0], events=warned(8, 400)[1]),
        [],
    ),
    (
        "only_labels: the PR lacks one",
        {**PR_RULE, "only_labels": ["needs-rebase", "external"]},
        pull(updated=90, read=False, labels=("external",)),
        [],
    ),
    (
        "only_labels: the PR has all",
        {**PR_RULE, "only_labels": ["needs-rebase", "external"]},
        pull(updated=90, read=False, labels=("external", "needs-rebase")),
        [W8, ADD8],
    ),
    (
        "any_of_labels: none present",
        {**PR_RULE, "any_of_labels": ["question", "needs-info"]},
        pull(updated=90, read=False, labels=("bug",)),
        [],
    ),
    (
        "any_of_labels: one present",
        {**PR_RULE, "any_of_labels": ["question", "needs-info"]},
        pull(updated=90, read=False, labels=("Needs-Info",)),
        [W8, ADD8],
    ),
]


@pytest.mark.parametrize(
    ("rule", "item", "expected"), [s[1:] for s in PR_SCENARIOS], ids=[s[0] for s in PR_SCENARIOS]
)
def test_pull_request_scenarios(
    rule: dict[str, Any], item: PullRequest, expected: list[str]
) -> None:
    snapshot = make_snapshot(pulls=(item,))
    plan = plan_stale(policies(rule), snapshot, NOW)
    assert describe(plan) == expected


ALL = [(s[1], RULE) for s in SCENARIOS] + [(s[2], s[1]) for s in PR_SCENARIOS]


@pytest.mark.parametrize(("item", "rule"), ALL, ids=[s[0] for s in SCENARIOS + PR_SCENARIOS])
def test_plan_simulate_plan_is_empty(item: Issue, rule: dict[str, Any]) -> None:
    pols = policies(rule)
    key = "pulls" if isinstance(item, PullRequest) else "issues"
    snapshot = make_snapshot(**{key: (item,)})
    after = simulate(snapshot, plan_stale(pols, snapshot, NOW))
    assert describe(plan_stale(pols, after, NOW)) == []


def test_first_covering_rule_sweeps_and_exemptions_do_not_fall_through() -> None:
    questions = {**RULE, "name": "questions", "any_of_labels": ["question"], "days_until_stale": 7}
    snapshot = make_snapshot(
        issues=(
            issue(1, updated=10, read=False, labels=("question",)),
            issue(2, updated=10, read=False),
            issue(3, updated=10, read=False, labels=("question", "keep")),
        )
    )
    plan = plan_stale(policies(questions, RULE), snapshot, NOW)
    assert describe(plan) == ["#1: comment stale:warning-1", "#1: add labels stale, inactive"]


def test_warning_and_closing_bodies_render_the_policy_templates() -> None:
    snapshot = make_snapshot(
        issues=(
            issue(7, updated=90, read=False),
            issue(
                9,
                updated=15,
                labels=WARNED_LABELS,
                comments=warned(9, 15)[0],
                events=warned(9, 15)[1],
            ),
        )
    )
    plan = plan_stale(policies(), snapshot, NOW)
    bodies = [a.body for a in plan.actions if isinstance(a, UpsertComment)]
    # #9's last person activity (its opening, 400 days ago) is older than #7's update.
    assert bodies == [
        "Closed #9 after 14 days.\n\n<!-- dataface-ops:stale:close-9-2026-11-09 -->\n",
        f"Stale issue #7: closes on 2026-12-08.\n\n{warning_marker(7)}\n",
    ]
    close = [a for a in plan.actions if isinstance(a, EditIssue)]
    # The stale label stays on a closed item (it says why); on_close swaps the others.
    assert close[0].labels == ("stale", "closed-stale") and close[0].state_reason == "not_planned"


def metered(plan: Plan) -> tuple[Plan, list[str]]:
    """The part of a plan the executor writes within its budget (a dry run), and its notes."""
    report = execute([plan], None, dry_run=True)
    written = tuple(o.action for o in report.outcomes if o.status == "dry-run")
    return dataclasses.replace(plan, actions=written), report.notes


def test_budget_cuts_oldest_activity_first_and_notes_the_rest() -> None:
    snapshot = make_snapshot(
        issues=(
            issue(1, updated=70, read=False),
            issue(2, updated=300, read=False),
            issue(3, updated=90, read=False),
            issue(4, updated=200, read=False),
        )
    )
    pols = policies(budget=5)
    plan = plan_stale(pols, snapshot, NOW)
    # The plan is the whole diff, oldest activity first; it declares the policy's budget.
    assert [a.number for a in plan.actions] == [2, 2, 4, 4, 3, 3, 1, 1]
    assert (plan.budget, plan.budget_source) == (5, "stale.yaml max_writes_per_run")
    # The executor writes whole items while they fit: two items, never half of a third.
    written, notes = metered(plan)
    assert describe(written) == [
        "#2: comment stale:warning-2",
        "#2: add labels stale, inactive",
        "#4: comment stale:warning-4",
        "#4: add labels stale, inactive",
    ]
    assert (
        "stale: 2 item(s) deferred to the next run by the write budget of 5 writes "
        "(stale.yaml max_writes_per_run)"
    ) in notes
    # The next runs pick up the rest, with no state kept anywhere but in GitHub.
    runs = 1
    while written:
        snapshot = simulate(snapshot, written)
        written, _ = metered(plan_stale(pols, snapshot, NOW))
        runs += 1
    assert runs == 3
    assert all("stale" in i.labels for i in snapshot.issues)


def test_event_run_only_unstales_its_subject() -> None:
    due = issue(
        1, updated=15, labels=WARNED_LABELS, comments=warned(1, 15)[0], events=warned(1, 15)[1]
    )
    active = issue(
        2,
        updated=0.01,
        labels=WARNED_LABELS,
        comments=(*warned(2, 10)[0], comment("maya-chen", 0.01)),
        events=warned(2, 10)[1],
    )
    pols = policies()
    one = make_snapshot(issues=(due, active), subjects=(2,))
    assert describe(plan_stale(pols, one, NOW)) == [
        "#2: remove label inactive",
        "#2: remove label stale",
    ]
    other = make_snapshot(issues=(due, active), subjects=(1,))
    assert describe(plan_stale(pols, other, NOW)) == []
    assert plan_stale(pols, other, NOW).notes == ()


@pytest.mark.parametrize(
    ("item", "needed"),
    [
        (issue(updated=90, read=False), False),  # stale whoever touched it
        (issue(updated=10, created=10, read=False), False),  # young
        (issue(updated=10, read=False), True),  # old, recently updated: by whom?
        (issue(updated=1, read=False, labels=("stale",)), True),  # when warned, acted since?
        (issue(updated=1, read=False, labels=("stale", "keep")), False),  # exempt: no history
        (issue(updated=10, read=False, labels=("keep",)), False),
        (issue(updated=10, read=False, state="closed"), False),
    ],
)
def test_needs_activity_only_where_the_verdict_depends_on_it(item: Issue, needed: bool) -> None:
    assert needs_activity(policies(), item, NOW) is needed


def test_unread_items_are_reported_not_acted_on() -> None:
    snapshot = make_snapshot(issues=(issue(5, updated=10, read=False),))
    plan = plan_stale(policies(), snapshot, NOW)
    assert not plan
    assert plan.notes[-1] == "1 item(s) left alone: their activity was not read (#5)"


ACTORS = ["maya-chen", "raj-iyer", BOT, "renovate[bot]"]
KINDS = ["commented", "labeled", "unlabeled", "reopened", "assigned", "subscribed", "closed"]


@st.composite
def items(draw: st.DrawFn) -> Issue:
    """An open item with a random, fully read history, possibly warned before."""
    number = draw(st.integers(1, 99))
    created = draw(st.floats(0, 500))

    def moment() -> float:
        return draw(st.floats(0, created))

    comments: list[Comment] = []
    events: list[IssueEvent] = []
    labels = list(
        draw(st.lists(st.sampled_from(["bug", "keep", "triaged", "inactive"]), unique=True))
    )
    for index in range(draw(st.integers(0, 4))):
        actor = draw(st.sampled_from(ACTORS))
        kind = draw(st.sampled_from(KINDS))
        days = moment()
        if kind == "commented":
            comments.append(comment(actor, days, cid=index + 1))
        else:
            label = draw(st.sampled_from(["bug", "stale"])) if "label" in kind else None
            events.append(event(kind, actor, days, label))
    if draw(st.booleans()):
        days = moment()
        trace = warned(number, days)
        comments += trace[0]
        events += trace[1]
        labels.append("stale")
    times = [c.updated_at for c in comments] + [e.created_at for e in events]
    latest = max(times, default=ago(days=created))
    edited = draw(st.booleans())
    updated = ago(days=draw(st.floats(0, (NOW - latest).days or 0))) if edited else latest
    return Issue(
        number=number,
        title="t",
        author=draw(st.sampled_from(["dev-patel", "lena-fischer"])),
        created_at=ago(days=created),
        updated_at=max(updated, latest),
        labels=tuple(labels),
        comments=tuple(comments),
        events=tuple(events),
    )


@settings(max_examples=300, deadline=None)
@given(items())
def test_any_history_converges_in_one_plan(item: Issue) -> None:
    pols = policies(budget=10_000)
    snapshot = make_snapshot(issues=(item,))
    plan = plan_stale(pols, snapshot, NOW)
    assert describe(plan_stale(pols, simulate(snapshot, plan), NOW)) == []


def test_a_rewarning_after_an_unlisted_edit_restarts_the_clock() -> None:
    """Found by the history property: an edit after the warning (no event shows it) re-warns;
    the rewritten comment then explains `updated_at`, and the old label's date must not
    make the close due at once."""
    warned_days = 61
    item = issue(1, updated=warned_days - 1, created=warned_days)
    comments, events = warned(1, warned_days)
    item = item.model_copy(update={"labels": ("stale",), "comments": comments, "events": events})
    pols = policies(budget=10_000)
    snapshot = make_snapshot(issues=(item,))
    first = plan_stale(pols, snapshot, NOW)
    assert any("stale:warning-1" in line for line in describe(first))
    assert describe(plan_stale(pols, simulate(snapshot, first), NOW)) == []

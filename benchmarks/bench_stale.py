"""The stale sweep: planning time over a 100,000-item snapshot, and GitHub requests per
100 items against the contract-checked mocks (REST checked against GitHub's OpenAPI
description, GraphQL against its schema).

Run on demand:
    python benchmarks/bench_stale.py [--items N]   # planning time
    python benchmarks/bench_stale.py --requests    # reads and writes per 100 items, 5,000 items
    python benchmarks/bench_stale.py --converge    # 5,500 items under 1,000 requests an hour
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from automation.features.stale.plan import plan_stale
from automation.markers import marker
from automation.policy.loader import load_policy_dir
from automation.rules.stale import needs_activity
from automation.snapshot.models import Comment, Issue, IssueEvent, PullRequest, Snapshot

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
BOT = "dataface-ops[bot]"
PEOPLE = ["maya-chen", "dev-patel", "sam-okafor", "lena-fischer", "raj-iyer", "tomas-silva"]
LABELS = ["bug", "enhancement", "docs", "question", "performance", "triaged", "roadmap", "security"]


def ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def make_item(n: int, rng: random.Random) -> Issue:
    """One item of an aging backlog: young, untouched, bot-touched, warned, answered, ..."""
    kind = rng.random()
    labels = rng.sample(LABELS, rng.randint(0, 2))
    author = rng.choice(PEOPLE)
    comments: tuple[Comment, ...] | None = None
    events: tuple[IssueEvent, ...] | None = None
    created = rng.uniform(61, 900)
    if kind < 0.55:  # young or recently active, unread
        created, updated = rng.uniform(1, 29), rng.uniform(0, 1)
    elif kind < 0.75:  # untouched for long: warned on the cheap filter
        updated = rng.uniform(61, created)
    elif kind < 0.85:  # touched recently by a bot or a person: read
        updated = rng.uniform(0, 59)
        who = rng.choice([BOT, "renovate[bot]", *PEOPLE])
        at = ago(updated)
        comments = (
            Comment(
                id=n,
                author=who,
                author_is_bot=who.endswith("]"),
                body="x",
                created_at=at,
                updated_at=at,
            ),
        )
        events = ()
    else:  # warned some days ago; some answered since
        warned = rng.uniform(1, 30)
        labels = [*labels, "stale"]
        body = f"stale\n\n{marker('stale', f'warning-{n}')}\n"
        comments = (
            Comment(
                id=n,
                author=BOT,
                author_is_bot=True,
                body=body,
                created_at=ago(warned),
                updated_at=ago(warned),
            ),
        )
        events = (
            IssueEvent(
                event="labeled", actor=BOT, actor_is_bot=True, created_at=ago(warned), label="stale"
            ),
        )
        updated = warned
        if rng.random() < 0.3:
            updated = rng.uniform(0, warned)
            comments += (
                Comment(
                    id=-n,
                    author=author,
                    body="still wanted",
                    created_at=ago(updated),
                    updated_at=ago(updated),
                ),
            )
    fields = dict(
        number=n,
        title=f"Item {n}",
        author=author,
        labels=tuple(labels),
        created_at=ago(created),
        updated_at=ago(updated),
        comments=comments,
        events=events,
    )
    if rng.random() < 0.1:
        return PullRequest(**fields, draft=rng.random() < 0.3)  # type: ignore[arg-type]
    return Issue(**fields)  # type: ignore[arg-type]


# actions/stale on the same generated backlogs (issue 18).
ACTIONS_STALE_READS_PER_100 = 145
ACTIONS_STALE_SECOND_RUN_1100 = 1571


def requests_per_100() -> None:
    """A full pass and a quiet second pass over the generated 5,000-item backlog."""
    from automation.engine import run_live
    from tests.github_api.fixtures import GitHubMock
    from tests.stale_backlog import Backlog
    from tests.test_stale_sweep import NOW as AT
    from tests.test_stale_sweep import build_5000, policies, reads, repository

    mock = GitHubMock()
    mock.start()
    backlog = Backlog(mock, AT)
    build_5000(backlog)
    backlog.install()
    print("generated backlog: 5,000 open items (test_stale_sweep.build_5000)")
    for name, at in (("full pass", AT), ("quiet second pass", AT + dt.timedelta(minutes=5))):
        open_items = sum(1 for i in backlog.items.values() if i.state == "open")
        before, writes_before = len(mock.calls), len(mock.writes())
        start = time.perf_counter()
        run_live(repository(), policies(), ["stale"], None, at, dry_run=False, max_writes=None)
        took = time.perf_counter() - start
        seen = reads(mock, before)
        total = sum(seen.values())
        writes = len(mock.writes()) - writes_before
        print(
            f"{name}: {open_items:,} open items, {total} reads ({seen['pages']} list pages, "
            f"{seen['graphql']} GraphQL, {seen['timelines']} REST timelines), {writes:,} writes; "
            f"per 100 items: {100 * total / open_items:.2f} reads, "
            f"{100 * writes / open_items:.1f} writes ({took:.1f} s against the mocks)"
        )
    print(
        f"actions/stale on the same kind of backlog: {ACTIONS_STALE_READS_PER_100} reads per "
        f"100 items; {ACTIONS_STALE_SECOND_RUN_1100:,} requests for a second run over 1,100 items"
    )
    problems = mock.problems()
    mock.reset()
    # The 1,100-item backlog actions/stale's second-run figure is for (a fifth of 5,500).
    from tests.test_stale_scale import build_5500

    small = Backlog(mock, AT)
    build_5500(small, every=5)
    small.install()
    run_live(repository(), policies(), ["stale"], None, AT, dry_run=False, max_writes=None)
    before = len(mock.calls)
    at = AT + dt.timedelta(minutes=5)
    run_live(repository(), policies(), ["stale"], None, at, dry_run=False, max_writes=None)
    second = mock.calls[before:]
    requests = sum(reads(mock, before).values()) + sum(1 for c in mock.writes() if c in second)
    print(f"quiet second run over 1,100 items: {requests} requests (actions/stale: 1,571)")
    problems += mock.problems()
    mock.stop(allow_assert=False)
    mock.reset()
    print(f"contract problems: {len(problems)}")


def converge() -> None:
    """Runs under 1,000 requests an hour on 5,500 items, against one unlimited pass."""
    import copy

    from automation.engine import run_live
    from tests.github_api.fixtures import GitHubMock
    from tests.stale_backlog import Backlog
    from tests.test_stale_scale import build_5500, state
    from tests.test_stale_sweep import NOW as AT
    from tests.test_stale_sweep import policies, repository

    mock = GitHubMock()
    mock.start()
    unlimited = Backlog(mock, AT)
    build_5500(unlimited)
    limited = Backlog(mock, AT)
    limited.items = copy.deepcopy(unlimited.items)
    unlimited.install()
    run_live(repository(), policies(), ["stale"], None, AT, dry_run=False, max_writes=None)
    expected = state(unlimited)
    print(f"one unlimited pass over 5,500 items: {len(mock.writes()):,} writes")
    problems = mock.problems()
    mock.reset()
    limited.core_limit = limited.graphql_limit = 1000
    limited.install()
    for hour in range(1, 25):
        limited.new_hour()
        before = len(mock.writes())
        run_live(repository(), policies(), ["stale"], None, AT, dry_run=False, max_writes=None)
        made = len(mock.writes()) - before
        print(
            f"run {hour}: {limited.core_used} REST requests ({made} writes), "
            f"{limited.graphql_used} GraphQL points, refused {limited.refused}"
        )
        if made == 0:
            break
    same = state(limited) == expected
    print(f"converged to the unlimited pass's state: {same}")
    problems += mock.problems()
    mock.stop(allow_assert=False)
    mock.reset()
    print(f"contract problems: {len(problems)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", action="store_true", help="requests per 100 items")
    parser.add_argument("--converge", action="store_true", help="runs under a 1,000 limit")
    args = parser.parse_args()
    if args.requests:
        requests_per_100()
        return
    if args.converge:
        converge()
        return
    rng = random.Random(6)
    policies = load_policy_dir(Path(__file__).resolve().parents[1] / "policies")

    start = time.perf_counter()
    items = [make_item(n, rng) for n in range(1, args.items + 1)]
    snapshot = Snapshot(
        repo="dataface/dataface",
        taken_at=NOW,
        bot_login=BOT,
        issues=tuple(i for i in items if not isinstance(i, PullRequest)),
        pulls=tuple(i for i in items if isinstance(i, PullRequest)),
    )
    print(f"built {args.items:,} items in {time.perf_counter() - start:.2f} s")

    start = time.perf_counter()
    reads = sum(needs_activity(policies, i, NOW) for i in items)
    print(f"needs_activity over all items: {time.perf_counter() - start:.2f} s ({reads:,} reads)")

    for budget in (policies.stale.max_writes_per_run, 10**9):
        pols = dataclasses.replace(
            policies,
            stale=policies.stale.model_copy(update={"max_writes_per_run": budget}),
        )
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            plan = plan_stale(pols, snapshot, NOW)
            best = min(best, time.perf_counter() - start)
        label = "unlimited" if budget == 10**9 else str(budget)
        print(
            f"plan_stale, budget {label}: {best:.2f} s (best of 3), {len(plan.actions):,} actions"
        )
        for note in plan.notes:
            print(f"  note: {note}")


if __name__ == "__main__":
    main()

"""Time planning the stale sweep over a 100,000-item snapshot.

Run on demand: python benchmarks/bench_stale.py [--items N]
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

from automation.plan import marker
from automation.planners.stale import needs_activity, plan_stale
from automation.policy.loader import load_policy_dir
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
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

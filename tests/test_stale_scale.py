"""The stale sweep at scale (issue 18) against the contract-checked mocks: progress under a
rate limit and locked items (reads per 100 items: test_stale_sweep.py's 5,000-item test)."""

from __future__ import annotations

import copy
import datetime as dt
import time
from typing import Any

from automation.engine import run_live
from tests.github_api.fixtures import GitHubMock
from tests.stale_backlog import Backlog, Item
from tests.test_stale_sweep import NOW, build_5000, policies, repository, warn_trace


def sweep(backlog: Backlog, budget: int = 100_000, at: dt.datetime = NOW) -> Any:
    return run_live(
        repository(), policies(budget), ["stale"], None, at, dry_run=False, max_writes=None
    )


# --- issue 18 case 3: progress under any rate limit ---------------------------------------


def build_5500(backlog: Backlog, every: int = 1) -> None:
    """build_5000 and 500 more items waiting to be warned; every `every`-th item of it."""
    build_5000(backlog)
    for n in range(5001, 5501):
        backlog.add(n, created=500, updated=120 + n % 30)
    for n in [n for n in backlog.items if n % every]:
        del backlog.items[n]


def state(backlog: Backlog) -> dict[int, tuple[str, tuple[str, ...], int]]:
    """What a sweep leaves: state, labels and the number of its comments, per item."""
    return {
        n: (
            i.state,
            tuple(sorted(i.labels)),
            sum(
                1 for e in i.timeline if e["event"] == "commented" and "dataface-ops:" in e["body"]
            ),
        )
        for n, i in backlog.items.items()
    }


def test_runs_under_a_rate_limit_converge_to_one_unlimited_pass(github: GitHubMock) -> None:
    """The issue's 5,500 items under 1,000 requests an hour, at a fifth of the scale here
    (1,100 items, 200 requests); benchmarks/bench_stale.py --converge runs the full size."""
    unlimited = Backlog(github, NOW)
    build_5500(unlimited, every=5)
    assert len(unlimited.items) == 1100
    limited = Backlog(github, NOW)
    limited.items = copy.deepcopy(unlimited.items)

    unlimited.install()
    sweep(unlimited)
    expected = state(unlimited)
    assert expected != state(limited)
    github.reset()

    limited.core_limit = limited.graphql_limit = 200
    limited.install()
    writes_per_run = []
    for _hour in range(12):
        limited.new_hour()
        before = len(github.writes())
        report = sweep(limited)
        made = len(github.writes()) - before
        assert limited.refused == 0, "a request past the limit"
        if made == 0:
            assert not report.outcomes
            break
        writes_per_run.append(made)
        assert not report.failed
    assert state(limited) == expected
    assert len(writes_per_run) >= 3  # the limit did bind, and every run wrote
    assert all(w > 0 for w in writes_per_run)


def test_a_run_with_less_left_than_its_pages_still_writes(github: GitHubMock) -> None:
    backlog = Backlog(github, NOW)
    for n in range(1, 1001):
        warn_trace(backlog, backlog.add(n, created=400, updated=20), 20)  # all due
    backlog.core_limit = 8  # 10 pages to read; 8 requests left this hour
    backlog.install()
    report = sweep(backlog)
    assert backlog.refused == 0
    assert report.count("applied") > 0
    assert any(i.state == "closed" for i in backlog.items.values())


# --- issue 18 case 4: locked items ---------------------------------------------------------


def test_locked_items_are_skipped_reported_and_leave_the_run_green(github: GitHubMock) -> None:
    backlog = Backlog(github, NOW)
    for n in range(1, 31):
        backlog.add(n, created=400, updated=300, locked=True)  # the oldest
    for n in range(31, 41):
        backlog.add(n, created=400, updated=100)
    backlog.install()

    report = sweep(backlog, budget=20)

    assert not report.failed
    assert all(not backlog.items[n].labels for n in range(1, 31))
    assert all("stale" in backlog.items[n].labels for n in range(31, 41))
    assert any("30 locked item(s) skipped" in note for note in report.notes)
    assert not any("/issues/1/" in (c.request.url or "") for c in github.writes())


def _warned(backlog: Backlog, n: int, days: float) -> Item:
    item = backlog.add(n, created=400, updated=days)
    warn_trace(backlog, item, days)
    return item


# --- issue 12 case 2: a warning's writes failing one at a time ------------------------------


def _fail_once(serve: Any, reply: tuple[int, dict[str, str], str], nth: int = 1) -> Any:
    seen = [0]

    def flaky(request: Any) -> Any:
        seen[0] += 1
        return reply if seen[0] == nth else serve(request)

    return flaky


BAD_GATEWAY = (502, {}, '{"message": "Bad Gateway"}')


def test_a_lost_label_is_repaired_without_a_second_warning(github: GitHubMock) -> None:
    backlog = Backlog(github, NOW)
    item = backlog.add(1, created=400, updated=100)
    backlog._add_labels = _fail_once(backlog._add_labels, BAD_GATEWAY)  # type: ignore[method-assign]
    backlog.install()

    first = sweep(backlog)
    assert first.count("failed") == 1 and item.labels == []
    second = sweep(backlog, at=NOW + dt.timedelta(hours=1))

    assert second.count("applied") == 1 and item.labels == ["stale"]
    warnings = [e for e in item.timeline if "stale:warning-1" in e.get("body", "")]
    assert len(warnings) == 1
    assert sweep(backlog, at=NOW + dt.timedelta(hours=2)).outcomes == []


def test_an_unstale_stopped_by_the_rate_limit_converges_to_the_clean_state(
    github: GitHubMock,
) -> None:
    backlog = Backlog(github, NOW)
    item = backlog.add(1, created=400, updated=2)
    warn_trace(backlog, item, 10)
    item.labels.append("inactive")
    backlog.comment(item, "maya-chen", 2)
    reset = int(time.time()) + 3600  # the client compares it with its own clock
    limited = (
        403,
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
        '{"message": "API rate limit exceeded for installation ID 1."}',
    )
    backlog._remove_label = _fail_once(backlog._remove_label, limited, nth=2)  # type: ignore[method-assign]
    backlog.install()
    pols = policies(on_stale={"add": ["inactive"]})

    def run(at: dt.datetime) -> Any:
        return run_live(repository(), pols, ["stale"], None, at, dry_run=False, max_writes=None)

    first = run(NOW)
    assert first.stopped is not None
    run(NOW + dt.timedelta(hours=1))
    assert item.labels == []
    assert run(NOW + dt.timedelta(hours=2)).outcomes == []

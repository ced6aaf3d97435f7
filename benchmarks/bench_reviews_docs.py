"""GitHub requests of one review-loop sweep over 500 open PRs and one documentation-upkeep
sweep over 40 runbooks, against the contract-checked mocks (REST checked against GitHub's
OpenAPI description, GraphQL executed against its schema), with generated data.

Run on demand:
    python benchmarks/bench_reviews_docs.py [--pulls 500] [--documents 40]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import math
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from automation.engine import run_live
from automation.github import make_github
from automation.policy.docs import DocsPolicy
from automation.policy.loader import Policies, load_policy_dir
from automation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
REPO = "dataface/dataface"
NOW = dt.datetime(2026, 12, 4, 23, 0, tzinfo=dt.UTC)
OWNERS = ["maya-chen", "dev-patel", "sam-okafor", "lena-fischer", "raj-iyer", "tomas-silva"]
PATHS = ["dataface/ai/tool.py", "prompts/p.md", "evals/suite.py", "apps/chat/x.ts", "README.md"]


def kinds(github: object, since: int) -> Counter[str]:
    """The requests sent since call `since`, by kind."""
    out: Counter[str] = Counter()
    for call in github.calls[since:]:  # type: ignore[attr-defined]
        method, path = call.request.method, call.request.path_url.split("?")[0]
        if path.endswith("/graphql"):
            out["GraphQL"] += 1
        elif "/contents/" in path:
            out[f"{method} .../contents/PATH"] += 1
        else:
            tail = path.rsplit("/", 2)
            out[f"{method} .../{tail[-1] if not tail[-1].isdigit() else tail[-2]}"] += 1
    return out


def sweep(
    mock: Any, fake: Any, repo: Any, policies: Policies, feature: str, at: dt.datetime
) -> str:
    """One live sweep of `feature` at `at`: its reads by kind and its writes, as a line."""
    before, writes_before = len(mock.calls), len(mock.writes())
    fake.now = at
    run_live(repo, policies, [feature], None, at, dry_run=False, max_writes=None)
    seen = kinds(mock, before)
    writes = len(mock.writes()) - writes_before
    reads = sum(seen.values()) - writes
    return f"{reads} reads {dict(seen)}, {writes} writes"


def stop(mock: Any) -> None:
    """Stop the mock and say how many calls broke GitHub's REST description."""
    problems = mock.problems()
    mock.stop(allow_assert=False)
    mock.reset()
    print(f"  contract problems: {len(problems)}")


def bench_reviews(pulls: int, policies: Policies) -> None:
    from tests.github_api.fixtures import GitHubMock
    from tests.reviews_github import FakePull, FakePulls

    rng = random.Random(17)
    mock = GitHubMock()
    mock.start()
    fake = FakePulls(mock, REPO, NOW)
    for n in range(1, pulls + 1):
        asked = NOW - dt.timedelta(hours=rng.uniform(1, 24 * 10))
        pull = fake.add(
            FakePull(
                n,
                asked,
                author="octocat",
                paths=(rng.choice(PATHS),),
                requested=rng.sample(OWNERS, rng.randint(0, 2)),
                draft=rng.random() < 0.1,
            )
        )
        for i in range(rng.choice([0, 0, 1, 3, 25])):  # some long conversations
            fake.comment(pull, rng.choice(OWNERS), f"comment {i}", asked)
    for n in range(pulls + 1, pulls + 61):  # merged in the figures window
        merged = NOW - dt.timedelta(days=rng.uniform(0, 27))
        pull = fake.add(FakePull(n, merged - dt.timedelta(days=2), state="MERGED", merged=merged))
        fake.review(pull, "maya-chen", "APPROVED", merged - dt.timedelta(days=1))
    repo = make_github(Settings(repo=REPO, token="t", pacing=False)).get_repo(REPO)
    page = 50
    bound = math.ceil(pulls / page)
    for name, at in (("first sweep", NOW), ("second sweep", NOW + dt.timedelta(minutes=10))):
        print(f"reviews, {name}: {sweep(mock, fake, repo, policies, 'reviews', at)}")
    print(
        f"  lower bound: ceil({pulls}/{page}) = {bound} GraphQL pages of open PRs (+ "
        f"ceil(60/{page}) = {math.ceil(60 / page)} of merged PRs for the figures); "
        f"REST would need ceil({pulls}/100) = "
        f"{math.ceil(pulls / 100)} list pages plus one files, one reviews and one timeline "
        f"read per PR: at least {math.ceil(pulls / 100) + 3 * pulls}"
    )
    stop(mock)


def bench_docs(documents: int, base: Policies) -> None:
    from tests.docs_github import FakeDocs
    from tests.faults.issues import FakeIssues
    from tests.github_api.fixtures import GitHubMock

    rng = random.Random(40)
    paths = [f"docs/runbooks/runbook-{i:02d}.md" for i in range(documents)]
    areas = [a.name for a in base.owners.areas]
    docs = DocsPolicy.model_validate(
        {"documents": [{"path": p, "area": rng.choice(areas)} for p in paths]}
    )
    policies = dataclasses.replace(base, docs=docs)
    for due_share in (0.0, 0.25):
        mock = GitHubMock()
        mock.start()
        issues = FakeIssues(mock, REPO, NOW)
        fake = FakeDocs(mock, REPO)
        for path in paths:
            old = rng.random() < due_share
            days = rng.uniform(200, 400) if old else rng.uniform(1, 170)
            fake.commit(path, NOW - dt.timedelta(days=days), "# Runbook\n")
        repo = make_github(Settings(repo=REPO, token="t", pacing=False)).get_repo(REPO)
        for name, at in (("first sweep", NOW), ("second sweep", NOW + dt.timedelta(days=1))):
            line = sweep(mock, issues, repo, policies, "docs_upkeep", at)
            print(f"docs_upkeep ({due_share:.0%} due), {name}: {line}")
        stop(mock)
    print(
        f"  lower bound (REST, as the brief names it): {documents} last-commit reads (one per "
        f"document) + 1 issues page = {documents + 1}; the text is read only when changes do "
        "not count as reviews (then one contents read more per document)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pulls", type=int, default=500)
    parser.add_argument("--documents", type=int, default=40)
    args = parser.parse_args()
    policies = load_policy_dir(ROOT / "policies")
    bench_reviews(args.pulls, policies)
    bench_docs(args.documents, policies)


if __name__ == "__main__":
    main()

"""Factories shared by the release train tests: policies, PRs and snapshots."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from automation.policy.loader import Policies, load_policy_dir
from automation.snapshot.models import (
    ChangedFile,
    Comparison,
    PullRequest,
    Release,
    Snapshot,
)

ROOT = Path(__file__).resolve().parent.parent
REPO = "dataface/dataface"
UTC = dt.UTC


def t(text: str) -> dt.datetime:
    """An aware UTC time from `2026-11-24T15:00`."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def policies(**release: Any) -> Policies:
    """The shipped policies, with release fields overridden."""
    loaded = load_policy_dir(ROOT / "policies")
    if not release:
        return loaded
    return dataclasses.replace(loaded, release=loaded.release.model_copy(update=release))


def sha(n: int) -> str:
    """A deterministic 40-hex commit sha."""
    return f"{n:040x}"


def merged_pr(
    number: int,
    *,
    labels: tuple[str, ...] = (),
    title: str | None = None,
    body: str = "",
    author: str = "dev-patel",
    merged_at: dt.datetime | None = None,
    files: tuple[str, ...] | None = None,
) -> PullRequest:
    """A PR merged into main whose merge commit is sha(number)."""
    when = merged_at or t("2026-11-20T10:00") + dt.timedelta(minutes=number)
    return PullRequest(
        number=number,
        title=title or f"Change number {number}",
        body=body,
        state="closed",
        author=author,
        labels=labels,
        created_at=when - dt.timedelta(days=1),
        updated_at=when,
        closed_at=when,
        html_url=f"https://github.com/{REPO}/pull/{number}",
        head_ref=f"feature-{number}",
        head_sha=sha(10_000 + number),
        head_repo=REPO,
        base_ref="main",
        merged=True,
        merged_at=when,
        merge_commit_sha=sha(number),
        files=None if files is None else tuple(ChangedFile(filename=f) for f in files),
    )


def train_pr(
    number: int,
    day: str,
    *,
    state: str = "open",
    merged: bool = False,
    body: str = "",
    head_sha: str = "",
    merged_at: dt.datetime | None = None,
    requested: tuple[str, ...] = (),
    teams: tuple[str, ...] = (),
    title: str | None = None,
    labels: tuple[str, ...] = ("release-train",),
) -> PullRequest:
    """A train PR from release-train/DAY into stable."""
    created = t(f"{day}T15:00")
    return PullRequest(
        number=number,
        title=title or f"Release train {day}",
        body=body,
        state="closed" if merged else state,  # type: ignore[arg-type]
        author="dataface-ops[bot]",
        author_is_bot=True,
        labels=labels,
        created_at=created,
        updated_at=merged_at or created,
        closed_at=merged_at,
        html_url=f"https://github.com/{REPO}/pull/{number}",
        head_ref=f"release-train/{day}",
        head_sha=head_sha or sha(90_000 + number),
        head_repo=REPO,
        base_ref="stable",
        merged=merged,
        merged_at=merged_at,
        merge_commit_sha=sha(80_000 + number) if merged else None,
        requested_reviewers=requested,
        requested_teams=teams,
        reviews=(),
    )


def snapshot(
    pulls: tuple[PullRequest, ...] = (),
    *,
    releases: tuple[Release, ...] = (),
    commits: tuple[str, ...] | None = None,
    compared: bool = True,
    base: str = "train-2026-11-17",
    files: tuple[str, ...] | None = None,
    at: dt.datetime | None = None,
) -> Snapshot:
    """A snapshot whose comparison holds the merge commits of the merged PRs into main."""
    shas = commits
    if shas is None:
        shas = tuple(p.merge_commit_sha or "" for p in pulls if p.merged and p.base_ref == "main")
    comparison = (
        Comparison(
            base=base,
            head="main",
            head_sha=shas[-1] if shas else "",
            total_commits=len(shas),
            commit_shas=shas,
            html_url=f"https://github.com/{REPO}/compare/{base}...main",
            files=files,
        )
        if compared
        else None
    )
    return Snapshot(
        repo=REPO,
        taken_at=at or t("2026-11-24T15:00"),
        bot_login="dataface-ops[bot]",
        pulls=pulls,
        releases=releases,
        comparison=comparison,
    )


LAST_RELEASE = Release(
    id=7,
    tag="train-2026-11-17",
    name="Release train 2026-11-17",
    target_sha=sha(77),
    published_at=t("2026-11-17T16:00"),
    body="...",
)

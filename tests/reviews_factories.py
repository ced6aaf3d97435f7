"""Factories for the review loop's and documentation upkeep's tests: PRs, events, reviews."""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

from automation.policy.loader import Policies, load_policy_dir
from automation.snapshot.models import (
    ChangedFile,
    Comment,
    IssueEvent,
    PullRequest,
    Review,
    Snapshot,
)

ROOT = Path(__file__).resolve().parents[1]
REPO = "dataface/dataface"


def utc(text: str) -> dt.datetime:
    """A UTC instant from `2026-11-30T17:00`."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@cache
def shipped() -> Policies:
    """The shipped policies (reviews.yaml and docs.yaml included)."""
    return load_policy_dir(ROOT / "policies")


def policies(**reviews: Any) -> Policies:
    """The shipped policies with reviews.yaml fields replaced."""
    base = shipped()
    if not reviews:
        return base
    data = base.reviews.model_dump() | reviews
    return dataclasses.replace(base, reviews=type(base.reviews).model_validate(data))


def requested(
    login: str, at: dt.datetime, actor: str = "octocat", *, team: bool = False
) -> IssueEvent:
    """A review_requested event."""
    return IssueEvent(
        event="review_requested",
        actor=actor,
        created_at=at,
        requested_reviewer=None if team else login,
        requested_team=login if team else None,
    )


def removed(
    login: str, at: dt.datetime, actor: str = "octocat", *, bot: bool = False
) -> IssueEvent:
    """A review_request_removed event."""
    return IssueEvent(
        event="review_request_removed",
        actor=actor,
        actor_is_bot=bot,
        created_at=at,
        requested_reviewer=login,
    )


def review(user: str, state: str, at: dt.datetime, id: int = 1) -> Review:
    """A submitted review."""
    return Review(id=id, user=user, state=state, submitted_at=at)  # type: ignore[arg-type]


def pull(
    number: int = 7,
    *,
    created: dt.datetime,
    paths: tuple[str, ...] = ("dataface/ai/tools.py",),
    reviewers: tuple[str, ...] = ("maya-chen",),
    teams: tuple[str, ...] = (),
    events: tuple[IssueEvent, ...] | None = None,
    reviews: tuple[Review, ...] = (),
    comments: tuple[Comment, ...] = (),
    author: str = "tomas-silva",
    **extra: Any,
) -> PullRequest:
    """An open PR requesting `reviewers` at `created` (unless `events` say otherwise)."""
    if events is None:
        events = tuple(requested(r, created) for r in reviewers)
        events += tuple(requested(t, created, team=True) for t in teams)
    return PullRequest(
        number=number,
        title="Add a tool",
        author=author,
        created_at=created,
        updated_at=created,
        files=tuple(ChangedFile(filename=p) for p in paths),
        requested_reviewers=reviewers,
        requested_teams=teams,
        events=events,
        reviews=reviews,
        comments=comments,
        comments_count=len(comments),
        **extra,
    )


def snapshot(
    *pulls: PullRequest, now: dt.datetime, subjects: tuple[int, ...] | None = None
) -> Snapshot:
    """A snapshot of these PRs."""
    return Snapshot(repo=REPO, taken_at=now, pulls=pulls, subjects=subjects)

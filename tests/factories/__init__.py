"""Snapshot factories for planner tests: realistic defaults, override what matters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from automation.snapshot.models import Comment, Issue, IssueEvent, PullRequest, Snapshot

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
BOT = "dataface-ops[bot]"


def ago(**delta: float) -> dt.datetime:
    """A time before NOW."""
    return NOW - dt.timedelta(**delta)


def make_comment(id: int = 1, author: str = "maya-chen", body: str = "", **kw: Any) -> Comment:
    """A comment, by a person unless `author_is_bot` is given."""
    at = kw.pop("created_at", ago(hours=1))
    return Comment(
        id=id,
        author=author,
        body=body,
        created_at=at,
        updated_at=kw.pop("updated_at", at),
        author_is_bot=kw.pop("author_is_bot", author.endswith("[bot]")),
        **kw,
    )


def make_event(event: str, actor: str = "maya-chen", **kw: Any) -> IssueEvent:
    """An issue event."""
    return IssueEvent(event=event, actor=actor, created_at=kw.pop("created_at", ago(hours=1)), **kw)


def make_issue(number: int = 1, **kw: Any) -> Issue:
    """An open issue, created a day ago."""
    created = kw.pop("created_at", ago(days=1))
    defaults: dict[str, Any] = {
        "title": f"Issue {number}",
        "author": "dev-patel",
        "created_at": created,
        "updated_at": kw.pop("updated_at", created),
        "html_url": f"https://github.com/dataface/dataface/issues/{number}",
        "comments": (),
        "events": (),
    }
    return Issue(number=number, **{**defaults, **kw})


def make_pull(number: int = 1, **kw: Any) -> PullRequest:
    """An open PR, created a day ago."""
    created = kw.pop("created_at", ago(days=1))
    defaults: dict[str, Any] = {
        "title": f"PR {number}",
        "author": "dev-patel",
        "created_at": created,
        "updated_at": kw.pop("updated_at", created),
        "html_url": f"https://github.com/dataface/dataface/pull/{number}",
        "head_sha": f"{number:040x}",
        "head_ref": f"feature-{number}",
        "comments": (),
        "events": (),
    }
    return PullRequest(number=number, **{**defaults, **kw})


def make_snapshot(**kw: Any) -> Snapshot:
    """A snapshot of dataface/dataface taken at NOW."""
    return Snapshot(repo="dataface/dataface", taken_at=NOW, bot_login=BOT, **kw)

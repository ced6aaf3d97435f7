"""Factories shared by the triage and on-call tests: policies, form bodies, issues."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

from automation.markers import marker
from automation.policy.loader import Policies, load_policy_dir
from automation.snapshot.models import Comment, Issue, IssueEvent, Snapshot

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
BOT = "dataface-ops[bot]"
REPO = "dataface/dataface"
RUN = "https://github.com/dataface/dataface/actions/runs/1234"
LABELS = (
    ("suite", "Eval suite"),
    ("metric", "Metric"),
    ("baseline", "Baseline value"),
    ("current", "Current value"),
    ("run_url", "Run URL"),
    ("commit", "Commit SHA"),
    ("target", "Affected tool or prompt"),
)


@cache
def policies() -> Policies:
    """The shipped policies."""
    return load_policy_dir(ROOT / "policies")


def form_body(**values: str | None) -> str:
    """A body exactly as GitHub renders a submitted eval-regression form."""
    defaults: dict[str, str | None] = {
        "suite": "tool-calling",
        "metric": "accuracy",
        "baseline": "0.91",
        "current": "0.87",
        "run_url": RUN,
        "commit": "9f2c1e7",
        "target": None,
    }
    defaults.update(values)
    parts = []
    for key, label in LABELS:
        value = defaults[key]
        parts.append(f"### {label}\n\n{'_No response_' if value is None else value}")
    return "\n\n".join(parts)


def issue(number: int = 101, **overrides: Any) -> Issue:
    """An open eval-regression issue filed through the form an hour before NOW."""
    created = overrides.pop("created_at", NOW - dt.timedelta(hours=1))
    fields: dict[str, Any] = {
        "number": number,
        "title": "Eval regression: tool-calling accuracy",
        "body": form_body(),
        "author": "raj-iyer",
        "labels": ("eval-regression",),
        "created_at": created,
        "updated_at": created,
        "comments": (),
        "comments_count": 0,
    }
    fields.update(overrides)
    if fields["comments"] is not None:
        fields["comments_count"] = len(fields["comments"])
    return Issue(**fields)


def comment(comment_id: int, body: str, author: str = BOT, at: dt.datetime = NOW) -> Comment:
    """A comment; the bot's unless `author` says otherwise."""
    return Comment(
        id=comment_id,
        author=author,
        author_is_bot=author.endswith("[bot]"),
        body=body,
        created_at=at,
        updated_at=at,
    )


def triage_comment(number: int, comment_id: int = 9001, body: str = "summary") -> Comment:
    """The bot's triage comment on `number`."""
    return comment(comment_id, f"{marker('triage', f'issue-{number}')}\n{body}")


def event(
    kind: str,
    actor: str,
    *,
    label: str | None = None,
    assignee: str | None = None,
    at: dt.datetime = NOW - dt.timedelta(minutes=30),
) -> IssueEvent:
    """One issue event."""
    return IssueEvent(event=kind, actor=actor, created_at=at, label=label, assignee=assignee)


def snapshot(*issues: Issue, now: dt.datetime = NOW) -> Snapshot:
    """A snapshot of dataface/dataface holding these issues."""
    return Snapshot(repo=REPO, taken_at=now, bot_login=BOT, issues=issues)

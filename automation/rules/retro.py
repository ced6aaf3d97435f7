"""Pure retrospective rules shared by its collector and planner: the period it looks back
over, whether a scheduled run is due, the identity of its PR, and which items' histories
its figures need."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from automation.markers import marker
from automation.rules.incidents import is_incident
from automation.snapshot.models import Issue, PullRequest, Snapshot

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.policy.retro import RetroPolicy

FEATURE = "retro"
PR_MARKER = marker(FEATURE, "pr")
# The files a proposal may edit, and the rendered document that follows them.
EDITABLE = ("triage", "stale", "release", "reviews", "incidents")
DOCS_PATH = "docs/OPERATING_MODEL.md"


@dataclass(frozen=True)
class Period:
    """[since, until) in UTC, with a name (`2026-11`, `2026-W47`, `2026-Q4` or the dates)."""

    since: dt.datetime
    until: dt.datetime
    label: str

    def __contains__(self, when: dt.datetime | None) -> bool:
        return when is not None and self.since <= when < self.until


def period_between(since: dt.datetime, until: dt.datetime) -> Period:
    """A period given by its dates (the command line's --since/--until)."""
    return Period(since, until, f"{since.date().isoformat()}..{until.date().isoformat()}")


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


def last_period(policy: RetroPolicy, now: dt.datetime) -> Period:
    """The last complete period (UTC) before `now` for the policy's schedule."""
    day = now.astimezone(dt.UTC).date()
    if policy.schedule == "weekly":
        monday = day - dt.timedelta(days=day.weekday())
        start = monday - dt.timedelta(days=7)
        year, week, _ = start.isocalendar()
        return Period(_midnight(start), _midnight(monday), f"{year}-W{week:02d}")
    if policy.schedule == "quarterly":
        first = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        year, month = (first.year, first.month - 3) if first.month > 3 else (first.year - 1, 10)
        start = dt.date(year, month, 1)
        return Period(_midnight(start), _midnight(first), f"{year}-Q{(month - 1) // 3 + 1}")
    first = day.replace(day=1)
    start = (first - dt.timedelta(days=1)).replace(day=1)
    return Period(_midnight(start), _midnight(first), f"{start.year}-{start.month:02d}")


def due_period(policy: RetroPolicy, now: dt.datetime) -> Period | None:
    """The period a scheduled run looks back over, or None outside the window after it."""
    period = last_period(policy, now)
    if now < period.until + dt.timedelta(days=policy.window_days):
        return period
    return None


def tree_key(branch: str) -> str:
    """Where the collector keeps a branch's tree id in `Snapshot.branches` (git's own
    `<rev>^{tree}` syntax: no branch can be named so)."""
    return f"{branch}^{{tree}}"


def is_retro_pull(pull: PullRequest, policy: RetroPolicy) -> bool:
    """The retrospective's own PR: from its branch, with its marker."""
    return pull.head_ref == policy.branch and PR_MARKER in pull.body


def open_retro_pull(policies: Policies, snapshot: Snapshot) -> PullRequest | None:
    """The retrospective's open PR as the issues list shows it (no branch there): its
    marker and its label, since anyone may write the marker into a body."""
    if "retro" in policies.absent:
        return None
    labels = set(policies.retro.labels)
    found = [
        p
        for p in snapshot.pulls
        if p.state == "open" and PR_MARKER in p.body and (not labels or labels & set(p.labels))
    ]
    return max(found, key=lambda p: p.number, default=None)


def pr_rules_window(policies: Policies) -> dt.timedelta | None:
    """The shortest time a stale rule covering PRs takes from a person's last activity to a
    close; None when no rule closes PRs."""
    days = [
        r.days_until_stale + r.days_until_close
        for r in policies.stale.rules
        if r.scope in ("prs", "both") and r.days_until_close
    ]
    return dt.timedelta(days=min(days)) if days else None


def needs_history(policies: Policies, item: Issue, period: Period) -> bool:
    """Whether an item's figure needs its timeline (labels, assignments, comments, closes,
    reopens, review requests and reviews): eval regressions and incidents opened in the
    period, items the stale sweep may have closed in it, and PRs opened in it."""
    labels = set(item.labels)
    if item.created_at >= period.until:
        return False
    if item.created_at in period and (
        policies.triage.label in labels
        or (not isinstance(item, PullRequest) and is_incident(policies.incidents, item))
    ):
        return True
    stale_labels = {r.stale_label for r in policies.stale.rules}
    if "stale" not in policies.absent and (
        stale_labels & labels
        or any(r.on_close.add and set(r.on_close.add) & labels for r in policies.stale.rules)
        or item.state_reason == "reopened"
    ):
        return True
    if isinstance(item, PullRequest):
        if item.created_at in period and not item.author_is_bot:
            return True
        # A PR the sweep closed and a person reopened has lost its label and GitHub keeps no
        # reason on PRs: any open PR old enough to have been closed in the period.
        window = pr_rules_window(policies)
        if window is not None and item.state == "open" and item.created_at + window < period.until:
            return True
    return False


def needs_files(policies: Policies, pull: PullRequest, period: Period) -> bool:
    """Whether a PR's changed files are read: opened in the period (by a person) and reviewed
    by a person, so its areas (the review loop's `pr_areas`) count in the review figures."""
    return (
        pull.created_at in period
        and not pull.author_is_bot
        and any(not r.user.endswith("[bot]") for r in pull.reviews or ())
    )

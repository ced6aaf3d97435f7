"""Pure stale rules shared by the stale collector and planner: which rule holds, who is a
person, what counts as activity, and which items need their activity read."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from automation.markers import MARKER_PREFIX, marker
from automation.snapshot.models import Issue, PullRequest

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.policy.stale import AdoptWarnings, StalePolicy, StaleRule


FEATURE = "stale"

# Timeline entries that are activity when a person causes them. Others (subscribed,
# mentioned, cross-referenced, ...) are things that happen *to* an item.
ACTIVITY_EVENTS = frozenset(
    {
        "commented",
        "labeled",
        "unlabeled",
        "reopened",
        "renamed",
        "assigned",
        "unassigned",
        "milestoned",
        "demilestoned",
        "committed",
        "reviewed",
        "line-commented",
        "head_ref_force_pushed",
        "ready_for_review",
        "convert_to_draft",
        "review_requested",
        "review_request_removed",
        "locked",
        "unlocked",
        # Issue types are GitHub's successor to type labels: setting one is a label change.
        "issue_type_added",
        "issue_type_changed",
        "issue_type_removed",
    }
)

# GitHub lists no timeline entry for a body edit (and a pushed commit carries its commit
# date, not the push time), yet both move `updated_at`. An `updated_at` later than every
# entry the timeline explains, by more than this, is a person's edit or push. Inclusive:
# an `updated_at` at most this much after the sweep's own last write is that write. GitHub
# stamps `updated_at` from its own processing, which can trail the timeline entry, and a
# write retried after a secondary limit lands a minute or more after it was first sent: a
# tight slack (it was exactly 60 s) un-staled items because of the sweep's own labelling.
# The cost: a person's body edit within this window of the sweep's write goes unseen until
# their next activity.
OWN_WRITE_SLACK = dt.timedelta(minutes=5)

Verdict = Literal["warn", "rewarn", "comment", "label", "unstale", "close"]

# Verdicts that write a comment: GitHub refuses those on a locked item (to GITHUB_TOKEN and
# to Apps), so a locked item is skipped for them rather than labelled without its comment.
COMMENTING: frozenset[str] = frozenset({"warn", "rewarn", "comment"})


def warning_marker(number: int) -> str:
    """The marker of the warning comment on item `number`."""
    return marker(FEATURE, f"warning-{number}")


def closing_marker(number: int, warned_at: dt.datetime) -> str:
    """The marker of the closing comment of the warning cycle that began at `warned_at`.

    Per cycle, not per item: after a close, a reopen and a new warning, the earlier cycle's
    closing comment must never pass for this one's (issue 18).
    """
    return marker(FEATURE, f"close-{number}-{warned_at.date().isoformat()}")


# Any cycle's closing marker (the undated one of older versions too): one pattern for every
# item, so a sweep over 100,000 items compiles nothing per item.
_CLOSING = re.compile(
    re.escape(f"{MARKER_PREFIX}{FEATURE}:close-") + r"(\d+)(?:-(\d{4}-\d{2}-\d{2}))? -->"
)


def is_bot(login: str, flagged: bool, bot_login: str) -> bool:
    """Whether an account is the project itself or any other bot."""
    return flagged or login == bot_login or login.endswith("[bot]")


def _folded(labels: Iterable[str]) -> frozenset[str]:
    return frozenset(label.casefold() for label in labels)


def select_rule(policy: StalePolicy, item: Issue) -> StaleRule | None:
    """The first rule whose scope covers the item (stale labels do not count for scope)."""
    labels = _folded(item.labels) - policy.stale_labels
    is_pull = isinstance(item, PullRequest)
    draft = isinstance(item, PullRequest) and item.draft
    for rule in policy.rules:
        if rule.covers_kind(is_pull, draft) and rule.covers_labels(labels):
            return rule
    return None


class _People:
    """Exempt assignees and authors per rule, teams expanded once."""

    def __init__(self, policies: Policies) -> None:
        self._policies = policies
        self._cache: dict[tuple[str, ...], tuple[bool, frozenset[str]]] = {}

    def get(self, refs: tuple[str, ...]) -> tuple[bool, frozenset[str]]:
        if refs not in self._cache:
            named = tuple(r for r in refs if r != "*")
            logins = _folded(self._policies.owners.expand(named))
            self._cache[refs] = ("*" in refs, logins)
        return self._cache[refs]


def exemption(rule: StaleRule, item: Issue, people: _People) -> str | None:
    """Why the rule exempts the item, or None."""
    if rule.exempt_pinned and item.pinned:
        return "it is pinned"
    regex = rule.exempt_label_regex
    if regex is not None:
        for label in item.labels:
            if regex.fullmatch(label.casefold()):
                return f"label '{label}' is exempt"
    if rule.exempt_assignees and item.assignees:
        anyone, logins = people.get(rule.exempt_assignees)
        if anyone:
            return "it is assigned"
        for assignee in item.assignees:
            if assignee.casefold() in logins:
                return f"assignee {assignee} is exempt"
    if rule.exempt_authors:
        anyone, logins = people.get(rule.exempt_authors)
        if anyone or item.author.casefold() in logins:
            return f"author {item.author} is exempt"
    milestone_regex = rule.exempt_milestone_regex
    if (
        item.milestone
        and milestone_regex is not None
        and milestone_regex.fullmatch(item.milestone.casefold())
    ):
        return f"milestone '{item.milestone}' is exempt"
    return None


@dataclass(frozen=True)
class Mark:
    """A moment of activity and what it was."""

    at: dt.datetime
    what: str


@dataclass(frozen=True)
class Activity:
    """What an item's comments and events say (every field None when they were not read)."""

    last_person: Mark | None = None
    label_at: dt.datetime | None = None
    comment_at: dt.datetime | None = None
    reopened_at: dt.datetime | None = None
    # (when, the warning date its marker names, or None for an undated older marker)
    closings: tuple[tuple[dt.datetime, str | None], ...] = ()
    # The warning comment was edited after it was posted: a re-warning (a new cycle).
    comment_rewritten: bool = False

    @property
    def warned_at(self) -> dt.datetime | None:
        """The latest sign of a warning: the stale label or the warning comment."""
        times = [t for t in (self.label_at, self.comment_at) if t is not None]
        return max(times) if times else None

    @property
    def reset_at(self) -> dt.datetime | None:
        """Since when a warning is current: a person's last activity or a reopen."""
        times = [t for t in (self.last_person and self.last_person.at, self.reopened_at) if t]
        return max(times) if times else None

    @property
    def current_comment(self) -> dt.datetime | None:
        """The warning comment, when nothing reset the clock after it."""
        reset = self.reset_at
        if self.comment_at is None or (reset is not None and self.comment_at < reset):
            return None
        return self.comment_at

    @property
    def cycle_at(self) -> dt.datetime | None:
        """When the current warning cycle began: the earlier of its label and comment.

        The comment goes first and the label a second later; a label another tool or a
        person applied before the comment keeps its own, earlier, date.
        """
        comment = self.current_comment
        if comment is None:
            return None
        if self.comment_rewritten:
            # A re-warning rewrites the comment in place and finds the label still on from
            # the cycle before; the activity that ended that cycle may be gone from view (an
            # edit the comment's own update now explains), so the rewrite starts the cycle.
            return comment
        reset = self.reset_at
        label = self.label_at
        if label is not None and (reset is None or label >= reset):
            return min(label, comment)
        return comment

    def closing_posted(self, cycle: dt.datetime) -> bool:
        """Whether this cycle's closing comment is there (a close that failed half-way)."""
        day = cycle.date().isoformat()
        return any(d == day or (d is None and at >= cycle) for at, d in self.closings)


def read_activity(
    item: Issue,
    stale_label: str,
    stale_labels: frozenset[str],
    bot: str,
    adopt: AdoptWarnings | None = None,
) -> Activity:
    """Summarise an item's activity; an empty Activity when comments or events are unread."""
    if item.comments is None or item.events is None:
        return Activity()
    last = Mark(item.created_at, f"opened by {item.author}")
    explained = item.created_at
    label_at: dt.datetime | None = None
    comment_at: dt.datetime | None = None
    comment_rewritten = False
    reopened_at: dt.datetime | None = None
    closings: list[tuple[dt.datetime, str | None]] = []
    warning = warning_marker(item.number)
    warning_labels = {stale_label.casefold()} | (adopt.folded_labels if adopt else set())
    for comment in item.comments:
        explained = max(explained, comment.updated_at)
        # A comment carrying a dataface-ops marker is the project's own, whatever account
        # wrote it (a personal token's user is no "[bot]"): never a person's activity.
        if MARKER_PREFIX in comment.body or is_bot(comment.author, comment.author_is_bot, bot):
            adopted = adopt is not None and adopt.is_warning(comment.body)
            if (warning in comment.body or adopted) and (
                comment_at is None or comment.updated_at > comment_at
            ):
                comment_at = comment.updated_at
                comment_rewritten = comment.updated_at > comment.created_at + OWN_WRITE_SLACK
            for found in _CLOSING.finditer(comment.body):
                if int(found.group(1)) == item.number:
                    closings.append((comment.updated_at, found.group(2)))
            continue
        if comment.updated_at > last.at:
            last = Mark(comment.updated_at, f"comment by {comment.author}")
    for event in item.events:
        explained = max(explained, event.created_at)
        label = (event.label or "").casefold()
        if (
            event.event == "labeled"
            and label in warning_labels
            and (label_at is None or event.created_at > label_at)
        ):
            label_at = event.created_at
        if event.event == "reopened" and (reopened_at is None or event.created_at > reopened_at):
            reopened_at = event.created_at
        by_bot = is_bot(event.actor, event.actor_is_bot, bot)
        if by_bot and event.event == "unlabeled" and label in warning_labels:
            # A bot un-staled the item because a person acted (or it became exempt). That
            # label change moved `updated_at` past an edit or push the timeline does not
            # list, so the un-stale stands for the activity, or the next run warns again.
            if event.created_at > last.at:
                last = Mark(event.created_at, "un-staled after a person's activity")
            continue
        if event.event not in ACTIVITY_EVENTS or by_bot:
            continue
        if event.event == "labeled" and label in stale_labels:
            continue  # a person marking an item stale agrees it is stale
        if event.created_at > last.at:
            what = event.event.replace("_", " ").replace("-", " ")
            last = Mark(event.created_at, f"{what} by {event.actor}")
    if isinstance(item, PullRequest):
        for review in item.reviews or ():
            at = review.submitted_at
            if at is None:
                continue
            explained = max(explained, at)
            if not is_bot(review.user, False, bot) and at > last.at:
                last = Mark(at, f"review by {review.user}")
        if item.commits_pushed_at is not None and item.commits_pushed_at > last.at:
            last = Mark(item.commits_pushed_at, "a push")
    if item.updated_at > explained + OWN_WRITE_SLACK and item.updated_at > last.at:
        last = Mark(item.updated_at, "an edit")
    return Activity(last, label_at, comment_at, reopened_at, tuple(closings), comment_rewritten)


def has_label(item: Issue, label: str) -> bool:
    """Whether the item carries `label` (GitHub label names are case-insensitive)."""
    folded = label.casefold()
    return any(x.casefold() == folded for x in item.labels)


def is_marked(item: Issue, rule: StaleRule, adopt: AdoptWarnings | None) -> bool:
    """Whether the item carries the rule's stale label or an adopted tool's."""
    if has_label(item, rule.stale_label):
        return True
    return adopt is not None and bool(_folded(item.labels) & adopt.folded_labels)


def needs_activity(policies: Policies, item: Issue, now: dt.datetime) -> bool:
    """Whether the verdict on this item depends on its comments and events."""
    if item.state != "open":
        return False
    rule = select_rule(policies.stale, item)
    if rule is None or exemption(rule, item, _People(policies)) is not None:
        return False  # not swept, or exempt: un-staling an exempt item needs no history
    if is_marked(item, rule, policies.stale.adopt_warnings):
        return True  # when was it warned, and did a person act since?
    if item.locked:
        return False  # it could only be warned, which a locked item cannot be
    threshold = now - dt.timedelta(days=rule.days_until_stale)
    return item.created_at <= threshold < item.updated_at

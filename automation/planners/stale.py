"""The stale sweep: warn, un-stale and close backlog items nobody touches. Pure.

Activity means a person's activity: a comment, a label change, an assignment, a push or a
review on a PR, a reopen, an edit. The project's own comments and label changes, and those
of bots in general, never count (the most common complaint about actions/stale).

`updated_at` is the cheap first filter: an item not updated since the stale threshold is
stale whoever touched it last, and an item created after the threshold is not. Only the
items in between, and the items carrying the stale label, need their activity read; the
collector asks `needs_activity()` so that it reads exactly those.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from automation.plan import (
    MARKER_PREFIX,
    Action,
    AddLabels,
    EditIssue,
    Plan,
    RemoveLabel,
    UpsertComment,
    marker,
)
from automation.policy.templating import render_template
from automation.snapshot.models import Issue, PullRequest, Snapshot

if TYPE_CHECKING:
    from automation.policy.loader import Policies
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
    return Activity(last, label_at, comment_at, reopened_at, tuple(closings))


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


@dataclass(frozen=True)
class _Decision:
    item: Issue
    rule: StaleRule
    verdict: Verdict
    why: str
    sort_at: dt.datetime
    last: Mark | None
    # The moment the comment's text is measured from: now for a fresh warning, the label's
    # date when only the comment is missing, the due date for a close (issue 12: the text
    # must follow from the snapshot, so a late retry writes what the first run planned).
    warned_at: dt.datetime | None
    closing_posted: bool = False
    cycle_at: dt.datetime | None = None


def _day(at: dt.datetime) -> str:
    return at.date().isoformat()


def _decide(
    rule: StaleRule,
    item: Issue,
    now: dt.datetime,
    snapshot: Snapshot,
    stale_labels: frozenset[str],
    adopt: AdoptWarnings | None = None,
) -> _Decision | Literal["unread"] | None:
    threshold = now - dt.timedelta(days=rule.days_until_stale)
    activity = read_activity(item, rule.stale_label, stale_labels, snapshot.bot_login, adopt)
    last = activity.last_person
    sort_at = last.at if last else item.updated_at

    def decision(verdict: Verdict, why: str, warned_at: dt.datetime | None = now) -> _Decision:
        return _Decision(item, rule, verdict, why, sort_at, last, warned_at)

    if not is_marked(item, rule, adopt):
        current = activity.current_comment
        if current is not None:
            # The warning comment went out and its label did not (a failed POST): add the
            # label, never a second comment (issue 12).
            return dataclasses.replace(
                decision(
                    "label",
                    f"its warning of {_day(current)} is still current but the label is missing",
                    current,
                ),
                cycle_at=activity.cycle_at,
            )
        if last is not None:
            stale_now = last.at <= threshold
            since = f"{last.what} on {_day(last.at)}"
        elif item.updated_at <= threshold:
            stale_now, since = True, f"not updated since {_day(item.updated_at)}"
        elif item.created_at > threshold:
            return None
        else:
            return "unread"
        if not stale_now:
            return None
        return decision(
            "warn", f"no activity from a person for {rule.days_until_stale}+ days ({since})"
        )
    if last is None:
        return "unread"
    warned = activity.warned_at
    stale_now = last.at <= threshold
    if warned is not None and activity.reopened_at is not None and activity.reopened_at > warned:
        if stale_now:
            return decision(
                "rewarn",
                f"reopened on {_day(activity.reopened_at)} after the warning of "
                f"{_day(warned)}, still without a person's activity: a fresh warning "
                "restarts the close period",
            )
        return decision("unstale", f"reopened on {_day(activity.reopened_at)} after the warning")
    if warned is not None and last.at > warned:
        if stale_now:
            return decision(
                "rewarn",
                f"{last.what} on {_day(last.at)} came after the warning but is itself "
                f"{rule.days_until_stale}+ days old: a fresh warning",
            )
        return decision("unstale", f"{last.what} on {_day(last.at)}, after the warning")
    cycle = activity.cycle_at
    if cycle is None:
        # Measured from the label when it is this cycle's: the text the labelling run planned.
        label = activity.label_at
        reset = activity.reset_at
        start = label if label is not None and (reset is None or label >= reset) else now
        return decision(
            "comment",
            f"carries '{rule.stale_label}' but has no warning comment since it was labelled",
            start,
        )
    due = (
        None if rule.days_until_close is None else cycle + dt.timedelta(days=rule.days_until_close)
    )
    if due is None or now < due:
        if has_label(item, rule.stale_label) and (
            _labels_to_add(item, rule) or _present(item, rule.on_stale.remove)
        ):
            return dataclasses.replace(
                decision(
                    "label", "warned, but the warning's other label changes are missing", cycle
                ),
                cycle_at=cycle,
            )
        return None
    closing = decision(
        "close",
        f"warned on {_day(cycle)}; no activity from a person in the {rule.days_until_close} "
        f"days since ({last.what} on {_day(last.at)})",
        due,
    )
    return dataclasses.replace(
        closing, closing_posted=activity.closing_posted(cycle), cycle_at=cycle
    )


def _context(d: _Decision, snapshot: Snapshot, now: dt.datetime) -> dict[str, object]:
    rule = d.rule
    reference = d.last.at if d.last else d.item.updated_at
    measured = d.warned_at or now
    warned = (d.cycle_at or measured) if d.verdict == "close" else measured
    close_on = (
        _day(warned + dt.timedelta(days=rule.days_until_close)) if rule.days_until_close else ""
    )
    return {
        "number": d.item.number,
        "title": d.item.title,
        "author": d.item.author,
        "kind": "pull request" if isinstance(d.item, PullRequest) else "issue",
        "html_url": d.item.html_url,
        "repo": snapshot.repo,
        "rule": rule.name,
        "stale_label": rule.stale_label,
        "days_inactive": max(0, (measured - reference).days),
        "days_until_stale": rule.days_until_stale,
        "days_until_close": rule.days_until_close or 0,
        "close_on": close_on,
    }


def _present(item: Issue, labels: Sequence[str]) -> list[str]:
    """The item's own spelling of each of `labels` it carries."""
    wanted = _folded(labels)
    return [x for x in item.labels if x.casefold() in wanted]


def _labels_to_add(item: Issue, rule: StaleRule) -> list[str]:
    folded = _folded(item.labels)
    return [
        label
        for label in dict.fromkeys((rule.stale_label, *rule.on_stale.add))
        if label.casefold() not in folded
    ]


def _body(source: str, context: dict[str, object], mark: str) -> str:
    return f"{render_template(source, context).rstrip()}\n\n{mark}\n"


def _label_actions(d: _Decision) -> list[Action]:
    """The warning's label changes: removals first, the stale label (what the next run keys
    on) last, so a run stopped half-way leaves an item the next run repairs."""
    item, rule, why = d.item, d.rule, d.why
    actions: list[Action] = [
        RemoveLabel(why, item.number, label) for label in _present(item, rule.on_stale.remove)
    ]
    adding = _labels_to_add(item, rule)
    if adding:
        actions.append(AddLabels(why, item.number, tuple(adding)))
    return actions


def _actions(
    d: _Decision, snapshot: Snapshot, now: dt.datetime, adopt: AdoptWarnings | None
) -> list[Action]:
    item, rule, why = d.item, d.rule, d.why
    n = item.number
    if d.verdict == "unstale":
        # The stale label last: it is what the next run keys on, so a run stopped after
        # some removals leaves an item the next run still un-stales.
        extra = [*rule.on_stale.add, *(adopt.labels if adopt else ())]
        present = _present(item, extra)
        own = [x for x in _present(item, (rule.stale_label,)) if x not in present]
        return [RemoveLabel(why, n, label) for label in (*present, *own)]
    if d.verdict == "label":
        return _label_actions(d)
    context = _context(d, snapshot, now)
    warning = UpsertComment(
        why, n, warning_marker(n), _body(rule.warning_comment, context, warning_marker(n))
    )
    if d.verdict in ("warn", "rewarn", "comment"):
        # The comment first: a label without its comment would be read next run as a warning
        # whose text is missing; a comment without its label is repaired by adding the label.
        return [warning, *_label_actions(d)]
    out: list[Action] = []
    cycle = d.cycle_at or now
    if rule.closing_comment is not None and not d.closing_posted:
        mark = closing_marker(n, cycle)
        out.append(UpsertComment(why, n, mark, _body(rule.closing_comment, context, mark)))
    labels: tuple[str, ...] | None = None
    if rule.on_close.add or _present(item, rule.on_close.remove):
        removed = _folded(rule.on_close.remove)
        kept = [x for x in item.labels if x.casefold() not in removed]
        folded_kept = _folded(kept)
        labels = tuple(
            [
                *kept,
                *(x for x in dict.fromkeys(rule.on_close.add) if x.casefold() not in folded_kept),
            ]
        )
        if labels == item.labels:
            labels = None
    # state_reason is an issue's; GitHub records no reason for a closed pull request.
    reason = None if isinstance(item, PullRequest) else rule.close_reason
    out.append(EditIssue(why, n, labels=labels, state="closed", state_reason=reason))
    return out


# The order verdicts are written in when the budget cannot take them all: closes that are
# due first (the oldest verdicts), then repairs of half-written warnings, un-stales, and
# fresh warnings last; within each, the oldest activity first.
_PRIORITY: dict[str, int] = {
    "close": 0,
    "label": 1,
    "comment": 1,
    "unstale": 2,
    "rewarn": 3,
    "warn": 3,
}


def _writes_comment(d: _Decision) -> bool:
    if d.verdict in COMMENTING:
        return True
    return d.verdict == "close" and d.rule.closing_comment is not None and not d.closing_posted


def plan_stale(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Plan the sweep: close, repair, un-stale and warn, oldest first, within the budget.

    The budget is the policy's `max_writes_per_run`, lowered to the writes the rate limit
    still allows when the collector read it (`snapshot.writes_left`).
    """
    policy = policies.stale
    adopt = policy.adopt_warnings
    people = _People(policies)
    decisions: list[_Decision] = []
    unread: list[int] = []
    locked: list[int] = []
    examined = exempt = 0
    event_run = snapshot.subjects is not None
    for item in (*snapshot.issues, *snapshot.pulls):
        if item.state != "open":
            continue
        if event_run and item.number not in (snapshot.subjects or ()):
            continue
        rule = select_rule(policy, item)
        if rule is None:
            continue
        examined += 1
        why_exempt = exemption(rule, item, people)
        if why_exempt is not None:
            exempt += 1
            if is_marked(item, rule, adopt):
                decisions.append(
                    _Decision(
                        item,
                        rule,
                        "unstale",
                        f"exempt now: {why_exempt}",
                        item.updated_at,
                        None,
                        None,
                    )
                )
            continue
        verdict = _decide(rule, item, now, snapshot, policy.stale_labels, adopt)
        if verdict == "unread":
            unread.append(item.number)
        elif verdict is not None:
            if item.locked and _writes_comment(verdict):
                # GitHub refuses the comment; labelling or closing without it would leave a
                # warning nobody was told about. Skipped, reported, never charged.
                locked.append(item.number)
                continue
            decisions.append(verdict)
    if event_run:
        # An event un-stales its item at once; warning and closing wait for the sweep.
        decisions = [d for d in decisions if d.verdict == "unstale"]
    decisions.sort(key=lambda d: (_PRIORITY[d.verdict], d.sort_at, d.item.number))
    actions: list[Action] = []
    budget = policy.max_writes_per_run
    if snapshot.writes_left is not None:
        budget = min(budget, snapshot.writes_left)
    deferred = 0
    counts: dict[str, int] = {}
    for d in decisions:
        if deferred:
            deferred += 1
            continue
        planned = _actions(d, snapshot, now, adopt)
        if len(actions) + len(planned) > budget:
            deferred = 1
            continue
        actions += planned
        counts[d.verdict] = counts.get(d.verdict, 0) + 1
    if not actions and decisions and budget > 0:
        # Not even the first item fits (a tight rate limit): write its first writes. Every
        # verdict writes in an order the next run completes (comment before label, closing
        # comment before the close, the stale label removed last), so a part is progress.
        first = decisions[0]
        actions = _actions(first, snapshot, now, adopt)[:budget]
        counts[f"{first.verdict} (in part)"] = 1
    notes = []
    if not event_run:
        done = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to change"
        notes.append(f"examined {examined} open items ({exempt} exempt): {done}")
    if deferred:
        limited = (
            " (lowered to what the rate limit allows)" if budget < policy.max_writes_per_run else ""
        )
        notes.append(
            f"{deferred} item(s) deferred to the next run by the write budget of {budget} writes"
            f"{limited}; due closes went first, then the oldest activity"
        )
    if locked:
        notes.append(
            f"{len(locked)} locked item(s) skipped: GitHub refuses comments on locked issues "
            f"({_numbers(locked)})"
        )
    if unread:
        notes.append(
            f"{len(unread)} item(s) left alone: their activity was not read ({_numbers(unread)})"
        )
    return Plan(FEATURE, tuple(actions), tuple(notes))


def _numbers(numbers: Sequence[int]) -> str:
    return ", ".join(f"#{n}" for n in numbers[:10]) + (" ..." if len(numbers) > 10 else "")


def explain(policies: Policies, snapshot: Snapshot, number: int, now: dt.datetime) -> list[str]:
    """Say, line by line, how the sweep sees one item and what it would do."""
    item = snapshot.issue(number)
    if item is None:
        return [f"#{number} is not in the snapshot"]
    kind = "pull request" if isinstance(item, PullRequest) else "issue"
    lines = [f"#{number} {item.title} ({kind}, {item.state})"]
    if item.state != "open":
        return [*lines, "verdict: nothing to do: the sweep looks at open items only"]
    policy = policies.stale
    rule = select_rule(policy, item)
    if rule is None:
        return [*lines, "verdict: nothing to do: no rule's scope covers it"]
    close = (
        f"closed {rule.days_until_close} days after the warning"
        if rule.days_until_close
        else "never closed"
    )
    lines.append(
        f"rule: {rule.name} (stale after {rule.days_until_stale} days without a person's "
        f"activity, {close})"
    )
    why_exempt = exemption(rule, item, _People(policies))
    if why_exempt is not None:
        verdict = "un-stale" if is_marked(item, rule, policy.adopt_warnings) else "nothing to do"
        return [*lines, f"exempt: {why_exempt}", f"verdict: {verdict}"]
    adopt = policy.adopt_warnings
    activity = read_activity(item, rule.stale_label, policy.stale_labels, snapshot.bot_login, adopt)
    if activity.last_person is not None:
        last = activity.last_person
        lines.append(f"last activity by a person: {last.what} on {_day(last.at)}")
    else:
        lines.append(f"activity not read; last updated on {_day(item.updated_at)}")
    if activity.warned_at is not None:
        lines.append(f"warned on {_day(activity.warned_at)}")
    decision = _decide(rule, item, now, snapshot, policy.stale_labels, adopt)
    if item.locked and isinstance(decision, _Decision) and _writes_comment(decision):
        return [*lines, "verdict: skipped: it is locked, and GitHub refuses comments on it"]
    if decision == "unread":
        return [*lines, "verdict: undecided: the verdict depends on activity that was not read"]
    if decision is None:
        return [*lines, "verdict: nothing to do"]
    return [*lines, f"verdict: {decision.verdict}: {decision.why}"]

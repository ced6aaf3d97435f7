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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from automation.actions import Action, AddLabels, EditIssue, Plan, RemoveLabel, UpsertComment
from automation.policy.templating import render_template
from automation.rules.stale import (
    COMMENTING,
    FEATURE,
    Mark,
    Verdict,
    _folded,
    _People,
    closing_marker,
    exemption,
    has_label,
    is_marked,
    read_activity,
    select_rule,
    warning_marker,
)
from automation.snapshot.models import Issue, PullRequest, Snapshot

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.policy.stale import AdoptWarnings, StaleRule


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
    """Plan the sweep: close, repair, un-stale and warn, due closes first, then the oldest.

    The plan declares its write budget, the policy's `max_writes_per_run` lowered to the
    writes the rate limit still allows when the collector read it (`snapshot.writes_left`);
    the executor meters it.
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
    counts: dict[str, int] = {}
    for d in decisions:
        actions += _actions(d, snapshot, now, adopt)
        counts[d.verdict] = counts.get(d.verdict, 0) + 1
    # The write budget is declared here and metered by the executor (the one place writes
    # are counted): the plan is the whole diff, in the order the budget takes it.
    budget, source = policy.max_writes_per_run, "stale.yaml max_writes_per_run"
    if snapshot.writes_left is not None and snapshot.writes_left < budget:
        budget, source = snapshot.writes_left, "lowered to what the rate limit allows"
    notes = []
    if not event_run:
        done = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to change"
        notes.append(
            f"examined {examined} open items ({exempt} exempt): {done}; due closes first, "
            "then the oldest activity"
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
    return Plan(FEATURE, tuple(actions), tuple(notes), budget=budget, budget_source=source)


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

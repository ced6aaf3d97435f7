"""policies/stale.yaml: backlog hygiene: warn, then close, what no person touches."""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from automation.policy.base import Glob, PolicyFile, PolicyModel, RefProblem, Slug
from automation.policy.templating import template_problem

if TYPE_CHECKING:
    from automation.policy.policies import Policies

DEFAULT_WARNING = (
    "This {{ kind }} has had no activity for {{ days_inactive }} days, so it is now marked "
    "`{{ stale_label }}`.\n\n"
    "{% if close_on %}It will be closed on {{ close_on }} unless someone comments, pushes or "
    "changes its labels before then.{% else %}Comment or update it to keep it open.{% endif %}\n"
)
DEFAULT_CLOSING = (
    "Closing this {{ kind }}: nobody has touched it since it was marked `{{ stale_label }}` "
    "{{ days_until_close }} days ago. Reopen it or comment if it is still wanted.\n"
)

# Sample values every template is trial-rendered with at load (see template_context()).
SAMPLE_CONTEXT: dict[str, object] = {
    "number": 412,
    "title": "Cache eval profiles between runs",
    "author": "octocat",
    "kind": "issue",
    "html_url": "https://github.com/dataface/dataface/issues/412",
    "repo": "dataface/dataface",
    "rule": "backlog",
    "stale_label": "stale",
    "days_inactive": 75,
    "days_until_stale": 60,
    "days_until_close": 14,
    "close_on": "2026-12-08",
}


def _label_pattern(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One compiled, case-insensitive regex for fnmatch-style label patterns."""
    if not patterns:
        return None
    joined = "|".join(f"(?:{fnmatch.translate(p.casefold())})" for p in patterns)
    return re.compile(joined)


def _folded_set(labels: tuple[str, ...]) -> set[str]:
    return {label.casefold() for label in labels}


class LabelChange(PolicyModel):
    """Labels to add and to remove at one step (on stale, on close)."""

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


class StaleRule(PolicyModel):
    """Which items a rule sweeps, when they go stale and close, and what it says."""

    name: Slug
    scope: Literal["issues", "prs", "both"] = "both"
    only_labels: tuple[str, ...] = Field(
        default=(), description="the item must carry every one of these labels"
    )
    any_of_labels: tuple[str, ...] = Field(
        default=(), description="the item must carry at least one of these labels"
    )
    include_drafts: bool = Field(default=False, description="whether draft PRs are swept")
    # At most ten years: a larger count overflows the date arithmetic of a sweep.
    days_until_stale: int = Field(ge=1, le=3650, description="days without a person's activity")
    days_until_close: int | None = Field(
        default=14, ge=1, le=3650, description="days after the warning; null: warn, never close"
    )
    stale_label: str = Field(default="stale", min_length=1)
    exempt_labels: tuple[Glob, ...] = Field(
        default=(), description="labels (fnmatch wildcards, case-insensitive) that exempt"
    )
    exempt_assignees: tuple[str, ...] = Field(
        default=(), description="people or teams from owners.yaml, a [bot] login, or '*'"
    )
    exempt_authors: tuple[str, ...] = Field(
        default=(), description="people or teams from owners.yaml, a [bot] login, or '*'"
    )
    exempt_milestones: tuple[Glob, ...] = Field(
        default=(), description="milestone titles (fnmatch wildcards; '*': any milestone)"
    )
    exempt_pinned: bool = True
    close_reason: Literal["not_planned", "completed"] = "not_planned"
    warning_comment: str = Field(default=DEFAULT_WARNING, min_length=1)
    closing_comment: str | None = Field(
        default=DEFAULT_CLOSING, description="null: close without a comment"
    )
    on_stale: LabelChange = LabelChange()
    on_close: LabelChange = LabelChange()

    def covers_kind(self, is_pull: bool, draft: bool) -> bool:
        """Whether the rule's scope takes this kind of item."""
        if is_pull:
            return self.scope != "issues" and (self.include_drafts or not draft)
        return self.scope != "prs"

    @cached_property
    def _only(self) -> frozenset[str]:
        return frozenset(label.casefold() for label in self.only_labels)

    @cached_property
    def _any(self) -> frozenset[str]:
        return frozenset(label.casefold() for label in self.any_of_labels)

    @cached_property
    def exempt_label_regex(self) -> re.Pattern[str] | None:
        """The exempt label patterns compiled once (planning 100,000 items stays fast)."""
        return _label_pattern(self.exempt_labels)

    @cached_property
    def exempt_milestone_regex(self) -> re.Pattern[str] | None:
        """The exempt milestone patterns compiled once."""
        return _label_pattern(self.exempt_milestones)

    def covers_labels(self, labels: frozenset[str]) -> bool:
        """Whether casefolded `labels` satisfy only_labels and any_of_labels."""
        if not self._only <= labels:
            return False
        return not self._any or bool(self._any & labels)


class AdoptWarnings(PolicyModel):
    """Another tool's stale label and warning comment, taken as this sweep's warning.

    A repository moving from another stale bot keeps its clocks: an item that tool warned
    closes when this sweep's close period after that warning ends, instead of getting a
    fresh warning. Only a bot's comment counts (a person quoting the text is activity).
    """

    labels: tuple[Annotated[str, Field(min_length=1)], ...] = Field(
        default=(), description="the other tool's stale labels (case-insensitive)"
    )
    # Never empty: an empty text is in every comment, and would make any bot's comment a warning.
    comments: tuple[Annotated[str, Field(min_length=1)], ...] = Field(
        default=(), description="text the other tool's warning comments contain"
    )

    @cached_property
    def folded_labels(self) -> frozenset[str]:
        """The adopted labels, casefolded."""
        return frozenset(label.casefold() for label in self.labels)

    def is_warning(self, body: str) -> bool:
        """Whether a bot's comment body is the other tool's warning."""
        return any(text in body for text in self.comments)


class StalePolicy(PolicyFile):
    """Every stale rule (the first rule that covers an item sweeps it) and the write budget."""

    rules: tuple[StaleRule, ...] = Field(min_length=1)
    max_writes_per_run: int = Field(
        default=50, ge=1, description="write budget of one sweep; the next sweep resumes"
    )
    adopt_warnings: AdoptWarnings | None = Field(
        default=None,
        description="another stale tool's label and comment, recognised as this sweep's warning",
    )

    def rule(self, name: str) -> StaleRule | None:
        """Return the rule with this name."""
        return next((r for r in self.rules if r.name == name), None)

    @cached_property
    def stale_labels(self) -> frozenset[str]:
        """Every rule's stale label and every adopted label, casefolded."""
        own = frozenset(r.stale_label.casefold() for r in self.rules)
        return own | (self.adopt_warnings.folded_labels if self.adopt_warnings else frozenset())

    def cross_check(self, policies: Policies) -> Iterator[RefProblem]:
        """Check names, people, label interplay and that every template renders."""
        counts = Counter(r.name for r in self.rules)
        managed = {r.stale_label.casefold() for r in self.rules}
        managed |= {label.casefold() for r in self.rules for label in r.on_stale.add}
        if self.adopt_warnings is not None:
            managed |= self.adopt_warnings.folded_labels
        for index, rule in enumerate(self.rules):
            loc: tuple[str | int, ...] = ("rules", index)
            if counts[rule.name] > 1:
                yield RefProblem((*loc, "name"), f"duplicate rule name '{rule.name}'")
            regex = rule.exempt_label_regex
            if regex is not None and regex.fullmatch(rule.stale_label.casefold()):
                yield RefProblem(
                    (*loc, "exempt_labels"),
                    f"exempts the rule's own stale label '{rule.stale_label}'",
                )
            for step in ("on_stale", "on_close"):
                change: LabelChange = getattr(rule, step)
                both = _folded_set(change.add) & _folded_set(change.remove)
                if both:
                    yield RefProblem(
                        (*loc, step), f"adds and removes the same label: {', '.join(sorted(both))}"
                    )
            if rule.stale_label.casefold() in _folded_set(rule.on_stale.remove):
                yield RefProblem(
                    (*loc, "on_stale", "remove"),
                    f"removes the stale label '{rule.stale_label}' the warning adds",
                )
            for key in ("only_labels", "any_of_labels"):
                for l_index, label in enumerate(getattr(rule, key)):
                    if label.casefold() in managed:
                        yield RefProblem(
                            (*loc, key, l_index),
                            f"'{label}' is a label the stale sweep adds itself; a rule's scope "
                            "cannot depend on it",
                        )
            for key in ("exempt_assignees", "exempt_authors"):
                for p_index, ref in enumerate(getattr(rule, key)):
                    if ref == "*" or ref.endswith("[bot]") or policies.owners.is_known_owner(ref):
                        continue
                    yield RefProblem((*loc, key, p_index), f"unknown person or team '{ref}'")
            for key in ("warning_comment", "closing_comment"):
                source = getattr(rule, key)
                if source is None:
                    continue
                problem = template_problem(source, SAMPLE_CONTEXT)
                if problem:
                    yield RefProblem((*loc, key), problem)

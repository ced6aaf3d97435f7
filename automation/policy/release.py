"""policies/release.yaml: the release train's cadence, freezes, naming and changelog."""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field, model_validator

from automation.policy.base import (
    PolicyDate,
    PolicyFile,
    PolicyModel,
    RefProblem,
    Regex,
    Slug,
    TimeZone,
)
from automation.policy.oncall import Weekday
from automation.policy.owners import pattern_problem

if TYPE_CHECKING:
    from automation.policy.policies import Policies

# Placeholders a name pattern may use; every one is derived from the train's local date.
NAME_FIELDS = ("date", "year", "month", "day", "week")
_FIELD_REGEX = {
    "date": r"(?P<date>\d{4}-\d{2}-\d{2})",
    "year": r"(?P<year>\d{4})",
    "month": r"(?P<month>\d{2})",
    "day": r"(?P<day>\d{2})",
    "week": r"(?P<week>\d{2})",
}
# git check-ref-format: no control characters, space, ~ ^ : ? * [ \, no "..", no "@{".
_BAD_REF = re.compile(r"[\x00-\x20~^:?*\[\\\x7f]|\.\.|@\{|//|^/|/$|\.lock$|^\.|/\.|\.$")


def name_values(day: dt.date) -> dict[str, str]:
    """The values a name pattern's placeholders take for a train leaving on `day`."""
    return {
        "date": day.isoformat(),
        "year": f"{day.year:04d}",
        "month": f"{day.month:02d}",
        "day": f"{day.day:02d}",
        "week": f"{day.isocalendar().week:02d}",
    }


def _name_pattern(value: str) -> str:
    fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    unknown = [f for f in fields if f not in NAME_FIELDS]
    if unknown:
        known = ", ".join("{" + f + "}" for f in NAME_FIELDS)
        raise ValueError(f"unknown placeholder {{{unknown[0]}}}: use {known}")
    if "date" not in fields and not {"year", "month", "day"} <= set(fields):
        raise ValueError("the pattern must contain {date} (or {year}, {month} and {day})")
    sample = value.format(**name_values(dt.date(2026, 11, 24)))
    if _BAD_REF.search(sample):
        raise ValueError(f"{sample!r} is not a valid git branch or tag name")
    return value


NamePattern = Annotated[str, AfterValidator(_name_pattern)]


def _branch(value: str) -> str:
    if not value or _BAD_REF.search(value):
        raise ValueError(f"{value!r} is not a valid git branch name")
    return value


BranchName = Annotated[str, AfterValidator(_branch)]


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A regex that matches names made from `pattern`, capturing the placeholders."""
    out = ""
    seen: set[str] = set()
    for literal, name, _, _ in string.Formatter().parse(pattern):
        out += re.escape(literal)
        if name is not None:
            out += f"(?P={name})" if name in seen else _FIELD_REGEX[name]
            seen.add(name)
    return re.compile(out)


def parse_name(pattern: str, name: str) -> dt.date | None:
    """The train date a branch or tag name was made from, or None if it was not."""
    match = pattern_regex(pattern).fullmatch(name)
    if match is None:
        return None
    groups = match.groupdict()
    try:
        if groups.get("date"):
            day = dt.date.fromisoformat(groups["date"])
        else:
            day = dt.date(int(groups["year"]), int(groups["month"]), int(groups["day"]))
    except (KeyError, TypeError, ValueError):
        return None
    # Every placeholder must agree with that day ("train/2026-w01/2026-11-24" is no train's).
    return day if pattern.format(**name_values(day)) == name else None


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    from automation.codeowners import compile_pattern

    return compile_pattern(pattern)


class Freeze(PolicyModel):
    """A window of local dates (both inclusive) in which no train leaves."""

    name: str = Field(min_length=1)
    start: PolicyDate
    end: PolicyDate
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Freeze:
        if self.end < self.start:
            raise ValueError(f"freeze '{self.name}' ends ({self.end}) before it starts")
        return self


class Blackout(PolicyModel):
    """One local date (a holiday) on which no train leaves."""

    date: PolicyDate
    reason: str = Field(min_length=1)


class Category(PolicyModel):
    """A changelog group: PRs carrying one of `labels`, else changing one of `paths`.

    A category with neither is the catch-all. `needs` names what a PR in this category
    must carry (a deprecation note, eval results); the changelog flags PRs whose body does
    not match `satisfied_by` and that carry none of `satisfied_labels`.
    """

    name: Slug
    title: str = Field(min_length=1)
    labels: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    needs: str | None = None
    satisfied_by: Regex | None = None
    satisfied_labels: tuple[str, ...] = ()

    @property
    def catch_all(self) -> bool:
        """Whether this category takes every PR no other category claims."""
        return not self.labels and not self.paths

    def matches_paths(self, paths: tuple[str, ...] | list[str]) -> bool:
        """Whether any path matches one of the category's CODEOWNERS-style patterns."""
        regexes = [_compiled(pattern) for pattern in self.paths]
        return any(r.fullmatch(p) for p in paths for r in regexes)

    def flag(self, body: str, labels: tuple[str, ...]) -> str | None:
        """What a PR in this category still lacks, or None."""
        if self.needs is None:
            return None
        if set(labels) & set(self.satisfied_labels):
            return None
        if self.satisfied_by is not None and re.search(self.satisfied_by, body or ""):
            return None
        return self.needs


class ReleasePolicy(PolicyFile):
    """When trains leave, from where to where, what they are called, and their changelog."""

    # The fields that define a train are required: an empty release.yaml is not a weekly
    # train into `stable` nobody asked for.
    timezone: TimeZone
    weekdays: tuple[Weekday, ...] = Field(min_length=1)
    time: dt.time
    every_weeks: int = Field(default=1, ge=1, le=52)
    anchor: PolicyDate | None = None
    catch_up: bool = True
    source_branch: BranchName
    release_base: BranchName
    branch_pattern: NamePattern = "release-train/{date}"
    tag_pattern: NamePattern = "train-{date}"
    title_pattern: str = "Release train {date}"
    release_name_pattern: str = "Release train {date}"
    labels: tuple[str, ...] = ("release-train",)
    freezes: tuple[Freeze, ...] = ()
    blackout_dates: tuple[Blackout, ...] = ()
    categories: tuple[Category, ...] = (Category(name="other", title="Other changes"),)
    signoff_areas: tuple[str, ...] = ()
    captain_rotation: str | None = None
    max_body_chars: int = Field(default=65_000, ge=2_000, le=65_536)

    def branch_name(self, day: dt.date) -> str:
        """The train branch for a train leaving on `day`."""
        return self.branch_pattern.format(**name_values(day))

    def tag_name(self, day: dt.date) -> str:
        """The tag of the release for the train of `day`."""
        return self.tag_pattern.format(**name_values(day))

    def title(self, day: dt.date) -> str:
        """The train PR's title."""
        return self.title_pattern.format(**name_values(day))

    def release_name(self, day: dt.date) -> str:
        """The published release's name."""
        return self.release_name_pattern.format(**name_values(day))

    def category_by_labels(self, labels: tuple[str, ...]) -> Category | None:
        """The first category one of these labels selects."""
        return next((c for c in self.categories if set(c.labels) & set(labels)), None)

    def category_by_paths(self, paths: tuple[str, ...] | list[str]) -> Category | None:
        """The first path category any of these files falls in."""
        return next((c for c in self.categories if c.paths and c.matches_paths(paths)), None)

    def fallback(self) -> Category:
        """The catch-all category (a built-in 'Other changes' when none is configured)."""
        found = next((c for c in self.categories if c.catch_all), None)
        return found or Category(name="other", title="Other changes")

    def directory_roots(self, category: Category, path: str) -> str | None:
        """The directory through which a plain directory pattern of `category` covers `path`.

        None when no pattern covers it as a plain directory (a glob, or a file pattern).
        """
        for pattern in category.paths:
            if any(ch in pattern for ch in "*?") or not pattern.endswith("/"):
                continue
            core = pattern.strip("/")
            anchored = pattern.startswith("/") or "/" in core
            wrapped = f"/{path}"
            index = wrapped.find(f"/{core}/")
            while index >= 0:
                if index == 0 or not anchored:
                    return path[: index + len(core)]
                index = wrapped.find(f"/{core}/", index + 1)
        return None

    @property
    def has_path_categories(self) -> bool:
        """Whether any category is chosen by path (so unlabelled PRs need their files)."""
        return any(c.paths for c in self.categories)

    def cross_check(self, policies: Policies) -> Iterator[RefProblem]:
        """Areas, the captain's rotation and path patterns exist; names are consistent."""
        for index, area in enumerate(self.signoff_areas):
            if policies.owners.area(area) is None:
                yield RefProblem(("signoff_areas", index), f"unknown area '{area}'")
        if (
            self.captain_rotation is not None
            and policies.oncall.rotation(self.captain_rotation) is None
        ):
            yield RefProblem(
                ("captain_rotation",),
                f"unknown rotation '{self.captain_rotation}' (add it to policies/oncall.yaml)",
            )
        if self.every_weeks > 1 and self.anchor is None:
            yield RefProblem(("anchor",), "every_weeks above 1 needs an anchor date")
        if self.source_branch == self.release_base:
            yield RefProblem(("release_base",), "the release base must differ from the source")
        if pattern_regex(self.branch_pattern).fullmatch(self.source_branch):
            yield RefProblem(("branch_pattern",), "the source branch looks like a train branch")
        for field in ("title_pattern", "release_name_pattern"):
            try:
                getattr(self, field).format(**name_values(dt.date(2026, 11, 24)))
            # `{date.year}` or `{date[x]}` reach into the string: AttributeError, TypeError.
            except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
                yield RefProblem((field,), f"pattern does not render: {exc}")
        names = [c.name for c in self.categories]
        for index, name in enumerate(names):
            if name in names[:index]:
                yield RefProblem(("categories", index, "name"), f"duplicate category '{name}'")
        catch_alls = [i for i, c in enumerate(self.categories) if c.catch_all]
        for index in catch_alls[1:]:
            yield RefProblem(("categories", index), "only one category may have no labels/paths")
        for c_index, category in enumerate(self.categories):
            for p_index, pattern in enumerate(category.paths):
                problem = pattern_problem(pattern)
                if problem:
                    yield RefProblem(("categories", c_index, "paths", p_index), problem)
            if category.needs is None and (category.satisfied_by or category.satisfied_labels):
                yield RefProblem(
                    ("categories", c_index, "needs"), "satisfied_by/satisfied_labels need 'needs'"
                )
        for index, blackout in enumerate(self.blackout_dates):
            if blackout.date in [b.date for b in self.blackout_dates[:index]]:
                yield RefProblem(("blackout_dates", index), f"duplicate date {blackout.date}")

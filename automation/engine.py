"""One path for every trigger: collect, plan (pure), execute, report."""

from __future__ import annotations

import datetime as dt
import logging
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from automation import features as registry
from automation.actions import Plan, Report
from automation.logs import log_context
from automation.routing import feature_order

log = logging.getLogger("dataface_ops.engine")

if TYPE_CHECKING:
    from automation.github import Repository
    from automation.policy.policies import Policies
    from automation.snapshot.models import Issue, Snapshot


def resolve_features(names: Sequence[str]) -> tuple[str, ...]:
    """Validate feature names; no names means every registered feature, in order."""
    order = feature_order()
    if not names:
        return order
    for name in names:
        registry.get(name)
    return tuple(f for f in order if f in names)


def off_reason(policies: Policies, name: str) -> str | None:
    """Why a feature is off (its policy file absent or `enabled: false`), or None if on."""
    return policies.off_reason(registry.get(name).policy_files)


def switched_on(policies: Policies, names: Sequence[str]) -> tuple[tuple[str, ...], list[str]]:
    """The named features that are on, and one `name: off (why)` line per feature that is off.

    Features are opt-in by file: a repository adopts them one policy file at a time.
    """
    on: list[str] = []
    off: list[str] = []
    for name in resolve_features(names):
        reason = off_reason(policies, name)
        if reason is None:
            on.append(name)
        else:
            off.append(f"{name}: off ({reason})")
    return tuple(on), off


def plan_offline(
    policies: Policies, snapshot: Snapshot, names: Sequence[str], now: dt.datetime
) -> list[Plan]:
    """Plan every named feature against one snapshot (no network)."""
    plans = []
    on, off = switched_on(policies, names)
    for line in off:
        log.info("%s", line)
    for name in on:
        with log_context(feature=name):
            plans.append(registry.get(name).plan(policies, snapshot, now))
    return plans


def plan_live(
    repo: Repository,
    policies: Policies,
    names: Sequence[str],
    numbers: tuple[int, ...] | None,
    now: dt.datetime,
) -> tuple[list[Plan], list[Snapshot]]:
    """Collect each feature's snapshot from GitHub, then plan it."""
    from automation.github import shared_reads

    plans: list[Plan] = []
    snapshots: list[Snapshot] = []
    subject = ",".join(f"#{n}" for n in numbers) if numbers else None
    on, off = switched_on(policies, names)
    for line in off:
        log.info("%s", line)
    with shared_reads(repo):
        for name in on:
            feature = registry.get(name)
            with log_context(feature=name, subject=subject):
                try:
                    snapshot = feature.collect(repo, policies, numbers, now)
                except Exception as exc:
                    _explain_not_found(repo, exc)
                    raise
                plan = feature.plan(policies, snapshot, now)
                if plan.wants and feature.refine is not None:
                    # The plan rests on reads the collector could not know it needed without
                    # planning: read them and plan again (once: the reads answer every want).
                    snapshot = feature.refine(repo, snapshot, plan.wants)
                    plan = feature.plan(policies, snapshot, now)
                snapshots.append(snapshot)
                plans.append(plan)
                log.info("planned %d action(s)", len(plans[-1].actions))
    return plans, snapshots


def _explain_not_found(repo: Repository, exc: Exception) -> None:
    """On a 404, ask once whether the repository itself is visible: a wrong name or a token
    without access is one clear line (RepositoryNotVisible), not a 404 per feature."""
    from automation.errors import RepositoryNotVisible
    from automation.github import UnknownObjectException, repository_name, repository_visible

    if not isinstance(exc, UnknownObjectException) or repo in _VISIBLE:
        return
    if not repository_visible(repo):
        raise RepositoryNotVisible(repository_name(repo)) from None
    _VISIBLE.add(repo)  # seen: later 404s are about what was asked for, not the repo


# Repositories already found visible after a 404 (weak: a run's client dies with the run).
_VISIBLE: weakref.WeakSet[Repository] = weakref.WeakSet()


def run_live(
    repo: Repository,
    policies: Policies,
    names: Sequence[str],
    numbers: tuple[int, ...] | None,
    now: dt.datetime,
    *,
    dry_run: bool,
    max_writes: int | None,
) -> Report:
    """Collect, plan and execute the named features.

    A feature whose reads GitHub refuses (a 404 for a branch it expects, a 403 for a scope
    the token lacks), or whose reads keep failing (5xx after the retries, the network), is
    reported and the others go on, as after one failed action: a
    scheduled run must not lose its escalations because the release train cannot read its
    branch. Bad credentials and an exhausted rate limit still end the run, and so does an
    answer of a shape nothing can use (SnapshotError), before any write.
    """
    from automation.errors import RepositoryNotVisible
    from automation.execute import execute
    from automation.github import (
        FAILURES,
        BadCredentialsException,
        RateLimitExceededException,
        failure_text,
        shared_reads,
    )

    plans: list[Plan] = []
    errors: list[str] = []
    on, off = switched_on(policies, names)
    # Every feature reads before anything is written, so they share their reads: the
    # issue an event names is read once, not once per feature.
    with shared_reads(repo):
        for name in on:
            try:
                planned, _ = plan_live(repo, policies, (name,), numbers, now)
            except (BadCredentialsException, RateLimitExceededException, RepositoryNotVisible):
                raise
            except FAILURES as exc:
                # GitHub refused, kept failing (after the retries), or the network did:
                # nothing of this feature was written, and the next run plans it again.
                detail = failure_text(exc)
                with log_context(feature=name):
                    log.error("could not read what the feature needs: %s", detail)
                errors.append(
                    f"{name}: could not read what it needs: {detail}; the next run resumes"
                )
                continue
            plans.extend(planned)
    report = execute(plans, repo, dry_run=dry_run, max_writes=max_writes, started=now)
    report.errors.extend(errors)
    report.notes.extend(off)  # once per run, in the report, not per event or subject
    return report


T = TypeVar("T", bound="Issue")


def _union(ours: tuple[Any, ...], theirs: tuple[Any, ...]) -> tuple[Any, ...]:
    """Both copies' entries once each (by id where entries have one), in time order."""
    seen: dict[object, Any] = {}
    for entry in (*ours, *theirs):
        seen.setdefault(getattr(entry, "id", entry), entry)
    when = ("created_at", "submitted_at")

    def at(entry: Any) -> dt.datetime:
        for name in when:
            value = getattr(entry, name, None)
            if isinstance(value, dt.datetime):
                return value
        return dt.datetime.min.replace(tzinfo=dt.UTC)

    return tuple(sorted(seen.values(), key=at))


def merge_items(ours: T, theirs: T) -> T:
    """Two features' copies of one issue or PR, field by field: what either read is kept.

    A field one collector left at its default (a PR's head SHA the review loop does not
    read) takes the other's value; lists either read are united (events from REST and from
    a GraphQL timeline, comments by id); changed files, the longer list.
    """
    update: dict[str, Any] = {}
    for name, field in type(ours).model_fields.items():
        mine, other = getattr(ours, name), getattr(theirs, name)
        if mine == other or other is None:
            continue
        if mine is None or mine == field.default:
            update[name] = other
        elif name == "files":
            update[name] = other if len(other) > len(mine) else mine
        elif name in ("comments", "events", "reviews", "reactions"):
            update[name] = _union(mine, other)
    return ours.model_copy(update=update) if update else ours


def merge_snapshots(snapshots: Sequence[Snapshot]) -> Snapshot:
    """Merge per-feature snapshots into one file-able snapshot (copies merged by field)."""
    if not snapshots:
        raise ValueError("nothing to merge")
    merged = snapshots[0]
    for other in snapshots[1:]:
        issues = {i.number: i for i in merged.issues}
        for issue in other.issues:
            known = issues.get(issue.number)
            issues[issue.number] = issue if known is None else merge_items(known, issue)
        pulls = {p.number: p for p in merged.pulls}
        for pull in other.pulls:
            known_pull = pulls.get(pull.number)
            pulls[pull.number] = pull if known_pull is None else merge_items(known_pull, pull)
        merged = merged.model_copy(
            update={
                "issues": tuple(sorted(issues.values(), key=lambda i: i.number)),
                "pulls": tuple(sorted(pulls.values(), key=lambda p: p.number)),
                "check_runs": tuple(
                    {c.id: c for c in (*merged.check_runs, *other.check_runs)}.values()
                ),
                "releases": tuple({r.id: r for r in (*merged.releases, *other.releases)}.values()),
                "branches": {**merged.branches, **other.branches},
                "comparison": merged.comparison or other.comparison,
                "team_members": {**merged.team_members, **other.team_members},
                "collaborators": merged.collaborators or other.collaborators,
                "codeowners": merged.codeowners or other.codeowners,
                "documents": merged.documents or other.documents,
            }
        )
    return merged

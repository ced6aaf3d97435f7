"""The owner-approval check: changes under protected paths need their CODEOWNERS owners.

Pure: the snapshot carries the PRs' files, reviews, review-request events, the check runs on
their heads, and the CODEOWNERS (and other bases' policies) read at their base commits.
CODEOWNERS and the policies come from the base, never the PR, so a PR that edits them cannot
approve itself. A check run belongs to a commit, not a PR: the conclusion posted on a head is
the worst over every open PR with that head, each graded by its own base.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from automation.actions import Action, Plan, RequestReviewers, UpsertCheckRun
from automation.rules.ownership import (
    _MD_ESCAPES,
    Conclusion,
    Verdict,
    _by_head,
    _grade,
    _pr_policies,
    md,
)

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.snapshot.models import (
        CheckRun,
        PullRequest,
        Snapshot,
    )

FEATURE = "ownership"
PUSHERS_MARK = "dataface-ops:pushers="


def pushers_id(pushers: Iterable[str]) -> str:
    """The check run's external_id recording who pushed its head commit."""
    return PUSHERS_MARK + ",".join(sorted(set(pushers), key=str.casefold))


MAX_SUMMARY = 60_000
MAX_TITLE = 240


# --------------------------------------------------------------------------- reviews


# --------------------------------------------------------------------------- evaluation


_MD_ESCAPES.update({"<": "&lt;", ">": "&gt;", "&": "&amp;"})


# --------------------------------------------------------------------------- base policies


# --------------------------------------------------------------------------- rendering


# --------------------------------------------------------------------------- planning


def _ours(run: CheckRun, snapshot: Snapshot) -> bool:
    """Whether our own app made the run: anyone with checks: write can post the same name."""
    if snapshot.own_app_id is not None:
        return run.app_id == snapshot.own_app_id
    if snapshot.own_app_slug is not None:
        return run.app_slug == snapshot.own_app_slug
    return True  # a snapshot file that does not say who we are


def _existing_run(snapshot: Snapshot, name: str, head_sha: str) -> CheckRun | None:
    """Our latest check run with this name on the head, if any."""
    runs = [
        c
        for c in snapshot.check_runs
        if c.name == name and c.head_sha == head_sha and _ours(c, snapshot)
    ]
    return max(runs, key=lambda c: c.id, default=None)


def _commit_verdict(graded: list[tuple[PullRequest, Verdict]]) -> tuple[Conclusion, str, str]:
    """The worst verdict over every PR with this head; the summary names each PR."""
    worst: Conclusion = (
        "failure" if any(v.conclusion == "failure" for _, v in graded) else "success"
    )
    if len(graded) == 1:
        pr, verdict = graded[0]
        head = f"Pull request #{pr.number} ({md(pr.title)}) into {md(pr.base_ref)}.\n\n"
        return verdict.conclusion, verdict.title, head + verdict.summary
    shown = [(p, v) for p, v in graded if v.conclusion == worst]
    title = "; ".join(f"#{p.number}: {v.title}" for p, v in shown)
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1] + "…"
    parts = [
        f"This commit is the head of {len(graded)} open pull requests, and a check belongs "
        "to the commit: it shows the worst of them, each graded by its own base branch.\n",
        "| pull request | into | conclusion | title |",
        "| --- | --- | --- | --- |",
    ]
    parts += [
        f"| #{p.number} {md(p.title)} | {md(p.base_ref)} | {v.conclusion} | {md(v.title)} |"
        for p, v in graded
    ]
    for p, v in graded:
        parts += ["", f"### #{p.number} {md(p.title)} into {md(p.base_ref)}", "", v.summary]
    summary = "\n".join(parts).strip() + "\n"
    if len(summary) > MAX_SUMMARY:
        summary = summary[:MAX_SUMMARY] + "\n\n(cut: the summary is too long)\n"
    return worst, title, summary


def plan_ownership(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Report the owner-approval check on each head and ask missing owners to review."""
    policy = policies.ownership
    actions: list[Action] = []
    notes: list[str] = []
    for head_sha, prs in _by_head(snapshot).items():
        graded = [(pr, _grade(policies, snapshot, pr)) for pr in prs]
        for _, verdict in graded:
            notes.extend(verdict.notes)
        conclusion, title, summary = _commit_verdict(graded)
        current = _existing_run(snapshot, policy.check_name, head_sha)
        # Who pushed the head rides on our run, so the next run need not read the commit.
        pushers = next((p.head_pushers for p in prs if p.head_pushers is not None), None)
        external_id = None if pushers is None else pushers_id(pushers)
        if (
            current is None
            or (
                current.status,
                current.conclusion,
                current.title,
                current.summary,
            )
            != ("completed", conclusion, title, summary)
            or (external_id is not None and current.external_id != external_id)
        ):
            numbers = ", ".join(f"#{p.number}" for p in prs)
            actions.append(
                UpsertCheckRun(
                    reason=f"{numbers}: {title}",
                    name=policy.check_name,
                    head_sha=head_sha,
                    conclusion=conclusion,
                    title=title,
                    summary=summary,
                    check_run_id=None if current is None else current.id,
                    external_id=external_id,
                )
            )
        for pr, verdict in graded:
            own = _pr_policies(policies, snapshot, pr)
            if isinstance(own, str) or not own.ownership.request_reviews or pr.draft:
                continue  # GitHub, too, asks code owners only once a PR is ready for review
            users = tuple(dict.fromkeys(u for r in verdict.rows for u in r.request_users))
            teams = tuple(dict.fromkeys(t for r in verdict.rows for t in r.request_teams))
            if users or teams:
                groups = ", ".join(
                    dict.fromkeys(
                        r.group for r in verdict.rows if r.request_users or r.request_teams
                    )
                )
                actions.append(
                    RequestReviewers(
                        reason=(
                            f"owners of {groups} have not approved #{pr.number} "
                            "and were never asked to review it"
                        ),
                        number=pr.number,
                        reviewers=users,
                        team_reviewers=teams,
                    )
                )
    return Plan(FEATURE, tuple(actions), tuple(dict.fromkeys(notes)))

"""The owner-approval check: changes under protected paths need their CODEOWNERS owners.

Pure: the snapshot carries the PR's files, reviews, review-request events, the check runs on
its head, and the CODEOWNERS read at its base commit. CODEOWNERS and the policies come from
the base, never the PR, so a PR that edits CODEOWNERS cannot approve itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from automation.codeowners import Codeowners, parse
from automation.plan import Action, Plan, RequestReviewers, UpsertCheckRun
from automation.rendering import render_shipped

if TYPE_CHECKING:
    from automation.policy.loader import Policies
    from automation.policy.ownership import ProtectedPath
    from automation.snapshot.models import CodeownersFile, PullRequest, Review, Snapshot

FEATURE = "ownership"
# GitHub's "list pull request files" answers at most 3,000 files; past that a check cannot
# see every changed path, so it fails closed.
MAX_LISTED_FILES = 3000
# Check-run summaries take at most 65,535 characters; keep the per-file list well below.
MAX_LISTED_IN_SUMMARY = 100

Conclusion = Literal["success", "failure"]
# Review states that change where a reviewer stands. GitHub keeps an approval (or a request
# for changes) in force when the same reviewer later only comments, so COMMENTED and
# PENDING never replace an earlier verdict.
_VERDICT_STATES = ("APPROVED", "CHANGES_REQUESTED", "DISMISSED")


@dataclass(frozen=True)
class Row:
    """One line of the summary table: a path group and the owners of some of its files."""

    group: str
    files: tuple[str, ...]
    owners: tuple[str, ...]
    approved_by: tuple[str, ...] = ()
    missing: str = ""
    request_users: tuple[str, ...] = ()
    request_teams: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether this row needs nothing more."""
        return not self.missing


@dataclass(frozen=True)
class Verdict:
    """The check's answer for one PR."""

    conclusion: Conclusion
    title: str
    summary: str
    rows: tuple[Row, ...] = ()
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------- reviews


def _cf(login: str) -> str:
    """GitHub logins and team slugs are case-insensitive."""
    return login.casefold()


def latest_verdicts(reviews: Iterable[Review]) -> dict[str, Review]:
    """Each reviewer's latest approving, change-requesting or dismissed review."""
    ordered = sorted(
        (r for r in reviews if r.state in _VERDICT_STATES),
        key=lambda r: (r.submitted_at or dt.datetime.min.replace(tzinfo=dt.UTC), r.id),
    )
    latest: dict[str, Review] = {}
    for review in ordered:
        latest[_cf(review.user)] = review
    return latest


def team_members(
    policies: Policies, snapshot_members: Mapping[str, tuple[str, ...]], handle: str
) -> tuple[tuple[str, ...] | None, str]:
    """Members of an @org/team handle and where they came from (None: unknown)."""
    key = _cf(handle.removeprefix("@"))
    for name, members in snapshot_members.items():
        if _cf(name) == key:
            return members, "the GitHub API"
    for team in policies.owners.teams:
        if team.github and _cf(team.github) == key:
            return team.members, "owners.yaml"
    return None, ""


# --------------------------------------------------------------------------- evaluation


def _md(text: str) -> str:
    """Escape a table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _handles(logins: Iterable[str]) -> str:
    return ", ".join(f"@{login}" for login in logins)


def _is_team(handle: str) -> bool:
    return handle.startswith("@") and "/" in handle


def _is_user(handle: str) -> bool:
    return handle.startswith("@") and "/" not in handle


@dataclass
class _Context:
    policies: Policies
    pr: PullRequest
    team_members: Mapping[str, tuple[str, ...]]
    verdicts: dict[str, Review]
    reviewed: set[str]
    requested_users: set[str]
    requested_teams: set[str]
    notes: set[str]


def _evaluate_row(
    ctx: _Context, group: ProtectedPath, files: tuple[str, ...], owners: tuple[str, ...]
) -> Row:
    """Count the approvals one row has and say what it still needs."""
    pr = ctx.pr
    author = _cf(pr.author)
    row = Row(group.name, files, owners)
    if not owners:
        return replace(row, missing="no owner in CODEOWNERS, so nobody can approve")
    eligible: dict[str, str] = {}  # casefolded login -> login
    unknown_teams: list[str] = []
    emails: list[str] = []
    member_of: dict[str, list[str]] = {}  # team handle -> casefolded members
    for handle in owners:
        if _is_user(handle):
            eligible.setdefault(_cf(handle[1:]), handle[1:])
        elif _is_team(handle):
            members, source = team_members(ctx.policies, ctx.team_members, handle)
            if members is None:
                unknown_teams.append(handle)
                continue
            if source == "owners.yaml":
                ctx.notes.add(f"members of {handle} taken from owners.yaml")
            member_of[handle] = [_cf(m) for m in members]
            for member in members:
                eligible.setdefault(_cf(member), member)
        else:
            emails.append(handle)  # an email cannot be matched to a reviewer's login
    approvers: list[str] = []
    stale: list[str] = []
    blockers: list[str] = []
    not_owners: list[str] = []
    for key, review in ctx.verdicts.items():
        if key not in eligible:
            if review.state == "APPROVED" and key != author:
                not_owners.append(review.user)
            continue
        if review.state == "CHANGES_REQUESTED":
            # A request for changes stands until that owner approves or it is dismissed,
            # whatever commit it was made on.
            blockers.append(eligible[key])
        elif review.state == "APPROVED" and key != author:
            if group.invalidate_on_push and review.commit_id != pr.head_sha:
                stale.append(eligible[key])
            else:
                approvers.append(eligible[key])
    if group.allow_author and author in eligible:
        approvers.append(eligible[author])  # authorship counts as this owner's approval
    approvers.sort(key=_cf)
    short = max(0, group.approvals - len(approvers))
    parts: list[str] = []
    if blockers:
        parts.append(f"changes requested by {_handles(sorted(blockers, key=_cf))}")
    if short:
        need = (
            f"{short} more approval{'s' if short != 1 else ''}"
            if approvers
            else (f"{short} approval{'s' if short != 1 else ''}")
        )
        parts.append(f"{need} from {' '.join(owners)}")
        if author in eligible and not set(eligible) - {author} and not group.allow_author:
            parts.append(f"the author @{pr.author} is the only owner and cannot approve")
    if parts:
        uncounted = [f"@{login} (approved an older commit)" for login in sorted(stale, key=_cf)]
        uncounted += [f"@{login} (not an owner)" for login in sorted(not_owners, key=_cf)]
        if uncounted:
            parts.append("not counted: " + ", ".join(uncounted))
        if unknown_teams:
            parts.append("members unknown: " + " ".join(unknown_teams))
        if emails:
            parts.append("email owners cannot be matched to reviewers: " + " ".join(emails))
    users: list[str] = []
    teams: list[str] = []
    if short:
        for handle in owners:
            if _is_user(handle):
                login = handle[1:]
                key = _cf(login)
                if key == author or key in ctx.reviewed or key in ctx.requested_users:
                    continue
                users.append(login)
            elif _is_team(handle) and handle in member_of:
                slug = handle.split("/", 1)[1]
                others = set(member_of[handle]) - {author}
                if not others or others & ctx.reviewed or _cf(slug) in ctx.requested_teams:
                    continue  # a team member reviewing answers GitHub's request for the team
                teams.append(slug)
    return replace(
        row,
        approved_by=tuple(approvers),
        missing="; ".join(parts),
        request_users=tuple(users),
        request_teams=tuple(teams),
    )


def _changed_paths(pr: PullRequest) -> list[str]:
    """Every path the PR touches: a renamed file counts under its old path and its new one."""
    paths: list[str] = []
    for changed in pr.files or ():
        paths.append(changed.filename)
        if changed.previous_filename and changed.previous_filename != changed.filename:
            paths.append(changed.previous_filename)
    return list(dict.fromkeys(paths))


def evaluate(
    policies: Policies, pr: PullRequest, codeowners: CodeownersFile | None, snapshot: Snapshot
) -> Verdict:
    """Decide the check's conclusion, title and summary for one PR."""
    policy = policies.ownership
    listed = len(pr.files or ())
    if pr.changed_files > MAX_LISTED_FILES or (
        listed >= MAX_LISTED_FILES and pr.changed_files != listed
    ):
        count = max(pr.changed_files, listed)
        summary = render(
            "ownership_summary.md.j2",
            too_large=True,
            changed_files=f"{count:,}",
            max_files=f"{MAX_LISTED_FILES:,}",
        )
        return Verdict("failure", f"Too many files to check ({count:,} > 3,000)", summary)
    paths = _changed_paths(pr)
    touched: dict[str, list[str]] = {}  # group name -> paths, in policy order
    groups = {g.name: g for g in policy.protected}
    for path in paths:
        for group in policy.groups_for(path):
            touched.setdefault(group.name, []).append(path)
    if not touched:
        summary = render(
            "ownership_summary.md.j2",
            too_large=False,
            rows=(),
            file_count=listed,
            protected=[p for g in policy.protected for p in g.paths],
        )
        return Verdict("success", "No protected path touched", summary)
    co, source = _codeowners(codeowners)
    ctx = _Context(
        policies=policies,
        pr=pr,
        team_members=snapshot.team_members,
        verdicts=latest_verdicts(pr.reviews or ()),
        reviewed={_cf(r.user) for r in pr.reviews or () if r.state != "PENDING"},
        requested_users={_cf(u) for u in pr.requested_reviewers}
        | {_cf(e.requested_reviewer) for e in pr.events or () if e.requested_reviewer},
        requested_teams={_cf(t) for t in pr.requested_teams}
        | {_cf(e.requested_team) for e in pr.events or () if e.requested_team},
        notes=set(),
    )
    rows: list[Row] = []
    file_lines: list[str] = []
    for name in (g.name for g in policy.protected if g.name in touched):
        by_owners: dict[tuple[str, ...], list[str]] = {}
        for path in touched[name]:
            rule = co.rule_for(path) if co is not None else None
            owners = rule.owners if rule is not None else ()
            by_owners.setdefault(owners, []).append(path)
            where = f"CODEOWNERS line {rule.line}" if rule is not None else "no CODEOWNERS rule"
            file_lines.append(f"`{path}`: {name}, {' '.join(owners) or 'no owner'} ({where})")
        for owners, files in by_owners.items():
            row = _evaluate_row(ctx, groups[name], tuple(files), owners)
            if co is None:
                row = replace(row, missing=f"CODEOWNERS of the base commit: {source}")
            rows.append(row)
    failing = [r for r in rows if not r.ok]
    names = list(dict.fromkeys(r.group for r in (failing or rows)))
    if not failing:
        conclusion: Conclusion = "success"
        title = f"Approved by owners: {', '.join(names)}"
    elif co is None:
        conclusion, title = "failure", "CODEOWNERS of the base branch is missing"
    elif any("changes requested" in r.missing for r in failing):
        conclusion, title = "failure", f"Changes requested by owners: {', '.join(names)}"
    else:
        conclusion, title = "failure", f"Owner approval needed: {', '.join(names)}"
    skipped = [f"line {e.line} ({e.kind})" for e in co.errors] if co is not None else []
    summary = render(
        "ownership_summary.md.j2",
        too_large=False,
        rows=[
            {
                "group": _md(f"{r.group} ({len(r.files)} file{'s' if len(r.files) != 1 else ''})"),
                "owners": _md(" ".join(r.owners) or "none"),
                "approved_by": _md(_handles(r.approved_by) or "none"),
                "missing": _md(r.missing or "nothing"),
            }
            for r in rows
        ],
        conclusion=conclusion,
        failing=len({r.group for r in failing}),
        groups=len({r.group for r in rows}),
        source=source,
        skipped=skipped,
        files=file_lines[:MAX_LISTED_IN_SUMMARY],
        more_files=max(0, len(file_lines) - MAX_LISTED_IN_SUMMARY),
        file_total=len(file_lines),
    )
    return Verdict(conclusion, title, summary, tuple(rows), tuple(sorted(ctx.notes)))


def _codeowners(file: CodeownersFile | None) -> tuple[Codeowners | None, str]:
    """Parse the base commit's CODEOWNERS; None with the reason when it is unusable."""
    if file is None:
        return None, "not read, so the check fails closed"
    short = file.ref[:7]
    if file.problem:
        return None, f"{file.problem} (at {short}), so the check fails closed"
    if file.path is None:
        return None, f"none at {short}: no path has an owner"
    return _parse_cached(file.text), f"`{file.path}` at `{short}`"


@lru_cache(maxsize=16)
def _parse_cached(text: str) -> Codeowners:
    return parse(text)


# --------------------------------------------------------------------------- rendering


def render(name: str, **context: object) -> str:
    """Render a shipped template."""
    return render_shipped(name, **context).strip() + "\n"


# --------------------------------------------------------------------------- planning


def _existing_run(snapshot: Snapshot, name: str, head_sha: str) -> int | None:
    """The id of the latest check run with this name on the head, if any."""
    runs = [c for c in snapshot.check_runs if c.name == name and c.head_sha == head_sha]
    return max((c.id for c in runs), default=None)


def plan_ownership(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """Report the owner-approval check on each open PR and ask missing owners to review."""
    policy = policies.ownership
    actions: list[Action] = []
    notes: list[str] = []
    for pr in sorted(snapshot.pulls, key=lambda p: p.number):
        if pr.state != "open" or not pr.head_sha or pr.reviews is None:
            continue
        if pr.files is None and pr.changed_files <= MAX_LISTED_FILES:
            continue  # files were not read: nothing to judge
        verdict = evaluate(policies, pr, snapshot.codeowners_at(pr.base_sha), snapshot)
        notes.extend(verdict.notes)
        run_id = _existing_run(snapshot, policy.check_name, pr.head_sha)
        current = next((c for c in snapshot.check_runs if c.id == run_id), None)
        if current is None or (
            current.status,
            current.conclusion,
            current.title,
            current.summary,
        ) != ("completed", verdict.conclusion, verdict.title, verdict.summary):
            actions.append(
                UpsertCheckRun(
                    reason=f"#{pr.number}: {verdict.title}",
                    name=policy.check_name,
                    head_sha=pr.head_sha,
                    conclusion=verdict.conclusion,
                    title=verdict.title,
                    summary=verdict.summary,
                    check_run_id=run_id,
                )
            )
        if not policy.request_reviews or pr.draft:
            continue  # GitHub, too, asks code owners only once a PR is ready for review
        users = tuple(dict.fromkeys(u for r in verdict.rows for u in r.request_users))
        teams = tuple(dict.fromkeys(t for r in verdict.rows for t in r.request_teams))
        if users or teams:
            groups = ", ".join(
                dict.fromkeys(r.group for r in verdict.rows if r.request_users or r.request_teams)
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

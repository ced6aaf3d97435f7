"""Pure ownership rules shared by the ownership collector and planner: grade a PR against
its base's CODEOWNERS and policies, and say which reads a grade still depends on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from automation.codeowners import Codeowners, parse_cached
from automation.rendering import render_shipped

if TYPE_CHECKING:
    from automation.policy.ownership import ProtectedPath
    from automation.policy.policies import Policies
    from automation.snapshot.models import (
        CodeownersFile,
        PolicyFiles,
        PullRequest,
        Review,
        Snapshot,
    )


# GitHub's "list pull request files" answers at most 3,000 files; past that a check cannot
# see every changed path, so it fails closed.
MAX_LISTED_FILES = 3000


# Check-run summaries take at most 65,535 characters; keep the per-file list well below.
MAX_LISTED_IN_SUMMARY = 100


TEAM_FIX = (
    "Give the check a token that can read the organisation's teams (a GitHub App with "
    "Members: read, or a token with read:org), or set `team_source: policy` in "
    "policies/ownership.yaml to trust the members listed in policies/owners.yaml."
)


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
    # Reads the verdict could still depend on ("events", "pushers"): see reads_needed.
    needs: frozenset[str] = frozenset()
    # Where team members came from, and why some could not be known (summary notes).
    membership: tuple[str, ...] = ()


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
    policies: Policies, snapshot: Snapshot, handle: str
) -> tuple[tuple[str, ...] | None, str]:
    """Members of an @org/team handle, and where they came from or why they are unknown.

    The source is "github" or "policy"; with members None it is the reason: a problem
    reading GitHub, or "" when they were not read because no one but the author reviewed.
    """
    key = _cf(handle.removeprefix("@"))
    if policies.ownership.team_source == "policy":
        for team in policies.owners.teams:
            if team.github and _cf(team.github) == key:
                return team.members, "policy"
        return None, "not a team of policies/owners.yaml"
    for name, members in snapshot.team_members.items():
        if _cf(name) == key:
            return members, "github"
    for name, problem in snapshot.team_problems.items():
        if _cf(name) == key:
            return None, f"could not be read from GitHub ({problem})"
    return None, ""


# Characters that would make Markdown (or the HTML GitHub allows in it) of a value.
_MD_ESCAPES = {ch: "\\" + ch for ch in "\\`*_{}[]|~"}


def md(text: str) -> str:
    """Show any value (path, title, login, owner) as literal text in Markdown, on one line."""
    out: list[str] = []
    for ch in text:
        if ch in _MD_ESCAPES:
            out.append(_MD_ESCAPES[ch])
        elif ch < " " or ch == "\x7f" or ch in "\u2028\u2029\x85":
            # A newline in a file name must not start a line of the bot's own text.
            out.append(repr(ch)[1:-1].replace("\\", "\\\\"))
        else:
            out.append(ch)
    return "".join(out)


def _md(text: str) -> str:
    """Escape a table cell."""
    return md(text)


def _handles(logins: Iterable[str]) -> str:
    return ", ".join(f"@{login}" for login in logins)


def _is_team(handle: str) -> bool:
    return handle.startswith("@") and "/" in handle


def _is_user(handle: str) -> bool:
    return handle.startswith("@") and "/" not in handle


@dataclass
class _Context:
    policies: Policies
    snapshot: Snapshot
    pr: PullRequest
    verdicts: dict[str, Review]
    reviewed: set[str]
    requested_users: set[str]
    requested_teams: set[str]
    notes: set[str]
    needs: set[str]
    membership: dict[str, str]  # team handle -> where its members came from, or why unknown


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
    unread_teams: list[str] = []
    emails: list[str] = []
    member_of: dict[str, list[str]] = {}  # team handle -> casefolded members
    for handle in owners:
        if _is_user(handle):
            eligible.setdefault(_cf(handle[1:]), handle[1:])
        elif _is_team(handle):
            members, source = team_members(ctx.policies, ctx.snapshot, handle)
            if members is None:
                if source:
                    unknown_teams.append(handle)
                    ctx.membership[handle] = source
                else:
                    unread_teams.append(handle)  # nobody but the author reviewed
                continue
            ctx.membership[handle] = source
            if source == "policy":
                ctx.notes.add(f"members of {handle} taken from policies/owners.yaml")
            member_of[handle] = [_cf(m) for m in members]
            for member in members:
                eligible.setdefault(_cf(member), member)
        else:
            emails.append(handle)  # an email cannot be matched to a reviewer's login
    last_push = ctx.policies.ownership.last_push_approval(group, ctx.policies)
    pushers = None if pr.head_pushers is None else {_cf(p) for p in pr.head_pushers}
    approvers: list[str] = []
    stale: list[str] = []
    pushed: list[str] = []
    unconfirmed: list[str] = []
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
            if (group.invalidate_on_push or last_push) and review.commit_id != pr.head_sha:
                stale.append(eligible[key])
            elif last_push and pushers is None:
                ctx.needs.add("pushers")
                unconfirmed.append(eligible[key])
            elif last_push and pushers is not None and key in pushers:
                pushed.append(eligible[key])  # GitHub: the last push needs someone else
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
        if last_push:
            parts.append("the latest push must be approved by someone who did not push it")
    if parts:
        uncounted = [f"@{login} (approved an older commit)" for login in sorted(stale, key=_cf)]
        uncounted += [f"@{login} (made the latest push)" for login in sorted(pushed, key=_cf)]
        uncounted += [
            f"@{login} (who pushed the latest commit is unknown)"
            for login in sorted(unconfirmed, key=_cf)
        ]
        uncounted += [f"@{login} (not an owner)" for login in sorted(not_owners, key=_cf)]
        if uncounted:
            parts.append("not counted: " + ", ".join(uncounted))
        if unknown_teams:
            parts.append(
                "members unknown: " + "; ".join(f"{h} {ctx.membership[h]}" for h in unknown_teams)
            )
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
            elif _is_team(handle) and (
                handle in member_of or handle in unread_teams or handle in unknown_teams
            ):
                slug = handle.split("/", 1)[1]
                if _cf(slug) in ctx.requested_teams:
                    continue
                if handle in member_of:
                    others = set(member_of[handle]) - {author}
                    if not others or others & ctx.reviewed:
                        continue  # a member's review answers GitHub's request for the team
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


def _membership_notes(policies: Policies, membership: Mapping[str, str]) -> list[str]:
    """Say where each team's members came from, and how to fix a team GitHub would not show."""
    notes: list[str] = []
    sources = {
        "github": "read from GitHub's teams API",
        "policy": "taken from policies/owners.yaml (team_source: policy), not from GitHub",
    }
    for handle in sorted(membership):
        how = membership[handle]
        notes.append(f"Members of {md(handle)}: {sources.get(how) or md(how)}.")
    if any(how.startswith("could not be read") for how in membership.values()):
        notes.append(
            "The check fails closed when GitHub will not show a team's members. " + TEAM_FIX
        )
    return notes


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
            protected=[md(p) for g in policy.protected for p in g.paths],
        )
        return Verdict("success", "No protected path touched", summary)
    co, source = _codeowners(codeowners)
    ctx = _Context(
        policies=policies,
        snapshot=snapshot,
        pr=pr,
        verdicts=latest_verdicts(pr.reviews or ()),
        reviewed={_cf(r.user) for r in pr.reviews or () if r.state != "PENDING"},
        requested_users={_cf(u) for u in pr.requested_reviewers}
        | {_cf(e.requested_reviewer) for e in pr.events or () if e.requested_reviewer},
        requested_teams={_cf(t) for t in pr.requested_teams}
        | {_cf(e.requested_team) for e in pr.events or () if e.requested_team},
        notes=set(),
        needs=set(),
        membership={},
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
            file_lines.append(
                f"{md(path)}: {md(name)}, {md(' '.join(owners) or 'no owner')} ({where})"
            )
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
    membership = _membership_notes(policies, ctx.membership)
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
        membership=membership,
        files=file_lines[:MAX_LISTED_IN_SUMMARY],
        more_files=max(0, len(file_lines) - MAX_LISTED_IN_SUMMARY),
        file_total=len(file_lines),
    )
    if any(r.request_users or r.request_teams for r in rows) and pr.events is None:
        ctx.needs.add("events")  # asking someone: first make sure they were never asked
    return Verdict(
        conclusion,
        title,
        summary,
        tuple(rows),
        tuple(sorted(ctx.notes)),
        frozenset(ctx.needs),
        tuple(membership),
    )


def _codeowners(file: CodeownersFile | None) -> tuple[Codeowners | None, str]:
    """Parse the base commit's CODEOWNERS; None with the reason when it is unusable."""
    if file is None:
        return None, "not read, so the check fails closed"
    short = file.ref[:7]
    if file.problem:
        return None, f"{md(file.problem)} (at {short}), so the check fails closed"
    if file.path is None:
        return None, f"none at {short}: no path has an owner"
    return parse_cached(file.text), f"{md(file.path)} at {md(short)}"


_LOADED: dict[tuple[str, tuple[tuple[str, str | None], ...]], Policies | str] = {}


def policies_from_files(files: PolicyFiles) -> Policies | str:
    """Load the policies read at a base commit, or say why they are unusable (pure)."""
    from automation.policy.loader import PolicyError, load_policies

    if files.problem is not None:
        return files.problem
    key = (files.ref, tuple(sorted(files.files.items())))
    if key not in _LOADED:
        if len(_LOADED) > 32:
            _LOADED.clear()  # a memo of a pure function: bounded, never stale
        try:
            _LOADED[key] = load_policies(
                files.files.get, prefix="policies", source=f"policies at {files.ref[:7]}"
            )
        except PolicyError as exc:
            _LOADED[key] = f"they are not valid: {exc.problems[0]}"
    return _LOADED[key]


def _pr_policies(policies: Policies, snapshot: Snapshot, pr: PullRequest) -> Policies | str:
    """The policies a PR is graded by: those read at its base, else the run's own."""
    files = snapshot.policies_at(pr.base_sha)
    return policies if files is None else policies_from_files(files)


def _unusable_policies(pr: PullRequest, why: str) -> Verdict:
    title = "Policies of the base branch are unusable"
    summary = (
        f"The policies at the base commit {pr.base_sha[:7]} of "
        f"{md(pr.base_ref)} could not be used: {md(why)}. The check fails closed.\n"
    )
    return Verdict("failure", title, summary)


def render(name: str, **context: object) -> str:
    """Render a shipped template."""
    return render_shipped(name, **context).strip() + "\n"


def _gradable(pr: PullRequest) -> bool:
    if pr.state != "open" or not pr.head_sha or pr.reviews is None:
        return False
    # Files not read (and not too many to list): nothing to judge.
    return pr.files is not None or pr.changed_files > MAX_LISTED_FILES


def _grade(policies: Policies, snapshot: Snapshot, pr: PullRequest) -> Verdict:
    own = _pr_policies(policies, snapshot, pr)
    if isinstance(own, str):
        return _unusable_policies(pr, own)
    return evaluate(own, pr, snapshot.codeowners_at(pr.base_sha), snapshot)


def _by_head(snapshot: Snapshot) -> dict[str, list[PullRequest]]:
    heads: dict[str, list[PullRequest]] = {}
    for pr in sorted(snapshot.pulls, key=lambda p: p.number):
        if _gradable(pr):
            heads.setdefault(pr.head_sha, []).append(pr)
    return heads


def reads_needed(policies: Policies, snapshot: Snapshot) -> dict[int, frozenset[str]]:
    """Per PR, the reads its plan still depends on ("events", "pushers"); pure."""
    needed: dict[int, frozenset[str]] = {}
    for prs in _by_head(snapshot).values():
        for pr in prs:
            verdict = _grade(policies, snapshot, pr)
            needs = set(verdict.needs)
            if not policies.ownership.request_reviews or pr.draft:
                needs.discard("events")
            if needs:
                needed[pr.number] = frozenset(needs)
    return needed

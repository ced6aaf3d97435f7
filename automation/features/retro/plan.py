"""The retrospective's plan (pure): one PR with the proposed policy edits and the
re-rendered operating model, found again by its branch and marker, updated in place.

The body carries a hash of the files it proposes, so a rerun over the same figures finds
the PR already saying so and writes nothing; new figures move the branch and update it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from automation.actions import AddLabels, CommitFiles, Plan, UpsertPullRequest
from automation.features.retro.propose import Finding, RetroReport, build_report
from automation.markers import marker
from automation.rules.retro import (
    DOCS_PATH,
    FEATURE,
    PR_MARKER,
    Period,
    due_period,
    is_retro_pull,
    tree_key,
)
from automation.snapshot.models import Snapshot

if TYPE_CHECKING:
    from automation.policy.policies import Policies


@dataclass(frozen=True)
class Proposal:
    """The edited files (path, text) and the validated policies they load into."""

    files: tuple[tuple[str, str], ...]
    problem: str | None = None


def edited_files(
    policies: Policies, snapshot: Snapshot, report: RetroReport, now: dt.datetime
) -> Proposal:
    """The policy files with the findings' edits made textually, checked by the loader, and
    the operating model rendered from them; a problem instead when they would not hold."""
    from automation.docs import render_operating_model, rendered_anchor, schedule_anchor
    from automation.policy.edit import EditError, apply_edits
    from automation.policy.loader import PolicyError, reload_with

    head = snapshot.branches.get(snapshot.default_branch, "")
    read = snapshot.policies_at(head)
    if read is None:
        return Proposal((), "the policy files were not read")
    texts: dict[str, str] = {}
    for edit in report.edits:
        path = f"policies/{edit.file}.yaml"
        current = texts.get(edit.file, read.files.get(path))
        if current is None:
            return Proposal((), f"{path} was not read")
        try:
            texts[edit.file] = apply_edits(current, [edit])
        except EditError as exc:
            return Proposal((), str(exc))
    if not texts:
        return Proposal(())
    try:
        updated = reload_with(policies, texts)
    except PolicyError as exc:
        return Proposal((), f"the edited policies would not validate: {exc.problems[0]}")
    docs = read.files.get(DOCS_PATH)
    anchor = rendered_anchor(docs or "") or schedule_anchor(now)
    at = dt.datetime.combine(anchor, dt.time(12), tzinfo=dt.UTC)
    files = [(f"policies/{name}.yaml", text) for name, text in sorted(texts.items())]
    files.append((DOCS_PATH, render_operating_model(updated, at)))
    return Proposal(tuple(files))


def _scalar(value: object) -> str:
    from automation.policy.edit import scalar_text

    return scalar_text(value)


def pr_body(period: Period, findings: list[Finding], files: tuple[tuple[str, str], ...]) -> str:
    """The PR's body: each edit with the figure behind it, and what was found without one."""
    from automation.rendering import render_document

    digest = hashlib.sha256(repr(files).encode()).hexdigest()[:16]
    return render_document(
        "retro_pr.md.j2",
        {
            "marker": PR_MARKER,
            "content_marker": marker(FEATURE, f"files-{digest}"),
            "period": period,
            "findings": [f for f in findings if f.edits],
            "advice": [f for f in findings if not f.edits],
            "text": _scalar,
        },
    )


def plan_period(
    policies: Policies, snapshot: Snapshot, period: Period, now: dt.datetime
) -> tuple[Plan, RetroReport]:
    """The report over `period` and the plan that opens or updates the retrospective's PR."""
    report = build_report(policies, snapshot, period)
    notes = [
        f"{period.label}: {len(report.findings)} finding(s), {len(report.edits)} policy edit(s)"
    ]
    if not report.edits:
        return Plan(FEATURE, (), tuple(notes)), report
    proposal = edited_files(policies, snapshot, report, now)
    if proposal.problem is not None:
        notes.append(f"no PR: {proposal.problem}")
        return Plan(FEATURE, (), tuple(notes)), report
    policy = policies.retro
    body = pr_body(period, report.findings, proposal.files)
    edited = sum(1 for f in report.findings if f.edits)
    title = f"Operating-model retrospective {period.label}: {edited} policy change(s)"
    existing = next(
        (p for p in snapshot.pulls if p.state == "open" and is_retro_pull(p, policy)), None
    )
    if existing is not None and existing.body == body and existing.title == title:
        notes.append(f"PR #{existing.number} already proposes these edits")
        missing = tuple(x for x in policy.labels if x not in existing.labels)
        if not missing:
            return Plan(FEATURE, (), tuple(notes)), report
        # Labelling is the last write of an opening: a run that stopped before it left the
        # PR unlabelled (the digest finds the PR by its label).
        label = AddLabels(
            reason="the retrospective PR lacks its labels", number=existing.number, labels=missing
        )
        return Plan(FEATURE, (label,), tuple(notes)), report
    head = snapshot.branches[snapshot.default_branch]
    commit = CommitFiles(
        reason=f"{edited} policy change(s) proposed for {period.label}",
        branch=policy.branch,
        parent=head,
        base_tree=snapshot.branches.get(tree_key(snapshot.default_branch), ""),
        message=f"Retrospective {period.label}: proposed policy changes\n\n"
        + "\n".join(f"- {f.policy}, {f.subject}: {f.advice}" for f in report.findings if f.edits),
        files=proposal.files,
        exists=existing is not None,
    )
    pull = UpsertPullRequest(
        reason="the retrospective's proposals changed"
        if existing is not None
        else "no retrospective PR open",
        head=policy.branch,
        base=snapshot.default_branch,
        title=title,
        body=body,
        labels=policy.labels,
        number=existing.number if existing is not None else None,
    )
    return Plan(FEATURE, (commit, pull), tuple(notes)), report


def plan_retro(policies: Policies, snapshot: Snapshot, now: dt.datetime) -> Plan:
    """The scheduled retrospective: over the last complete period, only while it is due."""
    period = due_period(policies.retro, now)
    if period is None:
        return Plan(FEATURE, (), ("not due: the last period's window has passed",))
    plan, _ = plan_period(policies, snapshot, period, now)
    return plan

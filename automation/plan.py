"""The closed set of actions, plans, simulate(), and rendering of plans and reports."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from automation.markers import MARKER_PREFIX as MARKER_PREFIX
from automation.markers import marker as marker
from automation.snapshot.models import (
    CheckRun,
    Comment,
    Issue,
    IssueEvent,
    PullRequest,
    Release,
    Snapshot,
)

# --- actions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """Base of every action: one write to GitHub, with a human reason."""

    reason: str

    @property
    def kind(self) -> str:
        """The action type's name."""
        return type(self).__name__

    def describe(self) -> str:
        """One line saying what the action does."""
        raise NotImplementedError


@dataclass(frozen=True)
class AddLabels(Action):
    """Add labels to an issue or PR (POST adds; it never removes a person's labels)."""

    number: int
    labels: tuple[str, ...]

    def describe(self) -> str:
        return f"#{self.number}: add labels {', '.join(self.labels)}"


@dataclass(frozen=True)
class RemoveLabel(Action):
    """Remove one label from an issue or PR."""

    number: int
    label: str

    def describe(self) -> str:
        return f"#{self.number}: remove label {self.label}"


@dataclass(frozen=True)
class EditIssue(Action):
    """Edit an issue in one request: labels (the whole set), assignees, state."""

    number: int
    labels: tuple[str, ...] | None = None
    assignees: tuple[str, ...] | None = None
    state: Literal["open", "closed"] | None = None
    state_reason: Literal["completed", "not_planned", "reopened"] | None = None

    def describe(self) -> str:
        parts = []
        if self.labels is not None:
            parts.append(f"labels = [{', '.join(self.labels)}]")
        if self.assignees is not None:
            parts.append(f"assignees = [{', '.join(self.assignees)}]")
        if self.state is not None:
            reason = f" ({self.state_reason})" if self.state_reason else ""
            parts.append(f"state = {self.state}{reason}")
        return f"#{self.number}: set {'; '.join(parts)}"


@dataclass(frozen=True)
class UpsertComment(Action):
    """Create or update the one comment carrying `marker` on an issue or PR."""

    number: int
    marker: str
    body: str
    comment_id: int | None = None

    def describe(self) -> str:
        verb = f"update comment {self.comment_id}" if self.comment_id else "comment"
        return f"#{self.number}: {verb} {self.marker.removeprefix(MARKER_PREFIX)[:-4]}"


@dataclass(frozen=True)
class UpsertIssue(Action):
    """Create or update the one issue carrying `marker` in its body."""

    marker: str
    title: str
    body: str
    labels: tuple[str, ...] = ()
    number: int | None = None

    def describe(self) -> str:
        target = f"#{self.number}" if self.number else "new issue"
        return f"{target}: write '{self.title}'"


@dataclass(frozen=True)
class UpsertCheckRun(Action):
    """Create or update the check run `name` on `head_sha`."""

    name: str
    head_sha: str
    conclusion: Literal["success", "failure", "neutral", "action_required"]
    title: str
    summary: str
    check_run_id: int | None = None
    # Kept on the run for the next run to read back (owner approval: who pushed the head).
    external_id: str | None = None

    def describe(self) -> str:
        return f"check '{self.name}' on {self.head_sha[:7]}: {self.conclusion} ({self.title})"


@dataclass(frozen=True)
class SetCommitStatus(Action):
    """Set a commit status (the fallback where check runs are not permitted)."""

    sha: str
    context: str
    state: Literal["success", "failure", "pending", "error"]
    description: str

    def describe(self) -> str:
        return f"status '{self.context}' on {self.sha[:7]}: {self.state}"


@dataclass(frozen=True)
class RequestReviewers(Action):
    """Ask people and teams to review a PR."""

    number: int
    reviewers: tuple[str, ...] = ()
    team_reviewers: tuple[str, ...] = ()

    def describe(self) -> str:
        who = [*self.reviewers, *(f"team {t}" for t in self.team_reviewers)]
        return f"#{self.number}: request review from {', '.join(who)}"


@dataclass(frozen=True)
class SetBranch(Action):
    """Create a branch at `sha`, or move an existing one there."""

    name: str
    sha: str
    exists: bool = False

    def describe(self) -> str:
        verb = "move" if self.exists else "create"
        return f"{verb} branch {self.name} at {self.sha[:7]}"


@dataclass(frozen=True)
class UpsertPullRequest(Action):
    """Open a PR from `head` into `base`, or update the open one."""

    head: str
    base: str
    title: str
    body: str
    labels: tuple[str, ...] = ()
    number: int | None = None
    # Review requests for a PR this action opens (its number is known only once it exists).
    reviewers: tuple[str, ...] = ()
    team_reviewers: tuple[str, ...] = ()

    def describe(self) -> str:
        target = (
            f"update PR #{self.number}" if self.number else f"open PR {self.head} -> {self.base}"
        )
        who = [*self.reviewers, *(f"team {t}" for t in self.team_reviewers)]
        asks = f", request review from {', '.join(who)}" if who else ""
        return f"{target}: '{self.title}'{asks}"


@dataclass(frozen=True)
class CreateRelease(Action):
    """Tag `target_sha` and publish a release."""

    tag: str
    target_sha: str
    name: str
    body: str

    def describe(self) -> str:
        return f"tag {self.tag} at {self.target_sha[:7]} and publish release '{self.name}'"


ACTION_TYPES: tuple[type[Action], ...] = (
    AddLabels,
    RemoveLabel,
    EditIssue,
    UpsertComment,
    UpsertIssue,
    UpsertCheckRun,
    SetCommitStatus,
    RequestReviewers,
    SetBranch,
    UpsertPullRequest,
    CreateRelease,
)


# --- plans ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Want:
    """A read a plan depends on: the events of issue `number` (who did what)."""

    kind: Literal["events"]
    number: int


@dataclass(frozen=True)
class Plan:
    """What one feature would change: an empty plan means converged."""

    feature: str
    actions: tuple[Action, ...] = ()
    notes: tuple[str, ...] = ()
    # Reads the planner needed but the snapshot lacked: the engine reads them and plans
    # again (data flows one way: a collector never runs a planner to decide its reads).
    wants: tuple[Want, ...] = field(default=(), compare=False)

    def __bool__(self) -> bool:
        return bool(self.actions)


Status = Literal["applied", "dry-run", "skipped", "failed"]


@dataclass(frozen=True)
class Outcome:
    """What happened to one action."""

    action: Action
    status: Status
    detail: str = ""


@dataclass
class Report:
    """The outcome of executing plans: one per action, plus notes."""

    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    stopped: str | None = None
    writes: int = 0
    # Features that could not be planned (their reads failed); the others ran.
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No action failed and every feature could be planned."""
        return not self.failed and not self.errors

    @property
    def failed(self) -> list[Outcome]:
        """Outcomes that failed."""
        return [o for o in self.outcomes if o.status == "failed"]

    def count(self, status: Status) -> int:
        """How many outcomes had this status."""
        return sum(1 for o in self.outcomes if o.status == status)


# --- simulate ------------------------------------------------------------------------------


def _touch(snapshot: Snapshot, number: int, edit: Callable[[Issue], Issue]) -> Snapshot:
    issues = tuple(edit(i) if i.number == number else i for i in snapshot.issues)
    pulls = tuple(edit(p) if p.number == number else p for p in snapshot.pulls)
    return snapshot.model_copy(update={"issues": issues, "pulls": pulls})


def _with_events(
    issue: Issue, kind: str, labels: Iterable[str], bot: str, now: dt.datetime
) -> tuple[IssueEvent, ...] | None:
    """The item's events with the label events GitHub records for a label change (when the
    events were read: a planner keying on when a label went on sees it as GitHub shows it)."""
    if issue.events is None:
        return None
    added = tuple(
        IssueEvent(event=kind, actor=bot, actor_is_bot=True, created_at=now, label=label)
        for label in labels
    )
    return (*issue.events, *added)


def _next_id(snapshot: Snapshot) -> int:
    ids = [c.id for i in (*snapshot.issues, *snapshot.pulls) for c in (i.comments or ())]
    ids += [c.id for c in snapshot.check_runs] + [r.id for r in snapshot.releases]
    return max(ids, default=1000) + 1


def _edit_events(issue: Issue, action: EditIssue, now: dt.datetime, bot: str) -> list[IssueEvent]:
    """The label and assignee events GitHub records for an issue edit by the bot."""
    events: list[IssueEvent] = []

    def record(kind: str, **what: str) -> None:
        events.append(IssueEvent(event=kind, actor=bot, actor_is_bot=True, created_at=now, **what))

    if action.labels is not None:
        for label in issue.labels:
            if label not in action.labels:
                record("unlabeled", label=label)
        for label in action.labels:
            if label not in issue.labels:
                record("labeled", label=label)
    if action.assignees is not None:
        for login in issue.assignees:
            if login not in action.assignees:
                record("unassigned", assignee=login)
        for login in action.assignees:
            if login not in issue.assignees:
                record("assigned", assignee=login)
    if action.state is not None and action.state != issue.state:
        record("closed" if action.state == "closed" else "reopened")
    return events


def simulate(snapshot: Snapshot, plan: Plan | Iterable[Action]) -> Snapshot:
    """Return the snapshot as it would be after the plan's actions succeed."""
    actions = plan.actions if isinstance(plan, Plan) else tuple(plan)
    for action in actions:
        snapshot = _simulate_one(snapshot, action)
    return snapshot


def _simulate_one(snapshot: Snapshot, action: Action) -> Snapshot:
    now = snapshot.taken_at
    bot = snapshot.bot_login
    if isinstance(action, AddLabels):
        return _touch(
            snapshot,
            action.number,
            lambda i: i.model_copy(
                update={
                    "labels": tuple(dict.fromkeys((*i.labels, *action.labels))),
                    "events": _with_events(
                        i, "labeled", [x for x in action.labels if x not in i.labels], bot, now
                    ),
                }
            ),
        )
    if isinstance(action, RemoveLabel):
        return _touch(
            snapshot,
            action.number,
            lambda i: i.model_copy(
                update={
                    "labels": tuple(x for x in i.labels if x != action.label),
                    "events": _with_events(
                        i, "unlabeled", [x for x in i.labels if x == action.label], bot, now
                    ),
                }
            ),
        )
    if isinstance(action, EditIssue):

        def edit(issue: Issue) -> Issue:
            update: dict[str, Any] = {}
            if action.labels is not None:
                update["labels"] = action.labels
            if action.assignees is not None:
                update["assignees"] = action.assignees
            if action.state is not None:
                update["state"] = action.state
                update["state_reason"] = action.state_reason
                update["closed_at"] = now if action.state == "closed" else None
            if issue.events is not None:
                # GitHub records who changed what; planners read it (people win).
                update["events"] = (*issue.events, *_edit_events(issue, action, now, bot))
            return issue.model_copy(update=update)

        return _touch(snapshot, action.number, edit)
    if isinstance(action, UpsertComment):
        new_id = _next_id(snapshot)

        def upsert(issue: Issue) -> Issue:
            comments = list(issue.comments or ())
            for index, comment in enumerate(comments):
                if action.marker in comment.body:
                    comments[index] = comment.model_copy(
                        update={"body": action.body, "updated_at": now}
                    )
                    break
            else:
                comments.append(
                    Comment(
                        id=new_id,
                        author=bot,
                        author_is_bot=True,
                        body=action.body,
                        created_at=now,
                        updated_at=now,
                    )
                )
            return issue.model_copy(
                update={"comments": tuple(comments), "comments_count": len(comments)}
            )

        return _touch(snapshot, action.number, upsert)
    if isinstance(action, UpsertIssue):
        if action.number is not None:
            return _touch(
                snapshot,
                action.number,
                lambda i: i.model_copy(update={"title": action.title, "body": action.body}),
            )
        number = max((i.number for i in (*snapshot.issues, *snapshot.pulls)), default=0) + 1
        issue = Issue(
            number=number,
            title=action.title,
            body=action.body,
            author=bot,
            author_is_bot=True,
            labels=action.labels,
            created_at=now,
            updated_at=now,
            comments=(),
            events=(),
        )
        return snapshot.model_copy(update={"issues": (*snapshot.issues, issue)})
    if isinstance(action, UpsertCheckRun):
        run = CheckRun(
            id=action.check_run_id or _next_id(snapshot),
            name=action.name,
            head_sha=action.head_sha,
            conclusion=action.conclusion,
            title=action.title,
            summary=action.summary,
            external_id=action.external_id,
            app_id=snapshot.own_app_id,
            app_slug=snapshot.own_app_slug,
        )
        # Only the run edited is replaced: another app's run of the same name stays.
        others = tuple(c for c in snapshot.check_runs if c.id != run.id)
        return snapshot.model_copy(update={"check_runs": (*others, run)})
    if isinstance(action, SetCommitStatus):
        return snapshot  # statuses are a fallback the planners never read back
    if isinstance(action, RequestReviewers):
        return _touch(
            snapshot,
            action.number,
            lambda p: p.model_copy(
                update={
                    "requested_reviewers": tuple(
                        dict.fromkeys((*getattr(p, "requested_reviewers", ()), *action.reviewers))
                    ),
                    "requested_teams": tuple(
                        dict.fromkeys((*getattr(p, "requested_teams", ()), *action.team_reviewers))
                    ),
                }
            ),
        )
    if isinstance(action, SetBranch):
        # An open PR from the branch follows it: its head is the branch's new tip.
        pulls = tuple(
            p.model_copy(update={"head_sha": action.sha})
            if p.head_ref == action.name and p.state == "open"
            else p
            for p in snapshot.pulls
        )
        return snapshot.model_copy(
            update={"branches": {**snapshot.branches, action.name: action.sha}, "pulls": pulls}
        )
    if isinstance(action, UpsertPullRequest):
        if action.number is not None:
            return _touch(
                snapshot,
                action.number,
                lambda p: p.model_copy(
                    update={
                        "title": action.title,
                        "body": action.body,
                        "labels": tuple(dict.fromkeys((*p.labels, *action.labels))),
                    }
                ),
            )
        number = max((i.number for i in (*snapshot.issues, *snapshot.pulls)), default=0) + 1
        pull = PullRequest(
            number=number,
            title=action.title,
            body=action.body,
            author=bot,
            author_is_bot=True,
            labels=action.labels,
            created_at=now,
            updated_at=now,
            head_ref=action.head,
            head_sha=snapshot.branches.get(action.head, ""),
            head_repo=snapshot.repo,
            base_ref=action.base,
            comments=(),
            reviews=(),
            files=(),
            requested_reviewers=action.reviewers,
            requested_teams=action.team_reviewers,
        )
        return snapshot.model_copy(update={"pulls": (*snapshot.pulls, pull)})
    if isinstance(action, CreateRelease):
        release = Release(
            id=_next_id(snapshot),
            tag=action.tag,
            name=action.name,
            target_sha=action.target_sha,
            published_at=now,
            body=action.body,
        )
        return snapshot.model_copy(update={"releases": (*snapshot.releases, release)})
    raise TypeError(f"simulate does not know {action.kind}")


# --- rendering -----------------------------------------------------------------------------


def _action_dict(action: Action) -> dict[str, Any]:
    # The action's own fields sit under `fields`: an action with a field named like an
    # envelope key (a check run's `summary`) must not overwrite the envelope.
    fields = dataclasses.asdict(action)
    return {
        "type": action.kind,
        "summary": action.describe(),
        "reason": fields.pop("reason", ""),
        "fields": fields,
    }


def render_text(plans: Sequence[Plan], report: Report | None = None) -> str:
    """Render plans (and, after execution, their outcomes) as plain text."""
    status_of = {id(o.action): o for o in report.outcomes} if report else {}
    lines: list[str] = []
    for plan in plans:
        count = len(plan.actions)
        lines.append(f"{plan.feature}: {count} action{'s' if count != 1 else ''}")
        for note in plan.notes:
            lines.append(f"  note: {note}")
        for action in plan.actions:
            outcome = status_of.get(id(action))
            status = f"[{outcome.status}] " if outcome else ""
            detail = f" ({outcome.detail})" if outcome and outcome.detail else ""
            lines.append(f"  - {status}{action.describe()}{detail}")
            lines.append(f"      why: {action.reason}")
    if report is not None:
        lines.extend(f"error: {error}" for error in report.errors)
        lines.append(_totals(report))
        if report.stopped:
            lines.append(f"stopped: {report.stopped}")
    return "\n".join(lines) + "\n"


def _totals(report: Report) -> str:
    return (
        f"applied {report.count('applied')}, dry-run {report.count('dry-run')}, "
        f"skipped {report.count('skipped')}, failed {report.count('failed')}"
    )


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(plans: Sequence[Plan], report: Report | None = None) -> str:
    """Render plans and outcomes as Markdown for $GITHUB_STEP_SUMMARY."""
    status_of = {id(o.action): o for o in report.outcomes} if report else {}
    out = ["## dataface-ops", ""]
    for plan in plans:
        out.append(f"### {plan.feature}")
        out.append("")
        for note in plan.notes:
            out.append(f"> {note}")
            out.append("")
        if not plan.actions:
            out.append("Nothing to change: converged.")
            out.append("")
            continue
        out.append("| action | why | outcome |")
        out.append("| --- | --- | --- |")
        for action in plan.actions:
            outcome = status_of.get(id(action))
            result: str = outcome.status if outcome else "planned"
            if outcome and outcome.detail:
                result += f": {outcome.detail}"
            out.append(
                f"| {_md_escape(action.describe())} | {_md_escape(action.reason)} "
                f"| {_md_escape(result)} |"
            )
        out.append("")
    if report is not None:
        for error in report.errors:
            out.append(f"> **Error**: {_md_escape(error)}")
            out.append("")
        out.append(f"**{_totals(report)}**")
        if report.stopped:
            out.append("")
            out.append(f"Stopped early: {report.stopped}")
        out.append("")
    return "\n".join(out)


def render_json(plans: Sequence[Plan], report: Report | None = None) -> str:
    """Render plans and outcomes as JSON."""
    status_of = {id(o.action): o for o in report.outcomes} if report else {}

    def default(value: object) -> str:
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    data: dict[str, Any] = {
        "plans": [
            {
                "feature": plan.feature,
                "notes": list(plan.notes),
                "actions": [
                    {
                        **_action_dict(a),
                        **(
                            {
                                "outcome": status_of[id(a)].status,
                                "detail": status_of[id(a)].detail,
                            }
                            if id(a) in status_of
                            else {}
                        ),
                    }
                    for a in plan.actions
                ],
            }
            for plan in plans
        ]
    }
    if report is not None:
        data["totals"] = {s: report.count(s) for s in ("applied", "dry-run", "skipped", "failed")}
        data["stopped"] = report.stopped
        data["errors"] = list(report.errors)
    return json.dumps(data, indent=2, default=default) + "\n"

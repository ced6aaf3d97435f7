"""The closed set of actions a planner may emit, the Plan they form, and the Report of
executing them. Actions are frozen dataclasses, each with a human `reason`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from automation.markers import MARKER_PREFIX

if TYPE_CHECKING:
    from automation.snapshot.models import Issue


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


def edit_to(issue: Issue, labels: list[str], assignees: list[str], reason: str) -> EditIssue | None:
    """One edit that gives the issue these labels and assignees, naming only what differs;
    None when both already are."""
    new_labels = labels != list(issue.labels)
    new_assignees = assignees != list(issue.assignees)
    if not (new_labels or new_assignees):
        return None
    return EditIssue(
        reason=reason,
        number=issue.number,
        labels=tuple(labels) if new_labels else None,
        assignees=tuple(assignees) if new_assignees else None,
    )


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
    # Set when the issue is created only (an update leaves who holds it to people).
    assignees: tuple[str, ...] = ()

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
class CommitFiles(Action):
    """Commit whole files on top of `parent` (whose tree is `base_tree`) as one commit, and
    point `branch` at it (created, or moved there when `exists`: the branch is ours)."""

    branch: str
    parent: str
    base_tree: str
    message: str
    files: tuple[tuple[str, str], ...]  # (path, full text)
    exists: bool = False

    def describe(self) -> str:
        paths = ", ".join(path for path, _ in self.files)
        return f"commit {paths} on {self.branch} (from {self.parent[:7]})"


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
    CommitFiles,
)


# --- plans ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Want:
    """A read a plan depends on: the events of issue `number` (who did what), or its
    reactions (an assignee's reaction acknowledges an incident)."""

    kind: Literal["events", "reactions"]
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
    # The feature's own write budget for one run (the stale sweep's `max_writes_per_run`,
    # lowered to what the rate limit allows) and where it comes from. The planner only
    # declares it: the executor is the one place that meters writes, this budget and
    # `--max-writes` alike, so a plan is always the whole diff.
    budget: int | None = None
    budget_source: str = ""

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
    # Writes metered against the budgets: made, or in a dry run that would be made.
    metered: int = 0
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

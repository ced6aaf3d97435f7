"""Snapshot models: frozen plain data, JSON round-trippable, no PyGithub.

`None` on a collection means "not read" (the collector skipped it to save requests);
an empty tuple means "read, and there was nothing".
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _utc(value: dt.datetime) -> dt.datetime:
    # GitHub's times are UTC. A hand-written snapshot may leave the offset out; planners
    # compare with aware times, and a naive one would raise TypeError mid-plan.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


Time = Annotated[dt.datetime, AfterValidator(_utc)]


class Frozen(BaseModel):
    """Base of snapshot models: immutable, and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Comment(Frozen):
    """An issue or PR conversation comment."""

    id: int
    author: str
    author_is_bot: bool = False
    body: str
    created_at: Time
    updated_at: Time


class IssueEvent(Frozen):
    """One entry of an issue's events: labeled, unlabeled, assigned, reopened, ..."""

    event: str
    actor: str
    actor_is_bot: bool = False
    created_at: Time
    label: str | None = None
    assignee: str | None = None
    # review_requested / review_request_removed: who was asked (a login or a team slug).
    requested_reviewer: str | None = None
    requested_team: str | None = None


class Reaction(Frozen):
    """A reaction to an issue (an emoji by a person, at a time)."""

    id: int
    user: str
    user_is_bot: bool = False
    content: str
    created_at: Time


class Issue(Frozen):
    """An issue (never a PR: those are PullRequest)."""

    number: int
    title: str
    body: str = ""
    state: Literal["open", "closed"] = "open"
    state_reason: str | None = None
    author: str
    author_is_bot: bool = False
    labels: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    milestone: str | None = None
    locked: bool = False
    pinned: bool = False
    created_at: Time
    updated_at: Time
    closed_at: Time | None = None
    html_url: str = ""
    comments_count: int = 0
    comments: tuple[Comment, ...] | None = None
    events: tuple[IssueEvent, ...] | None = None
    # The issue's reaction rollup count (None: the answer had none) and the reactions.
    reactions_count: int | None = None
    reactions: tuple[Reaction, ...] | None = None

    def marked_comment(self, tag: str) -> Comment | None:
        """The comment carrying a marker `tag` (a bot's first, then the oldest), if read.

        A person may quote our marker; the bot's own comment is the one to edit.
        """
        found = [c for c in self.comments or () if tag in c.body]
        found.sort(key=lambda c: (not c.author_is_bot, c.id))
        return found[0] if found else None


class ChangedFile(Frozen):
    """A file a PR changes; `previous_filename` is set for renames."""

    filename: str
    status: str = "modified"
    previous_filename: str | None = None


class Review(Frozen):
    """A submitted PR review."""

    id: int
    user: str
    state: Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]
    commit_id: str | None = None
    submitted_at: Time | None = None


class PullRequest(Issue):
    """A pull request, with what the PR features need."""

    draft: bool = False
    head_sha: str = ""
    head_ref: str = ""
    head_repo: str | None = None
    base_ref: str = "main"
    base_sha: str = ""
    merged: bool = False
    merged_at: Time | None = None
    merge_commit_sha: str | None = None
    changed_files: int = 0
    files: tuple[ChangedFile, ...] | None = None
    reviews: tuple[Review, ...] | None = None
    requested_reviewers: tuple[str, ...] = ()
    requested_teams: tuple[str, ...] = ()
    commits_pushed_at: Time | None = None
    # Logins that may have pushed the head commit (its author and committer); None: not read.
    head_pushers: tuple[str, ...] | None = None


class CheckRun(Frozen):
    """A check run on a commit."""

    id: int
    name: str
    head_sha: str
    status: str = "completed"
    conclusion: str | None = None
    title: str = ""
    summary: str = ""
    # The GitHub App that made the run: only our own app's runs are ours to trust or edit.
    app_id: int | None = None
    app_slug: str | None = None
    external_id: str | None = None


class Release(Frozen):
    """A published release and its tag."""

    id: int
    tag: str
    name: str = ""
    target_sha: str | None = None
    published_at: Time | None = None
    body: str = ""


class Comparison(Frozen):
    """What changed between two refs (the release train's view)."""

    base: str
    head: str
    head_sha: str = ""
    total_commits: int = 0
    commit_shas: tuple[str, ...] = ()
    html_url: str = ""
    # Every path the range changes (renames: both names); None when not read or cut at 300.
    files: tuple[str, ...] | None = None
    # The changelog path categories each in-range commit touches (commits listed by path);
    # None when not read. A commit in no listed category is absent.
    commit_categories: dict[str, tuple[str, ...]] | None = None


class CodeownersFile(Frozen):
    """The CODEOWNERS GitHub would use at `ref` (path None: there is none)."""

    ref: str
    path: str | None = None
    text: str = ""
    problem: str | None = None  # why it could not be read (the check then fails closed)


class PolicyFiles(Frozen):
    """The policy files as read at `ref` (a PR's base commit); None for a missing file."""

    ref: str
    files: dict[str, str | None] = Field(default_factory=dict)
    problem: str | None = None  # why they could not be read (the check then fails closed)


class DocumentState(Frozen):
    """A document on the default branch: its last change, and its last recorded review."""

    path: str
    exists: bool = True
    last_change: Time | None = None
    last_change_sha: str | None = None
    # The latest `Reviewed: YYYY-MM-DD` line; None when there is none or the text was not read.
    reviewed: dt.date | None = None
    text_read: bool = False


class Snapshot(Frozen):
    """Everything the planners may look at, read at `taken_at`."""

    repo: str
    default_branch: str = "main"
    taken_at: Time
    bot_login: str = "github-actions[bot]"
    issues: tuple[Issue, ...] = ()
    pulls: tuple[PullRequest, ...] = ()
    check_runs: tuple[CheckRun, ...] = ()
    releases: tuple[Release, ...] = ()
    branches: dict[str, str] = Field(default_factory=dict)
    comparison: Comparison | None = None
    team_members: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    collaborators: tuple[str, ...] | None = None
    # CODEOWNERS as read from the PRs' base commits (never their heads), one per base sha.
    codeowners: tuple[CodeownersFile, ...] = ()
    # Teams whose members GitHub would not show (handle -> why); the check fails closed.
    team_problems: dict[str, str] = Field(default_factory=dict)
    # Policies of PR bases other than the one the run was given (each PR is graded by its own).
    base_policies: tuple[PolicyFiles, ...] = ()
    # Our own app (id, or slug when the id is unknown): only its check runs are ours.
    own_app_id: int | None = None
    own_app_slug: str | None = None
    # The numbers an event named (None: a scheduled sweep read everything it needs).
    subjects: tuple[int, ...] | None = None
    # Documents kept up to date (documentation upkeep), as read on the default branch.
    documents: tuple[DocumentState, ...] = ()
    # Requests the rate limit still allowed once the snapshot was read (None: not read, or
    # no limit). Planners that write in bulk keep their writes within it.
    writes_left: int | None = None

    def policies_at(self, ref: str) -> PolicyFiles | None:
        """Return the policy files read at this commit, if they were read."""
        return next((p for p in self.base_policies if p.ref == ref), None)

    def codeowners_at(self, ref: str) -> CodeownersFile | None:
        """Return the CODEOWNERS read at this commit, if it was read."""
        return next((c for c in self.codeowners if c.ref == ref), None)

    def issue(self, number: int) -> Issue | None:
        """Return the issue or PR with this number."""
        for item in (*self.issues, *self.pulls):
            if item.number == number:
                return item
        return None

    def pull(self, number: int) -> PullRequest | None:
        """Return the PR with this number."""
        return next((p for p in self.pulls if p.number == number), None)

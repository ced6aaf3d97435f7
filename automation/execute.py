"""Every write to GitHub: one small function per action type, a budget, and dry-run."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Literal, TypeVar
from urllib.parse import quote

from automation.actions import (
    Action,
    AddLabels,
    CreateRelease,
    EditIssue,
    Outcome,
    Plan,
    RemoveLabel,
    Report,
    RequestReviewers,
    SetBranch,
    SetCommitStatus,
    UpsertCheckRun,
    UpsertComment,
    UpsertIssue,
    UpsertPullRequest,
)
from automation.github import (
    FAILURES,
    NO_ANSWER,
    BadCredentialsException,
    GithubException,
    NotSet,
    NotSetType,
    RateLimitExceededException,
    Repository,
    RequestException,
    request_json,
)
from automation.logs import log_context

log = logging.getLogger("dataface_ops.execute")

T = TypeVar("T")

# How far GitHub's clock may be from ours when looking for what an attempt created.
CLOCK_SKEW = dt.timedelta(minutes=10)


class StopRun(Exception):
    """Bad credentials or an exhausted rate limit: nothing further can succeed."""


def _ambiguous(exc: Exception) -> bool:
    """A failure after which the write may or may not have been applied."""
    if isinstance(exc, GithubException):
        return exc.status >= 500
    return isinstance(exc, NO_ANSWER)


def _create_once(create: Callable[[], T], find: Callable[[], T | None]) -> tuple[T, str]:
    """POST once; after an ambiguous failure, look for the result by identity before resending."""
    try:
        return create(), ""
    except FAILURES as exc:
        if not _ambiguous(exc):
            raise
        found = find()
        if found is not None:
            return found, "found by identity after an ambiguous failure"
        return create(), "resent after an ambiguous failure"


def apply_add_labels(repo: Repository, action: AddLabels, started: dt.datetime) -> str:
    """POST /repos/{owner}/{repo}/issues/{issue_number}/labels (adds; idempotent)."""
    repo.get_issue(action.number).add_to_labels(*action.labels)
    return ""


def apply_remove_label(repo: Repository, action: RemoveLabel, started: dt.datetime) -> str:
    """DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}."""
    try:
        repo.get_issue(action.number).remove_from_labels(action.label)
    except GithubException as exc:
        if exc.status == 404:  # already gone: the goal is reached
            return "label was already gone"
        raise
    return ""


def apply_edit_issue(repo: Repository, action: EditIssue, started: dt.datetime) -> str:
    """PATCH /repos/{owner}/{repo}/issues/{issue_number} (labels replace the whole set)."""
    kwargs: dict[str, object] = {}
    if action.labels is not None:
        kwargs["labels"] = list(action.labels)
    if action.assignees is not None:
        kwargs["assignees"] = list(action.assignees)
    if action.state is not None:
        kwargs["state"] = action.state
    if action.state_reason is not None:
        kwargs["state_reason"] = action.state_reason
    repo.get_issue(action.number).edit(**kwargs)  # type: ignore[arg-type]
    return ""


def _find_comment_id(repo: Repository, number: int, marker: str, cutoff: dt.datetime) -> int | None:
    """GET .../issues/{issue_number}/comments?since=: a comment with the marker made since
    `cutoff`. An older one with the same marker (an earlier warning cycle's, issue 18) is
    not the one the attempt made."""
    for comment in repo.get_issue(number).get_comments(since=cutoff):
        if marker in (comment.body or "") and comment.created_at >= cutoff:
            return int(comment.id)
    return None


def apply_upsert_comment(repo: Repository, action: UpsertComment, started: dt.datetime) -> str:
    """PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}, or POST .../comments."""
    issue = repo.get_issue(action.number)
    if action.comment_id is not None:
        issue.get_comment(action.comment_id).edit(action.body)
        return ""
    cutoff = started - CLOCK_SKEW
    _, note = _create_once(
        lambda: int(issue.create_comment(action.body).id),
        lambda: _find_comment_id(repo, action.number, action.marker, cutoff),
    )
    return note


def apply_upsert_issue(repo: Repository, action: UpsertIssue, started: dt.datetime) -> str:
    """PATCH /repos/{owner}/{repo}/issues/{issue_number}, or POST /repos/{owner}/{repo}/issues."""
    if action.number is not None:
        repo.get_issue(action.number).edit(title=action.title, body=action.body)
        return ""

    # Only an issue created since this attempt can be the one it made. Not a label filter:
    # GitHub drops the labels of a new issue silently when the token may not set them, and
    # an older issue with the same marker (a closed on-call issue) is not the one it made.
    cutoff = started - CLOCK_SKEW

    def find() -> int | None:
        listed = repo.get_issues(state="all", sort="created", direction="desc", since=cutoff)
        for issue in listed:
            if issue.created_at < cutoff:
                break
            if action.marker in (issue.body or ""):
                return int(issue.number)
        return None

    _, note = _create_once(
        lambda: int(
            repo.create_issue(
                title=action.title,
                body=action.body,
                labels=list(action.labels),
                # NotSet when empty: the request stays what it was before assignees existed.
                assignees=list(action.assignees) if action.assignees else NotSet,
            ).number
        ),
        find,
    )
    return note


def apply_upsert_check_run(repo: Repository, action: UpsertCheckRun, started: dt.datetime) -> str:
    """PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}, or POST .../check-runs.

    A personal token cannot create check runs (403); fall back to a commit status.
    """
    output: dict[str, str | list[dict[str, str | int]]] = {
        "title": action.title,
        "summary": action.summary[:65535],
    }
    replaced = ""
    # NotSet leaves the field out of the request body (PyGithub's marker for "not given").
    external_id: str | NotSetType = NotSet if action.external_id is None else action.external_id
    if action.check_run_id is not None:
        try:
            repo.get_check_run(action.check_run_id).edit(
                status="completed",
                conclusion=action.conclusion,
                output=output,
                external_id=external_id,
            )
            return ""
        except GithubException as exc:
            # A run of the same name made by another app (say GITHUB_TOKEN's, before the
            # project moved to a GitHub App) cannot be edited: GitHub answers 403. Create our
            # own; the planner takes the newest run of the name next time.
            if exc.status != 403 or isinstance(exc, RateLimitExceededException):
                raise
            replaced = "the existing run belongs to another app: created our own; "

    def find() -> int | None:
        from automation.github import own_app
        from automation.snapshot.collect import raw

        # Only a run of our own app is the one we created: anyone with checks: write can
        # post a run of the same name.
        own_id, own_slug = own_app(repo)
        for run in repo.get_commit(action.head_sha).get_check_runs(check_name=action.name):
            app = raw(run).get("app") or {}  # the listed JSON: no GET per run
            if (app.get("id") == own_id) if own_id is not None else app.get("slug") == own_slug:
                return int(run.id)
        return None

    try:
        _, note = _create_once(
            lambda: int(
                repo.create_check_run(
                    name=action.name,
                    head_sha=action.head_sha,
                    status="completed",
                    conclusion=action.conclusion,
                    output=output,
                    external_id=external_id,
                ).id
            ),
            find,
        )
    except GithubException as exc:
        if exc.status != 403 or isinstance(exc, RateLimitExceededException):
            raise
        log.warning("check runs not permitted for this token; falling back to a commit status")
        state: Literal["success", "failure"] = (
            "success" if action.conclusion in ("success", "neutral") else "failure"
        )
        if _status_says(repo, action.head_sha, action.name, state, action.title[:140]):
            # Every run lands here again (it cannot see a status as a check run): posting the
            # same status again would add one more entry each run, up to GitHub's cap.
            return "check runs not permitted; the commit status already says so"
        apply_set_commit_status(
            repo,
            SetCommitStatus(
                reason=action.reason,
                sha=action.head_sha,
                context=action.name,
                state=state,
                description=action.title,
            ),
            started,
        )
        return "check runs not permitted: set a commit status instead"
    return (replaced + note).rstrip("; ")


def _status_says(repo: Repository, sha: str, context: str, state: str, description: str) -> bool:
    """GET /repos/{owner}/{repo}/commits/{ref}/statuses (first page, newest first).

    Whether the latest status of `context` already has this state and description.
    """
    # Not Commit.get_statuses(): it reads GET .../statuses/{sha}, an undocumented alias.
    data = request_json(
        repo, "GET", f"{repo.url}/commits/{quote(sha)}/statuses", parameters={"per_page": 100}
    )
    for status in data if isinstance(data, list) else ():
        if isinstance(status, dict) and status.get("context") == context:
            return status.get("state") == state and (status.get("description") or "") == description
    return False


def apply_set_commit_status(repo: Repository, action: SetCommitStatus, started: dt.datetime) -> str:
    """POST /repos/{owner}/{repo}/statuses/{sha} (the latest status per context wins)."""
    repo.get_commit(action.sha).create_status(
        state=action.state, description=action.description[:140], context=action.context
    )
    return ""


def apply_request_reviewers(
    repo: Repository, action: RequestReviewers, started: dt.datetime
) -> str:
    """POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers."""
    repo.get_pull(action.number).create_review_request(
        reviewers=list(action.reviewers), team_reviewers=list(action.team_reviewers)
    )
    return ""


def _move_branch(repo: Repository, name: str, sha: str, *, force: bool = True) -> None:
    # Not repo.get_git_ref(...).edit(): a lazy GitRef keeps the URL of GET .../git/ref/{ref}
    # (singular) and edit() would PATCH that, which GitHub does not serve. The update
    # endpoint is PATCH /repos/{owner}/{repo}/git/refs/{ref}.
    request_json(
        repo,
        "PATCH",
        f"{repo.url}/git/refs/heads/{quote(name)}",
        input={"sha": sha, "force": force},
    )


def apply_set_branch(repo: Repository, action: SetBranch, started: dt.datetime) -> str:
    """POST /repos/{owner}/{repo}/git/refs, or PATCH .../git/refs/heads/{branch}."""
    if action.exists:
        _move_branch(repo, action.name, action.sha)
        return ""
    try:
        repo.create_git_ref(f"refs/heads/{action.name}", action.sha)
    except GithubException as exc:
        if exc.status != 422:  # 422: the branch exists already (a retried or raced create)
            raise
        # The plan did not know this branch: only a fast-forward, so that commits someone
        # pushed to it (an open PR's fixes) are never thrown away; otherwise GitHub answers
        # 422 and the action is reported as failed.
        _move_branch(repo, action.name, action.sha, force=False)
        return "branch existed: moved it"
    return ""


def apply_upsert_pull_request(
    repo: Repository, action: UpsertPullRequest, started: dt.datetime
) -> str:
    """PATCH /repos/{owner}/{repo}/pulls/{pull_number}, or POST /repos/{owner}/{repo}/pulls."""
    if action.number is not None:
        repo.get_pull(action.number).edit(title=action.title, body=action.body)
        number = action.number
        note = ""
    else:

        def find() -> int | None:
            owner = repo.full_name.split("/")[0]
            head = f"{owner}:{action.head}"
            for pull in repo.get_pulls(state="open", head=head, base=action.base):
                return int(pull.number)
            return None

        try:
            number, note = _create_once(
                lambda: int(
                    repo.create_pull(
                        base=action.base, head=action.head, title=action.title, body=action.body
                    ).number
                ),
                find,
            )
        except GithubException as exc:
            # 422 "A pull request already exists for owner:branch": one is open for this head
            # (a concurrent run, or one the snapshot did not list). Never a second one; the
            # next run finds it and updates it in place, keeping what people wrote in it.
            existing = find() if exc.status == 422 else None
            if existing is None:
                raise
            number, note = existing, f"PR #{existing} for {action.head} was already open"
    if action.labels:
        repo.get_issue(number).add_to_labels(*action.labels)
    if action.reviewers or action.team_reviewers:
        repo.get_pull(number).create_review_request(
            reviewers=list(action.reviewers), team_reviewers=list(action.team_reviewers)
        )
    return note or f"PR #{number}"


def apply_create_release(repo: Repository, action: CreateRelease, started: dt.datetime) -> str:
    """POST /repos/{owner}/{repo}/releases (creates the tag at target_sha too)."""

    def find() -> int | None:
        try:
            return int(repo.get_release(action.tag).id)
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise

    _, note = _create_once(
        lambda: int(
            repo.create_git_release(
                tag=action.tag,
                name=action.name,
                message=action.body,
                target_commitish=action.target_sha,
            ).id
        ),
        find,
    )
    return note


# Each applier gets when the run began: a lookup after an ambiguous POST accepts only what
# was created since then (minus CLOCK_SKEW), never an earlier cycle's comment or issue.
APPLIERS: dict[type[Action], Callable[[Repository, Action, dt.datetime], str]] = {
    AddLabels: apply_add_labels,  # type: ignore[dict-item]
    RemoveLabel: apply_remove_label,  # type: ignore[dict-item]
    EditIssue: apply_edit_issue,  # type: ignore[dict-item]
    UpsertComment: apply_upsert_comment,  # type: ignore[dict-item]
    UpsertIssue: apply_upsert_issue,  # type: ignore[dict-item]
    UpsertCheckRun: apply_upsert_check_run,  # type: ignore[dict-item]
    SetCommitStatus: apply_set_commit_status,  # type: ignore[dict-item]
    RequestReviewers: apply_request_reviewers,  # type: ignore[dict-item]
    SetBranch: apply_set_branch,  # type: ignore[dict-item]
    UpsertPullRequest: apply_upsert_pull_request,  # type: ignore[dict-item]
    CreateRelease: apply_create_release,  # type: ignore[dict-item]
}


def _error_text(exc: Exception) -> str:
    from automation.github import failure_text

    return failure_text(exc)


def execute(
    plans: Sequence[Plan],
    repo: Repository | None,
    *,
    dry_run: bool = False,
    max_writes: int | None = None,
    started: dt.datetime | None = None,
) -> Report:
    """Apply the plans' actions in order; report an outcome for every action.

    `started` is when the run began (the planners' `now`); the wall clock when not given.
    """
    report = Report(plans=list(plans))
    began = started or dt.datetime.now(dt.UTC)
    for plan in plans:
        report.notes.extend(f"{plan.feature}: {note}" for note in plan.notes)
        with log_context(feature=plan.feature):
            _execute_plan(plan, repo, report, dry_run=dry_run, max_writes=max_writes, began=began)
    return report


def _github_failed(exc: Exception) -> bool:
    """GitHub or the network failed (a 5xx after the retries, a dropped connection, a timeout):
    unlike a refusal (a 4xx), the next run may well succeed."""
    if isinstance(exc, GithubException):
        return exc.status >= 500
    return isinstance(exc, RequestException)


def _subject(action: Action) -> int | None:
    number = getattr(action, "number", None)
    return number if isinstance(number, int) else None


def _execute_plan(
    plan: Plan,
    repo: Repository | None,
    report: Report,
    *,
    dry_run: bool,
    max_writes: int | None,
    began: dt.datetime,
) -> None:
    # A plan orders the writes to one issue or PR so that the one the next run keys on comes
    # last (the comment after the label, the close after the comment). When GitHub fails one
    # of them, the later ones wait for the next run, which plans them again from the state;
    # a refusal (a locked issue's comment) holds nothing back. Other subjects go on.
    held: dict[int, str] = {}
    for action in plan.actions:
        if report.stopped:
            report.outcomes.append(Outcome(action, "skipped", report.stopped))
            continue
        subject = _subject(action)
        if subject is not None and subject in held:
            report.outcomes.append(Outcome(action, "skipped", held[subject]))
            continue
        if dry_run:
            log.info("[dry-run] %s", action.describe())
            report.outcomes.append(Outcome(action, "dry-run"))
            continue
        if max_writes is not None and report.writes >= max_writes:
            report.outcomes.append(
                Outcome(action, "skipped", f"write budget of {max_writes} reached")
            )
            continue
        if repo is None:
            raise ValueError("a repository is needed to apply actions")
        report.writes += 1
        try:
            detail = APPLIERS[type(action)](repo, action, began)
        except BadCredentialsException:
            report.stopped = "GitHub rejected the credentials"
            report.outcomes.append(Outcome(action, "failed", report.stopped))
            continue
        except RateLimitExceededException:
            report.stopped = "rate limit exhausted; the next run resumes where this one stopped"
            report.outcomes.append(Outcome(action, "failed", report.stopped))
            continue
        except FAILURES as exc:
            detail = _error_text(exc)
            if _github_failed(exc):
                detail += "; the next run resumes"
                if subject is not None:
                    held[subject] = f"an earlier write to #{subject} failed; the next run resumes"
            log.error("failed: %s: %s", action.describe(), detail)
            report.outcomes.append(Outcome(action, "failed", detail))
            continue
        log.info("applied %s", action.describe())
        report.outcomes.append(Outcome(action, "applied", detail))

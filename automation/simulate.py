"""simulate(): what a snapshot would look like once a plan's actions were applied (pure).

It is how idempotence is tested: plan -> simulate -> plan must be empty."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from automation.actions import (
    Action,
    AddLabels,
    CommitFiles,
    CreateRelease,
    EditIssue,
    Plan,
    RemoveLabel,
    RequestReviewers,
    SetBranch,
    SetCommitStatus,
    UpsertCheckRun,
    UpsertComment,
    UpsertIssue,
    UpsertPullRequest,
)
from automation.snapshot.models import (
    CheckRun,
    Comment,
    Issue,
    IssueEvent,
    PullRequest,
    Release,
    Snapshot,
)


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


def _simulate_add_labels(snapshot: Snapshot, action: AddLabels) -> Snapshot:
    now = snapshot.taken_at
    bot = snapshot.bot_login
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


def _simulate_remove_label(snapshot: Snapshot, action: RemoveLabel) -> Snapshot:
    now = snapshot.taken_at
    bot = snapshot.bot_login
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


def _simulate_edit_issue(snapshot: Snapshot, action: EditIssue) -> Snapshot:
    now = snapshot.taken_at
    bot = snapshot.bot_login

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


def _simulate_upsert_comment(snapshot: Snapshot, action: UpsertComment) -> Snapshot:
    now = snapshot.taken_at
    bot = snapshot.bot_login
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


def _simulate_upsert_issue(snapshot: Snapshot, action: UpsertIssue) -> Snapshot:
    now = snapshot.taken_at
    bot = snapshot.bot_login
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
        assignees=action.assignees,
        created_at=now,
        updated_at=now,
        comments=(),
        events=(),
    )
    return snapshot.model_copy(update={"issues": (*snapshot.issues, issue)})


def _simulate_upsert_check_run(snapshot: Snapshot, action: UpsertCheckRun) -> Snapshot:
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


def _simulate_set_commit_status(snapshot: Snapshot, action: SetCommitStatus) -> Snapshot:
    return snapshot  # statuses are a fallback the planners never read back


def _review_requested(
    snapshot: Snapshot, reviewer: str | None = None, team: str | None = None
) -> IssueEvent:
    """The bot's review_requested event, now, for a reviewer or a team."""
    return IssueEvent(
        event="review_requested",
        actor=snapshot.bot_login,
        actor_is_bot=True,
        created_at=snapshot.taken_at,
        requested_reviewer=reviewer,
        requested_team=team,
    )


def _simulate_request_reviewers(snapshot: Snapshot, action: RequestReviewers) -> Snapshot:
    # GitHub records a review_requested event per reviewer: a wait counts from it.
    asked = [_review_requested(snapshot, reviewer=login) for login in action.reviewers]
    asked += [_review_requested(snapshot, team=slug) for slug in action.team_reviewers]
    return _touch(
        snapshot,
        action.number,
        lambda p: p.model_copy(
            update={
                "events": None if p.events is None else (*p.events, *asked),
                "requested_reviewers": tuple(
                    dict.fromkeys((*getattr(p, "requested_reviewers", ()), *action.reviewers))
                ),
                "requested_teams": tuple(
                    dict.fromkeys((*getattr(p, "requested_teams", ()), *action.team_reviewers))
                ),
            }
        ),
    )


def _simulate_set_branch(snapshot: Snapshot, action: SetBranch) -> Snapshot:
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


def _simulate_upsert_pull_request(snapshot: Snapshot, action: UpsertPullRequest) -> Snapshot:
    now = snapshot.taken_at
    bot = snapshot.bot_login
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


def _simulate_create_release(snapshot: Snapshot, action: CreateRelease) -> Snapshot:
    now = snapshot.taken_at
    release = Release(
        id=_next_id(snapshot),
        tag=action.tag,
        name=action.name,
        target_sha=action.target_sha,
        published_at=now,
        body=action.body,
    )
    return snapshot.model_copy(update={"releases": (*snapshot.releases, release)})


def _simulate_commit_files(snapshot: Snapshot, action: CommitFiles) -> Snapshot:
    import hashlib

    # A stand-in commit id: the same files on the same parent give the same one.
    digest = hashlib.sha1(repr((action.parent, action.files)).encode()).hexdigest()
    return _simulate_set_branch(snapshot, SetBranch(action.reason, action.branch, digest, True))


# One function per action type; simulate() fails loudly on a type it does not know.
_SIMULATORS: dict[type[Action], Callable[[Snapshot, Any], Snapshot]] = {
    AddLabels: _simulate_add_labels,
    RemoveLabel: _simulate_remove_label,
    EditIssue: _simulate_edit_issue,
    UpsertComment: _simulate_upsert_comment,
    UpsertIssue: _simulate_upsert_issue,
    UpsertCheckRun: _simulate_upsert_check_run,
    SetCommitStatus: _simulate_set_commit_status,
    RequestReviewers: _simulate_request_reviewers,
    SetBranch: _simulate_set_branch,
    UpsertPullRequest: _simulate_upsert_pull_request,
    CreateRelease: _simulate_create_release,
    CommitFiles: _simulate_commit_files,
}


def _simulate_one(snapshot: Snapshot, action: Action) -> Snapshot:
    step = _SIMULATORS.get(type(action))
    if step is None:
        raise TypeError(f"simulate does not know {action.kind}")
    return step(snapshot, action)

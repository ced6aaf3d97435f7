"""Read what the retrospective needs over a period, with few requests.

Requests for one run (n = items, 100 per page):
- GET /repos/{o}/{r}/issues?state=all&since=SINCE: every issue and PR touched since the
  period began (`since` filters on updated_at); ceil(n / 100) pages. PRs in it carry
  `pull_request.merged_at`, so the trains need no pulls call.
- GET /repos/{o}/{r}/issues/{n}/timeline for each item whose figure needs its history
  (`rules.retro.needs_history`): labels, assignments, comments, closes, reopens, review
  requests, reviews and comments in one paged answer (the review loop's and the incidents'
  rules read the reviews and comments from it).
- GET /repos/{o}/{r}/issues/{n}/reactions for an incident with reactions (an assignee's
  reaction acknowledges it).
- POST /graphql for the changed paths of 50 PRs at a time, those opened in the period that
  a person reviewed (`rules.retro.needs_files`): the paths give the areas, as in the review
  loop (GET .../pulls/{n}/files only for a PR of more than 100 files).
With the PR (`files=True`): GET /repos/{o}/{r} (default branch), GET .../branches/{default}
(its head commit and tree), GET .../contents/{path}?ref= for each policy file a proposal may
edit and docs/OPERATING_MODEL.md, GET .../pulls?state=open&head=OWNER:BRANCH (its PR).
The search API is never used (it lags behind writes and allows 30 requests a minute).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from automation.github import (
    GithubException,
    UnknownObjectException,
    graphql,
    repository_name,
    request_json,
)
from automation.rules.incidents import is_incident
from automation.rules.retro import (
    DOCS_PATH,
    EDITABLE,
    Period,
    due_period,
    needs_files,
    needs_history,
    tree_key,
)
from automation.snapshot.collect import (
    Json,
    SnapshotError,
    comment_from_json,
    file_from_json,
    is_pull_request,
    issue_from_json,
    parse_time,
    pull_from_json,
    raw,
    raws,
    reaction_from_json,
    review_from_json,
)
from automation.snapshot.models import (
    ChangedFile,
    Comment,
    Issue,
    IssueEvent,
    PolicyFiles,
    PullRequest,
    Reaction,
    Review,
    Snapshot,
)

if TYPE_CHECKING:
    from automation.github import Repository
    from automation.policy.policies import Policies


def _login(user: Any) -> tuple[str, bool]:
    if not isinstance(user, dict):
        return "ghost", False
    login = str(user.get("login") or "ghost")
    return login, user.get("type") == "Bot" or login.endswith("[bot]")


def timeline_event(data: Any) -> IssueEvent | None:
    """One timeline entry as an IssueEvent: who did what when (None: not one we read)."""
    if not isinstance(data, dict):
        raise SnapshotError("a timeline entry is not an object")
    kind = str(data.get("event") or "")
    if kind == "reviewed":
        # A review names its author under `user` and its time under `submitted_at`.
        actor, bot = _login(data.get("user"))
        when = data.get("submitted_at")
    elif kind == "commented":
        actor, bot = _login(data.get("user") or data.get("actor"))
        when = data.get("created_at")
    else:
        actor, bot = _login(data.get("actor"))
        when = data.get("created_at")
    if when is None:
        return None  # a pending review, a cross-reference without a time: nothing to count
    label = data.get("label")
    assignee = data.get("assignee")
    reviewer = data.get("requested_reviewer")
    team = data.get("requested_team")
    return IssueEvent(
        event=kind,
        actor=actor,
        actor_is_bot=bot,
        created_at=parse_time(when),
        label=str(label.get("name")) if isinstance(label, dict) else None,
        assignee=_login(assignee)[0] if isinstance(assignee, dict) else None,
        requested_reviewer=_login(reviewer)[0] if isinstance(reviewer, dict) else None,
        requested_team=str(team.get("slug")) if isinstance(team, dict) else None,
    )


_REVIEW_STATES = {"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"}


def review_entry(data: Json) -> Review | None:
    """A timeline `reviewed` entry (a PR-review object whose state is in lower case) as a
    submitted Review; None for a pending one or a state GitHub may add later."""
    state = str(data.get("state") or "").upper()
    if state not in _REVIEW_STATES or data.get("submitted_at") is None:
        return None
    return review_from_json({**data, "state": state})


@dataclass(frozen=True)
class History:
    """One item's timeline: its events, and the comments and reviews among them."""

    events: tuple[IssueEvent, ...]
    comments: tuple[Comment, ...]
    reviews: tuple[Review, ...]


def _timeline(repo: Repository, number: int) -> History:
    events, comments, reviews = [], [], []
    for entry in raws(repo.get_issue(number).get_timeline()):
        event = timeline_event(entry)
        if event is not None:
            events.append(event)
        # A `commented` entry is an issue comment, a `reviewed` one a PR review.
        if event is not None and event.event == "commented":
            comments.append(comment_from_json(entry))
        elif event is not None and event.event == "reviewed":
            review = review_entry(entry)
            if review is not None:
                reviews.append(review)
    return History(tuple(events), tuple(comments), tuple(reviews))


def _reactions(repo: Repository, number: int) -> tuple[Reaction, ...]:
    """GET /repos/{o}/{r}/issues/{n}/reactions (one page of 100: an incident's
    acknowledgement is among its first reactions)."""
    data = request_json(
        repo, "GET", f"{repo.url}/issues/{number}/reactions", parameters={"per_page": 100}
    )
    rows = data if isinstance(data, list) else []
    return tuple(reaction_from_json(r) for r in rows if isinstance(r, dict))


# PRs per GraphQL request for their files, and paths read per PR: about 5,000 nodes.
FILES_PAGE = 50
FILES = 100


def _files_query(numbers: tuple[int, ...]) -> str:
    aliases = " ".join(
        f"n{int(n)}: pullRequest(number: {int(n)}) "
        f"{{ changedFiles files(first: {FILES}) {{ nodes {{ path }} }} }}"
        for n in numbers
    )
    return (
        "query($owner: String!, $name: String!) "
        f"{{ repository(owner: $owner, name: $name) {{ {aliases} }} }}"
    )


def read_pr_files(repo: Repository, numbers: tuple[int, ...]) -> dict[int, tuple[ChangedFile, ...]]:
    """The changed paths of the named PRs: POST /graphql for FILES_PAGE PRs at a time, and
    GET /repos/{o}/{r}/pulls/{n}/files (every page) for a PR with more than FILES files.
    Like the review loop's GraphQL read, no renamed file's old path."""
    owner, name = repository_name(repo).split("/", 1)
    out: dict[int, tuple[ChangedFile, ...]] = {}
    for start in range(0, len(numbers), FILES_PAGE):
        chunk = numbers[start : start + FILES_PAGE]
        data = graphql(repo, _files_query(chunk), {"owner": owner, "name": name})
        repository = (data.get("data") or {}).get("repository")
        if not isinstance(repository, dict):
            raise SnapshotError("the GraphQL answer for pull request files has no repository")
        for number in chunk:
            node = repository.get(f"n{number}")
            if not isinstance(node, dict):
                continue  # gone, or not a PR: no areas
            nodes = (node.get("files") or {}).get("nodes") or []
            files = tuple(
                ChangedFile(filename=str(x["path"]))
                for x in nodes
                if isinstance(x, dict) and x.get("path")
            )
            if int(node.get("changedFiles") or 0) > len(files):
                files = tuple(file_from_json(d) for d in raws(repo.get_pull(number).get_files()))
            out[number] = files
    return out


def _merged_at(data: Any) -> dt.datetime | None:
    nested = data.get("pull_request")
    value = nested.get("merged_at") if isinstance(nested, dict) else data.get("merged_at")
    return None if value is None else parse_time(value)


def _read_file(repo: Repository, path: str, ref: str) -> str | None:
    try:
        found = repo.get_contents(path, ref=ref)
    except UnknownObjectException:
        return None
    if isinstance(found, list):
        return None
    try:
        return base64.b64decode(str(raw(found).get("content") or "")).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise SnapshotError(f"{path} at {ref[:7]} is not UTF-8 text") from None


def collect_period(
    repo: Repository, policies: Policies, period: Period, now: dt.datetime, *, files: bool
) -> Snapshot:
    """Read the items touched since the period began, the histories its figures need, and
    (with `files`) what the PR is built on."""
    issues: list[Issue] = []
    pulls: dict[int, PullRequest] = {}
    reactions_of: set[int] = set()
    for data in raws(repo.get_issues(state="all", since=period.since)):
        if is_pull_request(data):
            merged_at = _merged_at(data)
            pull = pull_from_json(data, merged_at=merged_at, merged=merged_at is not None)
            pulls[pull.number] = pull
        else:
            issue = issue_from_json(data)
            issues.append(issue)
            reactions = data.get("reactions")
            if (
                is_incident(policies.incidents, issue)
                and isinstance(reactions, dict)
                and reactions.get("total_count")
            ):
                reactions_of.add(issue.number)
    read_issues = []
    for issue in issues:
        if needs_history(policies, issue, period):
            history = _timeline(repo, issue.number)
            update: dict[str, Any] = {"events": history.events, "comments": history.comments}
            if issue.number in reactions_of and issue.created_at in period:
                update["reactions"] = _reactions(repo, issue.number)
            issue = issue.model_copy(update=update)
        read_issues.append(issue)
    for number, pull in sorted(pulls.items()):
        if needs_history(policies, pull, period):
            history = _timeline(repo, number)
            pulls[number] = pull.model_copy(
                update={"events": history.events, "reviews": history.reviews}
            )
    wanted = tuple(n for n, p in sorted(pulls.items()) if needs_files(policies, p, period))
    for number, changed in read_pr_files(repo, wanted).items():
        pulls[number] = pulls[number].model_copy(update={"files": changed})

    default_branch = "main"
    branches: dict[str, str] = {}
    base_policies: tuple[PolicyFiles, ...] = ()
    if files:
        default_branch = repo.default_branch
        branch = request_json(repo, "GET", f"{repo.url}/branches/{default_branch}")
        try:
            head = str(branch["commit"]["sha"])
            tree = str(branch["commit"]["commit"]["tree"]["sha"])
        except (KeyError, TypeError):
            raise SnapshotError(f"branch {default_branch} has no commit and tree") from None
        branches = {default_branch: head, tree_key(default_branch): tree}
        texts: dict[str, str | None] = {
            f"policies/{name}.yaml": _read_file(repo, f"policies/{name}.yaml", head)
            for name in EDITABLE
            if name not in policies.absent
        }
        texts[DOCS_PATH] = _read_file(repo, DOCS_PATH, head)
        base_policies = (PolicyFiles(ref=head, files=texts),)
        owner = repo.full_name.split("/")[0]
        try:
            for pr in repo.get_pulls(state="open", head=f"{owner}:{policies.retro.branch}"):
                data = raw(pr)
                pull = pull_from_json(data)
                # The pulls list's view replaces the issues list's (it has the head branch).
                pulls[pull.number] = pull.model_copy(
                    update={"events": pulls[pull.number].events if pull.number in pulls else None}
                )
        except GithubException as exc:
            if exc.status != 404:
                raise
    return Snapshot(
        repo=repo.full_name,
        default_branch=default_branch,
        taken_at=now,
        issues=tuple(sorted(read_issues, key=lambda i: i.number)),
        pulls=tuple(sorted(pulls.values(), key=lambda p: p.number)),
        branches=branches,
        base_policies=base_policies,
    )


def collect_retro(
    repo: Repository, policies: Policies, numbers: tuple[int, ...] | None, now: dt.datetime
) -> Snapshot:
    """The scheduled sweep's read: the last period when due, else nothing at all."""
    period = due_period(policies.retro, now)
    if period is None:
        return Snapshot(repo=repo.full_name, taken_at=now)
    return collect_period(repo, policies, period, now, files=True)

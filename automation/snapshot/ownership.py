"""Read what the owner-approval check needs: PRs, files, reviews, check runs, CODEOWNERS.

CODEOWNERS is read through the contents API at each PR's base commit, never its head, so a
PR that edits CODEOWNERS cannot approve itself. Reads are skipped when the answer cannot
matter (a PR that touches no protected path needs no CODEOWNERS, team or events).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
from collections.abc import Iterable

import requests
from github import GithubException, UnknownObjectException
from github.NamedUser import NamedUser
from github.PaginatedList import PaginatedList
from github.Repository import Repository

from automation.codeowners import LOCATIONS, MAX_BYTES, parse
from automation.policy.loader import Policies
from automation.snapshot.collect import (
    Json,
    check_run_from_json,
    event_from_json,
    file_from_json,
    pull_from_json,
    raw,
    raws,
    review_from_json,
)
from automation.snapshot.models import (
    CheckRun,
    CodeownersFile,
    IssueEvent,
    PullRequest,
    Snapshot,
)

log = logging.getLogger("dataface_ops.snapshot.ownership")

# GitHub's "list pull request files" stops at 3,000 files.
MAX_LISTED_FILES = 3000


def _requested(data: Json) -> IssueEvent:
    """An issue event, keeping who a review was requested from."""
    event = event_from_json(data)
    reviewer = data.get("requested_reviewer")
    team = data.get("requested_team")
    return event.model_copy(
        update={
            "requested_reviewer": reviewer.get("login") if isinstance(reviewer, dict) else None,
            "requested_team": team.get("slug") if isinstance(team, dict) else None,
        }
    )


def read_codeowners(repo: Repository, ref: str) -> CodeownersFile:
    """GET /repos/{owner}/{repo}/contents/{path}?ref= for .github/, the root, then docs/."""
    for path in LOCATIONS:
        try:
            found = repo.get_contents(path, ref=ref)
        except UnknownObjectException:
            continue  # 404: GitHub looks in the next location
        except GithubException as exc:
            return CodeownersFile(ref=ref, problem=f"reading {path} failed: GitHub {exc.status}")
        except requests.RequestException as exc:  # retries exhausted on 5xx, or no connection
            return CodeownersFile(ref=ref, problem=f"reading {path} failed: {type(exc).__name__}")
        if isinstance(found, list):
            continue  # a directory of that name is not a CODEOWNERS file
        data = raw(found)
        size = int(data.get("size") or 0)
        if size >= MAX_BYTES:
            # GitHub ignores a CODEOWNERS of 3 MB or more, and does not look further.
            return CodeownersFile(ref=ref, path=None)
        if data.get("encoding") != "base64":
            # The contents API leaves `content` empty for files over 1 MB.
            return CodeownersFile(ref=ref, problem=f"{path} is too large to read ({size} bytes)")
        try:
            text = base64.b64decode(str(data.get("content") or "")).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return CodeownersFile(ref=ref, problem=f"{path} is not UTF-8 text")
        return CodeownersFile(ref=ref, path=path, text=text)
    return CodeownersFile(ref=ref, path=None)


class _Teams:
    """Team members through the API while the token can read the organisation."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.members: dict[str, tuple[str, ...]] = {}
        self.readable = True

    def resolve(self, handle: str) -> None:
        """GET /orgs/{org}/teams/{team_slug}/members (every page), once per team."""
        key = handle.removeprefix("@")
        if not self.readable or key in self.members:
            return
        org, slug = key.split("/", 1)
        api = self.repo.url.rsplit("/repos/", 1)[0]
        pages: PaginatedList[NamedUser] = PaginatedList(
            NamedUser, self.repo.requester, f"{api}/orgs/{org}/teams/{slug}/members", None
        )
        try:
            self.members[key] = tuple(str(u.get("login")) for u in raws(pages))
        except GithubException as exc:
            if exc.status not in (403, 404):
                raise
            # GITHUB_TOKEN cannot read organisation teams (404 or 403): owners.yaml it is.
            log.info("cannot read team %s (GitHub %s); using owners.yaml", key, exc.status)
            self.readable = False


def _pull_json(repo: Repository, number: int) -> Json | None:
    """GET /repos/{owner}/{repo}/pulls/{pull_number}; None when there is no such PR."""
    pull = repo.get_pull(number)
    try:
        pull.complete()
    except UnknownObjectException:
        log.info("#%s is not a pull request; skipped", number)
        return None
    return raw(pull)


def _touched_owners(policies: Policies, text: str, paths: Iterable[str]) -> set[str]:
    """CODEOWNERS team handles that own the protected paths among `paths`."""
    co = parse(text)
    teams: set[str] = set()
    for path in paths:
        if policies.ownership.groups_for(path):
            teams.update(o for o in co.owners_of(path) if o.startswith("@") and "/" in o)
    return teams


def _collect_pull(
    repo: Repository,
    policies: Policies,
    data: Json,
    codeowners: dict[str, CodeownersFile],
    teams: _Teams,
) -> tuple[PullRequest, list[Json]]:
    """Read one PR's files, reviews and (when it matters) review-request events."""
    number = int(data["number"])
    listed_only = "changed_files" not in data  # a pulls-list item lacks the count
    pr = pull_from_json(data)
    pull = repo.get_pull(number)
    files = None
    if pr.changed_files <= MAX_LISTED_FILES:
        files = tuple(file_from_json(d) for d in raws(pull.get_files()))
        if listed_only and len(files) >= MAX_LISTED_FILES:
            # The list stopped at GitHub's limit: only the PR itself says how many there are.
            detail = _pull_json(repo, number)
            if detail is not None:
                pr = pull_from_json(detail)
    reviews = tuple(review_from_json(d) for d in raws(pull.get_reviews()))
    paths = [p for f in files or () for p in (f.filename, f.previous_filename) if p]
    touched = any(policies.ownership.groups_for(p) for p in paths)
    events = None
    if touched:
        if pr.base_sha not in codeowners:
            codeowners[pr.base_sha] = read_codeowners(repo, pr.base_sha)
        for handle in sorted(_touched_owners(policies, codeowners[pr.base_sha].text, paths)):
            teams.resolve(handle)
        if policies.ownership.request_reviews and not pr.draft:
            # Review requests made before (even removed since): never ask the same owner twice.
            events = tuple(
                _requested(d)
                for d in raws(repo.get_issue(number).get_events())
                if d.get("event") in ("review_requested", "review_request_removed")
            )
    pr = pr.model_copy(update={"files": files, "reviews": reviews, "events": events})
    runs = list(raws(repo.get_commit(pr.head_sha).get_check_runs(policies.ownership.check_name)))
    return pr, runs


def collect_ownership(
    repo: Repository, policies: Policies, numbers: tuple[int, ...] | None, now: dt.datetime
) -> Snapshot:
    """Read the open PRs named (all of them on a sweep) with what the check needs."""
    if numbers is None:
        # GET /repos/{owner}/{repo}/pulls?state=open (every page)
        items: list[Json] = list(raws(repo.get_pulls(state="open")))
    else:
        items = [d for d in (_pull_json(repo, n) for n in dict.fromkeys(numbers)) if d]
    codeowners: dict[str, CodeownersFile] = {}
    teams = _Teams(repo)
    pulls: list[PullRequest] = []
    runs: list[CheckRun] = []
    for data in items:
        if data.get("state") != "open":
            continue
        pr, pr_runs = _collect_pull(repo, policies, data, codeowners, teams)
        pulls.append(pr)
        runs.extend(check_run_from_json(r) for r in pr_runs)
    return Snapshot(
        repo=repo.full_name,
        default_branch=str(raw(repo).get("default_branch") or "main"),
        taken_at=now,
        pulls=tuple(pulls),
        check_runs=tuple(runs),
        team_members=teams.members,
        codeowners=tuple(codeowners.values()),
    )

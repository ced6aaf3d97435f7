"""Read what documentation upkeep needs: each listed document's last change, its Reviewed
line where it matters, and the review-due issues.

Requests for one sweep of n documents:
- GET /repos/{o}/{r}/commits?path=P&per_page=1 for each document (its last change on the
  default branch): n requests.
- GET /repos/{o}/{r}/contents/P only when the Reviewed line can decide
  (rules.docs_upkeep.needs_text): never while commits count as reviews.
- GET /repos/{o}/{r}/issues?state=all&labels=L: the review-due issues, open and closed
  (ceil(issues / 100) pages; a closed one is reopened for the next cycle, not duplicated).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from automation.github import GithubException, repository_name, request_json
from automation.rules.docs_upkeep import needs_text, reviewed_on
from automation.snapshot.collect import SnapshotError, issue_from_json, parse_time, raws
from automation.snapshot.models import DocumentState, Issue, Snapshot

if TYPE_CHECKING:
    from automation.github import Repository
    from automation.policy.policies import Policies


def read_last_change(repo: Repository, path: str) -> tuple[dt.datetime, str] | None:
    """GET /repos/{owner}/{repo}/commits?path=&per_page=1: when `path` last changed, and how."""
    data = request_json(
        repo, "GET", f"{repo.url}/commits", parameters={"path": path, "per_page": 1}
    )
    if not isinstance(data, list):
        raise SnapshotError(f"the commits of {path} are not a list")
    if not data:
        return None  # no commit ever touched it
    try:
        commit = data[0]
        when = commit["commit"]["committer"]["date"]
        return parse_time(when), str(commit["sha"])
    except (KeyError, TypeError, IndexError) as exc:
        raise SnapshotError(f"the last commit of {path} lacks {exc}") from None


def read_text(repo: Repository, path: str) -> str | None:
    """GET /repos/{owner}/{repo}/contents/{path}: the file's text; None when it is absent."""
    try:
        data: Any = request_json(repo, "GET", f"{repo.url}/contents/{quote(path)}")
    except GithubException as exc:
        if exc.status == 404:
            return None
        raise
    if not isinstance(data, dict) or data.get("type") != "file":
        return None  # a directory of that name is not the document
    if data.get("encoding") != "base64":
        return ""  # over 1 MB: the contents API leaves it out (no Reviewed line read)
    try:
        return base64.b64decode(str(data.get("content") or "")).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""


def read_document(
    repo: Repository, policies: Policies, path: str, now: dt.datetime
) -> DocumentState:
    """One document's state: its last change, and its Reviewed line when it can decide."""
    policy = policies.docs
    last = read_last_change(repo, path)
    if last is None:
        return DocumentState(path=path, exists=False)
    state = DocumentState(path=path, last_change=last[0], last_change_sha=last[1])
    if not needs_text(policy, last[0]):
        return state
    text = read_text(repo, path)
    if text is None:
        return state.model_copy(update={"exists": False, "text_read": True})
    return state.model_copy(update={"reviewed": reviewed_on(text), "text_read": True})


def read_issues(repo: Repository, policies: Policies) -> list[Issue]:
    """GET /repos/{o}/{r}/issues?state=all&labels=L: the review-due issues (PRs left out)."""
    label = policies.docs.labels[0] if policies.docs.labels else None
    if label is None:
        listing = repo.get_issues(state="all")
    else:
        listing = repo.get_issues(state="all", labels=[label])
    return [issue_from_json(d) for d in raws(listing) if "pull_request" not in d]


def collect_docs_upkeep(
    repo: Repository, policies: Policies, numbers: tuple[int, ...] | None, now: dt.datetime
) -> Snapshot:
    """Read every listed document and the review-due issues (a sweep, whatever the trigger)."""
    documents = tuple(read_document(repo, policies, d.path, now) for d in policies.docs.documents)
    return Snapshot(
        repo=repository_name(repo),
        taken_at=now,
        issues=tuple(read_issues(repo, policies)) if documents else (),
        documents=documents,
    )

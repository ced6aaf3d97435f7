"""Read what the owner-approval check needs: PRs, files, reviews, check runs, CODEOWNERS.

A check run belongs to a commit, so an event's PR brings in every open PR that has the same
head (GET /commits/{sha}/pulls): the verdict posted on the commit is the worst of them.
CODEOWNERS (and, when they differ from the run's own, the policies) are read at each PR's
base commit, never its head, so a PR that edits them cannot approve itself.

Reads are skipped when the answer cannot matter, to stay at the request floor: the event
payload's PR is not read again; CODEOWNERS comes from the run's base checkout when that is
the PR's base, and is cached per commit (a commit's files never change) for the webhook app;
team members are read only when a reviewer other than the author could be one; the
review-request history and the head commit's pusher only when the plan would depend on them.
"""

from __future__ import annotations

import base64
import binascii
import collections
import datetime as dt
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from automation.codeowners import LOCATIONS, MAX_BYTES, find_codeowners, parse_cached
from automation.github import (
    GithubException,
    Repository,
    RequestException,
    UnknownObjectException,
    own_app,
    read_files,
    team_members,
)
from automation.policy.loader import POLICY_FILES
from automation.policy.policies import Policies
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
    PolicyFiles,
    PullRequest,
    Snapshot,
)

log = logging.getLogger("dataface_ops.snapshot.ownership")


@dataclass(frozen=True)
class OwnershipRun:
    """What the trigger already knows, so the collector need not ask GitHub for it again."""

    # The PR objects the event payload carries (fresh enough to name the subject and head).
    event_pulls: tuple[Json, ...] = ()
    # The commit the run's policies (and this working tree) were checked out at, if known.
    checkout_sha: str | None = None
    checkout_root: Path | None = None
    # (head sha, login) when the event was a push to a PR (`synchronize`): who pushed it.
    pushed: tuple[str, str] | None = None


_RUN: ContextVar[OwnershipRun] = ContextVar("ownership_run", default=OwnershipRun())  # noqa: B039


@contextmanager
def ownership_run(run: OwnershipRun) -> Iterator[None]:
    """Let the collector use what the trigger knows, for the duration of one run."""
    token = _RUN.set(run)
    try:
        yield
    finally:
        _RUN.reset(token)


class _ShaCache:
    """Answers keyed by (repo, commit sha): what a commit holds never changes."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._items: collections.OrderedDict[tuple[str, str], object] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> object | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: tuple[str, str], value: object) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


# Process-wide: in the webhook app every delivery for the same base commit reuses them.
_CODEOWNERS_CACHE = _ShaCache()
_POLICY_CACHE = _ShaCache()


def clear_caches() -> None:
    """Forget every cached CODEOWNERS and policy file (tests start from a cold process)."""
    for cache in (_CODEOWNERS_CACHE, _POLICY_CACHE):
        with cache._lock:
            cache._items.clear()


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
        except RequestException as exc:  # retries exhausted on 5xx, or no connection
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


def _local_codeowners(root: Path, ref: str) -> CodeownersFile:
    """The CODEOWNERS GitHub would use in the run's checkout of `ref` (no request)."""

    def read(path: str) -> str | None:
        try:
            return (root / path).read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except (OSError, UnicodeDecodeError):
            return "\x00"  # parsed as a line GitHub skips; the check then finds no owner

    found = find_codeowners(read)
    if found is None:
        return CodeownersFile(ref=ref, path=None)
    return CodeownersFile(ref=ref, path=found[0], text=found[1])


def _policy_files(repo: Repository, ref: str) -> PolicyFiles:
    """Every policy file at `ref` in one GraphQL request (automation.github.read_files)."""
    paths = {f"policies/{name}.yaml": f"{name}.yaml" for name in POLICY_FILES}
    try:
        found = read_files(repo, ref, list(paths))
    except GithubException as exc:
        return PolicyFiles(ref=ref, problem=f"reading policies/ at {ref[:12]}: GitHub {exc.status}")
    except RequestException as exc:
        return PolicyFiles(
            ref=ref, problem=f"reading policies/ at {ref[:12]}: {type(exc).__name__}"
        )
    return PolicyFiles(ref=ref, files={paths[path]: text for path, text in found.items()})


# GitHub's "list pull request files" stops at 3,000 files.
MAX_LISTED_FILES = 3000


@dataclass
class _Teams:
    """Team members through the API while the token can read the organisation."""

    repo: Repository
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    refused: str | None = None

    def resolve(self, handle: str) -> None:
        """GET /orgs/{org}/teams/{team_slug}/members (every page), once per team."""
        key = handle.removeprefix("@")
        if key in self.members or key in self.problems:
            return
        if self.refused is not None:
            # One refusal says the token cannot read teams: do not ask again for each.
            self.problems[key] = self.refused
            return
        org, slug = key.split("/", 1)
        try:
            pages = team_members(self.repo, org, slug)
            self.members[key] = tuple(str(u.get("login")) for u in raws(pages))
        except GithubException as exc:
            if exc.status not in (403, 404):
                raise
            # GITHUB_TOKEN cannot read organisation teams (404 or 403): fail closed.
            log.info("cannot read team %s (GitHub %s)", key, exc.status)
            self.refused = f"GitHub answered {exc.status}"
            self.problems[key] = self.refused


def _pull_json(repo: Repository, number: int) -> Json | None:
    """GET /repos/{owner}/{repo}/pulls/{pull_number}; None when there is no such PR."""
    pull = repo.get_pull(number)
    try:
        pull.complete()
    except UnknownObjectException:
        log.info("#%s is not a pull request; skipped", number)
        return None
    return raw(pull)


def _touched_teams(policies: Policies, text: str, paths: Iterable[str]) -> set[str]:
    """CODEOWNERS team handles that own the protected paths among `paths`."""
    co = parse_cached(text)
    teams: set[str] = set()
    for path in paths:
        if policies.ownership.groups_for(path):
            teams.update(o for o in co.owners_of(path) if o.startswith("@") and "/" in o)
    return teams


def _head_pushers(repo: Repository, sha: str) -> tuple[str, ...]:
    """GET /repos/{owner}/{repo}/commits/{ref}: the head commit's author and committer."""
    data = repo.get_commit(sha).raw_data
    logins = []
    for role in ("author", "committer"):
        user = data.get(role)
        if isinstance(user, dict) and isinstance(user.get("login"), str):
            logins.append(str(user["login"]))
    return tuple(dict.fromkeys(logins))


class _Reader:
    """One collection: what was read so far, so nothing is read twice."""

    def __init__(self, repo: Repository, policies: Policies, run: OwnershipRun) -> None:
        self.repo = repo
        self.policies = policies
        self.run = run
        self.codeowners: dict[str, CodeownersFile] = {}
        self.base_policies: dict[str, PolicyFiles] = {}
        self.teams = _Teams(repo)

    def codeowners_at(self, ref: str) -> CodeownersFile:
        if ref in self.codeowners:
            return self.codeowners[ref]
        key = (self.repo.full_name.lower(), ref)
        cached = _CODEOWNERS_CACHE.get(key)
        if isinstance(cached, CodeownersFile):
            found = cached
        elif self.run.checkout_root is not None and ref == self.run.checkout_sha:
            found = _local_codeowners(self.run.checkout_root, ref)
        else:
            found = read_codeowners(self.repo, ref)
            if found.problem is None:
                _CODEOWNERS_CACHE.put(key, found)
        self.codeowners[ref] = found
        return found

    def policies_for(self, base_sha: str) -> Policies | None:
        """The policies a PR is graded by: the run's own, or those read at its base."""
        if self.run.checkout_sha is None or base_sha == self.run.checkout_sha:
            return self.policies
        if base_sha not in self.base_policies:
            key = (self.repo.full_name.lower(), base_sha)
            cached = _POLICY_CACHE.get(key)
            if isinstance(cached, PolicyFiles):
                files = cached
            else:
                files = _policy_files(self.repo, base_sha)
                if files.problem is None:
                    _POLICY_CACHE.put(key, files)
            self.base_policies[base_sha] = files
        from automation.rules.ownership import policies_from_files

        loaded = policies_from_files(self.base_policies[base_sha])
        return loaded if isinstance(loaded, Policies) else None

    def pull(self, data: Json) -> PullRequest:
        """Read one PR's files and reviews, and the CODEOWNERS and teams it needs."""
        number = int(data["number"])
        listed_only = "changed_files" not in data  # a list item or review payload lacks it
        pr = pull_from_json(data)
        pull = self.repo.get_pull(number)
        files = None
        if pr.changed_files <= MAX_LISTED_FILES:
            files = tuple(file_from_json(d) for d in raws(pull.get_files()))
            if listed_only and len(files) >= MAX_LISTED_FILES:
                # The list stopped at GitHub's limit: only the PR itself says how many.
                detail = _pull_json(self.repo, number)
                if detail is not None:
                    pr = pull_from_json(detail)
        reviews = tuple(review_from_json(d) for d in raws(pull.get_reviews()))
        pr = pr.model_copy(update={"files": files, "reviews": reviews})
        policies = self.policies_for(pr.base_sha)
        if policies is None:
            return pr  # the base's policies are unusable: the planner fails closed
        paths = [p for f in files or () for p in (f.filename, f.previous_filename) if p]
        if not any(policies.ownership.groups_for(p) for p in paths):
            return pr
        codeowners = self.codeowners_at(pr.base_sha)
        author = pr.author.casefold()
        others_reviewed = any(r.user.casefold() != author and r.state != "PENDING" for r in reviews)
        if policies.ownership.team_source == "github" and others_reviewed:
            # Without a review by someone else, no member's approval can count: skip reads.
            for handle in sorted(_touched_teams(policies, codeowners.text, paths)):
                self.teams.resolve(handle)
        return pr


def _open_heads(items: list[Json]) -> list[str]:
    return list(
        dict.fromkeys(
            str(sha)
            for d in items
            if d.get("state") == "open"
            and isinstance(d.get("head"), dict)
            and (sha := d["head"].get("sha"))
        )
    )


def collect_ownership(
    repo: Repository, policies: Policies, numbers: tuple[int, ...] | None, now: dt.datetime
) -> Snapshot:
    """Read the open PRs named (all of them on a sweep), and every PR sharing their head."""
    run = _RUN.get()
    if numbers is None:
        # GET /repos/{owner}/{repo}/pulls?state=open (every page): every head's PRs at once.
        items: list[Json] = list(raws(repo.get_pulls(state="open")))
    else:
        carried = {
            int(d["number"]): d
            for d in run.event_pulls
            if isinstance(d.get("number"), int) and isinstance(d.get("head"), dict)
        }
        named = [
            d for d in (carried.get(n) or _pull_json(repo, n) for n in dict.fromkeys(numbers)) if d
        ]
        by_number: dict[int, Json] = {int(d["number"]): d for d in named}
        for sha in _open_heads(named):
            # GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls: the check on this commit
            # shows on each of them, so each is graded. The list also has PRs that merely
            # contain the commit: keep those whose head it is.
            for listed in raws(repo.get_commit(sha).get_pulls()):
                head = listed.get("head")
                if isinstance(head, dict) and head.get("sha") == sha:
                    by_number[int(listed["number"])] = listed
        items = list(by_number.values())
    reader = _Reader(repo, policies, run)
    pulls = [reader.pull(d) for d in items if d.get("state") == "open"]
    own_id, own_slug = own_app(repo)
    runs: list[CheckRun] = []
    for sha in dict.fromkeys(p.head_sha for p in pulls if p.head_sha):
        # GET /repos/{owner}/{repo}/commits/{ref}/check-runs?check_name=
        listed_runs = repo.get_commit(sha).get_check_runs(check_name=policies.ownership.check_name)
        runs.extend(check_run_from_json(r) for r in raws(listed_runs))
    pulls = [
        p.model_copy(update={"head_pushers": found})
        if (found := _known_pushers(p.head_sha, runs, run, own_id, own_slug)) is not None
        else p
        for p in pulls
    ]
    snapshot = Snapshot(
        repo=repo.full_name,
        default_branch=str(raw(repo).get("default_branch") or "main"),
        taken_at=now,
        pulls=tuple(sorted(pulls, key=lambda p: p.number)),
        check_runs=tuple(runs),
        team_members=reader.teams.members,
        team_problems=reader.teams.problems,
        codeowners=tuple(reader.codeowners.values()),
        base_policies=tuple(reader.base_policies.values()),
        own_app_id=own_id,
        own_app_slug=own_slug,
        subjects=numbers,
    )
    return _read_what_the_plan_needs(repo, policies, snapshot)


_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\[bot\])?")
# The prefix of the external_id the planner gives our check run (features/ownership/plan.py).
PUSHERS_MARK = "dataface-ops:pushers="


def _known_pushers(
    sha: str, runs: list[CheckRun], run: OwnershipRun, own_id: int | None, own_slug: str | None
) -> tuple[str, ...] | None:
    """Who pushed the head, without a request: the push event itself, or our own last run."""
    if run.pushed is not None and run.pushed[0] == sha:
        return (run.pushed[1],)  # a `synchronize` event's sender is the pusher
    ours = [
        r
        for r in runs
        if r.head_sha == sha
        and (r.app_id == own_id if own_id is not None else r.app_slug == own_slug)
        and (r.external_id or "").startswith(PUSHERS_MARK)
    ]
    if not ours:
        return None
    recorded = max(ours, key=lambda r: r.id).external_id or ""
    logins = tuple(x for x in recorded.removeprefix(PUSHERS_MARK).split(",") if x)
    return logins if logins and all(_LOGIN.fullmatch(x) for x in logins) else None


def _read_what_the_plan_needs(repo: Repository, policies: Policies, snapshot: Snapshot) -> Snapshot:
    """Read review-request history and head pushers only for the PRs whose plan needs them."""
    from automation.rules.ownership import reads_needed

    needed = reads_needed(policies, snapshot)
    if not needed:
        return snapshot
    pushers: dict[str, tuple[str, ...]] = {}
    pulls: list[PullRequest] = []
    for pr in snapshot.pulls:
        wants = needed.get(pr.number, frozenset())
        update: dict[str, object] = {}
        if "events" in wants:
            # Review requests made before (even removed since): never ask the same owner twice.
            update["events"] = tuple(
                _requested(d)
                for d in raws(repo.get_issue(pr.number).get_events())
                if d.get("event") in ("review_requested", "review_request_removed")
            )
        if "pushers" in wants:
            if pr.head_sha not in pushers:
                pushers[pr.head_sha] = _head_pushers(repo, pr.head_sha)
            update["head_pushers"] = pushers[pr.head_sha]
        pulls.append(pr.model_copy(update=update) if update else pr)
    return snapshot.model_copy(update={"pulls": tuple(pulls)})

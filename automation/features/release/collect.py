"""Read what the release train needs: the last release, the train PRs, and what merged since.

Request budget of a train run (typical week, under 100 merged PRs, all labelled): one
GET each for the latest release, the train PRs, the comparison and the closed PRs. PR files
are read only for PRs no category label places, and only when the range touches a path
category at all; reviews and review-request events only for an open train PR still
missing a reviewer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from automation.github import GithubException, request_json
from automation.rules.release import (
    call_train,
    captain_at,
    last_merged_train,
    last_shipped,
    open_train,
    reviewers_missing,
    train_day,
    train_pulls,
)
from automation.snapshot.collect import (
    Json,
    SnapshotError,
    file_from_json,
    parse_time,
    pull_from_json,
    raw,
    raws,
    release_from_json,
    requested_event_from_json,
    review_from_json,
)
from automation.snapshot.models import Comparison, PullRequest, Release, Snapshot

if TYPE_CHECKING:
    from automation.github import Repository
    from automation.policy.policies import Policies
    from automation.policy.release import ReleasePolicy

# The compare API pages its commits with per_page up to 100 (without paging it returns at
# most 250); the changed files come only with the first page, at most 300 of them.
COMPARE_PAGE = 100
COMPARE_FILES_CAP = 300
# Clock skew allowance between a commit's committer date and the PR's merged_at.
SKEW = dt.timedelta(hours=1)


def full_name(repo: Repository) -> str:
    """OWNER/NAME of a (lazy) repository, from its URL: reading full_name would send a GET."""
    url: str = repo.url
    return url.split("/repos/", 1)[1].strip("/") if "/repos/" in url else url


def _api_path(repo: Repository, tail: str) -> str:
    return f"{repo.url}{tail}"


def read_latest_release(repo: Repository) -> Release | None:
    """GET /repos/{owner}/{repo}/releases/latest (drafts and prereleases never count)."""
    try:
        data = request_json(repo, "GET", _api_path(repo, "/releases/latest"))
    except GithubException as exc:
        if exc.status == 404:  # no release yet
            return None
        raise
    return release_from_json(data)


def read_release_by_tag(repo: Repository, tag: str) -> Release | None:
    """GET /repos/{owner}/{repo}/releases/tags/{tag}."""
    try:
        data = request_json(repo, "GET", _api_path(repo, f"/releases/tags/{quote(tag, safe='')}"))
    except GithubException as exc:
        if exc.status == 404:
            return None
        raise
    return release_from_json(data)


def read_train_pulls(repo: Repository, policy: ReleasePolicy) -> list[PullRequest]:
    """GET /repos/{owner}/{repo}/pulls?state=all&base=RELEASE_BASE, newest first, one page.

    The open train PR and the last merged one are the newest PRs into the release base; the
    walk stops at the first merged train PR, as nothing older matters.
    """
    found: list[PullRequest] = []
    listed = repo.get_pulls(state="all", base=policy.release_base, sort="created", direction="desc")
    for data in _first_page(listed):
        pull = pull_from_json(data)
        found.append(pull)
        if pull.merged and _is_train_ref(policy, pull.head_ref):
            break
    return found


def _first_page(listed: Any) -> Iterator[Json]:
    """The items of a paged list's first page only (one request)."""
    for index, obj in enumerate(listed):
        yield raw(obj)
        if index + 1 >= 100:
            return


def _is_train_ref(policy: ReleasePolicy, ref: str) -> bool:
    from automation.policy.release import parse_name

    return parse_name(policy.branch_pattern, ref) is not None


def read_comparison(
    repo: Repository, base: str, head: str
) -> tuple[Comparison, dt.datetime | None, bool]:
    """GET /repos/{owner}/{repo}/compare/{base}...{head}, every page of commits.

    Returns the comparison, the merge base's committer date (None when unknown), and whether
    any commit in the range is a merge commit (two parents).
    """
    path = _api_path(repo, f"/compare/{quote(base)}...{quote(head)}")
    shas: list[str] = []
    merges = False
    first: Json | None = None
    page = 1
    while True:
        data = request_json(repo, "GET", path, parameters={"per_page": COMPARE_PAGE, "page": page})
        if not isinstance(data, dict):
            raise SnapshotError("the compare answer is not an object")
        first = first or data
        commits = [c for c in data.get("commits") or () if isinstance(c, dict)]
        shas.extend(str(c["sha"]) for c in commits)
        merges = merges or any(len(c.get("parents") or ()) > 1 for c in commits)
        total = int(first.get("total_commits") or 0)
        if not commits or len(shas) >= total:
            break
        page += 1
    assert first is not None
    files_json = [f for f in first.get("files") or () if isinstance(f, dict)]
    files: tuple[str, ...] | None = tuple(
        name
        for f in files_json
        for name in (f.get("filename"), f.get("previous_filename"))
        if isinstance(name, str)
    )
    if len(files_json) >= COMPARE_FILES_CAP:
        files = None  # GitHub cut the list: it says nothing about the files it left out
    merge_base = first.get("merge_base_commit") or {}
    try:
        base_date: dt.datetime | None = parse_time(merge_base["commit"]["committer"]["date"])
    except (KeyError, TypeError, SnapshotError):
        base_date = None
    comparison = Comparison(
        base=base,
        head=head,
        head_sha=shas[-1] if shas else "",
        total_commits=int(first.get("total_commits") or len(shas)),
        commit_shas=tuple(shas),
        html_url=str(first.get("html_url") or ""),
        files=files,
    )
    return comparison, base_date, merges


def read_merged_pulls(
    repo: Repository, policy: ReleasePolicy, shas: set[str], cutoff: dt.datetime | None
) -> list[PullRequest]:
    """GET /repos/{owner}/{repo}/pulls?state=closed&base=SOURCE, recently updated first.

    Not the search API: its index lags behind merges and it stops at 1,000 results. A PR
    merged since the cutoff was updated since then, so the walk stops at the first older one.
    """
    found: list[PullRequest] = []
    listed = repo.get_pulls(
        state="closed", base=policy.source_branch, sort="updated", direction="desc"
    )
    for data in raws(listed):
        if cutoff is not None and parse_time(data.get("updated_at")) < cutoff:
            break
        if data.get("merged_at") and data.get("merge_commit_sha") in shas:
            found.append(pull_from_json(data))
    return found


def read_files(repo: Repository, number: int) -> tuple[Any, ...]:
    """GET /repos/{owner}/{repo}/pulls/{pull_number}/files (every page)."""
    return tuple(file_from_json(d) for d in raws(repo.get_pull(number).get_files()))


def collect_release(
    repo: Repository,
    policies: Policies,
    numbers: tuple[int, ...] | None,
    now: dt.datetime,
    *,
    full: bool = False,
) -> Snapshot:
    """Read the release train's state; an event (numbers) reads only what its release needs.

    `full` reads what the next train would carry even when no train is due (for
    `dataface-ops release next`).
    """
    policy = policies.release
    latest = read_latest_release(repo)
    releases: list[Release] = [latest] if latest else []
    trains = read_train_pulls(repo, policy)
    snapshot = Snapshot(
        repo=full_name(repo),
        # The default branch is the source branch here; reading it would cost a GET.
        default_branch=policy.source_branch,
        taken_at=now,
        pulls=tuple(trains),
        releases=tuple(releases),
    )
    merged = last_merged_train(policy, snapshot)
    if merged is not None:
        tag = policy.tag_name(train_day(policy, merged))
        if latest is None or latest.tag != tag:
            found = read_release_by_tag(repo, tag)
            if found is not None:
                releases.append(found)
                snapshot = snapshot.model_copy(update={"releases": tuple(releases)})
    if numbers is not None:
        return snapshot  # an event re-checks the merged train's release; the train is cron's
    shipped = last_shipped(policy, snapshot)
    call = call_train(policy, now, shipped)
    if not full and not call.due:
        return snapshot
    if merged is not None and (
        latest is None
        or latest.tag == policy.tag_name(train_day(policy, merged))
        or (merged.merged_at or now) >= (latest.published_at or now)
    ):
        # The merged train branch's tip: right whether the train PR was merged with a merge
        # commit, squashed or rebased (a tag on a squash commit shares no history with main).
        base = merged.head_sha or policy.release_base
    elif latest is not None:
        base = latest.tag  # a release made by hand after the last train
    else:
        base = policy.release_base
    comparison, base_date, has_merge_commits = read_comparison(repo, base, policy.source_branch)
    snapshot = snapshot.model_copy(update={"comparison": comparison})
    if not comparison.commit_shas:
        return snapshot
    times = [t for t in (base_date, shipped) if t is not None]
    cutoff = min(times) - SKEW if times else None
    shipped_pulls = read_merged_pulls(repo, policy, set(comparison.commit_shas), cutoff)
    shipped_pulls, comparison = _categorize_by_paths(
        repo, policy, comparison, has_merge_commits, shipped_pulls, cutoff
    )
    snapshot = snapshot.model_copy(update={"comparison": comparison})
    pulls = {p.number: p for p in trains}
    current = open_train(policy, snapshot)
    if current is not None and call.departure is not None:
        captain = captain_at(policies, call.departure.at)
        logins, teams = reviewers_missing(policies, current, captain, snapshot.bot_login)
        if logins or teams:
            reviews = tuple(
                review_from_json(d) for d in raws(repo.get_pull(current.number).get_reviews())
            )
            # GET /repos/{owner}/{repo}/issues/{issue_number}/events: who was asked before
            # (a request a person removed is not made again).
            events = tuple(
                requested_event_from_json(d)
                for d in raws(repo.get_issue(current.number).get_events())
                if d.get("event") in ("review_requested", "review_request_removed")
            )
            pulls[current.number] = current.model_copy(
                update={"reviews": reviews, "events": events}
            )
    for pull in shipped_pulls:
        pulls.setdefault(pull.number, pull)
    return snapshot.model_copy(
        update={"pulls": tuple(sorted(pulls.values(), key=lambda p: p.number))}
    )


def _categorize_by_paths(
    repo: Repository,
    policy: ReleasePolicy,
    comparison: Comparison,
    has_merge_commits: bool,
    pulls: list[PullRequest],
    cutoff: dt.datetime | None,
) -> tuple[list[PullRequest], Comparison]:
    """Give unlabelled PRs what path categories need, in the fewest requests.

    Either each unlabelled PR's files (one GET each), or, when cheaper and exact, one
    commits-by-path listing per category directory the range touches: a squash-merged PR's
    merge commit is listed under a directory exactly when the PR changes a file there.
    """
    unlabelled = [p for p in pulls if policy.category_by_labels(p.labels) is None]
    if not unlabelled or not policy.has_path_categories:
        return pulls, comparison
    files = comparison.files
    if files is not None and policy.category_by_paths(files) is None:
        return pulls, comparison  # nothing in the whole range touches a path category
    directories = _category_directories(policy, files)
    if (
        directories is None
        or cutoff is None  # a first release: the listing would run back to the beginning
        or has_merge_commits  # a merge commit's PR changes sit in commits no PR names
        or len(directories) >= len(unlabelled)
    ):
        return _with_files(repo, pulls, {p.number for p in unlabelled}), comparison
    in_range = set(comparison.commit_shas)
    named = {p.merge_commit_sha for p in pulls}
    touched: dict[str, list[str]] = {}
    for directory, category in sorted(directories.items()):
        listed = repo.get_commits(sha=comparison.head_sha, path=directory, since=cutoff)
        for data in raws(listed):
            commit = str(data.get("sha"))
            if commit not in in_range:
                continue
            if commit not in named:
                # A direct push or a rebased PR's earlier commit: the listing cannot say
                # which PR it belongs to, so read the PRs' own files instead.
                return _with_files(repo, pulls, {p.number for p in unlabelled}), comparison
            names = touched.setdefault(commit, [])
            if category not in names:
                names.append(category)
    return pulls, comparison.model_copy(
        update={"commit_categories": {k: tuple(v) for k, v in touched.items()}}
    )


def _category_directories(
    policy: ReleasePolicy, files: tuple[str, ...] | None
) -> dict[str, str] | None:
    """Each directory the range touches through a category's directory pattern -> category.

    None when that cannot be exact: the range's file list was cut, or a touched file falls
    in a category only through a glob or file pattern.
    """
    if files is None:
        return None
    directories: dict[str, str] = {}
    for category in policy.categories:
        if not category.paths:
            continue
        for path in files:
            if not category.matches_paths([path]):
                continue
            directory = policy.directory_roots(category, path)
            if directory is None:
                return None
            directories.setdefault(directory, category.name)
    return directories


def _with_files(repo: Repository, pulls: list[PullRequest], numbers: set[int]) -> list[PullRequest]:
    return [
        p.model_copy(update={"files": read_files(repo, p.number)}) if p.number in numbers else p
        for p in pulls
    ]


__all__ = ["collect_release", "train_pulls"]

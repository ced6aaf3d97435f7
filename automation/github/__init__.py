"""THE edge to GitHub: nothing outside this package imports PyGithub or requests.

The client factory, auth, pacing and GraphQL reads live in `client`; the raw JSON reads
and writes the PyGithub object model has no method for go through `request_json`. The
rest of the project names GitHub's types and failures through the names below, so moving
off PyGithub one day is an edit here, not in every collector.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import requests
from github import Auth as Auth
from github import BadCredentialsException as BadCredentialsException
from github import Github as Github
from github import GithubException as GithubException
from github import GithubIntegration as GithubIntegration
from github import RateLimitExceededException as RateLimitExceededException
from github import UnknownObjectException as UnknownObjectException
from github.GithubObject import GithubObject as GithubObject
from github.GithubObject import NotSet as NotSet
from github.GithubObject import _NotSetType
from github.NamedUser import NamedUser as NamedUser
from github.PaginatedList import PaginatedList as PaginatedList
from github.Repository import Repository as Repository
from github.Requester import Requester as Requester
from requests import RequestException as RequestException

from automation.github.client import MAX_RATE_LIMIT_WAIT_S as MAX_RATE_LIMIT_WAIT_S
from automation.github.client import RETRIED_METHODS as RETRIED_METHODS
from automation.github.client import failure_text as failure_text
from automation.github.client import graphql_read as graphql_read
from automation.github.client import make_auth as make_auth
from automation.github.client import make_github as make_github
from automation.github.client import make_retry as make_retry
from automation.github.client import own_app as own_app

NotSetType = _NotSetType

# Every failure a read or write can end in: GitHub answered an error, or the network did
# (after the client's retries). Bad credentials and an exhausted rate limit are among them;
# callers that must stop the run on those catch them first.
FAILURES: tuple[type[Exception], ...] = (GithubException, requests.RequestException)
# The failures after which a write may or may not have been applied (no answer came back).
NO_ANSWER: tuple[type[Exception], ...] = (requests.ConnectionError, requests.Timeout)


def raw_json(obj: GithubObject) -> object:
    """The JSON a PyGithub object was built from, without completing it (no request)."""
    # PyGithub has no public accessor that does not complete the object (raw_data does).
    return obj._rawData


def known_repo(github: Github, full_name: str, default_branch: str) -> Repository:
    """A lazy repository (no request) that knows its default branch.

    `Github.get_repo` with `lazy=True` knows only its URL, so a collector reading the
    default branch from it without a request gets nothing (and links runbooks to `main`).
    The caller already knows the branch: from the delivery's `repository.default_branch`,
    or from the GET /repos/{o}/{r} it sent to find the policies.
    """
    url = github.get_repo(full_name).url
    attributes = {"url": url, "full_name": full_name, "default_branch": default_branch}
    return Repository(github.requester, {}, attributes, completed=False)


def graphql(repo: Repository, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """POST /graphql through the repository's client, retried like a REST read."""
    return graphql_read(repo.requester, query, variables)


def read_files(repo: Repository, ref: str, paths: Sequence[str]) -> dict[str, str | None]:
    """Several files at one commit in one GraphQL request, instead of a contents GET each.

    A path that is absent, or not a file, reads None; a binary file reads "\x00" (the policy
    loader refuses it with a located error). A file whose text GitHub truncates is read again
    through the contents API. A repository the token cannot see raises UnknownObjectException.
    """
    owner, name = repository_name(repo).split("/", 1)
    variables: dict[str, Any] = {"owner": owner, "name": name}
    fields = []
    for index, path in enumerate(paths):
        variables[f"e{index}"] = f"{ref}:{path}"
        fields.append(
            f"f{index}: object(expression: $e{index}) "
            "{ __typename ... on Blob { text isBinary isTruncated } }"
        )
    declared = "".join(f", $e{index}: String!" for index in range(len(paths)))
    query = (
        f"query($owner: String!, $name: String!{declared}) "
        f"{{ repository(owner: $owner, name: $name) {{ {' '.join(fields)} }} }}"
    )
    answer = graphql(repo, query, variables)
    repository = (answer.get("data") or {}).get("repository")
    if not isinstance(repository, dict):
        raise UnknownObjectException(404, answer.get("errors"), None)
    if answer.get("errors"):
        raise GithubException(502, answer["errors"], None, "GraphQL answered with errors")
    files: dict[str, str | None] = {}
    for index, path in enumerate(paths):
        found = repository.get(f"f{index}")
        if not isinstance(found, dict) or found.get("__typename") != "Blob":
            files[path] = None
        elif found.get("isTruncated"):
            content = repo.get_contents(path, ref=ref)  # GET /repos/{o}/{r}/contents/{path}
            assert not isinstance(content, list)  # a blob above: a file, not a directory
            try:
                files[path] = content.decoded_content.decode("utf-8")
            except UnicodeDecodeError:
                files[path] = "\x00"
        elif found.get("isBinary") or not isinstance(found.get("text"), str):
            files[path] = "\x00"
        else:
            files[path] = found["text"]
    return files


# The clients whose GETs are shared right now (by id: a client lives through its context).
_SHARING: set[int] = set()


@contextmanager
def shared_reads(repo: Repository) -> Iterator[None]:
    """Within: a GET sent again with the same URL and parameters is answered from the first
    answer, not sent (one run's features read the same issue, its comments, the same list).

    For the collect phase only, where nothing is written: an answer cannot go stale there.
    Answers are copied, as PyGithub objects keep the dicts they are built from.
    """
    requester = repo.requester
    if id(requester) in _SHARING:
        yield  # already sharing (a run's features, each planned in turn)
        return
    # The instance's own method, which may wrap the class's (the request counter does).
    send = requester.requestJsonAndCheck
    answers: dict[str, tuple[dict[str, Any], Any]] = {}

    def read_once(
        verb: str,
        url: str,
        parameters: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        input: Any | None = None,
        follow_302_redirect: bool = False,
    ) -> tuple[dict[str, Any], Any]:
        if verb != "GET" or input is not None:
            return send(verb, url, parameters, headers, input, follow_302_redirect)
        key = json.dumps([url, parameters, headers, follow_302_redirect], sort_keys=True)
        if key not in answers:
            answers[key] = send(verb, url, parameters, headers, input, follow_302_redirect)
        return copy.deepcopy(answers[key])

    requester.requestJsonAndCheck = read_once  # type: ignore[method-assign]
    _SHARING.add(id(requester))
    try:
        yield
    finally:
        _SHARING.discard(id(requester))
        requester.requestJsonAndCheck = send  # type: ignore[method-assign]


def team_members(repo: Repository, org: str, slug: str) -> PaginatedList[NamedUser]:
    """GET /orgs/{org}/teams/{team_slug}/members (lazy: pages are read as it is iterated)."""
    api = repo.url.rsplit("/repos/", 1)[0]
    return PaginatedList(NamedUser, repo.requester, f"{api}/orgs/{org}/teams/{slug}/members", None)


def request_json(
    repo: Repository,
    method: str,
    path: str,
    *,
    parameters: dict[str, Any] | None = None,
    input: Any = None,
) -> Any:
    """Send one REST request through the repository's client (its auth, retries and pacing)
    and return the decoded JSON; GitHub's errors raise GithubException."""
    _, data = repo.requester.requestJsonAndCheck(method, path, parameters=parameters, input=input)
    return data


def repository_visible(repo: Repository) -> bool:
    """GET /repos/{owner}/{repo}: False when GitHub answers 404 (no such repository, or the
    token cannot see it). Asked only after a 404, so a successful run sends no extra request;
    a 401 raises BadCredentialsException (the token is wrong), any other failure says True
    (the original error stands)."""
    try:
        repo.requester.requestJsonAndCheck("GET", repo.url)
    except UnknownObjectException:
        return False
    except BadCredentialsException:
        raise
    except FAILURES:
        return True
    return True


def repository_name(repo: Repository) -> str:
    """OWNER/NAME from the repository's URL (no request, even for a lazy object)."""
    return repo.url.split("/repos/", 1)[-1]

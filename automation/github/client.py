"""The GitHub client: auth, GitHub Enterprise base URL, retries, pacing, page size, GraphQL
reads and the one-line text of every HTTP or network failure."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from github import Auth, Github, GithubException, GithubRetry, RateLimitExceededException
from github.Repository import Repository
from github.Requester import Requester

from automation.github.progress import Progress, started
from automation.settings import Settings, SettingsError

# Methods urllib3 may resend on a 5xx or a rate-limited 403. POST is left out on purpose:
# a 502 can arrive after GitHub applied a comment, and a blind resend would post it twice.
# The executor re-checks a failed POST by its identity (marker, name, branch) instead.
RETRIED_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})

# PyGithub adds a bare StreamHandler to its "github" logger at import: its retry notices
# would print twice, once without the delivery, repo and feature. The root handler has them.
logging.getLogger("github").handlers[:] = [
    h for h in logging.getLogger("github").handlers if type(h) is not logging.StreamHandler
]

# Waiting longer than this for a rate limit to reset ends the run instead; the next run resumes.
MAX_RATE_LIMIT_WAIT_S = 300.0


def make_retry(*, pacing: bool = True) -> GithubRetry:
    """Retry reads and idempotent writes on 5xx and secondary limits, honouring Retry-After."""
    return GithubRetry(
        total=5 if pacing else 2,
        backoff_factor=1.0 if pacing else 0.0,
        allowed_methods=RETRIED_METHODS,
        respect_retry_after_header=True,
        secondary_rate_wait=60.0 if pacing else 0.0,
        max_rate_limit_wait=MAX_RATE_LIMIT_WAIT_S if pacing else 0.0,
    )


def make_auth(settings: Settings) -> Auth.Auth:
    """Return token auth, or a GitHub App installation auth."""
    settings.require_credentials()
    if settings.token:
        return Auth.Token(settings.token)
    assert settings.app_id and settings.app_private_key and settings.installation_id
    app = Auth.AppAuth(settings.app_id, settings.app_private_key)
    try:
        # Sign one JWT now (local, no request): a bad key is one clear line, not a traceback
        # from inside the first request.
        app.create_jwt()
    except (jwt.PyJWTError, ValueError, TypeError):
        raise SettingsError("DATAFACE_OPS_APP_PRIVATE_KEY is not a PEM private key") from None
    return app.get_installation_auth(settings.installation_id)


def make_github(
    settings: Settings, auth: Auth.Auth | None = None, progress: Progress | None = None
) -> Github:
    """Build the client every read and write goes through (its progress on stderr)."""
    github = Github(
        auth=auth or make_auth(settings),
        base_url=settings.api_url,
        per_page=100,
        lazy=True,
        retry=make_retry(pacing=settings.pacing),
        # GitHub asks for at least one second between content-creating requests.
        seconds_between_requests=0.25 if settings.pacing else None,
        seconds_between_writes=1.0 if settings.pacing else None,
        user_agent="dataface-ops",
    )
    _name_failed_requests(github, progress or started(Progress()))
    return github


def _name_failed_requests(github: Github, progress: Progress) -> None:
    """Let a GitHub error say which request it answered (PyGithub's exceptions do not).

    Every REST call of PyGithub's objects and lists goes through the one Requester's
    requestJsonAndCheck; its failures get `request_line`, e.g. "GET /repos/o/r/issues",
    and each is counted for the progress report.
    """
    requester = github.requester
    original = requester.requestJsonAndCheck

    def checked(verb: str, url: str, *args: Any, **kwargs: Any) -> Any:
        progress.request(verb, url)
        try:
            return original(verb, url, *args, **kwargs)
        except GithubException as exc:
            exc.request_line = f"{verb} {urlsplit(url).path or url}"  # type: ignore[attr-defined]
            raise

    setattr(requester, "requestJsonAndCheck", checked)  # noqa: B010 (an instance, not the class)


def failure_text(exc: BaseException) -> str:
    """One line saying which request failed and how: GitHub's answer, or the network's."""
    if isinstance(exc, GithubException):
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        where = getattr(exc, "request_line", None)
        return (
            f"{where}: " if where else ""
        ) + f"GitHub answered {exc.status}: {message or exc.data}"
    if isinstance(exc, requests.RequestException):
        request = exc.request
        where = ""
        if request is not None and request.url:
            where = f"{request.method} {urlsplit(str(request.url)).path}: "
        return where + _network_reason(exc)
    return f"{type(exc).__name__}: {exc}"


def _network_reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.exceptions.RetryError):
        # urllib3 gave up after its retries: MaxRetryError's reason says on which status.
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return f"GitHub kept failing ({reason or 'retries exhausted'})"
    if isinstance(exc, requests.Timeout):
        return "GitHub did not answer in time"
    if isinstance(exc, requests.ConnectionError):
        return "the connection to GitHub failed"
    return f"the request failed ({type(exc).__name__})"


# Retries of a GraphQL read when the client's retry policy cannot be read (not ours).
_GRAPHQL_ATTEMPTS = 5


def _header(headers: dict[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def graphql_read(
    requester: Requester,
    query: str,
    variables: dict[str, Any],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """POST /graphql for a query, retried like a REST read (issue 12).

    The client never resends a POST (a write could double), but a query changes nothing:
    5xx answers and dropped connections are retried with the client's backoff, a secondary
    limit waits its Retry-After (or the client's secondary wait), and a primary limit ends
    the read unless it resets within MAX_RATE_LIMIT_WAIT_S. Returns the whole JSON answer
    (data and any per-field errors); the caller decides what a partial answer means.
    """
    retry = getattr(requester, "_Requester__retry", None)
    policy = retry if isinstance(retry, GithubRetry) else None
    attempts = (policy.total or 0) + 1 if policy is not None else _GRAPHQL_ATTEMPTS
    backoff = policy.backoff_factor if policy is not None else 1.0
    secondary = 60.0
    if policy is not None and policy.secondary_rate_wait is not None:
        secondary = policy.secondary_rate_wait
    cap = MAX_RATE_LIMIT_WAIT_S
    if policy is not None and policy.max_rate_limit_wait is not None:
        cap = policy.max_rate_limit_wait
    payload = {"query": query, "variables": variables}
    for attempt in range(attempts):
        last = attempt == attempts - 1
        try:
            _, data = requester.requestJsonAndCheck("POST", requester.graphql_url, input=payload)
        except RateLimitExceededException as exc:
            after = _header(exc.headers, "retry-after")
            if _header(exc.headers, "x-ratelimit-remaining") == "0" and after is None:
                reset = _header(exc.headers, "x-ratelimit-reset")
                wait = float(reset) - time.time() if reset else cap + 1
            else:
                wait = float(after) if after is not None else secondary
            if last or wait > cap:
                raise
            sleep(max(0.0, wait))
        except GithubException as exc:
            if exc.status < 500 or last:
                raise
            sleep(backoff * 2**attempt)
        except (requests.ConnectionError, requests.Timeout):
            if last:
                raise
            sleep(backoff * 2**attempt)
        else:
            if not isinstance(data, dict):
                raise GithubException(502, data, None, "GraphQL answer is not an object")
            return data
    raise AssertionError("unreachable")  # the last attempt returns or raises


# GITHUB_TOKEN's check runs are made by the "GitHub Actions" app.
ACTIONS_APP_SLUG = "github-actions"


def own_app(repo: Repository) -> tuple[int | None, str | None]:
    """Our app's id (a GitHub App installation) or slug (GITHUB_TOKEN: GitHub Actions)."""
    auth = repo.requester.auth
    if isinstance(auth, Auth.AppInstallationAuth):
        try:
            return int(auth.app_id), None
        except ValueError:
            return None, None
    # Any other token: its check runs are GitHub Actions' (a personal token cannot make any).
    return None, ACTIONS_APP_SLUG

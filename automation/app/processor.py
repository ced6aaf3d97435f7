"""The GitHub side of the app: installation tokens, one client per job, policies, the engine.

PyGithub's client is not thread-safe (its connection keeps the verb, URL and body between
`request()` and `getresponse()`), so no client is shared between deliveries: each job builds
its own from a cached installation token.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from automation.app.config import AppConfig
from automation.app.queue import Delivery, Permanent, Processor, RateLimited
from automation.events import Event

if TYPE_CHECKING:
    from automation.github import Github, GithubIntegration, Repository
    from automation.policy.policies import Policies

log = logging.getLogger("dataface_ops.webhook")

# How long a repository's installation (GET /repos/{o}/{r}/installation) is trusted.
INSTALLATION_TTL = 600.0


class InstallationClients:
    """Installation tokens (cached until shortly before they expire) and a client per job."""

    def __init__(self, config: AppConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self._tokens: dict[int, tuple[str, float]] = {}
        self._installations: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def integration(self) -> GithubIntegration:
        """A new client acting as the App itself (JWT), for the /app endpoints."""
        from automation.github import Auth, GithubIntegration, make_retry

        pacing = self.config.pacing
        return GithubIntegration(
            auth=Auth.AppAuth(self.config.app_id, self.config.private_key),
            base_url=self.config.api_url,
            per_page=100,
            retry=make_retry(pacing=pacing),
            seconds_between_requests=0.25 if pacing else None,
            seconds_between_writes=1.0 if pacing else None,
            user_agent="dataface-ops",
        )

    def token(self, installation_id: int) -> str:
        """POST /app/installations/{id}/access_tokens, once per token lifetime."""
        with self._lock:  # one request when several jobs find it missing at once
            cached = self._tokens.get(installation_id)
            if cached is not None and cached[1] - self.clock() > 300:
                return cached[0]
            answer = self.integration().get_access_token(installation_id)
            expires = answer.expires_at.timestamp() if answer.expires_at else self.clock() + 3000
            self._tokens[installation_id] = (answer.token, expires)
            return answer.token

    def installation_of(self, full_name: str) -> int:
        """GET /repos/{owner}/{repo}/installation as the App (cached for a while)."""
        key = full_name.lower()
        with self._lock:
            cached = self._installations.get(key)
        if cached is not None and self.clock() - cached[1] < INSTALLATION_TTL:
            return cached[0]
        owner, name = full_name.split("/", 1)
        number = int(self.integration().get_repo_installation(owner, name).id)
        with self._lock:
            self._installations[key] = (number, self.clock())
        return number

    def for_job(self, installation_id: int) -> Github:
        """A client of its own for one job, acting as the installation."""
        from automation.github import Auth, make_github
        from automation.settings import Settings

        settings = Settings(api_url=self.config.api_url, pacing=self.config.pacing)
        return make_github(settings, auth=Auth.Token(self.token(installation_id)))


class PolicyCache:
    """Policies read from the default branch (one GraphQL request), cached per commit."""

    def __init__(self, prefix: str = "policies", size: int = 64) -> None:
        self.prefix = prefix
        self.size = size
        self._cache: collections.OrderedDict[tuple[str, str], Policies] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[tuple[str, str], threading.Lock] = {}

    def get(self, repo: Repository, full_name: str, branch: str) -> Policies:
        """Load (or reuse) the policies at the branch's current head commit."""
        from automation.policy.loader import load_policies

        sha = repo.get_branch(branch).commit.sha  # GET /repos/{o}/{r}/branches/{branch}
        key = (full_name.lower(), sha)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            # One load per commit even when several workers miss at once.
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
            try:
                policies = load_policies(
                    policy_reader(repo, sha, self.prefix),
                    prefix=self.prefix,
                    source=f"{full_name}@{sha[:12]}:{self.prefix}",
                )
                with self._lock:
                    self._cache[key] = policies
                    while len(self._cache) > self.size:
                        self._cache.popitem(last=False)
            finally:
                with self._lock:
                    self._loading.pop(key, None)
        return policies


def policy_reader(repo: Repository, ref: str, prefix: str) -> Callable[[str], str | None]:
    """A policy reader that reads every policy file at `ref` in one GraphQL request."""
    from automation.github import read_files
    from automation.policy.loader import POLICY_FILES

    read_all: dict[str, str | None] | None = None

    def read(filename: str) -> str | None:
        nonlocal read_all
        if read_all is None:
            paths = [f"{prefix}/{name}.yaml" for name in POLICY_FILES]
            read_all = read_files(repo, ref, paths)
        return read_all.get(f"{prefix}/{filename}")

    return read


def actions_view(event: Event) -> Event:
    """Webhooks say `pull_request`; the app acts like pull_request_target (base policies)."""
    if event.name == "pull_request":
        return Event("pull_request_target", event.payload, event.delivery_id)
    return event


def _installation_id(payload: Mapping[str, Any]) -> int:
    installation = payload.get("installation")
    assert isinstance(installation, Mapping)  # the shape check let only these in
    return int(installation["id"])


def _reset_of(exc: Exception, now: float) -> float:
    headers = getattr(exc, "headers", None) or {}
    lowered = {str(k).lower(): v for k, v in dict(headers).items()}
    try:
        return float(lowered["x-ratelimit-reset"])
    except (KeyError, ValueError):
        try:
            return now + float(lowered["retry-after"])
        except (KeyError, ValueError):
            return now + 60


@contextlib.contextmanager
def job_failures(clock: Callable[[], float] = time.time) -> Iterator[None]:
    """Turn what a job raises into the queue's verdicts: an exhausted rate limit waits for
    its reset (counted from `clock()` when no header says), a bad policy file or a
    repository the App cannot see is permanent: a retry would meet the same."""
    from automation.errors import RepositoryNotVisible
    from automation.github import RateLimitExceededException
    from automation.policy.loader import PolicyError

    try:
        yield
    except RateLimitExceededException as exc:
        raise RateLimited(_reset_of(exc, clock())) from None
    except (PolicyError, RepositoryNotVisible) as exc:
        raise Permanent(str(exc)) from None


def installation_of(clients: InstallationClients, full_name: str) -> int:
    """The App's installation on the repository; Permanent when it is not installed there."""
    from automation.github import UnknownObjectException

    try:
        return clients.installation_of(full_name)
    except UnknownObjectException:
        raise Permanent(f"the App is not installed on {full_name}") from None


def raise_if_stopped(stopped: str | None, client: Github) -> None:
    """The executor stops on an exhausted rate limit or refused credentials; what it did is
    done, the rest is redone (by identity) when the delivery is retried."""
    if stopped:
        if "rate limit" in stopped:
            raise RateLimited(float(client.rate_limiting_resettime))
        raise RuntimeError(stopped)


def engine_processor(
    config: AppConfig,
    clients: InstallationClients,
    policies: PolicyCache,
    *,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Processor:
    """Process a delivery like `dataface-ops run`: route, read policies, collect, plan, apply."""
    from automation import engine
    from automation.github import known_repo
    from automation.routing import route

    def process(delivery: Delivery) -> None:
        event = actions_view(delivery.event)
        chosen = route(event)
        features = chosen.features
        if not features:
            log.info("no feature subscribes to %s", event.key, extra={"status": "skipped"})
            return
        assert event.repo  # the shape check let only owner/name in
        installation_id = _installation_id(event.payload)
        repository = event.payload.get("repository")
        branch = "main"
        if isinstance(repository, Mapping) and repository.get("default_branch"):
            branch = str(repository["default_branch"])
        with job_failures():
            owner = installation_of(clients, event.repo)
            if owner != installation_id:
                raise Permanent(
                    f"{event.repo} belongs to installation {owner}, not to the payload's "
                    f"{installation_id}: not acted on"
                )
            client = clients.for_job(installation_id)
            repo = known_repo(client, event.repo, branch)  # lazy: no request
            loaded = policies.get(repo, event.repo, branch)
            report = engine.run_live(
                repo,
                loaded,
                features,
                chosen.numbers,
                now(),
                dry_run=config.dry_run,
                max_writes=config.max_writes,
            )
        raise_if_stopped(report.stopped, client)
        log.info(
            "%s: %d applied, %d failed, %d dry-run",
            ", ".join(features),
            report.count("applied"),
            report.count("failed"),
            report.count("dry-run"),
        )

    return process


def own_bot_login(config: AppConfig) -> str:
    """The App's bot account, `<slug>[bot]` (GET /app with the App's JWT)."""
    return f"{InstallationClients(config).integration().get_app().slug}[bot]"

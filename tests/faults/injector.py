"""A contract-checked GitHub mock that fails one chosen request the way GitHub does.

Every fake answers through `FaultyGitHub.add_callback`, which wraps its callback: the chosen
write (or read), counted in the order the run sends them, fails once (or, for a persistent
read fault, on every attempt for that URL). A fault either lets the fake apply the write
first (GitHub did it, the answer was lost) or not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from tests.github_api import checker
from tests.github_api import graphql as gql
from tests.github_api.fixtures import GitHubMock, injected

Reply = tuple[int, dict[str, str], str]
Kind = Literal["status", "connection", "timeout"]

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_CHECKED: dict[tuple[Any, ...], list[str]] = {}


@dataclass(frozen=True)
class Fault:
    """One way a request can fail."""

    name: str
    kind: Kind = "status"
    applied: bool = False  # GitHub applied the write before the answer failed
    status: int = 0
    message: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    persistent: bool = False  # every attempt at this URL fails, retries included

    def __str__(self) -> str:
        return self.name


SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
PRIMARY = "API rate limit exceeded for installation ID 1."
# Far in the future: the client must not wait for the reset (it ends the run instead).
RESET = (("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", "4102444800"))

WRITE_FAULTS = (
    Fault("502 applied", applied=True, status=502, message="Server Error"),
    Fault("502 not applied", status=502, message="Server Error"),
    Fault("dropped connection", kind="connection"),
    Fault("dropped connection after GitHub applied it", kind="connection", applied=True),
    Fault("timeout after GitHub applied it", kind="timeout", applied=True),
    Fault("secondary rate limit", status=403, message=SECONDARY, headers=(("Retry-After", "0"),)),
    Fault("primary rate limit", status=403, message=PRIMARY, headers=RESET),
)
READ_FAULTS = (
    Fault("500 once", status=500, message="Server Error"),
    Fault("429 once", status=429, message=SECONDARY, headers=(("Retry-After", "0"),)),
    Fault("persistent 502", status=502, message="Server Error", persistent=True),
)


def is_write(method: str, url: str) -> bool:
    """Whether a request changes GitHub (GraphQL here only reads)."""
    return method in WRITE_METHODS and not urlsplit(url).path.endswith("/graphql")


@dataclass
class Armed:
    fault: Fault
    writes: bool  # count writes (else reads)
    index: int  # the 0-based request of that kind to fail
    fired: str | None = None  # "METHOD URL" once it fired


class FaultyGitHub(GitHubMock):
    """`GitHubMock` whose callbacks can fail one chosen request."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.writes_sent = 0
        self.armed: Armed | None = None

    def arm(self, fault: Fault, *, writes: bool, index: int) -> None:
        """Fail the `index`-th write (or read) from now on, counted from zero."""
        self.reads = self.writes_sent = 0
        self.armed = Armed(fault, writes, index)

    def disarm(self) -> str | None:
        """Stop failing; return the request that failed, if any did."""
        fired = self.armed.fired if self.armed else None
        self.armed = None
        return fired

    def add_callback(self, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        if "callback" in kwargs:
            kwargs["callback"] = self._wrap(kwargs["callback"])
        else:
            args = (self._wrap(args[0]), *args[1:])
        return super().add_callback(method, url, *args, **kwargs)

    def problems(self) -> list[str]:
        """Contract problems, each distinct call checked once for the whole layer.

        Hundreds of fault runs send the same calls again; schema validation is the slow part.
        """
        problems: list[str] = []
        for i, call in enumerate(self.calls):
            req, resp = call.request, call.response
            if getattr(resp, "_injected_fault", False):
                continue
            if not isinstance(resp, requests.Response):
                problems.append(f"call {i}: {req.method} {req.url}: no mock matched")
                continue
            key = (req.method, req.url, req.body, resp.status_code, resp.content)
            if key not in _CHECKED:
                if req.method == "POST" and req.url == self.graphql_url:
                    # GraphQL is checked against GitHub's GraphQL schema, not the REST one.
                    _CHECKED[key] = gql.request_problems(req.body) + gql.answer_problems(
                        resp.content
                    )
                else:
                    _CHECKED[key] = checker.check_call(
                        str(req.method), str(req.url), req.body, resp.status_code, resp.content
                    )
            problems.extend(f"call {i}: {line}" for line in _CHECKED[key])
        return problems

    def serve(self, method: str, url: Any, payload: Any, status: int = 200) -> None:
        """A fixed answer that faults can still hit."""
        text = json.dumps(payload)
        self.add_callback(method, url, callback=lambda request: (status, {}, text))

    def _wrap(self, callback: Callable[[Any], Reply]) -> Callable[[Any], Reply]:
        def wrapped(request: Any) -> Reply:
            method, url = str(request.method), str(request.url)
            fault = self._due(method, url)
            if fault is None:
                return callback(request)
            if fault.applied:
                status, _, _ = callback(request)
                assert status < 400, f"a faulted write failed on its own: {method} {url}"
            if fault.kind == "connection":
                raise injected(
                    requests.ConnectionError(
                        "Connection aborted: RemoteDisconnected", request=request
                    )
                )
            if fault.kind == "timeout":
                raise injected(requests.ReadTimeout("Read timed out", request=request))
            body = {"message": fault.message, "documentation_url": "https://docs.github.com/rest"}
            return (
                fault.status,
                {"Content-Type": "application/json", **dict(fault.headers)},
                (json.dumps(body)),
            )

        return wrapped

    def _due(self, method: str, url: str) -> Fault | None:
        armed = self.armed
        key = f"{method} {url}"
        if armed is not None and armed.fired is not None:
            return armed.fault if armed.fault.persistent and armed.fired == key else None
        write = is_write(method, url)
        if write:
            self.writes_sent += 1
            position = self.writes_sent - 1
        else:
            self.reads += 1
            position = self.reads - 1
        if armed is None or armed.writes != write or armed.index != position:
            return None
        armed.fired = key
        return armed.fault

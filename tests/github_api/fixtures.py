"""``github`` pytest fixture: a ``responses`` mock that enforces GitHub's REST contract.

* every registration (``add``/``get``/``post``/.../``add_callback``/``replace``) must map
  to a vendored, documented operation, otherwise ``UndocumentedEndpoint`` is raised
  immediately;
* at teardown every recorded call is checked with ``checker.check_call`` (path, method,
  query names, request body schema, status, response body schema) and the test fails
  listing all problems.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partialmethod
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
import responses
from responses import BaseResponse, Call

from tests.github_api import checker
from tests.github_api import graphql as gql

GHES_URL = "https://ghe.example.com/api/v3"


def _strip_default_port(url: str) -> str:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if parts.port is not None and parts.port == default:
        host = parts.netloc.rsplit(":", 1)[0]
        return urlunsplit(parts._replace(netloc=host))
    return url


def injected(exc: BaseException) -> BaseException:
    """Mark a network failure a test raises on purpose (a mock's body or a fault layer's), so
    the teardown check does not read it as a call no mock matched."""
    exc._injected_fault = True  # type: ignore[attr-defined]
    return exc


class UndocumentedEndpoint(AssertionError):
    """A mock was registered for a URL/method that GitHub does not document."""


class GitHubMock(responses.RequestsMock):
    """``responses.RequestsMock`` with contract checks and request counting helpers.

    Relative URLs (``"/repos/o/r"``) are resolved against ``base_url``.
    Regex URL patterns are accepted but only checked at teardown (per call).
    """

    def __init__(self, base_url: str = checker.API_URL) -> None:
        super().__init__(assert_all_requests_are_fired=False)
        self.base_url = base_url.rstrip("/")
        # (owner/name lowercased, ref, path) -> text, served by `serve_files`.
        self._files: dict[tuple[str, str, str], str] | None = None

    # ------------------------------------------------------------ registration
    def url(self, path: str) -> str:
        return f"{self.base_url}{path}" if path.startswith("/") else path

    def _checked(self, method: str, url: Any) -> Any:
        if isinstance(url, str):
            url = self.url(url)
            problems = checker.check_registration(method, url)
            if problems:
                raise UndocumentedEndpoint("\n".join(problems))
        return url

    def add(
        self,
        method: Any = None,
        url: Any = None,
        body: Any = "",
        adding_headers: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> BaseResponse:
        if isinstance(method, BaseResponse):
            self._checked(method.method, method.url)
            return super().add(method)
        url = self._checked(str(method), url)
        return super().add(method, url, body, adding_headers, *args, **kwargs)

    delete = partialmethod(add, responses.DELETE)
    get = partialmethod(add, responses.GET)
    head = partialmethod(add, responses.HEAD)
    patch = partialmethod(add, responses.PATCH)
    post = partialmethod(add, responses.POST)
    put = partialmethod(add, responses.PUT)

    def replace(
        self, method_or_response: Any = None, url: Any = None, body: Any = "", *a: Any, **kw: Any
    ) -> BaseResponse:
        if isinstance(method_or_response, BaseResponse):
            self._checked(method_or_response.method, method_or_response.url)
            return super().replace(method_or_response)
        url = self._checked(str(method_or_response), url)
        return super().replace(method_or_response, url, body, *a, **kw)

    def add_callback(self, method: str, url: Any, *args: Any, **kwargs: Any) -> BaseResponse:
        return super().add_callback(method, self._checked(method, url), *args, **kwargs)

    @property
    def graphql_url(self) -> str:
        """POST /graphql (GitHub Enterprise Server serves it at /api/graphql)."""
        base = self.base_url
        return (
            base.removesuffix("/v3") + "/graphql" if base.endswith("/api/v3") else f"{base}/graphql"
        )

    def graphql(self, handler: gql.Handler) -> BaseResponse:
        """Serve POST /graphql: `handler(query, variables)` returns the root of a plain-data
        model the query is executed over (against GitHub's schema), or a raw reply."""

        def callback(request: Any) -> gql.Reply:
            data = json.loads(request.body or b"{}")
            query, variables = str(data.get("query", "")), data.get("variables") or {}
            if gql.request_problems(request.body):
                return 200, {}, json.dumps({"errors": [{"message": "invalid query"}]})
            answer = handler(query, variables)
            if isinstance(answer, tuple):
                return answer
            return gql.execute(query, variables, answer)

        # Not through _checked: /graphql is no REST operation; problems() checks its calls.
        return responses.RequestsMock.add_callback(self, "POST", self.graphql_url, callback)

    def serve_files(self, repo: str, ref: str, files: dict[str, str]) -> None:
        """Serve files at a commit the way GraphQL reads them: a query's
        `repository(owner, name) { object(expression: "REF:PATH") { ... on Blob { text } } }`
        (GitHub's schema checks the query). Repeated calls add files to the one handler."""
        if self._files is None:
            self._files = {}
            store = self._files

            def repository(
                _info: Any, owner: str, name: str, **_defaults: Any
            ) -> dict[str, Any] | None:
                full = f"{owner}/{name}".lower()
                if not any(key[0] == full for key in store):
                    raise gql.NotFound(f"Could not resolve to a Repository {owner}/{name}")

                def lookup(_info: Any, expression: str) -> dict[str, Any] | None:
                    ref, _, path = expression.partition(":")
                    text = store.get((full, ref, path))
                    if text is None:
                        return None
                    return {
                        "__typename": "Blob",
                        "text": text,
                        "isBinary": False,
                        "isTruncated": False,
                    }

                return {"object": lookup}

            self.graphql(lambda _query, _variables: {"repository": repository})
        self._files.update({(repo.lower(), ref, path): text for path, text in files.items()})

    # ---------------------------------------------------------------- matching
    def _on_request(self, adapter: Any, request: Any, **kwargs: Any) -> Any:
        # PyGithub always sends an explicit default port ("https://api.github.com:443/...");
        # drop it so mocks can be registered with ordinary URLs (and .calls show those).
        request.url = _strip_default_port(str(request.url))
        return super()._on_request(adapter, request, **kwargs)

    # ----------------------------------------------------------------- queries
    def _select(self, method: str | None, path_contains: str | None) -> list[Call]:
        out = []
        for call in self.calls:
            req = call.request
            if method is not None and (req.method or "").upper() != method.upper():
                continue
            if path_contains is not None and path_contains not in urlsplit(req.url or "").path:
                continue
            out.append(call)
        return out

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        """Number of recorded calls, optionally filtered by method and URL-path substring."""
        return len(self._select(method, path_contains))

    def writes(self) -> list[Call]:
        """Recorded calls that would change GitHub state: not GET/HEAD, nor a GraphQL query
        (a POST /graphql changes something only when it sends a mutation)."""
        return [
            c
            for c in self.calls
            if (c.request.method or "").upper() not in ("GET", "HEAD") and not self._query(c)
        ]

    def _query(self, call: Call) -> bool:
        if call.request.url != self.graphql_url:
            return False
        try:
            query = json.loads(call.request.body or b"{}").get("query", "")
        except ValueError:
            return False
        return not str(query).lstrip().startswith("mutation")

    def json_bodies(self, method: str | None = None, path_contains: str | None = None) -> list[Any]:
        """Decoded JSON request bodies of the selected calls (``None`` when empty)."""
        bodies = []
        for call in self._select(method, path_contains):
            raw = call.request.body
            bodies.append(json.loads(raw) if isinstance(raw, str | bytes) and raw else None)
        return bodies

    # ------------------------------------------------------------------ checks
    def problems(self) -> list[str]:
        """Contract problems of every recorded call so far."""
        problems: list[str] = []
        for i, call in enumerate(self.calls):
            req, resp = call.request, call.response
            method, url = (req.method or "").upper(), req.url or ""
            if getattr(resp, "_injected_fault", False):
                continue  # a failure the test raised on purpose: no answer to check
            if not isinstance(resp, requests.Response):  # responses records the exception
                problems.append(f"call {i}: {method} {url}: no mock matched ({resp!r:.200})")
                continue
            if method == "POST" and url == self.graphql_url:
                lines = gql.request_problems(req.body) + gql.answer_problems(resp.content)
                problems.extend(f"call {i}: {line}" for line in lines)
                continue
            for line in checker.check_call(method, url, req.body, resp.status_code, resp.content):
                problems.append(f"call {i}: {line}")
        return problems


@pytest.fixture
def github() -> Iterator[GitHubMock]:
    """A started ``GitHubMock`` for ``https://api.github.com`` (GHES URLs work as well)."""
    mock = GitHubMock()
    mock.start()
    try:
        yield mock
        problems = mock.problems()
    finally:
        mock.stop(allow_assert=False)
        mock.reset()
    if problems:
        pytest.fail("GitHub API contract problems:\n" + "\n".join(problems), pytrace=False)

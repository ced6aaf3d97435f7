"""Check mocked GitHub REST traffic against the vendored OpenAPI subset.

``openapi-subset.json`` is produced by ``scripts/vendor_github_api.py`` from
``@octokit/openapi`` (see README.md next to this file). Everything here is pure:
no network, no ``responses`` dependency (that lives in ``fixtures.py``).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError, best_match  # type: ignore[import-untyped]

SUBSET_PATH = Path(__file__).with_name("openapi-subset.json")

#: Path prefixes stripped before matching (GitHub Enterprise Server serves the API there).
BASE_PREFIXES: tuple[str, ...] = ("/api/v3",)

#: A trailing path parameter with one of these names may span several segments
#: (``git/ref/heads/feature/x``, ``contents/docs/a.md``, ``branches/release/1.0``...).
GREEDY_PARAMS = frozenset({"ref", "path", "branch", "tag", "name", "basehead"})

#: Bodies the spec allows only in prose. ``issues/add-labels`` (which PyGithub's
#: ``Issue.add_to_labels`` uses) says "You can also pass an `array` of labels directly",
#: but its schema only has ``{"labels": [...]}``: a bare array is checked as that object.
BARE_ARRAY_BODY_KEY: dict[str, str] = {"issues/add-labels": "labels"}

API_URL = "https://api.github.com"
_MAX_MESSAGE = 240

JSON = Any


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, eq=False)  # identity hash: used as a cache key
class Operation:
    method: str
    path: str
    operation_id: str
    path_params: dict[str, dict[str, Any]]
    query_params: dict[str, dict[str, Any]]
    request_body: dict[str, Any] | None
    responses: dict[str, dict[str, Any]]
    segments: tuple[str, ...] = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path} ({self.operation_id})"

    @functools.cached_property
    def request_validator(self) -> Draft202012Validator | None:
        if not self.request_body or self.request_body.get("schema") is None:
            return None
        return Draft202012Validator(to_json_schema(self.request_body["schema"]))

    def response_validator(self, status: int) -> Draft202012Validator | None:
        return _response_validator(self, str(status))


@dataclass(frozen=True)
class Match:
    operation: Operation
    params: dict[str, str]


@functools.cache
def _response_validator(op: Operation, status: str) -> Draft202012Validator | None:
    schema = op.responses.get(status, {}).get("schema")
    if schema is None:
        return None
    return Draft202012Validator(to_json_schema(schema, drop_required=True))


@functools.cache
def load() -> dict[str, Any]:
    """The vendored subset, parsed once."""
    data: dict[str, Any] = json.loads(SUBSET_PATH.read_text(encoding="utf-8"))
    return data


@functools.cache
def operations() -> tuple[Operation, ...]:
    return tuple(
        Operation(
            method=o["method"],
            path=o["path"],
            operation_id=o["operationId"],
            path_params=o["path_params"],
            query_params=o["query_params"],
            request_body=o["request_body"],
            responses=o["responses"],
            segments=tuple(o["path"].strip("/").split("/")),
        )
        for o in load()["operations"]
    )


def find_operation(key: str | tuple[str, str]) -> Operation:
    """Look up by operationId (``"issues/get"``) or ``(METHOD, path template)``."""
    for op in operations():
        if key == op.operation_id or (
            isinstance(key, tuple) and (key[0].upper(), key[1]) == (op.method, op.path)
        ):
            return op
    raise KeyError(f"operation not vendored: {key!r}")


# ------------------------------------------------------------------ schema handling


def to_json_schema(schema: Any, *, drop_required: bool = False) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema 2020-12.

    * ``nullable: true`` allows ``null`` (added to ``type``/``enum`` or via ``anyOf``);
    * ``oneOf`` becomes ``anyOf``: GitHub's object schemas are open, so partial objects
      routinely match several branches and ``oneOf`` would reject valid payloads;
    * ``required`` lists are dropped for responses (mocks may be partial);
    * ``format`` is kept but not asserted (no format checker is used).
    """
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "nullable":
            continue
        if key == "required" and drop_required:
            continue
        if key == "properties":
            out[key] = {k: to_json_schema(v, drop_required=drop_required) for k, v in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = to_json_schema(value, drop_required=drop_required)
        elif key in ("anyOf", "oneOf", "allOf"):
            subs = [to_json_schema(v, drop_required=drop_required) for v in value]
            out["anyOf" if key == "oneOf" else key] = subs
        else:
            out[key] = value
    if schema.get("nullable") is True:
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "type" not in out and "enum" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _json_path(error: ValidationError, root: str = "$") -> str:
    path = root
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _short(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _schema_problems(
    validator: Draft202012Validator, instance: Any, where: str, label: str, root: str = "$"
) -> list[str]:
    problems = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        detail = error
        if error.context:  # anyOf/oneOf: report the most relevant branch failure
            detail = best_match(error.context)
        path = _json_path(detail, root)
        problems.append(f"{label}: {where} field {path}: {_short(detail.message)}")
    return problems


# -------------------------------------------------------------------- URL matching


def api_path(url: str) -> tuple[str, str]:
    """Split a URL (or bare path) into (API path without base prefix, query string)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    for prefix in BASE_PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            path = path[len(prefix) :] or "/"
            break
    return path, parts.query


def _param_ok(value: str, schema: Mapping[str, Any]) -> bool:
    if schema.get("type") == "integer":
        return re.fullmatch(r"-?\d+", value) is not None
    return value != ""


def _match_template(op: Operation, segments: list[str]) -> dict[str, str] | None:
    tmpl = op.segments
    last = tmpl[-1]
    greedy = last.startswith("{") and last[1:-1] in GREEDY_PARAMS
    if greedy:
        if len(segments) < len(tmpl):
            return None
        segments = [*segments[: len(tmpl) - 1], "/".join(segments[len(tmpl) - 1 :])]
    if len(segments) != len(tmpl):
        return None
    params: dict[str, str] = {}
    for t, s in zip(tmpl, segments, strict=True):
        if t.startswith("{") and t.endswith("}"):
            name = t[1:-1]
            value = unquote(s)
            if not _param_ok(value, op.path_params.get(name, {}).get("schema", {})):
                return None
            params[name] = value
        elif t != s:
            return None
    return params


def resolve(path: str) -> tuple[list[Match], list[str]]:
    """All operations whose template matches ``path`` best (any method), plus problems.

    Literal segments beat parameters; a single-segment match beats a greedy one.
    """
    segments = path.strip("/").split("/")
    scored: list[tuple[tuple[int, int], Match]] = []
    for op in operations():
        params = _match_template(op, segments)
        if params is not None:
            literals = sum(1 for t in op.segments if not t.startswith("{"))
            spans = len(segments) - len(op.segments)  # extra segments eaten by a greedy param
            scored.append(((literals, -spans), Match(op, params)))
    if not scored:
        return [], [f"{path}: no vendored GitHub REST path template matches"]
    best = max(score for score, _ in scored)
    matches = [m for score, m in scored if score == best]
    templates = sorted({m.operation.path for m in matches})
    if len(templates) > 1:
        return matches, [f"{path}: ambiguous, matches templates {', '.join(templates)}"]
    return matches, []


def match_operation(method: str, url: str) -> tuple[Match | None, list[str]]:
    path, _ = api_path(url)
    matches, problems = resolve(path)
    if problems:
        return None, problems
    for m in matches:
        if m.operation.method == method.upper():
            return m, []
    documented = ", ".join(sorted(m.operation.method for m in matches))
    return None, [
        f"{method.upper()} {path}: method not documented for {matches[0].operation.path}"
        f" (vendored: {documented})"
    ]


# ------------------------------------------------------------------------- checks


def _coerce_query(value: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?\d+", value):
        return int(value)
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def _query_problems(op: Operation, query: str) -> list[str]:
    problems = []
    pairs = parse_qsl(query, keep_blank_values=True)
    declared = op.query_params
    for name, value in pairs:
        if name not in declared:
            names = ", ".join(sorted(declared)) or "none"
            problems.append(
                f"{op.label}: query parameter {name!r} is not declared (declared: {names})"
            )
            continue
        schema = declared[name].get("schema") or {}
        if schema.get("type") == "array":
            continue  # serialisation style varies; names are what we can check reliably
        validator = Draft202012Validator(to_json_schema(schema))
        for error in validator.iter_errors(_coerce_query(value, schema)):
            problems.append(f"{op.label}: query parameter {name!r}: {_short(error.message)}")
    sent = {name for name, _ in pairs}
    for name, spec in declared.items():
        if spec.get("required") and name not in sent:
            problems.append(f"{op.label}: required query parameter {name!r} missing")
    return problems


def _decode_json(raw: Any, what: str, label: str) -> tuple[Any, list[str]]:
    """(value, problems); ``raw`` may be bytes, str, or already-decoded JSON."""
    if isinstance(raw, bytes | bytearray):
        raw = raw.decode("utf-8", errors="replace")
    if isinstance(raw, str):
        try:
            return json.loads(raw), []
        except ValueError as exc:
            return None, [f"{label}: {what} is not JSON ({exc}): {_short(raw)!r}"]
    return raw, []


def _is_empty(body: Any) -> bool:
    return body is None or (isinstance(body, str | bytes | bytearray) and not body.strip())


def _request_problems(op: Operation, body: bytes | str | None) -> list[str]:
    rb = op.request_body
    if _is_empty(body):
        if rb and rb.get("required"):
            return [f"{op.label}: request body is required but none was sent"]
        return []
    if rb is None:
        return [f"{op.label}: request body sent but the operation documents none"]
    value, problems = _decode_json(body, "request body", op.label)
    if problems:
        return problems
    if isinstance(value, list) and op.operation_id in BARE_ARRAY_BODY_KEY:
        value = {BARE_ARRAY_BODY_KEY[op.operation_id]: value}
    schema = rb.get("schema") or {}
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        for key in sorted(set(value) - set(schema["properties"])):
            problems.append(f"{op.label}: request body field $.{key} is not documented")
    if op.request_validator is not None:
        problems += _schema_problems(op.request_validator, value, "request body", op.label)
    return problems


#: Answers GitHub may give to any request, documented once for the whole API rather than per
#: operation: bad credentials (401), rate limits (403 and 429, "Rate limits for the REST
#: API"), and server errors or timeouts (500, 502, 503, 504).
UNIVERSAL_STATUSES = frozenset({401, 403, 429, 500, 502, 503, 504})


def _response_problems(op: Operation, status: int, body: Any) -> list[str]:
    key = str(status)
    if status in UNIVERSAL_STATUSES and key not in op.responses:
        return []
    if key not in op.responses and "default" not in op.responses:
        documented = ", ".join(sorted(op.responses))
        return [f"{op.label}: status {status} is not documented (documented: {documented})"]
    validator = op.response_validator(status) if 200 <= status < 300 else None
    if validator is None:
        return []
    if _is_empty(body):
        return [f"{op.label}: response {status} has an empty body but a JSON body is documented"]
    value, problems = _decode_json(body, f"response {status} body", op.label)
    if problems:
        return problems
    items = _items_validator(op, str(status))
    if items is not None and isinstance(value, list):
        # A page is a list of objects that recur from page to page and run to run (a sweep
        # reads the same issues twice): each distinct object is validated once.
        where = f"response {status} body"
        return [
            line
            for index, item in enumerate(value)
            for line in _item_problems(items, op.label, where, index, item)
        ]
    return _schema_problems(validator, value, f"response {status} body", op.label)


@functools.cache
def _items_validator(op: Operation, status: str) -> Draft202012Validator | None:
    """A validator of one item, when the response schema is nothing but an array of them."""
    validator = _response_validator(op, status)
    schema = validator.schema if validator is not None else None
    if not isinstance(schema, dict) or set(schema) - {"type", "items", "description"}:
        return None
    if schema.get("type") != "array" or not isinstance(schema.get("items"), dict):
        return None
    return Draft202012Validator(schema["items"])


_ITEMS_CHECKED: dict[tuple[int, str], tuple[str, ...]] = {}


def _item_problems(
    validator: Draft202012Validator, label: str, where: str, index: int, item: Any
) -> list[str]:
    key = (id(validator), json.dumps(item, sort_keys=True))
    if key not in _ITEMS_CHECKED:
        if len(_ITEMS_CHECKED) >= _MAX_CHECKED:
            _ITEMS_CHECKED.clear()
        _ITEMS_CHECKED[key] = tuple(_schema_problems(validator, item, where, label, "$[#]"))
    return [line.replace("$[#]", f"$[{index}]", 1) for line in _ITEMS_CHECKED[key]]


def check_response(key: str | tuple[str, str], status: int, body: Any) -> list[str]:
    """Status + response body problems for one operation (operationId or (METHOD, path))."""
    return _response_problems(find_operation(key), status, body)


def check_registration(method: str, url: str) -> list[str]:
    """Problems with mocking ``method url``: it must map to one documented operation."""
    m, problems = match_operation(method, url)
    if m is None:
        return problems
    _, query = api_path(url)
    return _query_problems(m.operation, query) if query else []


def check_call(
    method: str,
    url: str,
    request_body: bytes | str | None,
    status: int,
    response_body: Any,
) -> list[str]:
    """Every contract problem of one HTTP exchange, as human-readable lines (empty = fine).

    ``response_body`` may be bytes, str or already-decoded JSON. The answer depends on the
    exchange alone (the vendored description never changes in a session), so identical
    exchanges (the same page read again by a converging second run, the same documented
    example in many tests) are validated once.
    """
    key = _exchange_key(method, url, request_body, status, response_body)
    if key is None:
        return _check_call(method, url, request_body, status, response_body)
    if key not in _CHECKED:
        if len(_CHECKED) >= _MAX_CHECKED:
            _CHECKED.clear()  # a memo of a pure function: bounded, never stale
        _CHECKED[key] = tuple(_check_call(method, url, request_body, status, response_body))
    return list(_CHECKED[key])


_CHECKED: dict[tuple[str, str, bytes, int, bytes], tuple[str, ...]] = {}
_MAX_CHECKED = 50_000


def _digest(body: bytes | str | None) -> bytes:
    data = body.encode() if isinstance(body, str) else (body or b"")
    return hashlib.blake2b(data, digest_size=16).digest()


def _exchange_key(
    method: str, url: str, request_body: Any, status: int, response_body: Any
) -> tuple[str, str, bytes, int, bytes] | None:
    bodies = (request_body, response_body)
    if not all(b is None or isinstance(b, bytes | str) for b in bodies):
        return None  # decoded JSON: not worth hashing
    return method, url, _digest(request_body), status, _digest(response_body)


def _check_call(
    method: str,
    url: str,
    request_body: bytes | str | None,
    status: int,
    response_body: Any,
) -> list[str]:
    m, problems = match_operation(method, url)
    if m is None:
        return problems
    op = m.operation
    _, query = api_path(url)
    return [
        *_query_problems(op, query),
        *_request_problems(op, request_body),
        *_response_problems(op, status, response_body),
    ]


# ------------------------------------------------------------------------ examples


def _rewrite_strings(value: Any, replacements: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for old, new in replacements:
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_rewrite_strings(v, replacements) for v in value]
    if isinstance(value, dict):
        return {k: _rewrite_strings(v, replacements) for k, v in value.items()}
    return value


def example(
    key: str | tuple[str, str],
    status: int | None = None,
    *,
    base_url: str = API_URL,
    repo: str | None = None,
    **overrides: Any,
) -> JSON:
    """A deep copy of GitHub's documented example response for an operation.

    ``key`` is an operationId or ``(METHOD, template)``; ``status`` defaults to the first
    2xx status that has an example. ``base_url`` rewrites ``https://api.github.com`` URLs
    (use ``https://ghe.example.com/api/v3`` for GHES) and ``repo`` ("owner/name") rewrites
    the example repository ``octocat/Hello-World`` in URLs and names, so PyGithub follows
    links back to your mocks. ``overrides`` replace top-level keys of an object example.
    """
    op = find_operation(key)
    statuses = [str(status)] if status is not None else sorted(op.responses)
    for s in statuses:
        entry = op.responses.get(s, {})
        if s.startswith("2") and "example" in entry:
            value = copy.deepcopy(entry["example"])
            break
    else:
        raise KeyError(f"{op.label}: no example response for status {status or '2xx'}")
    replacements: list[tuple[str, str]] = []
    if repo is not None:
        replacements += [
            ("/repos/octocat/Hello-World", f"/repos/{repo}"),
            ("github.com/octocat/Hello-World", f"github.com/{repo}"),
        ]
        if isinstance(value, dict) and value.get("full_name") == "octocat/Hello-World":
            value["full_name"] = repo
    if base_url.rstrip("/") != API_URL:
        replacements.append((API_URL, base_url.rstrip("/")))
    if replacements:
        value = _rewrite_strings(value, replacements)
    if overrides:
        if not isinstance(value, dict):
            raise TypeError(f"{op.label}: overrides need an object example, not a list")
        value.update(overrides)
    return value


def _first(key: str, **kw: Any) -> dict[str, Any]:
    """First item of a list example (e.g. one label out of ``list-labels-for-repo``)."""
    items = example(key, **kw)
    item: dict[str, Any] = copy.deepcopy(items[0])
    return item


def _api(base_url: str, repo: str | None) -> str:
    return f"{base_url.rstrip('/')}/repos/{repo or 'octocat/Hello-World'}"


def contents_json(repo: str, path: str, text: str, *, ref: str = "main") -> JSON:
    """A contents-API answer for one file (GitHub's example is a directory listing)."""
    import base64

    url = f"{API_URL}/repos/{repo}/contents/{path}"
    blob = f"{API_URL}/repos/{repo}/git/blobs/{'d' * 40}"
    html = f"https://github.com/{repo}/blob/{ref}/{path}"
    return {
        "type": "file",
        "encoding": "base64",
        "size": len(text.encode()),
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "content": base64.b64encode(text.encode()).decode(),
        "sha": "d" * 40,
        "url": url,
        "git_url": blob,
        "html_url": html,
        "download_url": f"https://raw.githubusercontent.com/{repo}/{ref}/{path}",
        "_links": {"self": url, "git": blob, "html": html},
    }


def user_json(login: str = "octocat", *, base_url: str = API_URL, **overrides: Any) -> JSON:
    """A ``simple-user`` (taken from the issue example) for ``login``."""
    user = example("issues/get", base_url=base_url)["user"]
    user = _rewrite_strings(user, [("/octocat", f"/{login}")])
    user["login"] = login
    user.update(overrides)
    return user


def label_json(
    name: str = "bug", *, base_url: str = API_URL, repo: str | None = None, **overrides: Any
) -> JSON:
    label = _first("issues/list-labels-for-repo", base_url=base_url, repo=repo)
    label.update(name=name, url=f"{_api(base_url, repo)}/labels/{quote(name)}", **overrides)
    return label


def issue_json(
    number: int = 1347,
    *,
    title: str | None = None,
    body: str | None = None,
    state: str | None = None,
    labels: list[str] | None = None,
    assignees: list[str] | None = None,
    user_login: str | None = None,
    base_url: str = API_URL,
    repo: str | None = None,
    **overrides: Any,
) -> JSON:
    issue = example("issues/get", base_url=base_url, repo=repo)
    url = f"{_api(base_url, repo)}/issues/{number}"
    issue.update(
        number=number,
        url=url,
        comments_url=f"{url}/comments",
        events_url=f"{url}/events",
        labels_url=f"{url}/labels{{/name}}",
        html_url=issue["html_url"].rsplit("/", 1)[0] + f"/{number}",
    )
    for k, v in (("title", title), ("body", body), ("state", state)):
        if v is not None:
            issue[k] = v
    if labels is not None:
        issue["labels"] = [label_json(n, base_url=base_url, repo=repo) for n in labels]
    if assignees is not None:
        issue["assignees"] = [user_json(a, base_url=base_url) for a in assignees]
        issue["assignee"] = issue["assignees"][0] if assignees else None
    if user_login is not None:
        issue["user"] = user_json(user_login, base_url=base_url)
    issue.update(overrides)
    return issue


def comment_json(
    comment_id: int = 1,
    *,
    body: str | None = None,
    user_login: str | None = None,
    issue_number: int | None = None,
    base_url: str = API_URL,
    repo: str | None = None,
    **overrides: Any,
) -> JSON:
    comment = example("issues/create-comment", base_url=base_url, repo=repo)
    comment.update(id=comment_id, url=f"{_api(base_url, repo)}/issues/comments/{comment_id}")
    if body is not None:
        comment["body"] = body
    if user_login is not None:
        comment["user"] = user_json(user_login, base_url=base_url)
    if issue_number is not None:
        comment["issue_url"] = f"{_api(base_url, repo)}/issues/{issue_number}"
    comment.update(overrides)
    return comment


def pull_json(
    number: int = 1347,
    *,
    title: str | None = None,
    body: str | None = None,
    state: str | None = None,
    head_ref: str | None = None,
    head_sha: str | None = None,
    base_ref: str | None = None,
    labels: list[str] | None = None,
    user_login: str | None = None,
    base_url: str = API_URL,
    repo: str | None = None,
    **overrides: Any,
) -> JSON:
    pull = example("pulls/get", base_url=base_url, repo=repo)
    api = _api(base_url, repo)
    url = f"{api}/pulls/{number}"
    pull.update(
        number=number,
        url=url,
        issue_url=f"{api}/issues/{number}",
        commits_url=f"{url}/commits",
        review_comments_url=f"{url}/comments",
        comments_url=f"{api}/issues/{number}/comments",
    )
    for k, v in (("title", title), ("body", body), ("state", state)):
        if v is not None:
            pull[k] = v
    if head_ref is not None:
        pull["head"].update(ref=head_ref, label=f"{pull['head']['user']['login']}:{head_ref}")
    if head_sha is not None:
        pull["head"]["sha"] = head_sha
        pull["statuses_url"] = f"{api}/statuses/{head_sha}"
    if base_ref is not None:
        pull["base"].update(ref=base_ref, label=f"{pull['base']['user']['login']}:{base_ref}")
    if labels is not None:
        pull["labels"] = [label_json(n, base_url=base_url, repo=repo) for n in labels]
    if user_login is not None:
        pull["user"] = user_json(user_login, base_url=base_url)
    pull.update(overrides)
    return pull


def pr_file_json(filename: str = "file1.txt", **overrides: Any) -> JSON:
    item = _first("pulls/list-files")
    item["filename"] = filename
    item.update(overrides)
    return item


def review_json(
    review_id: int = 80, *, state: str | None = None, user_login: str | None = None, **o: Any
) -> JSON:
    review = _first("pulls/list-reviews")
    review["id"] = review_id
    if state is not None:
        review["state"] = state
    if user_login is not None:
        review["user"] = user_json(user_login)
    review.update(o)
    return review


def check_run_json(
    check_run_id: int = 4, *, base_url: str = API_URL, repo: str | None = None, **overrides: Any
) -> JSON:
    run = example("checks/create", base_url=base_url, repo=repo)
    run["id"] = check_run_id
    run.update(overrides)
    return run


def release_json(release_id: int = 1, *, tag_name: str | None = None, **overrides: Any) -> JSON:
    release = example("repos/get-latest-release")
    release["id"] = release_id
    if tag_name is not None:
        release["tag_name"] = tag_name
    release.update(overrides)
    return release


def ref_json(
    ref: str = "refs/heads/main",
    sha: str | None = None,
    *,
    base_url: str = API_URL,
    repo: str | None = None,
) -> JSON:
    value = example("git/get-ref", base_url=base_url, repo=repo)
    value.update(ref=ref, url=f"{_api(base_url, repo)}/git/{ref}")
    if sha is not None:
        value["object"]["sha"] = sha
    return value


def compare_json(**overrides: Any) -> JSON:
    return example("repos/compare-commits-with-basehead", **overrides)

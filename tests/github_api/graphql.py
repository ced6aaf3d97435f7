"""GitHub's GraphQL contract for the mock: every query is validated against GitHub's public
schema (`graphql-schema.graphql`, vendored from @octokit/graphql-schema, see README.md), and
answers are produced by executing the query against that schema over a plain-data model, so
an answer has exactly the shape GitHub's schema gives that query (aliases, unions, nulls)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from graphql import DocumentNode, GraphQLSchema, build_schema, parse, validate
from graphql import execute as execute_document
from graphql.error import GraphQLError

SCHEMA_FILE = Path(__file__).with_name("graphql-schema.graphql")

# What a test's handler returns: a root value to execute the query over, or a raw reply
# (status, headers, body) for faults (502, secondary limits, ...).
Reply = tuple[int, dict[str, str], str]
Handler = Callable[[str, Mapping[str, Any]], "Mapping[str, Any] | Reply"]


@cache
def schema() -> GraphQLSchema:
    """GitHub's schema (built once per test session, ~0.6 s)."""
    # The published SDL defines two EnterpriseOwnerInfo fields twice; GitHub's own tools
    # accept it, so skip the SDL validation (types and fields are still checked per query).
    return build_schema(SCHEMA_FILE.read_text(), assume_valid_sdl=True)


def request_problems(body: bytes | str | None) -> list[str]:
    """Problems of one POST /graphql request body: JSON shape, parse, and schema validation."""
    try:
        data = json.loads(body or b"")
    except ValueError:
        return ["POST /graphql: the body is not JSON"]
    if not isinstance(data, dict) or not isinstance(data.get("query"), str):
        return ["POST /graphql: the body has no query string"]
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        return ["POST /graphql: variables is not an object"]
    return list(_query_problems(data["query"]))


@cache
def _parsed(query: str) -> DocumentNode:
    return parse(query)


@cache
def _query_problems(query: str) -> tuple[str, ...]:
    """Parse and validate once per query text (validation of a bulk query is the slow part)."""
    try:
        document = _parsed(query)
    except GraphQLError as exc:
        return (f"POST /graphql: the query does not parse: {exc.message}",)
    return tuple(f"POST /graphql: {error.message}" for error in validate(schema(), document))


class NotFound(Exception):
    """Raise in a resolver for what GitHub answers NOT_FOUND (a number nothing has)."""


def _github_error(error: GraphQLError) -> dict[str, Any]:
    formatted = dict(error.formatted)
    if isinstance(error.original_error, NotFound):
        formatted["type"] = "NOT_FOUND"  # GitHub's own key for this error
    return formatted


def execute(query: str, variables: Mapping[str, Any], root: Mapping[str, Any]) -> Reply:
    """Answer a query as GitHub would: execute it against the schema over `root`.

    Fields with arguments are callables in `root` (graphql-core calls them with the
    arguments); unions and interfaces are resolved by each value's `__typename`.
    """
    problems = _query_problems(query)
    if problems:
        return 200, {}, json.dumps({"errors": [{"message": p} for p in problems]})
    result = execute_document(
        schema(), _parsed(query), root_value=root, variable_values=dict(variables)
    )
    assert not hasattr(result, "__await__")  # every resolver here is synchronous
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [_github_error(error) for error in result.errors]
    return 200, {"Content-Type": "application/json"}, json.dumps(body)


def answer_problems(content: bytes | None) -> list[str]:
    """Problems of an answer: errors without GitHub's `type` (NOT_FOUND, RATE_LIMITED, ...)
    come from executing the query over the model (a resolver's exception, a null in a
    non-null field) and mean the model broke the schema."""
    try:
        data = json.loads(content or b"")
    except ValueError:
        return []  # a raw fault reply (an HTML 502 page is what GitHub sends too)
    errors = data.get("errors") if isinstance(data, dict) else None
    return [
        f"POST /graphql answer: {error.get('message')}"
        for error in errors or ()
        if isinstance(error, dict) and not error.get("type")
    ]

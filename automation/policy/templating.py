"""Policy templates: sandboxed Jinja2 with StrictUndefined, trial-rendered at load."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateRuntimeError
from jinja2.sandbox import ImmutableSandboxedEnvironment


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    # Policies are edited by people through pull requests: the sandbox keeps a template from
    # reaching Python internals, and StrictUndefined turns a typo into an error, not a blank.
    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )


@lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    # Compiling costs about a millisecond; a sweep renders the same few sources many times.
    return _environment().from_string(source)


def render_template(source: str, context: Mapping[str, Any]) -> str:
    """Render a policy template; raises jinja2.TemplateError on any problem."""
    try:
        return _compiled(source).render(**context)
    except TemplateError:
        raise
    except Exception as exc:  # `{{ 1 / 0 }}`, `{{ "%d" % name }}`: Python's own errors
        raise TemplateRuntimeError(f"{type(exc).__name__}: {exc}") from None


def template_problem(source: str, sample_context: Mapping[str, Any]) -> str | None:
    """Trial-render a template against sample values; return the problem, or None."""
    try:
        render_template(source, sample_context)
    except TemplateError as exc:
        return f"template does not render: {exc.message or exc}"
    return None

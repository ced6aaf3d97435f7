"""The one module for the templates shipped with the code (automation/templates/**/*.j2):
PR bodies, check summaries, the digest and docs/OPERATING_MODEL.md.

Policy-authored templates are another matter (untrusted text): policy/templating.py
renders those in a bounded sandbox.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError

TEMPLATES = Path(__file__).parent / "templates"


class DocsError(Exception):
    """A shipped template no longer fits the policy models: names the template and line."""


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Shipped templates, not policy text, so no sandbox; StrictUndefined turns a typo or a
    # renamed policy field into an error instead of a blank in a PR or a silent section.
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["at"] = lambda login: f"@{login}"
    env.globals["others"] = other_fields
    env.globals["utc"] = lambda when: when.astimezone(dt.UTC)
    return env


def render_shipped(name: str, **context: Any) -> str:
    """Render a shipped template as is (PR bodies, check summaries)."""
    return _environment().get_template(name).render(**context)


def render_document(name: str, context: dict[str, Any]) -> str:
    """Render a document template (docs, the digest); a misfit raises DocsError naming the
    template file and line, and the text ends in exactly one newline."""
    try:
        text: str = _environment().get_template(name).render(**context)
    except TemplateError as exc:
        # A policy model changed under a section template (StrictUndefined): say which
        # template and line to adjust instead of printing a traceback.
        raise DocsError(
            f"{_template_line(exc) or name}: {exc.message or exc} (adjust that template)"
        ) from None
    return text.rstrip("\n") + "\n"


def _template_line(exc: BaseException) -> str | None:
    """automation/templates/FILE:LINE of the innermost template frame of a render error."""
    where = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            try:
                relative = Path(filename).resolve().relative_to(TEMPLATES.parent.parent)
            except ValueError:
                relative = Path(filename)
            where = f"{relative}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def other_fields(model: Any, *shown: str) -> str:
    """YAML of the fields a section template does not render itself ("" when none).

    Policy models grow while their section templates lag behind: whatever a section does not
    know about is still shown, so the document never silently omits a rule.
    """
    import yaml

    # `enabled: true` is every file's default: only a file that is off says so.
    names = [
        n
        for n in type(model).model_fields
        if n not in shown and not (n == "enabled" and getattr(model, n) is True)
    ]
    if not names:
        return ""
    data = model.model_dump(mode="json", include=set(names))
    ordered = {n: data[n] for n in names if n in data}
    return str(yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True))

"""The templates shipped with the code (automation/templates/*.j2): PR bodies, check summaries."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Shipped templates, not policy text, so no sandbox; StrictUndefined still turns a typo
    # into an error in the tests rather than a blank in a PR or a check summary.
    return Environment(
        loader=PackageLoader("automation", "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_shipped(name: str, **context: Any) -> str:
    """Render one of the templates in automation/templates/."""
    return _environment().get_template(name).render(**context)

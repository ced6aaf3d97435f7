"""policies/stale.yaml: backlog hygiene (filled in by the stale feature)."""

from __future__ import annotations

from pydantic import Field

from automation.policy.base import PolicyModel, Slug


class StaleRule(PolicyModel):
    """Warn, then close, items inactive for too long."""

    name: Slug
    days_until_stale: int = Field(ge=1)
    days_until_close: int = Field(ge=1)
    stale_label: str = "stale"


class StalePolicy(PolicyModel):
    """Every stale rule."""

    rules: tuple[StaleRule, ...] = Field(min_length=1)
    max_writes_per_run: int = Field(default=50, ge=1)

"""policies/triage.yaml: recognising and routing eval regressions (filled in by triage)."""

from __future__ import annotations

from pydantic import Field

from automation.policy.base import PolicyModel


class TriagePolicy(PolicyModel):
    """How eval-regression issues are recognised and acknowledged."""

    label: str = "eval-regression"
    sla_hours: dict[str, int] = Field(default_factory=dict)

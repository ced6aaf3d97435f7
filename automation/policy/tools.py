"""policies/tools.yaml: the registry of MCP tools, their owners, runbooks and lifecycle.

Incidents name a tool from this registry (its area gives the owners, its runbook the first
link in the incident), and the lifecycle drives sunset reminders and the release train's
list of tools deprecated or removed in a train.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from automation.policy.base import PolicyDate, PolicyFile, PolicyModel, RefProblem, Slug

if TYPE_CHECKING:
    from automation.policy.policies import Policies


class Lifecycle(StrEnum):
    """Where a tool is in its life: served, on its way out, or gone."""

    ACTIVE = "active"
    DEPRECATED = "deprecated"
    REMOVED = "removed"


class Tool(PolicyModel):
    """One MCP tool: who owns it, where its runbook is, and where it is in its life."""

    name: Slug
    area: Slug
    description: str = ""
    # A path from the repository root, e.g. docs/runbooks/tool-incident.md (`docs check`
    # fails on a tool without one, or one that does not exist).
    runbook: str | None = None
    # A critical tool's failure is at least the incidents policy's critical severity.
    critical: bool = False
    lifecycle: Lifecycle = Lifecycle.ACTIVE
    # The day the deprecation was announced and the day the tool goes away.
    deprecated_on: PolicyDate | None = None
    sunset: PolicyDate | None = None
    removed_on: PolicyDate | None = None
    replacement: Slug | None = None

    @model_validator(mode="after")
    def _lifecycle_dates(self) -> Tool:
        """Each lifecycle names the dates it needs and no others."""
        if self.lifecycle is Lifecycle.ACTIVE:
            for field in ("deprecated_on", "sunset", "removed_on"):
                if getattr(self, field) is not None:
                    raise ValueError(f"an active tool has no {field} (set lifecycle)")
        if self.lifecycle is Lifecycle.DEPRECATED:
            if self.deprecated_on is None or self.sunset is None:
                raise ValueError("a deprecated tool needs deprecated_on and sunset dates")
            if self.sunset <= self.deprecated_on:
                raise ValueError("sunset must come after deprecated_on")
            if self.removed_on is not None:
                raise ValueError("a deprecated tool has no removed_on (set lifecycle: removed)")
        if self.lifecycle is Lifecycle.REMOVED and self.removed_on is None:
            raise ValueError("a removed tool needs its removed_on date")
        return self

    def changed_between(self, start: dt.date, end: dt.date) -> Lifecycle | None:
        """The lifecycle step this tool took in [start, end), if any (for a train's notes)."""
        if self.removed_on is not None and start <= self.removed_on < end:
            return Lifecycle.REMOVED
        if self.deprecated_on is not None and start <= self.deprecated_on < end:
            return Lifecycle.DEPRECATED
        return None


class ToolsPolicy(PolicyFile):
    """The MCP tool registry."""

    tools: tuple[Tool, ...] = Field(default=(), max_length=2000)
    # A deprecated tool's owners get one reminder issue this many days before its sunset
    # (0: on the day itself), labelled `reminder_label` (the tool_lifecycle sweep).
    sunset_reminder_days: int = Field(default=14, ge=0, le=365)
    reminder_label: str = Field(default="tool-lifecycle", min_length=1, max_length=50)

    def tool(self, name: str) -> Tool | None:
        """Return the tool with this name (case-insensitive: forms and alerts vary in case)."""
        wanted = name.strip().lower()
        return next((t for t in self.tools if t.name.lower() == wanted), None)

    def cross_check(self, policies: Policies) -> Iterator[RefProblem]:
        """Names are unique; areas exist in owners.yaml; replacements are registered tools."""
        seen: set[str] = set()
        for index, tool in enumerate(self.tools):
            if tool.name.lower() in seen:
                yield RefProblem(("tools", index, "name"), f"duplicate tool '{tool.name}'")
            seen.add(tool.name.lower())
            if policies.owners.area(tool.area) is None:
                yield RefProblem(("tools", index, "area"), f"unknown area '{tool.area}'")
            if tool.replacement is not None and self.tool(tool.replacement) is None:
                yield RefProblem(
                    ("tools", index, "replacement"), f"unknown tool '{tool.replacement}'"
                )

"""policies/release.yaml: the release train (filled in by the release feature)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from automation.policy.base import PolicyModel, TimeZone
from automation.policy.oncall import Weekday


class ReleasePolicy(PolicyModel):
    """When trains leave and from where."""

    timezone: TimeZone = "UTC"
    weekdays: tuple[Weekday, ...] = Field(default=("tuesday",), min_length=1)
    time: dt.time = dt.time(15, 0)
    source_branch: str = "main"
    branch_pattern: str = "release-train/{date}"

"""policies/oncall.yaml: on-call rotations (filled in by the triage feature)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from automation.policy.base import Login, PolicyModel, RefProblem, Slug, TimeZone

if TYPE_CHECKING:
    from automation.policy.loader import Policies

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class Rotation(PolicyModel):
    """People taking turns, handing off on a weekday at a local time."""

    name: Slug
    members: tuple[Login, ...] = Field(min_length=1)
    timezone: TimeZone
    start: dt.date
    handoff_weekday: Weekday = "monday"
    handoff_time: dt.time = dt.time(10, 0)
    shift_weeks: int = Field(default=1, ge=1, le=8)


class OncallPolicy(PolicyModel):
    """Every rotation the operating model uses."""

    rotations: tuple[Rotation, ...] = Field(min_length=1)

    def cross_check(self, policies: Policies) -> Iterator[RefProblem]:
        """Every member is a known person."""
        for r_index, rotation in enumerate(self.rotations):
            for m_index, member in enumerate(rotation.members):
                if policies.owners.person(member) is None:
                    yield RefProblem(
                        ("rotations", r_index, "members", m_index), f"unknown person '{member}'"
                    )

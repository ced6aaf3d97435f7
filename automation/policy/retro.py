"""policies/retro.yaml: the retrospective that reads what the policies produced and proposes
changes to them. On while the file exists and `enabled` is not false."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from automation.policy.base import PolicyFile, PolicyModel, RefProblem

if TYPE_CHECKING:
    from automation.policy.policies import Policies


class Thresholds(PolicyModel):
    """Where a figure calls for a policy change (each compared over the whole period)."""

    # A stale rule whose closes people reopen more often than this (a share, 0..1).
    stale_false_close_rate: float = Field(default=0.10, ge=0, le=1)
    # Triage: the share of regressions of one severity acknowledged within its SLA.
    triage_sla_met: float = Field(default=0.80, ge=0, le=1)
    # On call: the busiest person's pages over the median person's.
    oncall_load_ratio: float = Field(default=2.0, gt=1)
    # Trains: more late (merged over a day after departure) or skipped ones than this.
    trains_late: int = Field(default=1, ge=0)
    trains_skipped: int = Field(default=4, ge=0)
    # Reviews: the 90th percentile of the review loop's time from ready for review to the
    # first owner review, per area, in elapsed hours (reviews.yaml's hours are working hours
    # that drive its reminders: no target for this figure).
    review_wait_p90_hours: float = Field(default=48, gt=0)
    # Incidents: the incidents feature's median time to acknowledge and to resolve, per
    # severity, in hours (incidents.yaml sets the clock's steps, not these targets).
    incident_mtta_hours: dict[str, float] = Field(
        default_factory=lambda: {"sev1": 0.5, "sev2": 2.0, "sev3": 24.0}
    )
    incident_mttr_hours: dict[str, float] = Field(
        default_factory=lambda: {"sev1": 8.0, "sev2": 48.0, "sev3": 336.0}
    )
    # Fewer cases than this in a group (a rule's closes, a severity's regressions, an area's
    # reviews) say nothing yet: the figure is reported, no change proposed.
    min_cases: int = Field(default=5, ge=1)


class Proposals(PolicyModel):
    """How big a proposed change is."""

    # A stale rule over its false-close rate waits this much longer before warning.
    stale_days_factor: float = Field(default=1.5, gt=1, le=4)
    # A severity below its SLA target gets the hours within which this share was acknowledged.
    sla_share: float = Field(default=0.9, gt=0, le=1)


class RetroPolicy(PolicyFile):
    """The retrospective's schedule, thresholds and the PR it opens."""

    # How often the scheduled sweep looks back over the last complete period.
    schedule: Literal["weekly", "monthly", "quarterly"] = "monthly"
    # A scheduled run within this many days after a period ended runs the retrospective
    # (schedules may be late or dropped: any run in the window does it, reruns write nothing).
    window_days: int = Field(default=3, ge=1, le=28)
    branch: str = Field(default="dataface-ops/retro", pattern=r"^[A-Za-z0-9._/-]+$")
    labels: tuple[str, ...] = ("ops-retro",)
    thresholds: Thresholds = Thresholds()
    proposals: Proposals = Proposals()

    @model_validator(mode="after")
    def _branch_shape(self) -> RetroPolicy:
        if self.branch.startswith("/") or self.branch.endswith("/") or ".." in self.branch:
            raise ValueError(f"not a branch name: {self.branch!r}")
        return self

    def cross_check(self, policies: Policies) -> Iterator[RefProblem]:
        """Severities of the incident targets are names, not checked against triage.yaml:
        incidents have their own severities (policies/incidents.yaml)."""
        return iter(())

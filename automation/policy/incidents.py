"""policies/incidents.yaml: MCP tool incidents: severity, routing, the clock, postmortems.

An incident names a tool of tools.yaml (its area gives the owners, its runbook the first
link). Severity comes from the report's impact, error rate and the tool's criticality; the
on-call primary of `rotation` gets it; past each step's time without acknowledgement the
escalation chain pages the next people; open sev1/sev2 incidents want status updates; a
closed sev1/sev2 gets a postmortem issue due in working days. Off unless the file exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from automation.policy.base import PolicyFile, PolicyModel, RefProblem, Regex, Slug, TimeZone

if TYPE_CHECKING:
    from automation.policy.policies import Policies

FieldKey = Literal["tool", "symptom", "started_at", "impact", "error_rate", "links"]
FIELD_KEYS: tuple[FieldKey, ...] = (
    "tool",
    "symptom",
    "started_at",
    "impact",
    "error_rate",
    "links",
)
# Who a step of the escalation chain pages. `primary` and `secondary` are the rotation's,
# at the step's time (a handoff during the incident pages whoever is on call then);
# `area-owners` the tool's area owners; `operating-model` the owners of that area.
StepTarget = Literal["primary", "secondary", "area-owners", "operating-model"]


class Fields(PolicyModel):
    """The headings of the incident form (and of a monitor's body): `### <label>`."""

    tool: str = "Tool"
    symptom: str = "Symptom"
    started_at: str = "Started at"
    impact: str = "Impact"
    error_rate: str = "Error rate"
    links: str = "Links"

    def label(self, key: FieldKey) -> str:
        """The heading of one field."""
        value: str = getattr(self, key)
        return value


class Recognise(PolicyModel):
    """An issue is an incident if it carries one of these labels or the form's headings."""

    labels: tuple[str, ...] = ("incident",)
    form: bool = True  # the body has the Tool and Symptom headings


class SeverityRule(PolicyModel):
    """A severity reached when every condition given holds (at least one must be given).

    `impact`: the report's impact is one of these (case-insensitive); `critical_tool`: the
    tool is (or is not) critical in tools.yaml; `min_error_rate`: the error rate in percent
    is at least this.
    """

    severity: str
    impact: tuple[str, ...] = ()
    critical_tool: bool | None = None
    min_error_rate: Decimal | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _one_condition(self) -> SeverityRule:
        if not self.impact and self.critical_tool is None and self.min_error_rate is None:
            raise ValueError("give impact, critical_tool or min_error_rate (or several)")
        return self


class Labels(PolicyModel):
    """The labels incidents apply (prefixes shared with triage)."""

    incident: str = "incident"
    severity_prefix: str = "severity:"
    tool_prefix: str = "tool:"
    area_prefix: str = "area:"
    needs_info: str = "needs-info"
    escalated: str = "escalated"


class Acknowledgement(PolicyModel):
    """What acknowledges an incident: an assignee's comment or reaction, or a label."""

    assignee_comment: bool = True
    assignee_reaction: bool = True
    label: str | None = "acknowledged"


class EscalationStep(PolicyModel):
    """Page `to` when nobody acknowledged within `after_minutes` of the incident's start."""

    to: StepTarget
    after_minutes: int = Field(gt=0, le=60 * 24 * 30)
    # Add the paged person as an assignee (only `primary` and `secondary`: one person each),
    # so their comment or reaction acknowledges it.
    assign: bool = False


class StatusUpdates(PolicyModel):
    """Open incidents of these severities want an update every N hours; one reminder each
    time one is late. An update is a comment by an assignee, or any comment with a line
    matching `pattern` (e.g. "Status: mitigated, watching the error rate")."""

    every_hours: dict[str, Annotated[int, Field(gt=0, le=168)]] = Field(
        default_factory=lambda: {"sev1": 1, "sev2": 4}
    )
    by_assignee: bool = True
    pattern: Regex = r"(?im)^\s*\**status\**\s*:"


class Postmortem(PolicyModel):
    """A closed incident of these severities gets one postmortem issue, due in working days
    (Monday to Friday in `timezone`) and held by whoever held the incident."""

    severities: tuple[str, ...] = ("sev1", "sev2")
    due_working_days: int = Field(default=5, gt=0, le=60)
    timezone: TimeZone = "UTC"
    label: str = "postmortem"
    title_prefix: str = "Postmortem: "


class AlertmanagerSettings(PolicyModel):
    """What the Alertmanager receiver (`POST /alerts/alertmanager` in the app) does when an
    alert group resolves: comment on its incident, and close it if the policy says so."""

    close_on_resolved: bool = False
    comment_on_resolved: bool = True


DEFAULT_RULES = (
    SeverityRule(severity="sev1", impact=("all users",)),
    SeverityRule(severity="sev1", critical_tool=True, min_error_rate=Decimal(25)),
    SeverityRule(severity="sev2", min_error_rate=Decimal(10)),
    SeverityRule(severity="sev2", impact=("some users",)),
)
DEFAULT_ESCALATION: dict[str, tuple[EscalationStep, ...]] = {
    "sev1": (
        EscalationStep(to="secondary", after_minutes=15, assign=True),
        EscalationStep(to="area-owners", after_minutes=30),
        EscalationStep(to="operating-model", after_minutes=60),
    ),
    "sev2": (
        EscalationStep(to="secondary", after_minutes=60, assign=True),
        EscalationStep(to="area-owners", after_minutes=240),
    ),
}


class IncidentsPolicy(PolicyFile):
    """How MCP tool incidents are recognised, sized, routed, escalated and followed up."""

    recognise: Recognise = Recognise()
    fields: Fields = Fields()
    # Most severe first; severity labels are `<severity_prefix><name>`.
    severities: tuple[Slug, ...] = Field(default=("sev1", "sev2", "sev3"), min_length=1)
    # Ordered: the first rule that holds wins; none holds: default_severity.
    rules: tuple[SeverityRule, ...] = DEFAULT_RULES
    # A critical tool's incident is at least this severe (None: criticality only in rules).
    critical_severity: str | None = "sev2"
    default_severity: str = "sev3"
    labels: Labels = Labels()
    rotation: Slug = "ai-primary"
    # Severities whose incidents are also assigned to the tool's area owners.
    assign_area_owners: tuple[str, ...] = ("sev1",)
    acknowledgement: Acknowledgement = Acknowledgement()
    escalation: dict[str, tuple[EscalationStep, ...]] = Field(
        default_factory=lambda: dict(DEFAULT_ESCALATION)
    )
    status_updates: StatusUpdates = StatusUpdates()
    postmortem: Postmortem = Postmortem()
    alertmanager: AlertmanagerSettings = AlertmanagerSettings()
    server_url: str = "https://github.com"

    def rank(self, severity: str) -> int:
        """0 for the most severe; unknown severities sort last."""
        return self.severities.index(severity) if severity in self.severities else 99

    def cross_check(self, policies: Policies) -> Iterator[RefProblem]:
        """Severities named anywhere are declared; the rotation exists; steps are ordered."""
        known = set(self.severities)

        def unknown(loc: tuple[str | int, ...], severity: str | None) -> Iterator[RefProblem]:
            if severity is not None and severity not in known:
                yield RefProblem(loc, f"unknown severity '{severity}' (not in severities)")

        for index, rule in enumerate(self.rules):
            yield from unknown(("rules", index, "severity"), rule.severity)
        yield from unknown(("critical_severity",), self.critical_severity)
        yield from unknown(("default_severity",), self.default_severity)
        for index, severity in enumerate(self.assign_area_owners):
            yield from unknown(("assign_area_owners", index), severity)
        for severity, steps in self.escalation.items():
            yield from unknown(("escalation", severity), severity)
            for index, step in enumerate(steps):
                if index and step.after_minutes <= steps[index - 1].after_minutes:
                    yield RefProblem(
                        ("escalation", severity, index, "after_minutes"),
                        "each step must come after the one before it",
                    )
                if step.assign and step.to not in ("primary", "secondary"):
                    yield RefProblem(
                        ("escalation", severity, index, "assign"),
                        "only a primary or secondary step can assign (one person)",
                    )
        for severity in self.status_updates.every_hours:
            yield from unknown(("status_updates", "every_hours", severity), severity)
        for index, severity in enumerate(self.postmortem.severities):
            yield from unknown(("postmortem", "severities", index), severity)
        if policies.oncall.rotation(self.rotation) is None:
            yield RefProblem(("rotation",), f"unknown rotation '{self.rotation}'")
        if policies.owners.area("operating-model") is None and any(
            step.to == "operating-model" for steps in self.escalation.values() for step in steps
        ):
            yield RefProblem(
                ("escalation",), "unknown area 'operating-model' (the operating-model step)"
            )

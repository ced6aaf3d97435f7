"""policies/triage.yaml: recognising, sizing, routing and escalating eval regressions."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, model_validator

from automation.policy.base import Glob, Login, PolicyFile, PolicyModel, RefProblem, Regex, Slug
from automation.policy.templating import template_problem

if TYPE_CHECKING:
    from automation.policy.policies import Policies

FieldKey = Literal["suite", "metric", "baseline", "current", "run_url", "commit", "target"]
FIELD_KEYS: tuple[FieldKey, ...] = (
    "suite",
    "metric",
    "baseline",
    "current",
    "run_url",
    "commit",
    "target",
)
AssignRule = Literal["area-owner", "on-call", "both"]


class FormField(PolicyModel):
    """One field of the issue form: its label (the `### heading`) and free-form aliases."""

    key: FieldKey
    label: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    required: bool = True


class Recognise(PolicyModel):
    """An issue is an eval regression if any of these match."""

    labels: tuple[str, ...] = ("eval-regression",)
    title_pattern: Regex | None = r"(?i)\beval[- ]regression\b"
    form: bool = True  # the body carries the form's headings for suite and metric


class Threshold(PolicyModel):
    """A severity is reached when the worsening meets either bound (inclusive)."""

    severity: str
    absolute: Decimal | None = Field(default=None, ge=0)
    relative: Decimal | None = Field(default=None, ge=0)  # 0.10 = 10% of the baseline

    @model_validator(mode="after")
    def _one_bound(self) -> Threshold:
        if self.absolute is None and self.relative is None:
            raise ValueError("give an absolute or a relative threshold (or both)")
        return self


class Metric(PolicyModel):
    """A family of metrics: which names it covers, which way is worse, and its thresholds."""

    name: Slug
    match: tuple[Glob, ...] = Field(min_length=1)  # case-insensitive globs
    better: Literal["higher", "lower"]
    thresholds: tuple[Threshold, ...] = Field(min_length=1)

    def matches(self, metric: str) -> bool:
        """Whether a reported metric name belongs to this family."""
        name = metric.strip().lower()
        return any(fnmatch.fnmatchcase(name, pattern.lower()) for pattern in self.match)


class AreaRule(PolicyModel):
    """Map a suite, or an affected tool or prompt, to an area of owners.yaml."""

    area: Slug
    suites: tuple[Glob, ...] = ()
    targets: tuple[Glob, ...] = ()
    assignee: Login | None = None  # the area's triage owner; default: the area's owners


class Labels(PolicyModel):
    """The labels triage applies (names shared with the other features)."""

    severity_prefix: str = "severity:"
    area_prefix: str = "area:"
    needs_info: str = "needs-info"
    triaged: str = "triaged"
    escalated: str = "escalated"
    duplicate: str = "duplicate"


class Acknowledgement(PolicyModel):
    """What counts as acknowledging a regression."""

    assignee_comment: bool = True
    label: str | None = "triaged"


class Duplicates(PolicyModel):
    """A second open regression for the same suite and metric."""

    enabled: bool = True
    close: bool = False


DEFAULT_FIELDS = (
    FormField(key="suite", label="Eval suite", aliases=("suite",)),
    FormField(key="metric", label="Metric", aliases=("metric",)),
    FormField(key="baseline", label="Baseline value", aliases=("baseline",)),
    FormField(key="current", label="Current value", aliases=("current",)),
    FormField(key="run_url", label="Run URL", aliases=("run",)),
    FormField(key="commit", label="Commit SHA", aliases=("commit", "sha")),
    FormField(key="target", label="Affected tool or prompt", required=False),
)
DEFAULT_COMMENT = """\
{% if needs_info -%}
@{{ author }}, triage could not read: {{ missing | join(", ") }}. Please edit the issue.
{%- else -%}
{{ severity }} in {{ area or "no area" }}; acknowledge by {{ due }}.
{%- if duplicate_of %} Duplicate of #{{ duplicate_of }}.{% endif %}
{%- endif %}
Runbook: {{ runbook_url }}
"""
DEFAULT_ESCALATION = """\
{% if secondary %}@{{ secondary }} {% endif %}{{ area_team | join(" ") }}: #{{ number }} \
({{ severity }}) was due {{ due }} and is not acknowledged. Runbook: {{ runbook_url }}
"""

SAMPLE_CONTEXT: dict[str, Any] = {
    "number": 101,
    "title": "Eval regression: tool-calling accuracy",
    "author": "raj-iyer",
    "fields": {key: "x" for key in FIELD_KEYS},
    "missing": ["Baseline value"],
    "needs_info": False,
    "severity": "sev2",
    "change": "-0.060 (-6.6%)",
    "metric_family": "accuracy",
    "area": "mcp-server",
    "area_team": ["@dataface/ai-platform"],
    "assignees": ["maya-chen"],
    "sla_hours": 24,
    "due": "2026-11-25 12:00 UTC",
    "duplicate_of": None,
    "runbook_url": "https://github.com/dataface/dataface/blob/main/docs/runbooks/eval-regression.md",
    "secondary": "tomas-silva",
    "on_call": "maya-chen",
}


class TriagePolicy(PolicyFile):
    """How eval-regression issues are recognised, sized, routed and acknowledged."""

    label: str = "eval-regression"
    recognise: Recognise = Recognise()
    fields: tuple[FormField, ...] = Field(default=DEFAULT_FIELDS, min_length=1)
    metrics: tuple[Metric, ...] = ()
    # Ordered: most severe first. Zero or less is no deadline; over a year, not an SLA.
    sla_hours: dict[str, Annotated[int, Field(gt=0, le=8760)]] = Field(default_factory=dict)
    default_severity: str = "sev3"
    areas: tuple[AreaRule, ...] = ()
    default_area: Slug | None = None
    labels: Labels = Labels()
    rotation: Slug = "ai-primary"
    assign: dict[str, AssignRule] = Field(default_factory=dict)  # per severity
    default_assign: AssignRule = "on-call"
    acknowledgement: Acknowledgement = Acknowledgement()
    duplicates: Duplicates = Duplicates()
    runbook: str = "docs/runbooks/eval-regression.md"
    server_url: str = "https://github.com"
    comment: str = DEFAULT_COMMENT
    escalation_comment: str = DEFAULT_ESCALATION

    @property
    def severities(self) -> tuple[str, ...]:
        """Severity names, most severe first."""
        return tuple(self.sla_hours)

    def field(self, key: str) -> FormField | None:
        """The form field with this key."""
        return next((f for f in self.fields if f.key == key), None)

    def metric(self, name: str) -> Metric | None:
        """The first metric family whose patterns match `name`."""
        return next((m for m in self.metrics if m.matches(name)), None)

    def assign_rule(self, severity: str | None) -> AssignRule:
        """How an issue of this severity is assigned."""
        return self.assign.get(severity or "", self.default_assign)

    def cross_check(self, policies: Policies) -> Iterator[RefProblem]:
        """Severities, areas, people and rotations exist; templates render."""
        known = set(self.sla_hours)
        if not known:
            yield RefProblem(("sla_hours",), "name at least one severity")
        if known and self.default_severity not in known:
            yield RefProblem(("default_severity",), f"unknown severity '{self.default_severity}'")
        keys = [f.key for f in self.fields]
        for index, key in enumerate(keys):
            if keys.index(key) != index:
                yield RefProblem(("fields", index, "key"), f"duplicate field '{key}'")
        for key in ("suite", "metric", "baseline", "current"):
            if key not in keys:
                yield RefProblem(("fields",), f"the form needs a '{key}' field")
        for m_index, metric in enumerate(self.metrics):
            for t_index, threshold in enumerate(metric.thresholds):
                if threshold.severity not in known:
                    yield RefProblem(
                        ("metrics", m_index, "thresholds", t_index, "severity"),
                        f"unknown severity '{threshold.severity}'",
                    )
        for severity in self.assign:
            if severity not in known:
                yield RefProblem(("assign", severity), f"unknown severity '{severity}'")
        for a_index, rule in enumerate(self.areas):
            if policies.owners.area(rule.area) is None:
                yield RefProblem(("areas", a_index, "area"), f"unknown area '{rule.area}'")
            if rule.assignee is not None and policies.owners.person(rule.assignee) is None:
                yield RefProblem(
                    ("areas", a_index, "assignee"), f"unknown person '{rule.assignee}'"
                )
        if self.default_area is not None and policies.owners.area(self.default_area) is None:
            yield RefProblem(("default_area",), f"unknown area '{self.default_area}'")
        if policies.oncall.rotation(self.rotation) is None:
            yield RefProblem(("rotation",), f"unknown rotation '{self.rotation}'")
        for name in ("comment", "escalation_comment"):
            problem = template_problem(getattr(self, name), SAMPLE_CONTEXT)
            if problem is None and getattr(self, name) is not None:
                needs_info = {**SAMPLE_CONTEXT, "needs_info": True, "duplicate_of": 100}
                problem = template_problem(getattr(self, name), needs_info)
            if problem:
                yield RefProblem((name,), problem)

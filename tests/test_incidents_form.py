"""The tool-incident issue form: valid for GitHub, its headings are the policy's fields, its
tool choices are the registry's tools, and a submitted form reads back field by field."""

from __future__ import annotations

import yaml

from automation.rules.incidents import is_incident, parse_incident, severity_for, tool_of
from tests.incident_factories import incident, policies
from tests.triage_factories import ROOT

FORM = ROOT / ".github" / "ISSUE_TEMPLATE" / "tool-incident.yml"


def _fields() -> list[dict[str, object]]:
    form = yaml.safe_load(FORM.read_text(encoding="utf-8"))
    assert form["labels"] == [policies().incidents.labels.incident]
    return [item for item in form["body"] if item["type"] != "markdown"]


def test_the_form_asks_for_the_policys_fields_in_order() -> None:
    names = policies().incidents.fields
    labels = [item["attributes"]["label"] for item in _fields()]  # type: ignore[index]
    assert labels == [
        names.tool,
        names.symptom,
        names.started_at,
        names.impact,
        names.error_rate,
        names.links,
    ]


def test_the_tool_choices_are_the_registered_tools() -> None:
    tool = _fields()[0]
    registry = [t.name for t in policies().tools.tools if t.lifecycle != "removed"]
    assert tool["attributes"]["options"] == registry  # type: ignore[index]


def test_every_impact_choice_reads_as_a_rule_or_the_default() -> None:
    impact = next(f for f in _fields() if f["id"] == "impact")
    choices = impact["attributes"]["options"]  # type: ignore[index]
    assert {c.lower() for r in policies().incidents.rules for c in r.impact} <= set(choices)


def test_a_submitted_form_reads_back() -> None:
    # Exactly what GitHub renders: "### Label", a blank line, the value; empty optional
    # fields read "_No response_".
    body = (
        "### Tool\n\nquery_metrics\n\n### Symptom\n\nEmpty answers for every metric\n\n"
        "### Started at\n\n_No response_\n\n### Impact\n\ninternal only\n\n"
        "### Error rate\n\n_No response_\n\n### Links\n\n_No response_"
    )
    report = parse_incident(policies().incidents, body)
    assert report.fields == {
        "tool": "query_metrics",
        "symptom": "Empty answers for every metric",
        "impact": "internal only",
    }
    assert is_incident(policies().incidents, incident(body=body, labels=()))
    assert severity_for(policies(), report, tool_of(policies(), report))[0] == "sev3"

"""Reading regression reports: issue forms, API-filed bodies, free text, partial bodies."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from automation.rules.triage import parse_number, parse_report, size
from tests.triage_factories import ROOT, RUN, form_body, policies


def test_form_body_is_read_exactly() -> None:
    report = parse_report(policies().triage, form_body(target="tool:run_query"))
    assert report.form
    assert report.missing == ()
    assert report.fields == {
        "suite": "tool-calling",
        "metric": "accuracy",
        "baseline": "0.91",
        "current": "0.87",
        "run_url": RUN,
        "commit": "9f2c1e7",
        "target": "tool:run_query",
    }


def test_no_response_is_an_empty_optional_field() -> None:
    report = parse_report(policies().triage, form_body(target=None))
    assert "target" not in report.fields
    assert report.missing == ()


API_BODY = (
    "### Eval suite\r\ntool-calling\r\n### Metric\r\n`accuracy`\r\n"
    "### Baseline value\r\n0.91\r\n### Current value\r\n0.80\r\n"
    "### Run URL\r\n" + RUN + "\r\n### Commit SHA\r\n```\r\n9f2c1e7\r\n```\r\n"
    "### Affected tool or prompt\r\n_No response_\r\n"
)


def test_api_filed_body_with_crlf_and_no_blank_lines() -> None:
    report = parse_report(policies().triage, API_BODY)
    assert report.form and report.missing == ()
    assert report.fields["metric"] == "accuracy"
    assert report.fields["commit"] == "9f2c1e7"
    assert report.current == Decimal("0.80")


@pytest.mark.parametrize(
    ("body", "expected", "missing"),
    [
        (
            "Suite: tool-calling\nMetric: accuracy\nBaseline: 0.91\nCurrent: 0.84\n"
            f"Run: {RUN}\nCommit: 9f2c1e7",
            {
                "suite": "tool-calling",
                "metric": "accuracy",
                "baseline": "0.91",
                "current": "0.84",
                "run_url": RUN,
                "commit": "9f2c1e7",
            },
            (),
        ),
        (
            "- **Eval suite:** prompt-summaries\n- **Metric**: p95_latency_ms\n"
            "The p95_latency_ms went from 1,200 to 1,900 ms on commit abcdef1 "
            f"({RUN}).",
            {
                "suite": "prompt-summaries",
                "metric": "p95_latency_ms",
                "baseline": "1,200",
                "current": "1,900",
                "run_url": RUN,
                "commit": "abcdef1",
            },
            (),
        ),
        (
            "accuracy dropped from 0.91 to 0.84, please look",
            {"metric": "accuracy", "baseline": "0.91", "current": "0.84"},
            ("Eval suite", "Run URL", "Commit SHA"),
        ),
        (
            "Something is off with the evals.",
            {},
            ("Eval suite", "Metric", "Baseline value", "Current value", "Run URL", "Commit SHA"),
        ),
    ],
    ids=["key-value", "markdown-and-from-to", "sentence", "unparseable"],
)
def test_free_form_bodies(body: str, expected: dict[str, str], missing: tuple[str, ...]) -> None:
    report = parse_report(policies().triage, body)
    assert not report.form
    assert report.fields == expected
    assert report.missing == missing


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ({"baseline": None}, ("Baseline value",)),
        ({"baseline": None, "current": None}, ("Baseline value", "Current value")),
        ({"current": "much worse"}, ("Current value (not a number)",)),
        ({"run_url": "see slack"}, ("Run URL (not a link)",)),
        ({"baseline": "1e999999999"}, ("Baseline value (not a number)",)),
        ({"suite": None, "commit": None}, ("Eval suite", "Commit SHA")),
    ],
)
def test_partial_form_bodies_name_the_missing_fields(
    values: dict[str, str | None], missing: tuple[str, ...]
) -> None:
    assert parse_report(policies().triage, form_body(**values)).missing == missing


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0.91", "0.91"),
        ("84%", "84"),
        ("1,240 ms", "1240"),
        ("-3", "-3"),
        ("n/a", None),
        ("2.5e-3", "0.0025"),
        ("0e-99", "0"),
        # Absurd exponents would overflow Decimal arithmetic (sizing crashed the sweep).
        ("1e999999999", None),
        ("1e-999999999", None),
        ("1e31", None),
    ],
)
def test_parse_number_is_exact(text: str, number: str | None) -> None:
    assert parse_number(text) == (Decimal(number) if number else None)


# quality: higher is better; sev1 at 0.10 absolute or 15% relative, sev2 at 0.03 or 5%.
# latency: lower is better; sev1 at +100%, sev2 at +25%. cost: sev1 +50%, sev2 +20%.
@pytest.mark.parametrize(
    ("metric", "baseline", "current", "severity"),
    [
        ("accuracy", "0.90", "0.80", "sev1"),  # absolute 0.10: the sev1 boundary
        ("accuracy", "0.90", "0.8001", "sev2"),  # just under it
        ("accuracy", "0.90", "0.87", "sev2"),  # absolute 0.03: the sev2 boundary
        ("accuracy", "0.90", "0.8701", "sev3"),  # just under it (3.3% relative)
        ("tool_call_accuracy", "0.40", "0.34", "sev1"),  # relative 15% exactly (0.06 abs)
        ("tool_call_accuracy", "0.40", "0.3401", "sev2"),  # relative just under 15%
        ("pass_rate", "0.20", "0.19", "sev2"),  # relative 5% exactly (0.01 abs)
        ("accuracy", "0.90", "0.95", "sev3"),  # an improvement is not worse
        ("accuracy", "0.90", "0.90", "sev3"),
        ("p95_latency_ms", "1000", "2000", "sev1"),  # +100%: lower is better
        ("p95_latency_ms", "1000", "1999", "sev2"),
        ("p95_latency_ms", "1000", "1250", "sev2"),  # +25% boundary
        ("p95_latency_ms", "1000", "1249", "sev3"),
        ("p95_latency_ms", "1000", "500", "sev3"),  # faster is better, not a regression
        ("cost_usd", "1.00", "1.50", "sev1"),
        ("cost_usd", "1.00", "1.20", "sev2"),
        ("cost_usd", "1.00", "1.19", "sev3"),
        ("cost_usd", "1.00", "0.10", "sev3"),
        ("Accuracy", "0.90", "0.70", "sev1"),  # metric names are case-insensitive
        ("vibes", "10", "1", "sev3"),  # unknown metric: default severity
    ],
)
def test_severity_is_direction_aware_with_inclusive_bounds(
    metric: str, baseline: str, current: str, severity: str
) -> None:
    sizing = size(policies().triage, metric, Decimal(baseline), Decimal(current))
    assert sizing.severity == severity


def test_issue_form_is_a_valid_github_issue_form_matching_the_policy() -> None:
    form = yaml.safe_load(Path(ROOT, ".github/ISSUE_TEMPLATE/eval-regression.yml").read_text())
    assert set(form) <= {
        "name",
        "description",
        "title",
        "labels",
        "assignees",
        "body",
        "projects",
        "type",
    }
    assert form["name"] and form["description"]
    ids = [item["id"] for item in form["body"] if "id" in item]
    assert len(ids) == len(set(ids))
    labels = []
    for item in form["body"]:
        assert item["type"] in {"markdown", "textarea", "input", "dropdown", "checkboxes"}
        if item["type"] != "markdown":
            labels.append(item["attributes"]["label"])
            assert set(item.get("validations", {})) <= {"required"}
    triage = policies().triage
    assert labels == [f.label for f in triage.fields]
    required = [
        item["attributes"]["label"]
        for item in form["body"]
        if item.get("validations", {}).get("required")
    ]
    assert required == [f.label for f in triage.fields if f.required]
    assert triage.label in form["labels"]


_VALUE = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(
        lambda v: (
            v and not v.startswith(("#", "`", "~", "*", "_")) and not v.endswith(("*", "_", "`"))
        )
    )
)


@settings(max_examples=150, deadline=None)
@given(suite=_VALUE, metric=_VALUE, target=st.none() | _VALUE)
def test_any_form_values_read_back(suite: str, metric: str, target: str | None) -> None:
    body = form_body(suite=suite, metric=metric, target=target)
    fields = parse_report(policies().triage, body).fields
    assert fields["suite"] == suite and fields["metric"] == metric
    assert fields.get("target") == (None if target in (None, "_No response_") else target)

"""policies/triage.yaml: every reference resolves and every template renders, at load time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from automation.cli import main
from automation.policy.loader import PolicyError, load_policies
from automation.policy.triage import TriagePolicy
from tests.triage_factories import ROOT

SHIPPED = (ROOT / "policies" / "triage.yaml").read_text()


def _load(triage_yaml: str) -> None:
    files = {p.name: p.read_text() for p in (ROOT / "policies").glob("*.yaml")}
    files["triage.yaml"] = triage_yaml
    load_policies(files.get)


def _line(text: str) -> int:
    return SHIPPED.splitlines().index(text) + 1


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "  ### Escalation: {{ severity }} regression not acknowledged within {{ sla_hours }} h",
            "  ### Escalation: {{ severity }} regression not acknowledged within {{ sla_hour }} h",
            "policies/triage.yaml:{line} escalation_comment: template does not render: "
            "'sla_hour' is undefined",
        ),
        (
            "  Runbook: {{ runbook_url }}\n\nescalation_comment",
            "  Runbook: {{ runbook_url }\n\nescalation_comment",
            "policies/triage.yaml:{line} comment: template does not render: unexpected '}'",
        ),
        (
            "  - area: cloud-chat",
            "  - area: cloud-chatt",
            "policies/triage.yaml:{line} areas[2].area: unknown area 'cloud-chatt'"
            " (did you mean 'cloud-chat'?)",
        ),
        (
            "      - {severity: sev2, relative: 0.25}",
            "      - {severity: sev5, relative: 0.25}",
            "policies/triage.yaml:{line} metrics[1].thresholds[1].severity: unknown severity "
            "'sev5'",
        ),
        (
            "rotation: ai-primary",
            "rotation: ai-tertiary",
            "policies/triage.yaml:{line} rotation: unknown rotation 'ai-tertiary'",
        ),
        (
            "    assignee: lena-fischer",
            "    assignee: lena",
            "policies/triage.yaml:{line} areas[1].assignee: unknown person 'lena'",
        ),
        (
            "      - {severity: sev1, relative: 1.0}",
            "      - {severity: sev1}",
            "policies/triage.yaml:{line} metrics[1].thresholds[0]: Value error, give an "
            "absolute or a relative threshold (or both)",
        ),
        (
            "  sev1: both",
            "  sev1: everyone",
            "policies/triage.yaml:{line} assign.sev1: Input should be 'area-owner', 'on-call' "
            "or 'both'",
        ),
    ],
)
def test_policy_problems_are_located(old: str, new: str, problem: str) -> None:
    assert old in SHIPPED
    field = problem.split(" ", 2)[1].rstrip(":")
    # Template problems point at the template's key; the others at the edited line.
    anchor = f"{field}: |" if field.endswith("comment") else old.splitlines()[0]
    line = _line(anchor)
    with pytest.raises(PolicyError) as info:
        _load(SHIPPED.replace(old, new, 1))
    assert [str(p) for p in info.value.problems] == [problem.replace("{line}", str(line))]


def test_a_minimal_triage_policy_is_valid() -> None:
    _load("label: eval-regression\nsla_hours: {sev1: 4, sev2: 24, sev3: 72}\n")
    assert TriagePolicy(sla_hours={"sev3": 1}).severities == ("sev3",)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("{{ 1 / 0 }}", "ZeroDivisionError: division by zero"),
        ('{{ "%d" % severity }}', "TypeError: %d format: a real number is required, not str"),
    ],
)
def test_a_template_that_raises_python_errors_is_a_located_problem(
    expression: str, message: str
) -> None:
    # Only Jinja's own errors were caught: these were a traceback out of `validate`.
    old = "  ### Escalation: {{ severity }}"
    assert old in SHIPPED
    with pytest.raises(PolicyError) as info:
        _load(SHIPPED.replace(old, f"  ### Escalation: {expression}", 1))
    assert [str(p) for p in info.value.problems] == [
        f"policies/triage.yaml:{_line('escalation_comment: |')} escalation_comment: "
        f"template does not render: {message}"
    ]


def test_a_template_that_fails_on_real_data_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The sample values (issue 101) render; a real issue number does not.
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    triage = policies / "triage.yaml"
    old = "  | Suite | `{{ fields.suite }}` |"
    text = triage.read_text()
    assert old in text
    triage.write_text(text.replace(old, old + " {{ 1 // (0 if number != 101 else 1) }}", 1))
    snapshot = json.loads((ROOT / "examples" / "snapshot.json").read_text())
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(snapshot))
    code = main(["plan", "triage", "--snapshot", str(path), "--policies", str(policies)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == 2 and "a policy template does not render: ZeroDivisionError" in err

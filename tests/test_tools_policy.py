"""policies/tools.yaml: the MCP tool registry validates, cross-checks, renders, is checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from automation import cli
from automation.docs import check_docs, render_operating_model
from automation.policy.loader import load_policy_dir
from automation.policy.tools import Lifecycle
from tests.policy_files import ROOT, edit_policy

NOW = dt.datetime(2026, 12, 9, 12, 0, tzinfo=dt.UTC)


def test_shipped_registry_loads() -> None:
    tools = load_policy_dir(ROOT / "policies").tools
    deprecated = tools.tool("QUERY_METRICS")  # forms and alerts vary the case
    assert deprecated is not None and deprecated.lifecycle is Lifecycle.DEPRECATED
    assert deprecated.replacement == "query_metrics_v3"
    assert deprecated.sunset == dt.date(2027, 1, 12)
    assert tools.tool("no_such_tool") is None
    critical = {t.name for t in tools.tools if t.critical}
    assert critical == {"run_query", "query_metrics_v3"}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    area: evals\n", "    area: eval\n", "unknown area 'eval' (did you mean 'evals'?)"),
        ("  - name: describe_dataset\n", "  - name: run_query\n", "duplicate tool 'run_query'"),
        (
            "replacement: query_metrics_v3",
            "replacement: query_metric_v3",
            "unknown tool 'query_metric_v3' (did you mean 'query_metrics_v3'?)",
        ),
        ("    sunset: 2027-01-12\n", "", "needs deprecated_on and sunset"),
        ("    sunset: 2027-01-12\n", "    sunset: 2026-11-01\n", "sunset must come after"),
        ("    critical: true\n", "    critical: true\n    sunset: 2027-02-01\n", "active tool"),
        ("lifecycle: deprecated", "lifecycle: retired", "lifecycle: Input should be"),
    ],
    ids=[
        "unknown-area",
        "duplicate",
        "unknown-replacement",
        "no-sunset",
        "sunset-first",
        "active-sunset",
        "bad-lifecycle",
    ],
)
def test_broken_registry_names_file_line_and_field(
    policy_copy: Path, old: str, new: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line = edit_policy(policy_copy / "tools.yaml", old, new)
    assert cli.main(["validate", "--policies", str(policy_copy)]) == 2
    err = capsys.readouterr().err
    matching = [row for row in err.splitlines() if expected in row]
    assert matching, err
    # Located at the edited line or within the tool's entry above it.
    located = int(matching[0].split("tools.yaml:")[1].split()[0].rstrip(":"))
    assert line - 8 <= located <= line + 1, matching
    assert "Traceback" not in err


def test_registry_is_rendered_into_the_operating_model() -> None:
    text = render_operating_model(load_policy_dir(ROOT / "policies"), NOW)
    section = text.split("## MCP tools", 1)[1].split("\n## ", 1)[0]
    assert (
        "| `query_metrics`: Metric queries (schema 2), replaced by query_metrics_v3 | mcp-server "
        "| @dev-patel, @maya-chen, @sam-okafor | no | deprecated 2026-11-30, sunset "
        "**2027-01-12** (use `query_metrics_v3`) | [tool-incident.md](runbooks/tool-incident.md) |"
    ) in section
    assert "| `run_eval_suite`: Starts an eval suite run for an agent build | evals " in section


def test_absent_registry_leaves_the_section_out(repo_copy: Path) -> None:
    (repo_copy / "policies/tools.yaml").unlink()
    policies = load_policy_dir(repo_copy / "policies")
    assert "tools" in policies.absent
    assert "## MCP tools" not in render_operating_model(policies, NOW)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    runbook: docs/runbooks/rotate-cached-profiles.md\n",
            "",
            "tools.yaml tools[2] (get_cached_profile): no runbook",
        ),
        (
            "runbook: docs/runbooks/rotate-cached-profiles.md",
            "runbook: docs/runbooks/profiles.md",
            "tools.yaml tools[2] (get_cached_profile).runbook: docs/runbooks/profiles.md "
            "does not exist",
        ),
    ],
    ids=["none", "missing-file"],
)
def test_docs_check_fails_on_a_tool_without_a_runbook(
    repo_copy: Path, old: str, new: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_policy(repo_copy / "policies/tools.yaml", old, new)
    policies = load_policy_dir(repo_copy / "policies")
    (repo_copy / "docs/OPERATING_MODEL.md").write_text(render_operating_model(policies, NOW))
    assert any(expected in d for d in check_docs(policies, repo_copy).dead_links)
    status = cli.main(
        ["docs", "check", "--root", str(repo_copy), "--policies", str(repo_copy / "policies")]
    )
    assert status == 1
    assert expected in capsys.readouterr().err

"""docs render / docs check: the operating model in writing stays true to the policies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path

import pydantic
import pytest
import yaml

from automation import cli
from automation.docs import (
    check_docs,
    handoffs,
    render_operating_model,
    rendered_anchor,
    runbook_refs,
    schedule_anchor,
)
from automation.policy.base import PolicyModel
from automation.policy.loader import Policies, load_policy_dir

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def test_shipped_docs_are_up_to_date_and_links_resolve() -> None:
    result = check_docs(load_policy_dir(ROOT / "policies"), ROOT)
    assert result.problems == []
    assert result.dead_links == []
    assert result.diff == ""
    assert result.ok


def test_cli_check_passes_on_shipped_policies(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    assert cli.main(["docs", "check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_policy_change_not_rendered_fails_with_a_diff(
    policy_copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    triage = policy_copy / "triage.yaml"
    triage.write_text(triage.read_text().replace("sev1: 4", "sev1: 2"))
    monkeypatch.chdir(ROOT)
    status = cli.main(["docs", "check", "--policies", str(policy_copy)])
    out, err = capsys.readouterr()
    assert status == 1
    assert "-| `severity:sev1` | 4 hours |" in out
    assert "+| `severity:sev1` | 2 hours |" in out
    assert out.startswith("--- docs/OPERATING_MODEL.md (committed)")
    assert "out of date (run: dataface-ops docs render)" in err


def test_rotation_change_shows_in_the_schedule_diff(policy_copy: Path) -> None:
    oncall = policy_copy / "oncall.yaml"
    oncall.write_text(
        oncall.read_text().replace(
            "[maya-chen, dev-patel, sam-okafor, raj-iyer]", "[maya-chen, dev-patel, raj-iyer]"
        )
    )
    result = check_docs(load_policy_dir(policy_copy), ROOT)
    assert not result.ok
    assert "-- Order: 1. @maya-chen; 2. @dev-patel; 3. @sam-okafor; 4. @raj-iyer" in result.diff
    assert "+- Order: 1. @maya-chen; 2. @dev-patel; 3. @raj-iyer" in result.diff


def test_render_then_check_passes_and_time_passing_does_not_fail(repo_copy: Path) -> None:
    policies = load_policy_dir(repo_copy / "policies")
    (repo_copy / "docs/OPERATING_MODEL.md").write_text(
        render_operating_model(policies, dt.datetime(2027, 3, 3, tzinfo=dt.UTC))
    )
    # check reads the schedule date from the file, never the clock: months later it passes.
    assert check_docs(policies, repo_copy).ok
    text = (repo_copy / "docs/OPERATING_MODEL.md").read_text()
    assert rendered_anchor(text) == dt.date(2027, 3, 1)


def test_cli_render_writes_the_document_from_at(repo_copy: Path) -> None:
    status = cli.main(
        [
            "docs",
            "render",
            "--root",
            str(repo_copy),
            "--policies",
            str(repo_copy / "policies"),
            "--at",
            "2026-12-09T18:00:00Z",
        ]
    )
    assert status == 0
    text = (repo_copy / "docs/OPERATING_MODEL.md").read_text()
    assert "schedule-from: 2026-12-07" in text
    assert "| Mon 2026-12-07 10:00 | 2026-12-07 10:00 | @maya-chen |" in text


def test_dead_runbook_link_in_a_policy_fails(repo_copy: Path) -> None:
    owners = repo_copy / "policies/owners.yaml"
    owners.write_text(
        owners.read_text().replace(
            "runbook: docs/runbooks/deploy-mcp-tool.md", "runbook: docs/runbooks/ship-tool.md"
        )
    )
    policies = load_policy_dir(repo_copy / "policies")
    (repo_copy / "docs/OPERATING_MODEL.md").write_text(render_operating_model(policies, NOW))
    result = check_docs(policies, repo_copy)
    assert result.diff == ""
    assert any(
        "areas[0].runbook: docs/runbooks/ship-tool.md does not exist" in d
        for d in result.dead_links
    )
    assert any(
        "OPERATING_MODEL.md (rendered): links docs/runbooks/ship-tool.md" in d
        for d in result.dead_links
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("runbook: docs/runbooks/eval-regression.md", "runbook: docs/playbooks/regression.md"),
        ("runbook: docs/runbooks/eval-regression.md\n", ""),  # the default path, unwritten
    ],
    ids=["outside-runbooks", "default"],
)
def test_triage_runbook_that_does_not_exist_fails(before: str, after: str, repo_copy: Path) -> None:
    triage = repo_copy / "policies/triage.yaml"
    text = triage.read_text()
    assert before in text
    triage.write_text(text.replace(before, after))
    if not after:
        (repo_copy / "docs/runbooks/eval-regression.md").unlink()
    policies = load_policy_dir(repo_copy / "policies")
    (repo_copy / "docs/OPERATING_MODEL.md").write_text(render_operating_model(policies, NOW))
    result = check_docs(policies, repo_copy)
    path = after.removeprefix("runbook: ") or "docs/runbooks/eval-regression.md"
    assert f"{repo_copy / 'policies'}/triage.yaml runbook: {path} does not exist" in (
        result.dead_links
    )


def test_missing_runbook_file_fails_every_link_to_it(
    repo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo_copy / "docs/runbooks/oncall-handoff.md").unlink()
    status = cli.main(
        ["docs", "check", "--root", str(repo_copy), "--policies", str(repo_copy / "policies")]
    )
    err = capsys.readouterr().err
    assert status == 1
    assert (
        "dead runbook link: automation/templates/docs/oncall.md.j2: links "
        "docs/runbooks/oncall-handoff.md, which does not exist" in err
    )
    # release-train.md links its sibling by a relative link.
    assert "docs/runbooks/release-train.md: links oncall-handoff.md" not in err
    assert "docs/runbooks/change-operating-model.md" not in err.split("oncall-handoff")[0]


def test_sibling_link_between_runbooks_is_checked(repo_copy: Path) -> None:
    page = repo_copy / "docs/runbooks/release-train.md"
    page.write_text(page.read_text() + "\nSee [the freeze list](freezes.md#2027).\n")
    result = check_docs(load_policy_dir(repo_copy / "policies"), repo_copy)
    assert result.dead_links == [
        "docs/runbooks/release-train.md: links freezes.md, which does not exist"
    ]


def test_document_not_generated_is_reported(repo_copy: Path) -> None:
    (repo_copy / "docs/OPERATING_MODEL.md").write_text("# hand-written\n")
    result = check_docs(load_policy_dir(repo_copy / "policies"), repo_copy)
    assert result.problems == [
        "docs/OPERATING_MODEL.md has no 'schedule-from' header: it was not written by "
        "dataface-ops docs render"
    ]


@pytest.mark.parametrize(
    ("now", "anchor"),
    [
        (dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC), dt.date(2026, 11, 23)),
        (dt.datetime(2026, 11, 29, 23, 59, tzinfo=dt.UTC), dt.date(2026, 11, 23)),
        (dt.datetime(2026, 11, 30, 0, 30, tzinfo=dt.UTC), dt.date(2026, 11, 30)),
        # 23:30 in New York on Sunday is already Monday in UTC.
        (
            dt.datetime(2026, 11, 29, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            dt.date(2026, 11, 30),
        ),
    ],
)
def test_schedule_anchor_is_the_utc_monday(now: dt.datetime, anchor: dt.date) -> None:
    assert schedule_anchor(now) == anchor


def test_rendering_twice_in_one_week_is_identical() -> None:
    policies = load_policy_dir(ROOT / "policies")
    monday = render_operating_model(policies, dt.datetime(2026, 11, 23, 1, tzinfo=dt.UTC))
    sunday = render_operating_model(policies, dt.datetime(2026, 11, 29, 22, tzinfo=dt.UTC))
    assert monday == sunday


def test_handoffs_keep_local_time_across_dst() -> None:
    policies = load_policy_dir(ROOT / "policies")
    rotation = policies.oncall.rotations[0]
    rows = handoffs(policies, rotation, dt.date(2027, 3, 15), count=3)
    # Europe/London moves to BST on 2027-03-28: 10:00 local is 10:00 UTC, then 09:00 UTC.
    assert [(r.at.isoformat(), r.at.astimezone(dt.UTC).hour, r.member) for r in rows] == [
        ("2027-03-15T10:00:00+00:00", 10, policies.oncall.on_call(rotation.name, rows[0].at)),
        ("2027-03-22T10:00:00+00:00", 10, policies.oncall.on_call(rotation.name, rows[1].at)),
        ("2027-03-29T10:00:00+01:00", 9, policies.oncall.on_call(rotation.name, rows[2].at)),
    ]
    assert len({r.member for r in rows}) == 3


def test_multi_week_shifts_list_only_real_handoffs() -> None:
    policies = load_policy_dir(ROOT / "policies")
    rotation = policies.oncall.rotations[0].model_copy(update={"shift_weeks": 2})
    oncall = policies.oncall.model_copy(update={"rotations": (rotation,)})
    policies = dataclasses.replace(policies, oncall=oncall)
    rows = handoffs(policies, rotation, dt.date(2026, 11, 23), count=4)
    gaps = {(b.at - a.at).days for a, b in itertools.pairwise(rows)}
    assert gaps == {14}
    # 46 weeks after the 2026-01-05 start: shift 23, the fourth member, until 2026-12-07.
    assert [(r.at.date().isoformat(), r.member) for r in rows] == [
        ("2026-11-23", "raj-iyer"),
        ("2026-12-07", "maya-chen"),
        ("2026-12-21", "dev-patel"),
        ("2027-01-04", "sam-okafor"),
    ]


def test_protected_path_without_owner_is_flagged_in_the_document() -> None:
    policies = load_policy_dir(ROOT / "policies")
    group = policies.ownership.protected[0].model_copy(update={"paths": ("infra/secrets/",)})
    ownership = policies.ownership.model_copy(update={"protected": (group,)})
    text = render_operating_model(dataclasses.replace(policies, ownership=ownership), NOW)
    assert (
        "| mcp-and-tools | `infra/secrets/` | 1 | **no owner** | "
        "**nobody: fix policies/owners.yaml** |" in text
    )


def test_help_does_not_import_heavy_modules() -> None:
    import subprocess
    import sys

    code = (
        "import sys, automation.cli as c; c.build_parser();"
        "print(sorted(m for m in ('github', 'jinja2', 'pydantic') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert out.strip() == "[]"


class _ShrunkTriage(PolicyModel):
    """A triage model whose SLA field was renamed by another developer."""

    label: str = "eval-regression"
    ack_sla: dict[str, int] = pydantic.Field(default_factory=dict)


def test_a_model_change_the_section_does_not_fit_names_the_template_and_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import automation.policy.loader as loader

    real = loader.load_policy_dir

    def load(directory: object = "policies") -> object:
        policies = real(directory)  # type: ignore[arg-type]
        return dataclasses.replace(policies, triage=_ShrunkTriage(ack_sla={"sev1": 4}))

    monkeypatch.setattr(loader, "load_policy_dir", load)
    monkeypatch.chdir(ROOT)
    assert cli.main(["docs", "check"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: automation/templates/docs/triage.md.j2:")
    assert "has no attribute 'sla_hours' (adjust that template)" in err
    assert len(err.splitlines()) == 1


def test_digest_template_runbook_links_are_checked() -> None:
    template = (ROOT / "automation/templates/digest.md.j2").read_text()
    assert set(runbook_refs(template)) == {
        "eval-regression.md",
        "change-operating-model.md",
        "release-train.md",
        "tool-incident.md",
    }


def _section(text: str, heading: str) -> str:
    """The rendered `## heading` section, up to the next `## ` heading."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _percent(value: Decimal) -> str:
    return f"{float(value) * 100:g}%"


@pytest.fixture(scope="module")
def shipped() -> tuple[Policies, str]:
    policies = load_policy_dir(ROOT / "policies")
    return policies, render_operating_model(policies, NOW)


def test_triage_section_shows_the_policy_values(shipped: tuple[Policies, str]) -> None:
    policies, text = shipped
    triage = policies.triage
    section = _section(text, "Eval regression triage")
    prefix = triage.labels.severity_prefix
    assert "Also set in" not in section
    # Recognition: labels, title pattern, the form's headings.
    for label in triage.recognise.labels:
        assert f"`{label}`" in section
    assert f"matches the regular expression `{triage.recognise.title_pattern}`" in section
    assert "`### Eval suite` and `### Metric` headings" in section
    # Every form field: its label and whether it is required.
    for spec in triage.fields:
        row = f"| `{spec.key}` | {spec.label} | "
        assert row in section
        line = next(line for line in section.splitlines() if line.startswith(row))
        assert line.endswith(f"| {'yes' if spec.required else 'no'} |")
    # Severity thresholds per metric family, with the direction that is worse.
    for family in triage.metrics:
        worse = "lower" if family.better == "higher" else "higher"
        assert f"**{family.name}**: " in section
        assert f"; {worse} is worse." in section
        for threshold in family.thresholds:
            absolute = "-" if threshold.absolute is None else str(threshold.absolute)
            relative = "-" if threshold.relative is None else _percent(threshold.relative)
            assert f"| `{prefix}{threshold.severity}` | {absolute} | {relative} |" in section
    # The same, read straight from the shipped YAML: the quality family's worst threshold.
    raw = yaml.safe_load((ROOT / "policies/triage.yaml").read_text(encoding="utf-8"))
    quality = next(m for m in raw["metrics"] if m["name"] == "quality")
    worst = quality["thresholds"][0]
    row = (
        f"| `{prefix}{worst['severity']}` | {worst['absolute']:g} | {worst['relative'] * 100:g}% |"
    )
    assert row in section
    assert f"family matches is `{prefix}{triage.default_severity}`" in section
    # Area rules, assignment and SLA per severity, acknowledgement.
    for rule in triage.areas:
        assert f"| {rule.area} | " in section
        if rule.assignee:
            assert f"| @{rule.assignee} |" in section
    assert f"failing that, `{triage.default_area}`." in section
    names = {
        "area-owner": "the area owner",
        "on-call": f"the on-call of `{triage.rotation}`",
        "both": f"the area owner and the on-call of `{triage.rotation}`",
    }
    for severity, hours in triage.sla_hours.items():
        who = names[triage.assign_rule(severity)]
        assert f"| `{prefix}{severity}` | {hours} hours | {who} |" in section
    assert (
        f"acknowledged when the `{triage.acknowledgement.label}` label is on it or a current "
        "assignee has commented on it." in section
    )
    # Escalation mentions, duplicates, the runbook link.
    rotation = policies.oncall.rotation(triage.rotation)
    assert rotation is not None
    secondary = rotation.secondary
    assert f"mentioning the secondary on call (rotation `{secondary}`)" in section
    assert f"labelled `{triage.labels.duplicate}` and stays open" in section
    assert "[eval-regression.md](runbooks/eval-regression.md)" in section
    assert f"/blob/<default branch>/{triage.runbook}`" in section


def test_oncall_section_shows_overrides_secondary_and_handoff(
    shipped: tuple[Policies, str],
) -> None:
    policies, text = shipped
    oncall = policies.oncall
    section = _section(text, "On call")
    assert "Also set" not in section
    primary = oncall.rotation("ai-primary")
    assert primary is not None
    assert f"- Secondary: the on-call of rotation `{primary.secondary}`;" in section
    assert "- Used by: the secondary of `ai-primary`" in section
    cover = next(o for o in primary.overrides if o.kind == "cover")
    assert (
        f"| {cover.start:%Y-%m-%d %H:%M} | {cover.end:%Y-%m-%d %H:%M} | @{cover.member} covers "
        f"for @{cover.replaces}, while @{cover.replaces} would be on call | {cover.reason} |"
    ) in section
    vacation = next(o for o in primary.overrides if o.kind == "vacation")
    assert (
        f"| {vacation.start.isoformat()} | {vacation.end.isoformat()} (inclusive) | "
        f"@{vacation.member} is away" in section
    )
    handoff = oncall.handoff
    assert handoff is not None
    assert f"keeps the pinned `{handoff.issue_label}` issue current" in section
    assert f"titled `{handoff.issue_title}: @<primary>`" in section
    assert "is handed over to the new\non-call" in section
    # The schedule tables are still there.
    assert "| on call from (Europe/London) | UTC | who |" in section


def test_ownership_section_shows_each_group(shipped: tuple[Policies, str]) -> None:
    policies, text = shipped
    ownership = policies.ownership
    section = _section(text, "Review standard")
    assert "Also set" not in section
    assert f"`{ownership.check_name}` check" in section
    for group in ownership.protected:
        paths = ", ".join(f"`{p}`" for p in group.paths)
        author = "counts as one approval" if group.allow_author else "never counts"
        last_push = ownership.last_push_approval(group, policies)
        push = "no longer count" if group.invalidate_on_push or last_push else "still count"
        assert f"| {group.name} | {paths} | {group.approvals} | {author} | {push}" in section
    assert ownership.request_reviews
    assert "the automation asks the owners for a review" in section


def test_sections_follow_other_policy_values() -> None:
    from automation.policy.oncall import Layer

    policies = load_policy_dir(ROOT / "policies")
    triage = policies.triage.model_copy(
        update={
            "duplicates": policies.triage.duplicates.model_copy(update={"close": True}),
            "acknowledgement": policies.triage.acknowledgement.model_copy(
                update={"assignee_comment": False}
            ),
            "assign": {**policies.triage.assign, "sev2": "area-owner"},
        }
    )
    layer = Layer(
        name="weekend",
        members=("tomas-silva", "lena-fischer"),
        weekdays=("saturday", "sunday"),
        from_time=dt.time(8, 0),
    )
    rotation = policies.oncall.rotations[0].model_copy(update={"layers": (layer,)})
    oncall = policies.oncall.model_copy(
        update={"rotations": (rotation, *policies.oncall.rotations[1:]), "handoff": None}
    )
    group = policies.ownership.protected[0].model_copy(
        update={
            "allow_author": True,
            "invalidate_on_push": False,
            "last_push_approval": False,
            "approvals": 2,
        }
    )
    ownership = policies.ownership.model_copy(
        update={"protected": (group,), "request_reviews": False}
    )
    text = render_operating_model(
        dataclasses.replace(policies, triage=triage, oncall=oncall, ownership=ownership), NOW
    )
    assert "labelled `duplicate` and closed as not planned" in text
    assert "acknowledged when the `triaged` label is on it.\n" in text
    assert "| `severity:sev2` | 24 hours | the area owner |" in text
    assert "| weekend | @tomas-silva, @lena-fischer | Saturday, Sunday | 08:00-24:00 |" in text
    assert "No handoff is configured" in text
    assert "| mcp-and-tools | `dataface/ai/` | 2 | counts as one approval | still count |" in text
    assert "The automation does not request reviews" in text
    assert "Also set" not in text

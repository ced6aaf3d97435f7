"""policies/reviews.yaml and policies/docs.yaml: every problem one located line (file:line
field: message); docs check names a runbook without an owner and a listed one that is gone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from automation import engine
from automation.docs import check_docs
from automation.policy.loader import PolicyError, load_policy_dir
from tests.policy_files import edit_policy

ROOT = Path(__file__).resolve().parent.parent


def problems(directory: Path) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_policy_dir(directory)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        (
            "escalate_after_hours: 32",
            "escalate_after_hours: 8",
            "escalate_after_hours",
            "must be more than remind_after_hours (16)",
        ),
        ('  end: "17:00"', '  end: "08:00"', "working_hours", "ends (08:00:00) before it starts"),
        # A number is read as seconds since midnight UTC, an aware time (found by the fuzzer:
        # comparing it with the naive end was a TypeError traceback).
        ('  start: "09:00"', "  start: 42", "working_hours.start", "write a local time as HH:MM"),
        (
            "default_timezone: UTC",
            "default_timezone: Mars/Olympus",
            "default_timezone",
            "unknown IANA time zone",
        ),
        ("  days: [monday,", "  days: [funday,", "working_hours.days[0]", "Input should be"),
        (
            'exempt_authors: ["dependabot[bot]", "renovate[bot]"]',
            'exempt_authors: ["dependabot[bot]", bob]',
            "exempt_authors[1]",
            "unknown person or team 'bob'",
        ),
        (
            "figures_days: 28",
            "figures_days: 28\nreminder_comment: '{{ nope }}'",
            "reminder_comment",
            "nope",
        ),
        (
            "    name: Christmas Day",
            "    name: Christmas Day\n  - date: 2026-12-25",
            "holidays[2].date",
            "duplicate holiday 2026-12-25",
        ),
    ],
)
def test_reviews_yaml_problems_are_located(
    policy_copy: Path, old: str, new: str, where: str, message: str
) -> None:
    line = edit_policy(policy_copy / "reviews.yaml", old, new)
    (found,) = [p for p in problems(policy_copy) if "reviews.yaml" in p]
    assert found.startswith(f"{policy_copy}/reviews.yaml:")
    assert where in found and message in found
    # The line of the field, or of the mapping a whole-object check names (working_hours).
    assert line - 2 <= int(found.split(":")[1].split()[0]) <= line + 2


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        ("    area: evals", "    area: evalz", "documents[4].area", "unknown area 'evalz'"),
        (
            "  - path: docs/runbooks/oncall-handoff.md",
            "  - path: docs/runbooks/eval-regression.md",
            "documents[5].path",
            "duplicate document",
        ),
        (
            "  - path: docs/runbooks/oncall-handoff.md",
            "  - path: ../etc/passwd",
            "documents[5].path",
            "a Markdown file under docs/",
        ),
        ("labels: [docs-review]", "labels: []", "labels", "at least 1 item"),
    ],
)
def test_docs_yaml_problems_are_located(
    policy_copy: Path, old: str, new: str, where: str, message: str
) -> None:
    line = edit_policy(policy_copy / "docs.yaml", old, new)
    (found,) = [p for p in problems(policy_copy) if "docs.yaml" in p]
    assert found.startswith(f"{policy_copy}/docs.yaml:{line} ") or found.startswith(
        f"{policy_copy}/docs.yaml:{line + 1} "
    )
    assert where in found and message in found


def test_both_are_off_unless_their_file_exists(policy_copy: Path) -> None:
    (policy_copy / "reviews.yaml").unlink()
    (policy_copy / "docs.yaml").unlink()
    on, off = engine.switched_on(load_policy_dir(policy_copy), ())
    assert "reviews" not in on and "docs_upkeep" not in on
    assert f"reviews: off ({policy_copy}/reviews.yaml absent)" in off
    assert f"docs_upkeep: off ({policy_copy}/docs.yaml absent)" in off
    edit_text = "enabled: false\n"
    shutil.copy(ROOT / "policies" / "docs.yaml", policy_copy / "docs.yaml")
    edit_policy(policy_copy / "docs.yaml", "review_days: 180", f"{edit_text}review_days: 180")
    on, off = engine.switched_on(load_policy_dir(policy_copy), ("docs_upkeep",))
    assert off == [f"docs_upkeep: off (enabled: false in {policy_copy}/docs.yaml)"]


def test_docs_check_names_a_runbook_without_an_owner_and_a_missing_document(
    repo_copy: Path,
) -> None:
    (repo_copy / "docs" / "runbooks" / "new-thing.md").write_text("# New\n")
    (repo_copy / "docs" / "runbooks" / "rotate-cached-profiles.md").unlink()
    # The operating model's runbook table does not link it, so only docs.yaml names it.
    result = check_docs(load_policy_dir(repo_copy / "policies"), repo_copy)
    policy = repo_copy / "policies" / "docs.yaml"
    assert (
        f"{policy}:10 documents: docs/runbooks/new-thing.md has no owner (list it with its area)"
        in result.problems
    )
    gone = [p for p in result.problems if "rotate-cached-profiles.md does not exist" in p]
    assert gone == [
        f"{policy}:27 documents[7].path: docs/runbooks/rotate-cached-profiles.md does not exist"
    ]
    assert not result.ok


def test_docs_check_without_docs_yaml_keeps_todays_checks_only(repo_copy: Path) -> None:
    (repo_copy / "policies" / "docs.yaml").unlink()
    (repo_copy / "docs" / "runbooks" / "new-thing.md").write_text("# New\n")
    policies = load_policy_dir(repo_copy / "policies")
    result = check_docs(policies, repo_copy)
    assert not any("has no owner" in p for p in result.problems)

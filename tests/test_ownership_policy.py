"""policies/ownership.yaml: the model, its cross-file checks, and path-group matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.cli import main
from automation.policy.loader import load_policy_dir

POLICIES = Path(__file__).resolve().parent.parent / "policies"


def test_shipped_ownership_policy() -> None:
    policy = load_policy_dir(POLICIES).ownership
    assert policy.check_name == "owner-approval"
    assert policy.request_reviews is True
    by_name = {g.name: g for g in policy.protected}
    assert by_name["mcp-and-tools"].paths == ("dataface/ai/",)
    assert (by_name["mcp-and-tools"].approvals, by_name["mcp-and-tools"].invalidate_on_push) == (
        1,
        True,
    )
    assert by_name["prompts"].allow_author is False
    assert {"policies/", "CODEOWNERS"} <= set(by_name["operating-model"].paths)


@pytest.mark.parametrize(
    ("path", "groups"),
    [
        ("dataface/ai/mcp/server.py", ["mcp-and-tools"]),
        ("dataface/ai", []),  # the directory itself is not a file under it
        ("dataface/aim/x.py", []),
        ("prompts/sql/generate.md", ["prompts"]),
        ("docs/prompts/style.md", []),  # protected directories are anchored at the root
        ("policies/owners.yaml", ["operating-model"]),
        ("CODEOWNERS", ["operating-model"]),
        (".github/CODEOWNERS", ["operating-model"]),
        ("Prompts/x.md", []),  # paths are case-sensitive
    ],
)
def test_groups_for(path: str, groups: list[str]) -> None:
    policy = load_policy_dir(POLICIES).ownership
    assert [g.name for g in policy.groups_for(path)] == groups


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'paths: ["prompts/"]\n    approvals: 1',
            'paths: ["prompts/"]\n    approvals: 0',
            "policies/ownership.yaml:18 protected[1].approvals: "
            "Input should be greater than or equal to 1",
        ),
        (
            'paths: ["prompts/"]',
            'paths: ["prompts/", "notebooks/"]',
            "policies/ownership.yaml:17 protected[1].paths[1]: "
            "no area of owners.yaml owns 'notebooks/': nobody could approve it",
        ),
        (
            'paths: ["prompts/"]',
            'paths: ["!prompts/"]',
            "policies/ownership.yaml:17 protected[1].paths[0]: "
            "invalid glob '!prompts/': CODEOWNERS does not support '!' negation",
        ),
        (
            "  - name: prompts\n",
            "  - name: mcp-and-tools\n",
            "policies/ownership.yaml:16 protected[1].name: duplicate name 'mcp-and-tools'",
        ),
        (
            "request_reviews: true",
            "request_reviews: always",
            "policies/ownership.yaml:6 request_reviews: Input should be a valid boolean, "
            "unable to interpret input",
        ),
        (
            "    invalidate_on_push: true\n  - name: prompts",
            "    invalidate_on_push: true\n    dismiss: true\n  - name: prompts",
            "policies/ownership.yaml:16 protected[0].dismiss: unknown key",
        ),
    ],
    ids=["zero-approvals", "unowned-path", "negation", "duplicate-name", "bad-bool", "unknown-key"],
)
def test_broken_ownership_policy(
    policy_copy: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, expected: str
) -> None:
    path = policy_copy / "ownership.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    assert main(["validate", "--policies", str(policy_copy)]) == 2
    err = capsys.readouterr().err.replace(f"{policy_copy}", "policies")
    assert expected in err.splitlines()

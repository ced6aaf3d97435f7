"""policies/stale.yaml: shipped rules load; broken copies name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.features.stale.collect import activity_from_timeline
from automation.policy.loader import PolicyError, load_policy_dir
from tests.github_api import checker
from tests.policy_files import edit_policy

POLICIES = Path(__file__).resolve().parent.parent / "policies"


def test_shipped_stale_policy() -> None:
    stale = load_policy_dir(POLICIES).stale
    assert [r.name for r in stale.rules] == ["pull-requests", "backlog"]
    backlog = stale.rule("backlog")
    assert backlog is not None and backlog.close_reason == "not_planned"
    assert backlog.exempt_label_regex is not None
    assert backlog.exempt_label_regex.fullmatch("severity:sev2")
    assert not backlog.exempt_label_regex.fullmatch("bug")
    assert stale.max_writes_per_run == 50


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "exempt_assignees: [ai-platform]",
            "exempt_assignees: [ai-platfrom]",
            "rules[1].exempt_assignees[0]: unknown person or team 'ai-platfrom'",
        ),
        (
            'exempt_authors: ["dependabot[bot]"]',
            'exempt_authors: ["dependabot[bot]", bob]',
            "rules[0].exempt_authors[1]: unknown person or team 'bob'",
        ),
        (
            "now marked `{{ stale_label }}`.",
            "now marked `{{ stale_lable }}`.",
            "rules[0].warning_comment: template does not render: 'stale_lable' is undefined",
        ),
        (
            "{{ days_until_close }} days ago. Reopen",
            "{{ days_until_close }} days ago. {% if %}Reopen",
            "rules[1].closing_comment: template does not render",
        ),
        (
            '"security*"]',
            '"security*", "st*"]',
            "rules[0].exempt_labels: exempts the rule's own stale label 'stale'",
        ),
        (
            "    include_drafts: false\n",
            "    include_drafts: false\n    any_of_labels: [stale]\n",
            "rules[0].any_of_labels[0]: 'stale' is a label the stale sweep adds itself",
        ),
        (
            "  - name: backlog\n",
            "  - name: pull-requests\n",
            "rules[1].name: duplicate rule name 'pull-requests'",
        ),
        ("    scope: prs\n", "    scope: pulls\n", "rules[0].scope: Input should be"),
        ("    close_reason: not_planned\n", "    close_reason: wontfix\n", "close_reason"),
        ("    days_until_stale: 60\n", "    days_until_stale: 0\n", "days_until_stale"),
        ("    on_close:\n", "    on_closed:\n", "rules[1].on_closed: unknown key"),
        ("max_writes_per_run: 50", "max_writes_per_run: 0", "max_writes_per_run"),
        (
            "      remove: [triaged]\n",
            "      remove: [triaged, Stale]\n",
            "rules[1].on_stale.remove: removes the stale label 'stale' the warning adds",
        ),
        (
            "      add: [closed-stale]\n",
            "      add: [closed-stale]\n      remove: [Closed-Stale]\n",
            "rules[1].on_close: adds and removes the same label: closed-stale",
        ),
        (
            '  comments: ["is stale because it has been open"]\n',
            '  comments: ["is stale because it has been open", ""]\n',
            "adopt_warnings.comments[1]: String should have at least 1 character",
        ),
    ],
    ids=[
        "unknown-team",
        "unknown-author",
        "template-typo",
        "template-syntax",
        "stale-label-exempt-by-wildcard",
        "scope-on-own-label",
        "duplicate-rule",
        "bad-scope",
        "bad-close-reason",
        "zero-days",
        "unknown-key",
        "zero-budget",
        "stale-label-removed-on-stale",
        "add-and-remove",
        "adopted-empty-text",
    ],
)
def test_broken_stale_file_names_file_line_and_field(
    policy_copy: Path, old: str, new: str, expected: str
) -> None:
    line = edit_policy(policy_copy / "stale.yaml", old, new)
    with pytest.raises(PolicyError) as caught:
        load_policy_dir(policy_copy)
    problems = [str(p) for p in caught.value.problems]
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(f"{policy_copy}/stale.yaml:") for p in problems)
    # The line of the field, or of the block-scalar key a template starts on.
    reported = [int(p.split("stale.yaml:")[1].split(" ")[0]) for p in problems if expected in p]
    assert any(line - 6 <= r <= line + 1 for r in reported), (line, reported)


def test_timeline_example_from_the_rest_description_splits_into_comments_and_events() -> None:
    entries = checker.example(("GET", "/repos/{owner}/{repo}/issues/{issue_number}/timeline"))
    comments, events = activity_from_timeline(entries)
    assert [c.author for c in comments] == [entries[3]["user"]["login"]]
    assert [e.event for e in events] == ["locked", "labeled", "renamed"]
    assert events[1].label == entries[1]["label"]["name"]


def test_timeline_pushes_reviews_and_review_comments_become_events() -> None:
    user = checker.user_json("maya-chen")
    bot = checker.user_json("ci[bot]", type="Bot")
    comments, events = activity_from_timeline(
        [
            {
                "event": "committed",
                "sha": "a" * 40,
                "author": {"name": "Maya", "email": "m@x", "date": "2026-11-01T10:00:00Z"},
                "committer": {"name": "Maya", "email": "m@x", "date": "2026-11-02T10:00:00Z"},
            },
            {"event": "reviewed", "id": 1, "user": user, "submitted_at": "2026-11-03T10:00:00Z"},
            {"event": "reviewed", "id": 2, "user": user, "state": "pending"},
            {
                "event": "line-commented",
                "comments": [{"user": bot, "created_at": "2026-11-04T10:00:00Z"}],
            },
            {"event": "mentioned", "actor": user, "created_at": "2026-11-05T10:00:00Z"},
        ]
    )
    assert comments == ()
    assert [(e.event, e.actor, e.actor_is_bot, e.created_at.day) for e in events] == [
        ("committed", "Maya", False, 2),
        ("reviewed", "maya-chen", False, 3),
        ("line-commented", "ci[bot]", True, 4),
        ("mentioned", "maya-chen", False, 5),
    ]

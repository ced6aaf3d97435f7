"""Table tests of the owner-approval planner: conclusion, title and summary table per case."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from automation.actions import RequestReviewers, UpsertCheckRun
from automation.commands.codeowners import generated_text
from automation.features.ownership.plan import plan_ownership
from automation.policy.loader import Policies, load_policy_dir
from automation.policy.ownership import ProtectedPath
from automation.rules.ownership import MAX_LISTED_FILES
from automation.simulate import simulate
from automation.snapshot.models import (
    ChangedFile,
    CheckRun,
    CodeownersFile,
    IssueEvent,
    PullRequest,
    Review,
    Snapshot,
)

ROOT = Path(__file__).resolve().parent.parent
T = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
HEAD = "a" * 40
OLD = "b" * 40
BASE = "c" * 40
SHIPPED = load_policy_dir(ROOT / "policies")
CODEOWNERS = generated_text(SHIPPED)


def _classic(policies: Policies) -> Policies:
    """Members from owners.yaml, and no latest-push rule: the tables below predate both."""
    protected = tuple(
        g.model_copy(update={"last_push_approval": False}) for g in policies.ownership.protected
    )
    ownership = policies.ownership.model_copy(
        update={"team_source": "policy", "protected": protected}
    )
    return dataclasses.replace(policies, ownership=ownership)


POLICIES = _classic(SHIPPED)
# The same, with team members from GitHub's teams API (the shipped default).
GITHUB_TEAMS = dataclasses.replace(
    POLICIES, ownership=POLICIES.ownership.model_copy(update={"team_source": "github"})
)
# What a PR might put in its own CODEOWNERS: itself as owner of everything protected.
SELF_GRANT = CODEOWNERS + "\n/dataface/ai/ @tomas-silva\n/policies/ @tomas-silva\n"

# owners.yaml teams: ai-platform = maya-chen, dev-patel, sam-okafor;
# prompt-eng = lena-fischer, maya-chen; ops-council = maya-chen, raj-iyer.
AI = "dataface/ai/tools/run_query.py"
PROMPT = "prompts/sql/generate.md"


def policies(**groups: dict[str, Any]) -> Policies:
    """The shipped policies with some protected groups' fields changed."""
    protected = tuple(
        ProtectedPath.model_validate({**g.model_dump(), **groups.get(g.name, {})})
        for g in POLICIES.ownership.protected
    )
    ownership = POLICIES.ownership.model_copy(update={"protected": protected})
    return dataclasses.replace(POLICIES, ownership=ownership)


def review(
    user: str, state: str = "APPROVED", commit: str = HEAD, minute: int = 0, rid: int = 0
) -> Review:
    return Review(
        id=rid or 9000 + minute,
        user=user,
        state=state,  # type: ignore[arg-type]
        commit_id=commit,
        submitted_at=T - dt.timedelta(hours=1) + dt.timedelta(minutes=minute),
    )


def pull(
    *files: str | tuple[str, str],
    reviews: tuple[Review, ...] = (),
    author: str = "tomas-silva",
    number: int = 201,
    **extra: Any,
) -> PullRequest:
    changed = tuple(
        ChangedFile(filename=f, status="modified")
        if isinstance(f, str)
        else ChangedFile(filename=f[0], previous_filename=f[1], status="renamed")
        for f in files
    )
    fields: dict[str, Any] = {
        "number": number,
        "title": "Change things",
        "author": author,
        "created_at": T - dt.timedelta(days=1),
        "updated_at": T,
        "head_sha": HEAD,
        "base_sha": BASE,
        "changed_files": len(changed),
        "files": changed,
        "reviews": reviews,
        "events": (),
    }
    fields.update(extra)
    return PullRequest(**fields)


def snapshot(*pulls: PullRequest, codeowners: str | None = CODEOWNERS, **extra: Any) -> Snapshot:
    files = (
        ()
        if codeowners is None
        else (CodeownersFile(ref=BASE, path="CODEOWNERS", text=codeowners),)
    )
    return Snapshot(
        repo="dataface/dataface",
        taken_at=T,
        bot_login="dataface-ops[bot]",
        pulls=pulls,
        codeowners=files,
        **extra,
    )


def table(summary: str) -> list[tuple[str, ...]]:
    """The rows of the summary's Markdown table (without header and separator)."""
    rows = [line for line in summary.splitlines() if line.startswith("| ")]
    return [tuple(c.strip() for c in r.strip("|").split(" | ")) for r in rows[2:]]


def check_of(plan_actions: tuple[Any, ...]) -> UpsertCheckRun:
    runs = [a for a in plan_actions if isinstance(a, UpsertCheckRun)]
    assert len(runs) == 1
    return runs[0]


NEED_AI = "1 approval from @dataface/ai-platform"
NEED_PROMPTS = "1 approval from @dataface/prompt-eng"

# (id, policies, snapshot, conclusion, title, table rows, text the summary must contain)
CASES: list[tuple[str, Policies, Snapshot, str, str, list[tuple[str, ...]], str]] = [
    (
        "no-protected-path",
        POLICIES,
        snapshot(pull("dataface/core/sql.py", "README.md")),
        "success",
        "No protected path touched",
        [],
        "No protected path touched: none of the 2 changed file(s) is under dataface/ai/, "
        "prompts/, policies/, CODEOWNERS, .github/, docs/CODEOWNERS, /action.yml, automation/, "
        "/pyproject.toml.",
    ),
    (
        "team-member-approval",
        POLICIES,
        snapshot(pull(AI, reviews=(review("dev-patel"),))),
        "success",
        "Approved by owners: mcp-and-tools",
        [("mcp-and-tools (1 file)", "@dataface/ai-platform", "@dev-patel", "nothing")],
        "Every protected path group this PR touches is approved by its owners.",
    ),
    (
        "non-owner-approval",
        POLICIES,
        snapshot(pull(AI, reviews=(review("raj-iyer"),))),
        "failure",
        "Owner approval needed: mcp-and-tools",
        [
            (
                "mcp-and-tools (1 file)",
                "@dataface/ai-platform",
                "none",
                f"{NEED_AI}; not counted: @raj-iyer (not an owner)",
            )
        ],
        "1 of 1 protected path group(s) still need their owners.",
    ),
    (
        "approval-of-old-commit-then-push",
        POLICIES,
        snapshot(pull(AI, reviews=(review("dev-patel", commit=OLD),))),
        "failure",
        "Owner approval needed: mcp-and-tools",
        [
            (
                "mcp-and-tools (1 file)",
                "@dataface/ai-platform",
                "none",
                f"{NEED_AI}; not counted: @dev-patel (approved an older commit)",
            )
        ],
        "dataface/ai/tools/run\\_query.py: mcp-and-tools, @dataface/ai-platform "
        "(CODEOWNERS line 15)",
    ),
    (
        "old-commit-approval-counts-without-invalidate-on-push",
        policies(**{"mcp-and-tools": {"invalidate_on_push": False}}),
        snapshot(pull(AI, reviews=(review("dev-patel", commit=OLD),))),
        "success",
        "Approved by owners: mcp-and-tools",
        [("mcp-and-tools (1 file)", "@dataface/ai-platform", "@dev-patel", "nothing")],
        "",
    ),
    (
        "owner-approved-one-area-not-another",
        POLICIES,
        snapshot(pull(AI, PROMPT, reviews=(review("dev-patel"),))),
        "failure",
        "Owner approval needed: prompts",
        [
            ("mcp-and-tools (1 file)", "@dataface/ai-platform", "@dev-patel", "nothing"),
            (
                "prompts (1 file)",
                "@dataface/prompt-eng",
                "none",
                f"{NEED_PROMPTS}; not counted: @dev-patel (not an owner)",
            ),
        ],
        "1 of 2 protected path group(s) still need their owners.",
    ),
    (
        "one-owner-in-both-teams-approves-both-areas",
        POLICIES,
        snapshot(pull(AI, PROMPT, reviews=(review("maya-chen"),))),
        "success",
        "Approved by owners: mcp-and-tools, prompts",
        [
            ("mcp-and-tools (1 file)", "@dataface/ai-platform", "@maya-chen", "nothing"),
            ("prompts (1 file)", "@dataface/prompt-eng", "@maya-chen", "nothing"),
        ],
        "",
    ),
    (
        "author-is-the-sole-owner",
        POLICIES,
        snapshot(pull(PROMPT, author="lena-fischer"), codeowners="/prompts/ @lena-fischer\n"),
        "failure",
        "Owner approval needed: prompts",
        [
            (
                "prompts (1 file)",
                "@lena-fischer",
                "none",
                "1 approval from @lena-fischer; "
                "the author @lena-fischer is the only owner and cannot approve",
            )
        ],
        "",
    ),
    (
        "author-is-the-sole-owner-and-the-rule-allows-it",
        policies(prompts={"allow_author": True}),
        snapshot(pull(PROMPT, author="lena-fischer"), codeowners="/prompts/ @lena-fischer\n"),
        "success",
        "Approved by owners: prompts",
        [("prompts (1 file)", "@lena-fischer", "@lena-fischer", "nothing")],
        "",
    ),
    (
        "author-in-owning-team-does-not-count",
        POLICIES,
        snapshot(pull(PROMPT, author="lena-fischer")),
        "failure",
        "Owner approval needed: prompts",
        [("prompts (1 file)", "@dataface/prompt-eng", "none", NEED_PROMPTS)],
        "",
    ),
    (
        "pr-edits-codeowners-to-add-its-author",
        POLICIES,
        snapshot(
            pull("CODEOWNERS", AI, reviews=(review("raj-iyer"),)),
            # Even with the head's CODEOWNERS in the snapshot, only the base's counts.
            codeowners=CODEOWNERS,
        ).model_copy(
            update={
                "codeowners": (
                    CodeownersFile(ref=HEAD, path="CODEOWNERS", text=SELF_GRANT),
                    CodeownersFile(ref=BASE, path="CODEOWNERS", text=CODEOWNERS),
                )
            }
        ),
        "failure",
        "Owner approval needed: mcp-and-tools",
        [
            (
                "mcp-and-tools (1 file)",
                "@dataface/ai-platform",
                "none",
                f"{NEED_AI}; not counted: @raj-iyer (not an owner)",
            ),
            ("operating-model (1 file)", "@dataface/ops-council", "@raj-iyer", "nothing"),
        ],
        "Owners come from CODEOWNERS on the base branch (CODEOWNERS at ccccccc), "
        "never from the PR itself.",
    ),
    (
        "dismissed-approval",
        POLICIES,
        snapshot(pull(AI, reviews=(review("dev-patel", "DISMISSED"),))),
        "failure",
        "Owner approval needed: mcp-and-tools",
        [("mcp-and-tools (1 file)", "@dataface/ai-platform", "none", NEED_AI)],
        "",
    ),
    (
        "dismissed-request-for-changes-no-longer-blocks",
        POLICIES,
        snapshot(
            pull(AI, reviews=(review("sam-okafor", "DISMISSED", minute=1), review("dev-patel")))
        ),
        "success",
        "Approved by owners: mcp-and-tools",
        [("mcp-and-tools (1 file)", "@dataface/ai-platform", "@dev-patel", "nothing")],
        "",
    ),
    (
        "owner-requests-changes-blocks-another-owners-approval",
        POLICIES,
        snapshot(
            pull(
                AI,
                reviews=(review("dev-patel"), review("sam-okafor", "CHANGES_REQUESTED", OLD, 1)),
            )
        ),
        "failure",
        "Changes requested by owners: mcp-and-tools",
        [
            (
                "mcp-and-tools (1 file)",
                "@dataface/ai-platform",
                "@dev-patel",
                "changes requested by @sam-okafor",
            )
        ],
        "",
    ),
    (
        "latest-review-counts-changes-then-approval",
        POLICIES,
        snapshot(
            pull(
                AI,
                reviews=(
                    review("sam-okafor", "CHANGES_REQUESTED", OLD, 0),
                    review("sam-okafor", "APPROVED", HEAD, 5),
                ),
            )
        ),
        "success",
        "Approved by owners: mcp-and-tools",
        [("mcp-and-tools (1 file)", "@dataface/ai-platform", "@sam-okafor", "nothing")],
        "",
    ),
    (
        "latest-review-counts-approval-then-changes",
        POLICIES,
        snapshot(
            pull(
                AI,
                reviews=(
                    review("sam-okafor", minute=0),
                    review("sam-okafor", "CHANGES_REQUESTED", minute=5),
                ),
            )
        ),
        "failure",
        "Changes requested by owners: mcp-and-tools",
        [
            (
                "mcp-and-tools (1 file)",
                "@dataface/ai-platform",
                "none",
                f"changes requested by @sam-okafor; {NEED_AI}",
            )
        ],
        "",
    ),
    (
        "a-later-comment-keeps-the-approval",
        POLICIES,
        snapshot(
            pull(
                AI,
                reviews=(review("dev-patel", minute=0), review("dev-patel", "COMMENTED", minute=9)),
            )
        ),
        "success",
        "Approved by owners: mcp-and-tools",
        [("mcp-and-tools (1 file)", "@dataface/ai-platform", "@dev-patel", "nothing")],
        "",
    ),
    (
        "renamed-out-of-a-protected-path-counts-under-the-old-path",
        POLICIES,
        snapshot(pull(("docs/prompts/generate.md", PROMPT), reviews=(review("dev-patel"),))),
        "failure",
        "Owner approval needed: prompts",
        [
            (
                "prompts (1 file)",
                "@dataface/prompt-eng",
                "none",
                f"{NEED_PROMPTS}; not counted: @dev-patel (not an owner)",
            )
        ],
        "prompts/sql/generate.md: prompts, @dataface/prompt-eng (CODEOWNERS line 18)",
    ),
    (
        "renamed-between-protected-paths-needs-both-owners",
        POLICIES,
        snapshot(pull((AI.replace(".py", ".md"), PROMPT), reviews=(review("lena-fischer"),))),
        "failure",
        "Owner approval needed: mcp-and-tools",
        [
            (
                "mcp-and-tools (1 file)",
                "@dataface/ai-platform",
                "none",
                f"{NEED_AI}; not counted: @lena-fischer (not an owner)",
            ),
            ("prompts (1 file)", "@dataface/prompt-eng", "@lena-fischer", "nothing"),
        ],
        "",
    ),
    (
        "more-than-3000-files-fails-closed",
        POLICIES,
        snapshot(pull(changed_files=3512, files=None)),
        "failure",
        "Too many files to check (3,512 > 3,000)",
        [],
        "**This PR changes 3,512 files, and GitHub's files API lists at most 3,000.** "
        "The check cannot see every changed path, so it fails closed.",
    ),
    (
        "exactly-3000-files-listed-in-full",
        POLICIES,
        snapshot(pull(*(f"dataface/core/gen/f{i}.py" for i in range(MAX_LISTED_FILES)))),
        "success",
        "No protected path touched",
        [],
        "none of the 3000 changed file(s)",
    ),
    (
        "two-approvals-needed-one-given",
        policies(**{"mcp-and-tools": {"approvals": 2}}),
        snapshot(pull(AI, reviews=(review("dev-patel"),))),
        "failure",
        "Owner approval needed: mcp-and-tools",
        [
            (
                "mcp-and-tools (1 file)",
                "@dataface/ai-platform",
                "@dev-patel",
                "1 more approval from @dataface/ai-platform",
            )
        ],
        "",
    ),
    (
        "two-approvals-needed-two-given",
        policies(**{"mcp-and-tools": {"approvals": 2}}),
        snapshot(pull(AI, reviews=(review("dev-patel"), review("maya-chen", minute=1)))),
        "success",
        "Approved by owners: mcp-and-tools",
        [
            (
                "mcp-and-tools (1 file)",
                "@dataface/ai-platform",
                "@dev-patel, @maya-chen",
                "nothing",
            )
        ],
        "",
    ),
    (
        "logins-are-case-insensitive",
        POLICIES,
        snapshot(pull(AI, reviews=(review("Dev-Patel"),))),
        "success",
        "Approved by owners: mcp-and-tools",
        [("mcp-and-tools (1 file)", "@dataface/ai-platform", "@dev-patel", "nothing")],
        "",
    ),
    (
        "protected-path-left-unowned-by-a-later-rule",
        POLICIES,
        snapshot(
            pull("dataface/ai/generated/schema.py", reviews=(review("dev-patel"),)),
            codeowners=CODEOWNERS + "/dataface/ai/generated/\n",
        ),
        "failure",
        "Owner approval needed: mcp-and-tools",
        [
            (
                "mcp-and-tools (1 file)",
                "none",
                "none",
                "no owner in CODEOWNERS, so nobody can approve",
            )
        ],
        "",
    ),
    (
        "no-codeowners-on-the-base-branch",
        POLICIES,
        snapshot(pull(AI, reviews=(review("dev-patel"),))).model_copy(
            update={"codeowners": (CodeownersFile(ref=BASE, path=None),)}
        ),
        "failure",
        "CODEOWNERS of the base branch is missing",
        [
            (
                "mcp-and-tools (1 file)",
                "none",
                "none",
                "CODEOWNERS of the base commit: none at ccccccc: no path has an owner",
            )
        ],
        "",
    ),
    (
        "codeowners-not-read-fails-closed",
        POLICIES,
        snapshot(pull(AI, reviews=(review("dev-patel"),)), codeowners=None),
        "failure",
        "CODEOWNERS of the base branch is missing",
        [
            (
                "mcp-and-tools (1 file)",
                "none",
                "none",
                "CODEOWNERS of the base commit: not read, so the check fails closed",
            )
        ],
        "",
    ),
    (
        "team-members-from-the-api-override-owners-yaml",
        GITHUB_TEAMS,
        snapshot(
            pull(AI, reviews=(review("dev-patel"),)),
            team_members={"dataface/ai-platform": ("maya-chen", "sam-okafor")},
        ),
        "failure",
        "Owner approval needed: mcp-and-tools",
        [
            (
                "mcp-and-tools (1 file)",
                "@dataface/ai-platform",
                "none",
                f"{NEED_AI}; not counted: @dev-patel (not an owner)",
            )
        ],
        "",
    ),
    (
        "owners-that-cannot-be-resolved-to-reviewers",
        POLICIES,
        snapshot(
            pull(PROMPT, author="lena-fischer", reviews=(review("maya-chen"),)),
            codeowners="/prompts/ @dataface/ghost-team prompts@dataface.dev\n",
        ),
        "failure",
        "Owner approval needed: prompts",
        [
            (
                "prompts (1 file)",
                "@dataface/ghost-team prompts@dataface.dev",
                "none",
                "1 approval from @dataface/ghost-team prompts@dataface.dev; "
                "not counted: @maya-chen (not an owner); members unknown: @dataface/ghost-team "
                "not a team of policies/owners.yaml; "
                "email owners cannot be matched to reviewers: prompts@dataface.dev",
            )
        ],
        "",
    ),
    (
        "codeowners-lines-github-skips-are-reported",
        POLICIES,
        snapshot(
            pull(PROMPT, reviews=(review("maya-chen"),)),
            codeowners="/prompts/ @dataface/prompt-eng\n/prompts/sql/ not-an-owner\n",
        ),
        "success",
        "Approved by owners: prompts",
        [("prompts (1 file)", "@dataface/prompt-eng", "@maya-chen", "nothing")],
        "CODEOWNERS has lines GitHub skips: line 2 (invalid-owner).",
    ),
]


@pytest.mark.parametrize(
    ("policy", "snap", "conclusion", "title", "rows", "text"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_check_conclusion_and_summary(
    policy: Policies,
    snap: Snapshot,
    conclusion: str,
    title: str,
    rows: list[tuple[str, ...]],
    text: str,
) -> None:
    plan = plan_ownership(policy, snap, T)
    check = check_of(plan.actions)
    assert (check.name, check.head_sha, check.check_run_id) == ("owner-approval", HEAD, None)
    assert (check.conclusion, check.title) == (conclusion, title)
    assert table(check.summary) == rows
    assert text in check.summary
    assert check.reason == f"#201: {title}"


@pytest.mark.parametrize(("policy", "snap"), [c[1:3] for c in CASES], ids=[c[0] for c in CASES])
def test_plan_simulate_plan_is_empty(policy: Policies, snap: Snapshot) -> None:
    plan = plan_ownership(policy, snap, T)
    assert plan
    again = plan_ownership(policy, simulate(snap, plan), T)
    assert again.actions == ()


def test_full_summary_of_a_failing_check() -> None:
    snap = snapshot(pull(AI, PROMPT, "prompts/sql/repair.md", reviews=(review("dev-patel"),)))
    check = check_of(plan_ownership(POLICIES, snap, T).actions)
    assert check.summary == (
        "Pull request #201 (Change things) into main.\n"
        "\n"
        "1 of 2 protected path group(s) still need their owners.\n"
        "\n"
        "| path group | owners | approved by | missing |\n"
        "| --- | --- | --- | --- |\n"
        "| mcp-and-tools (1 file) | @dataface/ai-platform | @dev-patel | nothing |\n"
        "| prompts (2 files) | @dataface/prompt-eng | none | 1 approval from @dataface/prompt-eng; "
        "not counted: @dev-patel (not an owner) |\n"
        "\n"
        "Owners come from CODEOWNERS on the base branch (CODEOWNERS at ccccccc), never from "
        "the PR itself. Each reviewer's latest review counts; the author never counts unless "
        "the policy allows it.\n"
        "\n"
        "Members of @dataface/ai-platform: taken from policies/owners.yaml (team_source: "
        "policy), not from GitHub.\n"
        "\n"
        "Members of @dataface/prompt-eng: taken from policies/owners.yaml (team_source: "
        "policy), not from GitHub.\n"
        "\n"
        "<details><summary>Protected files (3)</summary>\n"
        "\n"
        "- dataface/ai/tools/run\\_query.py: mcp-and-tools, @dataface/ai-platform "
        "(CODEOWNERS line 15)\n"
        "- prompts/sql/generate.md: prompts, @dataface/prompt-eng (CODEOWNERS line 18)\n"
        "- prompts/sql/repair.md: prompts, @dataface/prompt-eng (CODEOWNERS line 18)\n"
        "\n"
        "</details>\n"
    )


# --------------------------------------------------------------------------- review requests


def requests_of(policy: Policies, snap: Snapshot) -> list[RequestReviewers]:
    return [a for a in plan_ownership(policy, snap, T).actions if isinstance(a, RequestReviewers)]


REQUEST_CASES: list[
    tuple[str, Policies, Snapshot, list[tuple[tuple[str, ...], tuple[str, ...]]]]
] = [
    ("missing-team-is-asked", POLICIES, snapshot(pull(AI)), [((), ("ai-platform",))]),
    (
        "each-missing-area-is-asked-in-one-request",
        POLICIES,
        snapshot(pull(AI, PROMPT, "policies/owners.yaml")),
        [((), ("ai-platform", "prompt-eng", "ops-council"))],
    ),
    (
        "approved-area-is-not-asked",
        POLICIES,
        snapshot(pull(AI, PROMPT, reviews=(review("dev-patel"),))),
        [((), ("prompt-eng",))],
    ),
    (
        "team-already-requested",
        POLICIES,
        snapshot(pull(AI, requested_teams=("ai-platform",))),
        [],
    ),
    (
        "team-requested-before-and-since-removed-is-not-asked-again",
        POLICIES,
        snapshot(
            pull(
                AI,
                events=(
                    IssueEvent(
                        event="review_requested",
                        actor="dataface-ops[bot]",
                        created_at=T - dt.timedelta(hours=3),
                        requested_team="ai-platform",
                    ),
                ),
            )
        ),
        [],
    ),
    (
        "a-team-member-already-reviewed",
        POLICIES,
        snapshot(pull(AI, reviews=(review("sam-okafor", "COMMENTED"),))),
        [],
    ),
    ("draft-pr-is-not-asked-yet", POLICIES, snapshot(pull(AI, draft=True)), []),
    (
        "requests-turned-off",
        dataclasses.replace(
            POLICIES, ownership=POLICIES.ownership.model_copy(update={"request_reviews": False})
        ),
        snapshot(pull(AI)),
        [],
    ),
    (
        "user-owners-minus-the-author-and-those-already-asked",
        POLICIES,
        snapshot(
            pull(PROMPT, author="lena-fischer", requested_reviewers=("Dev-Patel",)),
            codeowners="/prompts/ @lena-fischer @maya-chen @dev-patel @sam-okafor\n",
        ),
        [(("maya-chen", "sam-okafor"), ())],
    ),
    (
        "a-user-who-reviewed-is-not-asked-again",
        POLICIES,
        snapshot(
            pull(PROMPT, reviews=(review("maya-chen", "DISMISSED"),)),
            codeowners="/prompts/ @maya-chen @lena-fischer\n",
        ),
        [(("lena-fischer",), ())],
    ),
    (
        "a-team-of-only-the-author-is-not-asked",
        GITHUB_TEAMS,
        snapshot(
            pull("prompts/x.md", author="lena-fischer"),
            team_members={"dataface/prompt-eng": ("lena-fischer",)},
        ),
        [],
    ),
    (
        "blocked-but-approved-enough-asks-nobody",
        POLICIES,
        snapshot(
            pull(AI, reviews=(review("dev-patel"), review("sam-okafor", "CHANGES_REQUESTED")))
        ),
        [],
    ),
]


@pytest.mark.parametrize(
    ("policy", "snap", "expected"),
    [c[1:] for c in REQUEST_CASES],
    ids=[c[0] for c in REQUEST_CASES],
)
def test_review_requests(
    policy: Policies,
    snap: Snapshot,
    expected: list[tuple[tuple[str, ...], tuple[str, ...]]],
) -> None:
    found = requests_of(policy, snap)
    assert [(r.reviewers, r.team_reviewers) for r in found] == expected
    for request in found:
        assert request.number == 201
        assert "never asked" in request.reason
    # Once asked, never again: the next plan asks nobody.
    assert requests_of(policy, simulate(snap, plan_ownership(policy, snap, T))) == []


@pytest.mark.parametrize(
    ("policy", "snap"), [c[1:3] for c in REQUEST_CASES], ids=[c[0] for c in REQUEST_CASES]
)
def test_request_cases_converge(policy: Policies, snap: Snapshot) -> None:
    after = simulate(snap, plan_ownership(policy, snap, T))
    assert plan_ownership(policy, after, T).actions == ()


# --------------------------------------------------------------------------- check-run upsert


def test_an_up_to_date_check_run_is_left_alone() -> None:
    snap = snapshot(pull(AI, reviews=(review("dev-patel"),)))
    check = check_of(plan_ownership(POLICIES, snap, T).actions)
    run = CheckRun(
        id=77,
        name="owner-approval",
        head_sha=HEAD,
        conclusion=check.conclusion,
        title=check.title,
        summary=check.summary,
    )
    assert plan_ownership(POLICIES, snap.model_copy(update={"check_runs": (run,)}), T).actions == ()


def test_a_stale_check_run_is_updated_in_place() -> None:
    snap = snapshot(pull(AI, reviews=(review("dev-patel"),)))
    runs = (
        CheckRun(id=70, name="owner-approval", head_sha=OLD, conclusion="failure"),
        CheckRun(id=71, name="owner-approval", head_sha=HEAD, conclusion="failure", title="x"),
        CheckRun(id=72, name="lint", head_sha=HEAD, conclusion="success"),
    )
    check = check_of(
        plan_ownership(POLICIES, snap.model_copy(update={"check_runs": runs}), T).actions
    )
    assert (check.check_run_id, check.conclusion) == (71, "success")


def test_check_name_comes_from_the_policy() -> None:
    policy = dataclasses.replace(
        POLICIES, ownership=POLICIES.ownership.model_copy(update={"check_name": "owners"})
    )
    check = check_of(plan_ownership(policy, snapshot(pull(AI)), T).actions)
    assert check.name == "owners"


@pytest.mark.parametrize(
    "pr",
    [
        pull(AI, state="closed"),
        pull(AI, files=None),
        pull(AI, reviews=None),
        pull(AI, head_sha=""),
    ],
    ids=["closed", "files-not-read", "reviews-not-read", "no-head"],
)
def test_prs_that_cannot_be_judged_are_skipped(pr: PullRequest) -> None:
    assert plan_ownership(POLICIES, snapshot(pr), T).actions == ()


def test_team_members_from_owners_yaml_are_noted() -> None:
    plan = plan_ownership(POLICIES, snapshot(pull(AI), pull(AI, number=202)), T)
    assert plan.notes == ("members of @dataface/ai-platform taken from policies/owners.yaml",)
    # Both PRs have the same head: one check on the commit, one request on each PR.
    assert [a.kind for a in plan.actions] == [
        "UpsertCheckRun",
        "RequestReviewers",
        "RequestReviewers",
    ]


def test_example_snapshot_plan() -> None:
    snap = Snapshot.model_validate_json((ROOT / "examples" / "snapshot.json").read_text())
    plan = plan_ownership(POLICIES, snap, T)
    assert [a.describe() for a in plan.actions] == [
        "check 'owner-approval' on 4b1e9c2: failure (Owner approval needed: mcp-and-tools)",
        "#201: request review from team ai-platform",
        "check 'owner-approval' on 7c2f0a9: success (Approved by owners: prompts)",
        "check 'owner-approval' on 1a2b3c4: success (No protected path touched)",
        "check 'owner-approval' on 9e8d7c6: failure (Changes requested by owners: operating-model)",
    ]
    assert plan_ownership(POLICIES, simulate(snap, plan), T).actions == ()


# --------------------------------------------------------------------------- the latest push

LAST_PUSH = dataclasses.replace(
    SHIPPED, ownership=SHIPPED.ownership.model_copy(update={"team_source": "policy"})
)


def test_the_latest_push_rule_is_on_for_sensitive_areas_by_default() -> None:
    assert all(
        SHIPPED.ownership.last_push_approval(g, SHIPPED) for g in SHIPPED.ownership.protected
    )
    chat = ProtectedPath(name="chat", paths=("apps/chat/",))  # cloud-chat: not sensitive
    assert not SHIPPED.ownership.last_push_approval(chat, SHIPPED)
    off = ProtectedPath(name="ai", paths=("dataface/ai/",), last_push_approval=False)
    assert not SHIPPED.ownership.last_push_approval(off, SHIPPED)


@pytest.mark.parametrize(
    ("pushers", "conclusion", "missing"),
    [
        (("tomas-silva",), "success", "nothing"),
        (
            ("tomas-silva", "dev-patel"),
            "failure",
            f"{NEED_AI}; the latest push must be approved by someone who did not push it; "
            "not counted: @dev-patel (made the latest push)",
        ),
        (
            None,
            "failure",
            f"{NEED_AI}; the latest push must be approved by someone who did not push it; "
            "not counted: @dev-patel (who pushed the latest commit is unknown)",
        ),
    ],
    ids=["approved-by-someone-else", "approved-by-its-pusher", "pusher-not-read"],
)
def test_the_latest_push_needs_someone_who_did_not_push_it(
    pushers: tuple[str, ...] | None, conclusion: str, missing: str
) -> None:
    snap = snapshot(pull(AI, reviews=(review("dev-patel"),), head_pushers=pushers))
    check = check_of(plan_ownership(LAST_PUSH, snap, T).actions)
    assert check.conclusion == conclusion
    assert table(check.summary)[0][3] == missing


def test_the_pusher_is_read_only_when_an_approval_depends_on_it() -> None:
    from automation.rules.ownership import reads_needed

    approved = snapshot(pull(AI, reviews=(review("dev-patel"),), events=None))
    assert reads_needed(LAST_PUSH, approved) == {201: frozenset({"pushers"})}
    # Nobody approved: the owners will be asked, so only the request history is needed.
    unreviewed = snapshot(pull(AI, events=None))
    assert reads_needed(LAST_PUSH, unreviewed) == {201: frozenset({"events"})}
    assert reads_needed(POLICIES, snapshot(pull(AI, reviews=(review("dev-patel"),)))) == {}


# --------------------------------------------------------------------------- one commit


def test_the_commit_shows_the_worst_pr_each_graded_by_its_own_base() -> None:
    """#301 into main still needs prompts' owners; #302 (same head) into a branch whose
    policies protect nothing of it passes: the commit's check is #301's failure."""
    from automation.snapshot.models import PolicyFiles

    lax = {p.name: p.read_text() for p in (ROOT / "policies").glob("*.yaml")}
    lax["ownership.yaml"] = lax["ownership.yaml"].replace(
        'paths: ["prompts/"]', 'paths: ["apps/chat/"]'
    )
    other = "d" * 40
    snap = snapshot(
        pull(PROMPT, number=301, title="Into main"),
        pull(PROMPT, number=302, title="Into *lax*", base_sha=other, base_ref="lax"),
        base_policies=(PolicyFiles(ref=other, files=lax),),
    )
    snap = snap.model_copy(
        update={"codeowners": (*snap.codeowners, CodeownersFile(ref=other, path=None))}
    )
    check = check_of(plan_ownership(POLICIES, snap, T).actions)
    assert (check.conclusion, check.title) == ("failure", "#301: Owner approval needed: prompts")
    assert "| #302 Into \\*lax\\* | lax | failure |" not in check.summary
    assert "| #301 Into main | main | failure | Owner approval needed: prompts |" in check.summary
    assert "| #302 Into \\*lax\\* | lax | success | No protected path touched |" in check.summary


def test_unusable_policies_at_another_base_fail_closed() -> None:
    from automation.snapshot.models import PolicyFiles

    other = "d" * 40
    broken = PolicyFiles(ref=other, files={"owners.yaml": "people: [", "ownership.yaml": None})
    snap = snapshot(
        pull("README.md", number=301),
        pull("README.md", number=302, base_sha=other, base_ref="lax"),
        base_policies=(broken,),
    )
    check = check_of(plan_ownership(POLICIES, snap, T).actions)
    assert (check.conclusion, check.title) == (
        "failure",
        "#302: Policies of the base branch are unusable",
    )
    assert "could not be used: they are not valid: policies/" in check.summary


def test_a_run_of_another_app_is_neither_trusted_nor_edited() -> None:
    """Identical to what we would post, but made by another app: post our own."""
    snap = snapshot(pull("README.md"), own_app_id=7)
    (ours,) = plan_ownership(POLICIES, snap, T).actions
    assert isinstance(ours, UpsertCheckRun)
    theirs = CheckRun(
        id=5,
        name="owner-approval",
        head_sha=HEAD,
        conclusion="success",
        title=ours.title,
        summary=ours.summary,
        app_id=8,
    )
    (again,) = plan_ownership(
        POLICIES, snap.model_copy(update={"check_runs": (theirs,)}), T
    ).actions
    assert isinstance(again, UpsertCheckRun) and again.check_run_id is None
    mine = theirs.model_copy(update={"app_id": 7})
    assert (
        plan_ownership(POLICIES, snap.model_copy(update={"check_runs": (mine,)}), T).actions == ()
    )

"""Release train planner: exact plans over snapshot factories, idempotence, body limits."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from automation.actions import CreateRelease, Plan, RequestReviewers, SetBranch, UpsertPullRequest
from automation.features.release.plan import (
    CHANGELOG_BEGIN,
    SECTION_BEGIN,
    SECTION_END,
    changelog_of,
    merge_body,
    plan_release,
)
from automation.policy.release import Freeze
from automation.simulate import simulate
from automation.snapshot.models import Release, Review
from tests.release_helpers import (
    LAST_RELEASE,
    REPO,
    merged_pr,
    policies,
    sha,
    snapshot,
    t,
    train_pr,
)

NOW = t("2026-11-24T15:00")
LAST_TRAIN = train_pr(298, "2026-11-17", merged=True, merged_at=t("2026-11-17T16:00"))
TEAMS = ("ai-platform", "prompt-eng", "evals")
CAPTAIN = "tomas-silva"  # release-captain rotation, week of 23 November 2026


def week(*extra: int) -> tuple:
    """Four merged PRs (one per category) plus more unlabelled ones."""
    return (
        merged_pr(301, labels=("mcp-tool-schema",)),
        merged_pr(302, labels=("area:prompts",), body="## Eval results\n\n+0.4% pass@1"),
        merged_pr(303, files=("evals/suites/sql.yaml",)),
        merged_pr(304, files=("README.md",)),
        *(merged_pr(n, files=("docs/x.md",)) for n in extra),
    )


def kinds(plan: Plan) -> list[str]:
    return [a.kind for a in plan.actions]


def assert_converges(snap, now=NOW) -> None:  # type: ignore[no-untyped-def]
    pol = policies()
    first = plan_release(pol, snap, now)
    after = simulate(snap, first)
    second = plan_release(pol, after, now)
    assert second.actions == (), [a.describe() for a in second.actions]


def test_due_train_cuts_a_branch_and_opens_one_pr_with_reviewers() -> None:
    snap = snapshot((*week(), LAST_TRAIN), releases=(LAST_RELEASE,))
    plan = plan_release(policies(), snap, NOW)
    assert kinds(plan) == ["SetBranch", "UpsertPullRequest"]
    branch, pr = plan.actions
    assert branch == SetBranch(
        reason="cut the train branch from main (4 commits since release `train-2026-11-17`)",
        name="release-train/2026-11-24",
        sha=sha(304),
    )
    assert isinstance(pr, UpsertPullRequest)
    assert (pr.number, pr.head, pr.base, pr.title, pr.labels) == (
        None,
        "release-train/2026-11-24",
        "stable",
        "Release train 2026-11-24",
        ("release-train",),
    )
    assert (pr.reviewers, pr.team_reviewers) == ((CAPTAIN,), TEAMS)
    assert pr.body.startswith(SECTION_BEGIN) and pr.body.rstrip().endswith(SECTION_END)
    assert plan.notes == (
        "train 2026-11-24: 4 PRs merged since release `train-2026-11-17` (the train of "
        "2026-11-24 left Tue 2026-11-24 15:00 Europe/London (15:00 UTC))",
    )
    assert_converges(snap)


def test_changelog_groups_by_label_then_path_and_flags_schema_and_prompt_changes() -> None:
    pulls = (
        *week(),
        merged_pr(305, labels=("area:prompts",), author="lena-fischer", title="Tighten SQL prompt"),
        merged_pr(306, files=("dataface/ai/tools/schemas/query.json",), body="Deprecation: none"),
        merged_pr(307, labels=("mcp-tool-schema", "no-breaking-change")),
        merged_pr(308, files=("dataface/ai/agent.py",)),
    )
    plan = plan_release(policies(), snapshot(pulls, releases=(LAST_RELEASE,)), NOW)
    body = plan.actions[1].body  # type: ignore[attr-defined]
    changelog = changelog_of(body)
    order = [
        changelog.index(h)
        for h in (
            "### MCP tool schemas (3)",
            "### Prompts (2)",
            "### Agent code (1)",
            "### Evals (1)",
            "### Other changes (1)",
        )
    ]
    assert order == sorted(order)
    assert (
        "- Tighten SQL prompt ([#305](https://github.com/dataface/dataface/pull/305)) by "
        "@lena-fischer · ⚠️ **missing eval results against the baseline**"
    ) in changelog
    assert (
        "([#301](https://github.com/dataface/dataface/pull/301)) by @dev-patel · ⚠️ **missing a "
        "deprecation note for changed or removed tool fields**"
    ) in changelog
    for cleared in (302, 306, 307):  # eval results in body / deprecation note / label
        line = next(x for x in changelog.splitlines() if f"[#{cleared}]" in x)
        assert "⚠️" not in line
    assert "> 2 PRs need a deprecation note or eval results" in body
    assert "- [ ] **mcp-server**: @dataface/ai-platform" in body
    assert "- Release captain: @tomas-silva" in body


@pytest.mark.parametrize(
    ("pulls", "releases", "note"),
    [
        (
            (LAST_TRAIN,),
            (LAST_RELEASE,),
            "train skipped: nothing merged into main since release `train-2026-11-17`",
        ),
        ((), (), "train skipped: nothing merged into main since `stable`"),
    ],
)
def test_nothing_merged_skips_the_train(pulls, releases, note) -> None:  # type: ignore[no-untyped-def]
    plan = plan_release(policies(), snapshot(pulls, releases=releases, commits=()), NOW)
    assert plan.actions == ()
    assert plan.notes == (note,)


def test_freeze_plans_nothing_and_says_why() -> None:
    frozen = policies(
        freezes=(
            Freeze(
                name="launch",
                start=dt.date(2026, 11, 23),
                end=dt.date(2026, 11, 25),
                reason="Dataface 3.0 launch",
            ),
        )
    )
    snap = snapshot((*week(), LAST_TRAIN), releases=(LAST_RELEASE,))
    plan = plan_release(frozen, snap, NOW)
    assert plan.actions == ()
    assert plan.notes == (
        "no train: freeze 'launch' (2026-11-23 to 2026-11-25): Dataface 3.0 launch; "
        "the next train leaves Thu 2026-11-26 15:00 Europe/London (15:00 UTC) and carries "
        "everything merged meanwhile",
    )
    # The first run after the freeze catches up with everything merged meanwhile.
    later = plan_release(
        frozen, snap.model_copy(update={"taken_at": t("2026-11-26T15:00")}), t("2026-11-26T15:00")
    )
    assert kinds(later) == ["SetBranch", "UpsertPullRequest"]
    assert later.actions[1].head == "release-train/2026-11-26"  # type: ignore[attr-defined]
    assert "catching up on the train of 2026-11-24, held by freeze 'launch'" in (
        later.actions[1].body  # type: ignore[attr-defined]
    )


def test_not_due_says_when_the_next_train_leaves() -> None:
    snap = snapshot((*week(), LAST_TRAIN), releases=(LAST_RELEASE,))
    plan = plan_release(policies(), snap, t("2026-11-23T12:00"))
    assert plan.actions == ()
    assert plan.notes == (
        "not due: the next train leaves Tue 2026-11-24 15:00 Europe/London (15:00 UTC)",
    )


HUMAN_TOP = "Captain's notes: hold #301 if the SDK release slips.\n\n"
HUMAN_BOTTOM = "\n\nQA sign-off: staging looks good (lena)."


def _opened_train(body_extra: bool = True):  # type: ignore[no-untyped-def]
    """The state after the first run opened the train, with people's notes added."""
    snap = snapshot((*week(), LAST_TRAIN), releases=(LAST_RELEASE,))
    opened = simulate(snap, plan_release(policies(), snap, NOW))
    pr = next(p for p in opened.pulls if p.head_ref == "release-train/2026-11-24")
    if body_extra:
        pr = pr.model_copy(update={"body": HUMAN_TOP + pr.body.rstrip("\n") + HUMAN_BOTTOM})
    return opened.model_copy(
        update={"pulls": tuple(pr if p.number == pr.number else p for p in opened.pulls)}
    ), pr


def test_one_more_merge_updates_the_same_pr_in_place_keeping_human_text() -> None:
    opened, pr = _opened_train()
    extra = merged_pr(309, labels=("area:evals",), title="Add SQL eval suite")
    later = opened.model_copy(
        update={
            "pulls": (*opened.pulls, extra),
            "comparison": opened.comparison.model_copy(  # type: ignore[union-attr]
                update={
                    "commit_shas": (*opened.comparison.commit_shas, sha(309)),  # type: ignore[union-attr]
                    "head_sha": sha(309),
                    "total_commits": 5,
                }
            ),
        }
    )
    plan = plan_release(policies(), later, t("2026-11-25T09:00"))
    assert kinds(plan) == ["SetBranch", "UpsertPullRequest"]
    move, update = plan.actions
    assert move == SetBranch(
        reason="bring release-train/2026-11-24 up to main: more merged since it was cut",
        name="release-train/2026-11-24",
        sha=sha(309),
        exists=True,
    )
    assert isinstance(update, UpsertPullRequest)
    assert update.number == pr.number and update.labels == () and update.reviewers == ()
    assert update.body.startswith(HUMAN_TOP + SECTION_BEGIN)
    assert update.body.endswith(SECTION_END + HUMAN_BOTTOM)
    assert "Add SQL eval suite ([#309]" in update.body
    assert "**5 PRs**" in update.body
    assert_converges(later, t("2026-11-25T09:00"))


def test_train_pr_without_markers_keeps_the_text_and_appends_the_section() -> None:
    assert (
        merge_body("Hand-written.", "S") == f"Hand-written.\n\n{SECTION_BEGIN}\nS\n{SECTION_END}\n"
    )
    assert merge_body(f"a{SECTION_BEGIN}old{SECTION_END}b", "new") == (
        f"a{SECTION_BEGIN}\nnew\n{SECTION_END}b"
    )


def test_missing_reviewers_are_asked_but_not_those_who_reviewed() -> None:
    opened, pr = _opened_train(body_extra=False)
    pr = pr.model_copy(
        update={
            "requested_reviewers": (),
            "requested_teams": ("evals",),
            # maya-chen is in ai-platform and prompt-eng: her review covers both teams.
            "reviews": (Review(id=1, user="maya-chen", state="APPROVED"),),
        }
    )
    snap = opened.model_copy(
        update={"pulls": tuple(pr if p.number == pr.number else p for p in opened.pulls)}
    )
    plan = plan_release(policies(), snap, t("2026-11-25T09:00"))
    assert plan.actions == (
        RequestReviewers(
            reason="the sign-off owners and the release captain review every train",
            number=pr.number,
            reviewers=(CAPTAIN,),
            team_reviewers=(),
        ),
    )


def test_merged_train_without_release_publishes_the_same_changelog() -> None:
    opened, pr = _opened_train()
    merged = pr.model_copy(
        update={
            "state": "closed",
            "merged": True,
            "merged_at": t("2026-11-25T11:00"),
            "merge_commit_sha": sha(424242),
        }
    )
    snap = opened.model_copy(
        update={
            "pulls": tuple(merged if p.number == pr.number else p for p in opened.pulls),
            "comparison": None,
        }
    )
    plan = plan_release(policies(), snap, t("2026-11-25T11:05"))
    assert kinds(plan) == ["CreateRelease"]
    release = plan.actions[0]
    assert isinstance(release, CreateRelease)
    assert (release.tag, release.target_sha, release.name) == (
        "train-2026-11-24",
        sha(424242),
        "Release train 2026-11-24",
    )
    assert release.body == (
        f"Shipped by the release train PR #{pr.number}.\n\n{changelog_of(merged.body)}\n"
    )
    assert "Change number 301" in release.body and HUMAN_TOP.strip() not in release.body
    assert plan.notes == (
        "not due: the next train leaves Tue 2026-12-01 15:00 Europe/London (15:00 UTC)",
    )
    assert_converges(snap, t("2026-11-25T11:05"))


def test_released_train_and_a_sweep_after_it_plan_nothing() -> None:
    released = Release(id=8, tag="train-2026-11-24", published_at=t("2026-11-25T11:00"))
    merged = train_pr(
        399,
        "2026-11-24",
        merged=True,
        merged_at=t("2026-11-25T10:59"),
        body=f"{SECTION_BEGIN}\n{CHANGELOG_BEGIN}x{SECTION_END}",
    )
    snap = snapshot((merged, LAST_TRAIN), releases=(LAST_RELEASE, released), commits=())
    plan = plan_release(policies(), snap, t("2026-11-26T15:00"))
    assert plan == Plan(
        "release",
        (),
        ("not due: the next train leaves Tue 2026-12-01 15:00 Europe/London (15:00 UTC)",),
    )


def test_a_train_pr_closed_by_a_person_is_not_reopened() -> None:
    closed = train_pr(399, "2026-11-24", state="closed")
    snap = snapshot((*week(), LAST_TRAIN, closed), releases=(LAST_RELEASE,))
    plan = plan_release(policies(), snap, t("2026-11-24T18:00"))
    assert plan.actions == ()
    assert plan.notes == (
        "train skipped: PR #399 for release-train/2026-11-24 was closed without merging; "
        "the next train picks up what merged",
    )


def test_forks_and_other_prs_into_stable_are_not_trains() -> None:
    fork = train_pr(397, "2026-11-24").model_copy(update={"head_repo": "mallory/dataface"})
    hotfix = train_pr(396, "2026-11-24").model_copy(update={"head_ref": "hotfix/login"})
    snap = snapshot((*week(), LAST_TRAIN, fork, hotfix), releases=(LAST_RELEASE,))
    plan = plan_release(policies(), snap, NOW)
    assert kinds(plan) == ["SetBranch", "UpsertPullRequest"]
    assert plan.actions[1].number is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("human", [0, 20_000])
def test_a_huge_train_is_cut_to_fit_the_body_limit_with_a_link(human: int) -> None:
    long = "Refactor " + "the query planner's join ordering heuristics " * 6
    pulls = tuple(merged_pr(1000 + i, title=f"{long}{i}", files=("docs/a.md",)) for i in range(700))
    snap = snapshot((*pulls, LAST_TRAIN), releases=(LAST_RELEASE,))
    if human:
        opened = simulate(snap, plan_release(policies(), snap, NOW))
        pr = next(p for p in opened.pulls if p.head_ref == "release-train/2026-11-24")
        pr = pr.model_copy(update={"body": "N" * human + "\n" + pr.body})
        snap = opened.model_copy(
            update={"pulls": tuple(pr if p.number == pr.number else p for p in opened.pulls)}
        )
    plan = plan_release(policies(), snap, NOW)
    body = next(a for a in plan.actions if isinstance(a, UpsertPullRequest)).body
    assert 60_000 < len(body) <= 65_000
    assert body.count("\n- Refactor") < 700
    omitted = 700 - body.count("\n- Refactor")
    assert (
        f"_…and {omitted} more PRs not listed, to stay within GitHub's 65,536-character body "
        f"limit: see the [full comparison](https://github.com/{REPO}/compare/train-2026-11-17...main)._"
    ) in body
    assert "**700 PRs**" in body
    if human:
        assert body.startswith("N" * human)


def test_uncut_body_has_no_omission_line() -> None:
    plan = plan_release(policies(), snapshot((*week(), LAST_TRAIN), releases=(LAST_RELEASE,)), NOW)
    body = plan.actions[1].body  # type: ignore[attr-defined]
    assert "not listed" not in body and "more PR" not in body
    # Every PR of the week is listed, once.
    for pr in week():
        assert body.count(f"([#{pr.number}](https://github.com/{REPO}/pull/{pr.number}))") == 1


def test_policy_without_captain_or_signoffs_requests_nobody() -> None:
    bare = policies(captain_rotation=None, signoff_areas=())
    plan = plan_release(bare, snapshot((*week(), LAST_TRAIN), releases=(LAST_RELEASE,)), NOW)
    pr = plan.actions[1]
    assert isinstance(pr, UpsertPullRequest)
    assert (pr.reviewers, pr.team_reviewers) == ((), ())
    assert "Release captain" not in pr.body and "### Sign-off" not in pr.body


def test_policies_replace_keeps_other_files() -> None:
    assert dataclasses.replace(policies()).release == policies().release


def test_people_text_too_long_for_any_changelog_is_left_alone() -> None:
    opened, pr = _opened_train(body_extra=False)
    pr = pr.model_copy(update={"body": "N" * 65_000 + pr.body})
    snap = opened.model_copy(
        update={"pulls": tuple(pr if p.number == pr.number else p for p in opened.pulls)}
    )
    plan = plan_release(policies(), snap, t("2026-11-25T09:00"))
    assert plan.actions == ()
    assert plan.notes[-1].startswith(f"train PR #{pr.number}: the text around the generated")


def test_a_pr_whose_fork_was_deleted_is_not_a_train() -> None:
    # GitHub answers `head.repo: null` once the fork behind an open PR is deleted; such a PR
    # from a fork branch named like a train must not pass for the train (nor block one).
    orphan = train_pr(397, "2026-11-24").model_copy(update={"head_repo": None})
    snap = snapshot((*week(), LAST_TRAIN, orphan), releases=(LAST_RELEASE,))
    plan = plan_release(policies(), snap, NOW)
    assert kinds(plan) == ["SetBranch", "UpsertPullRequest"]
    assert plan.actions[1].number is None  # type: ignore[attr-defined]


def test_team_slugs_and_labels_compare_case_insensitively() -> None:
    # GitHub answers team slugs in lower case and applies an existing label whatever the case
    # asked: a policy spelling them differently must not re-request or re-label every run.
    pol = policies(labels=("Release-Train",))
    teams = tuple(
        team.model_copy(update={"github": team.github.replace("evals", "Evals")})
        if team.github
        else team
        for team in pol.owners.teams
    )
    pol = dataclasses.replace(pol, owners=pol.owners.model_copy(update={"teams": teams}))
    snap = snapshot((*week(), LAST_TRAIN), releases=(LAST_RELEASE,))
    opened = simulate(snap, plan_release(pol, snap, NOW))
    pr = next(p for p in opened.pulls if p.head_ref == "release-train/2026-11-24")
    assert "Evals" in pr.requested_teams
    pr = pr.model_copy(
        update={
            "labels": ("release-train",),
            "requested_teams": tuple(slug.lower() for slug in pr.requested_teams),
        }
    )
    snap = opened.model_copy(
        update={"pulls": tuple(pr if p.number == pr.number else p for p in opened.pulls)}
    )
    assert plan_release(pol, snap, NOW).actions == ()


def test_a_reviewer_whose_request_a_person_removed_is_not_asked_again() -> None:
    from automation.snapshot.models import IssueEvent

    opened, pr = _opened_train(body_extra=False)
    removed = (
        IssueEvent(
            event="review_request_removed",
            actor="maya-chen",
            created_at=t("2026-11-24T16:00"),
            requested_reviewer=CAPTAIN.upper(),
        ),
        IssueEvent(
            event="review_request_removed",
            actor="maya-chen",
            created_at=t("2026-11-24T16:00"),
            requested_team="evals",
        ),
    )
    pr = pr.model_copy(
        update={
            "requested_reviewers": (),
            "requested_teams": tuple(x for x in pr.requested_teams if x != "evals"),
            "events": removed,
        }
    )
    snap = opened.model_copy(
        update={"pulls": tuple(pr if p.number == pr.number else p for p in opened.pulls)}
    )
    assert plan_release(policies(), snap, t("2026-11-25T09:00")).actions == ()


# --- tool lifecycle in the changelog (issue 16, item 6) -----------------------------------------


def _with_tools(pol, *tools: dict) -> object:  # type: ignore[no-untyped-def]
    from automation.policy.tools import ToolsPolicy

    registry = ToolsPolicy.model_validate(
        {"tools": [*tools, {"name": "query_metrics_v3", "area": "mcp-server"}]}
    )
    return dataclasses.replace(pol, tools=registry)


LIFECYCLE_TOOLS = (
    # Deprecated the day the last train shipped (London): that train's news, not this one's.
    {
        "name": "old_a",
        "area": "mcp-server",
        "lifecycle": "deprecated",
        "deprecated_on": "2026-11-17",
        "sunset": "2027-01-01",
    },
    {
        "name": "query_metrics",
        "area": "mcp-server",
        "lifecycle": "deprecated",
        "deprecated_on": "2026-11-18",
        "sunset": "2027-01-12",
        "replacement": "query_metrics_v3",
    },
    # Removed on the train's own day: in this train.
    {
        "name": "get_raw_rows",
        "area": "mcp-server",
        "lifecycle": "removed",
        "deprecated_on": "2026-10-01",
        "removed_on": "2026-11-24",
    },
    # The day after the train: the next train's.
    {
        "name": "old_b",
        "area": "mcp-server",
        "lifecycle": "deprecated",
        "deprecated_on": "2026-11-25",
        "sunset": "2027-02-01",
    },
)


def test_changelog_lists_tools_deprecated_or_removed_in_the_train() -> None:
    pol = _with_tools(policies(), *LIFECYCLE_TOOLS)
    snap = snapshot((*week(), LAST_TRAIN), releases=(LAST_RELEASE,))
    plan = plan_release(pol, snap, NOW)  # type: ignore[arg-type]
    changelog = changelog_of(plan.actions[1].body)  # type: ignore[attr-defined]
    section = changelog[changelog.index("### Tool lifecycle") :].split("\n\n_")[0]
    assert section.strip() == (
        "### Tool lifecycle (2)\n\n"
        "- `query_metrics` deprecated on 2026-11-18, sunset 2027-01-12; use `query_metrics_v3`\n"
        "- `get_raw_rows` removed on 2026-11-24"
    )
    # The published release carries the same lines (the changelog is copied at merge).
    assert_converges(snap)


def test_without_lifecycle_changes_the_changelog_has_no_tool_section() -> None:
    plan = plan_release(policies(), snapshot((*week(), LAST_TRAIN), releases=(LAST_RELEASE,)), NOW)
    assert "Tool lifecycle" not in plan.actions[1].body  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("timezone", "published", "listed"),
    [
        # 23:30 UTC on the 17th is still the 17th in London: a deprecation on the 18th is new.
        ("Europe/London", "2026-11-17T23:30", ["query_metrics", "get_raw_rows"]),
        # ...but already the 18th in Tokyo, where the last train shipped on the 18th.
        ("Asia/Tokyo", "2026-11-17T23:30", ["get_raw_rows"]),
        # 04:00 UTC on the 18th is the 17th in Los Angeles.
        ("America/Los_Angeles", "2026-11-18T04:00", ["query_metrics", "get_raw_rows"]),
        # No release and no merged train yet: everything up to the train's day.
        ("Europe/London", None, ["old_a", "query_metrics", "get_raw_rows"]),
    ],
    ids=["london", "tokyo-next-day", "los-angeles-day-before", "first-train"],
)
def test_train_window_is_in_the_release_policy_time_zone(
    timezone: str, published: str | None, listed: list[str]
) -> None:
    from automation.features.release.plan import tool_changes

    pol = _with_tools(policies(timezone=timezone), *LIFECYCLE_TOOLS)
    releases = (
        (LAST_RELEASE.model_copy(update={"published_at": t(published)}),) if published else ()
    )
    snap = snapshot(week(), releases=releases)
    changes = tool_changes(pol, snap, dt.date(2026, 11, 24))  # type: ignore[arg-type]
    assert [c["name"] for c in changes] == listed

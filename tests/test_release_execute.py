"""The release train's writes against GitHub's REST contract: branch, PR, reviewers, release."""

from __future__ import annotations

from github.Repository import Repository

from automation.actions import CreateRelease, Plan, SetBranch, UpsertPullRequest
from automation.execute import execute
from automation.github import make_github
from automation.settings import Settings
from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock

REPO = "dataface/dataface"
API = f"/repos/{REPO}"
SHA = "a" * 40


def _repo() -> Repository:
    settings = Settings(repo=REPO, token="t", pacing=False)
    return make_github(settings).get_repo(REPO)


def test_moving_a_branch_patches_git_refs_not_git_ref(github: GitHubMock) -> None:
    # PyGithub's lazy get_git_ref().edit() would PATCH .../git/ref/heads/..., which GitHub
    # does not serve (the mock would refuse to register it as undocumented).
    github.patch(
        f"{API}/git/refs/heads/release-train/2026-11-24",
        json=checker.ref_json("refs/heads/release-train/2026-11-24", SHA, repo=REPO),
    )
    action = SetBranch(reason="r", name="release-train/2026-11-24", sha=SHA, exists=True)
    report = execute([Plan("release", (action,))], _repo())
    assert report.failed == []
    assert github.json_bodies("PATCH") == [{"sha": SHA, "force": True}]
    assert github.count() == 1


def test_creating_an_existing_branch_moves_it(github: GitHubMock) -> None:
    github.post(f"{API}/git/refs", status=422, json={"message": "Reference already exists"})
    github.patch(
        f"{API}/git/refs/heads/release-train/2026-11-24",
        json=checker.ref_json("refs/heads/release-train/2026-11-24", SHA, repo=REPO),
    )
    action = SetBranch(reason="r", name="release-train/2026-11-24", sha=SHA)
    report = execute([Plan("release", (action,))], _repo())
    assert [o.detail for o in report.outcomes] == ["branch existed: moved it"]
    # The create was tried first; the branch the plan did not know is then only
    # fast-forwarded (force false), so commits someone pushed to it are never thrown away.
    assert [c.request.method for c in github.calls] == ["POST", "PATCH"]
    assert github.json_bodies("POST") == [
        {"ref": "refs/heads/release-train/2026-11-24", "sha": SHA}
    ]
    assert github.json_bodies("PATCH") == [{"sha": SHA, "force": False}]


def test_opening_a_train_pr_labels_it_and_requests_review(github: GitHubMock) -> None:
    pull = checker.pull_json(340, repo=REPO)
    github.post(f"{API}/pulls", json=pull, status=201)
    github.post(f"{API}/issues/340/labels", json=[checker.label_json("release-train", repo=REPO)])
    github.post(f"{API}/pulls/340/requested_reviewers", json=pull, status=201)
    action = UpsertPullRequest(
        reason="r",
        head="release-train/2026-11-24",
        base="stable",
        title="Release train 2026-11-24",
        body="body",
        labels=("release-train",),
        reviewers=("tomas-silva",),
        team_reviewers=("ai-platform",),
    )
    report = execute([Plan("release", (action,))], _repo())
    assert report.failed == []
    assert github.json_bodies("POST") == [
        {
            "title": "Release train 2026-11-24",
            "body": "body",
            "base": "stable",
            "head": "release-train/2026-11-24",
        },
        ["release-train"],  # PyGithub sends a bare array (the harness allows it)
        {"reviewers": ["tomas-silva"], "team_reviewers": ["ai-platform"]},
    ]


def test_release_creates_the_tag_at_the_merge_commit(github: GitHubMock) -> None:
    github.post(
        f"{API}/releases", json=checker.release_json(9, tag_name="train-2026-11-24"), status=201
    )
    action = CreateRelease(
        reason="r", tag="train-2026-11-24", target_sha=SHA, name="Release train", body="log"
    )
    assert execute([Plan("release", (action,))], _repo()).failed == []
    (body,) = github.json_bodies("POST", "/releases")
    assert (body["tag_name"], body["target_commitish"], body["body"]) == (
        "train-2026-11-24",
        SHA,
        "log",
    )


def test_dry_run_sends_nothing(github: GitHubMock) -> None:
    action = SetBranch(reason="r", name="release-train/2026-11-24", sha=SHA)
    report = execute([Plan("release", (action,))], _repo(), dry_run=True)
    assert [o.status for o in report.outcomes] == ["dry-run"]
    assert github.count() == 0

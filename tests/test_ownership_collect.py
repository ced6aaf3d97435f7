"""The ownership collector against the OpenAPI-checked GitHub mock: reads and request counts."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from responses import matchers

from automation.actions import RequestReviewers, UpsertCheckRun
from automation.commands.codeowners import generated_text
from automation.features.ownership.collect import collect_ownership
from automation.features.ownership.plan import plan_ownership
from automation.github import make_github
from automation.policy.loader import load_policy_dir
from automation.settings import Settings
from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock

ROOT = Path(__file__).resolve().parent.parent
REPO = "dataface/dataface"
API = f"/repos/{REPO}"
T = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
HEAD = "a" * 40
BASE = "c" * 40
POLICIES = load_policy_dir(ROOT / "policies")
CODEOWNERS = generated_text(POLICIES)
AI = "dataface/ai/tools/run_query.py"


def repo() -> Any:
    return make_github(Settings(repo=REPO, token="t", pacing=False)).get_repo(REPO)


def pull(number: int, *, changed_files: int = 2, **extra: Any) -> dict[str, Any]:
    data = checker.pull_json(
        number, head_sha=HEAD, user_login="tomas-silva", repo=REPO, base_ref="main"
    )
    data["base"]["sha"] = BASE
    data.update(
        changed_files=changed_files, draft=False, requested_reviewers=[], requested_teams=[]
    )
    data.update(extra)
    return data


def review_requested(team: str) -> dict[str, Any]:
    """An issue event saying a team was asked to review (GitHub's example is `closed`)."""
    event = checker.example("issues/list-events", repo=REPO)[0]
    team_json = checker.pull_json(1)["requested_teams"][0]
    team_json.update(slug=team, name=team)
    event.update(
        event="review_requested",
        label=None,
        commit_id=None,
        commit_url=None,
        requested_team=team_json,
        review_requester=checker.user_json("dataface-ops[bot]"),
    )
    return event


def ours(run_id: int) -> dict[str, Any]:
    """Our own check run: GITHUB_TOKEN's runs are made by the GitHub Actions app."""
    run = checker.check_run_json(run_id, repo=REPO, name="owner-approval", head_sha=HEAD)
    run["app"] = {**run["app"], "id": 15368, "slug": "github-actions"}
    return run


def mock_head_pulls(github: GitHubMock, *pulls: dict[str, Any]) -> None:
    """GET /commits/{sha}/pulls: the open PRs whose head is HEAD."""
    github.get(f"{API}/commits/{HEAD}/pulls", json=list(pulls))


def mock_codeowners(github: GitHubMock, text: str = CODEOWNERS, ref: str = BASE) -> None:
    """CODEOWNERS exists at the root, only at the base commit: any other ref has no mock."""
    github.get(
        f"{API}/contents/.github/CODEOWNERS",
        status=404,
        json={"message": "Not Found"},
        match=[matchers.query_param_matcher({"ref": ref})],
    )
    github.get(
        f"{API}/contents/CODEOWNERS",
        json=checker.contents_json(REPO, "CODEOWNERS", text),
        match=[matchers.query_param_matcher({"ref": ref})],
    )


def mock_pr_reads(
    github: GitHubMock,
    number: int,
    files: list[dict[str, Any]],
    reviews: list[dict[str, Any]],
    runs: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> None:
    github.get(f"{API}/pulls/{number}/files", json=files)
    github.get(f"{API}/pulls/{number}/reviews", json=reviews)
    github.get(
        f"{API}/commits/{HEAD}/check-runs",
        json={"total_count": len(runs), "check_runs": list(runs)},
        match=[matchers.query_param_matcher({"check_name": "owner-approval"}, strict_match=False)],
    )


def test_typical_pr_from_an_event(github: GitHubMock) -> None:
    github.get(f"{API}/pulls/201", json=pull(201))
    mock_head_pulls(github, pull(201))
    mock_pr_reads(
        github,
        201,
        files=[
            checker.pr_file_json(AI),
            checker.pr_file_json(
                "prompts/sql/generate.md", status="renamed", previous_filename="docs/generate.md"
            ),
        ],
        reviews=[checker.review_json(11, state="APPROVED", user_login="dev-patel", commit_id=HEAD)],
        runs=[ours(55)],
    )
    github.get(f"{API}/issues/201/events", json=[review_requested("ai-platform")])
    mock_codeowners(github)
    github.get(
        "/orgs/dataface/teams/ai-platform/members",
        status=403,
        json={"message": "Resource not accessible by integration"},
    )

    snap = collect_ownership(repo(), POLICIES, (201,), T)

    # pull, its head's pulls, files, reviews, check runs, 2 contents (.github/ then root),
    # 1 team, then events (owners are about to be asked)
    assert github.count() == 9
    assert github.count("GET", "/orgs/") == 1  # the 403 is not retried, nor other teams tried
    assert github.writes() == []
    (pr,) = snap.pulls
    assert (pr.number, pr.author, pr.head_sha, pr.base_sha) == (201, "tomas-silva", HEAD, BASE)
    assert [(f.filename, f.previous_filename) for f in pr.files or ()] == [
        (AI, None),
        ("prompts/sql/generate.md", "docs/generate.md"),
    ]
    assert [(r.user, r.state, r.commit_id) for r in pr.reviews or ()] == [
        ("dev-patel", "APPROVED", HEAD)
    ]
    assert [(e.event, e.requested_team) for e in pr.events or ()] == [
        ("review_requested", "ai-platform")
    ]
    assert [(c.id, c.name, c.head_sha) for c in snap.check_runs] == [(55, "owner-approval", HEAD)]
    assert [(c.ref, c.path, c.text) for c in snap.codeowners] == [(BASE, "CODEOWNERS", CODEOWNERS)]
    assert snap.team_members == {}
    assert snap.team_problems == {
        "dataface/ai-platform": "GitHub answered 403",
        "dataface/prompt-eng": "GitHub answered 403",
    }

    plan = plan_ownership(POLICIES, snap, T)
    check = next(a for a in plan.actions if isinstance(a, UpsertCheckRun))
    # GitHub would not show ai-platform's members: dev-patel's approval cannot count.
    assert (check.conclusion, check.title, check.check_run_id) == (
        "failure",
        "Owner approval needed: mcp-and-tools, prompts",
        55,
    )
    # prompt-eng was never asked; ai-platform was (the event), so it is not asked again.
    assert [
        (a.reviewers, a.team_reviewers) for a in plan.actions if isinstance(a, RequestReviewers)
    ] == [((), ("prompt-eng",))]


def test_a_pr_editing_codeowners_is_judged_by_the_base_commit(github: GitHubMock) -> None:
    github.get(f"{API}/pulls/202", json=pull(202))
    mock_head_pulls(github, pull(202))
    mock_pr_reads(
        github,
        202,
        files=[checker.pr_file_json("CODEOWNERS"), checker.pr_file_json(AI)],
        reviews=[],
    )
    github.get(f"{API}/issues/202/events", json=[])
    # Only ref=BASE is mocked: reading CODEOWNERS at the head would find no mock and fail.
    mock_codeowners(github)
    github.get("/orgs/dataface/teams/ai-platform/members", status=403, json={"message": "x"})

    snap = collect_ownership(repo(), POLICIES, (202,), T)

    contents = [c.request.url for c in github.calls if "/contents/" in (c.request.url or "")]
    assert contents and all(f"ref={BASE}" in u for u in contents)
    assert snap.codeowners[0].ref == BASE
    check = next(
        a for a in plan_ownership(POLICIES, snap, T).actions if isinstance(a, UpsertCheckRun)
    )
    assert (check.conclusion, check.title) == (
        "failure",
        "Owner approval needed: mcp-and-tools, operating-model",
    )


def test_sweep_reads_codeowners_once_per_base_and_teams_through_the_api(
    github: GitHubMock,
) -> None:
    listed = [pull(203), pull(204)]
    for item in listed:
        del item["changed_files"]  # a pulls-list item has no count
    github.get(
        f"{API}/pulls",
        json=listed,
        match=[matchers.query_param_matcher({"state": "open"}, strict_match=False)],
    )
    approval = checker.review_json(31, state="APPROVED", user_login="lena-fischer", commit_id=HEAD)
    mock_pr_reads(github, 203, files=[checker.pr_file_json("prompts/a.md")], reviews=[approval])
    mock_pr_reads(github, 204, files=[checker.pr_file_json("prompts/b.md")], reviews=[])
    github.get(f"{API}/issues/203/events", json=[])
    github.get(f"{API}/issues/204/events", json=[])
    mock_codeowners(github)
    github.get(
        "/orgs/dataface/teams/prompt-eng/members",
        json=[checker.user_json("lena-fischer"), checker.user_json("new-hire")],
    )
    commit = checker.example("repos/get-commit", repo=REPO)
    commit.update(sha=HEAD, author=checker.user_json("tomas-silva"), committer=None)
    github.get(f"{API}/commits/{HEAD}", json=commit)

    snap = collect_ownership(repo(), POLICIES, None, T)

    assert [p.number for p in snap.pulls] == [203, 204]
    assert github.count("GET", "/contents/") == 2  # .github/ (404) then root, once for both
    assert github.count("GET", "/orgs/") == 1
    assert github.count("GET", f"{API}/pulls/203") == 2  # files, reviews; no detail GET
    # list, 2 x (files, reviews), 2 contents, 1 team, check runs once for the shared head,
    # the head commit's pusher (lena's approval of the latest push), 204's request history
    assert github.count() == 1 + 2 * 2 + 2 + 1 + 1 + 1 + 1
    assert github.count("GET", "/issues/203/events") == 0  # 203 asks nobody
    assert [p.head_pushers for p in snap.pulls] == [("tomas-silva",), None]
    assert snap.team_members == {"dataface/prompt-eng": ("lena-fischer", "new-hire")}
    plan = plan_ownership(POLICIES, snap, T)
    assert plan.notes == ()  # members came from the API, not owners.yaml


def test_no_protected_path_needs_no_codeowners_events_or_teams(github: GitHubMock) -> None:
    github.get(f"{API}/pulls/205", json=pull(205))
    mock_head_pulls(github, pull(205))
    mock_pr_reads(github, 205, files=[checker.pr_file_json("dataface/core/sql.py")], reviews=[])

    snap = collect_ownership(repo(), POLICIES, (205,), T)

    assert github.count() == 5  # pull, its head's pulls, files, reviews, check runs
    assert snap.codeowners == () and snap.pulls[0].events is None
    (check,) = plan_ownership(POLICIES, snap, T).actions
    assert isinstance(check, UpsertCheckRun)
    assert (check.conclusion, check.title) == ("success", "No protected path touched")


def test_more_than_3000_files_are_not_listed_and_fail_closed(github: GitHubMock) -> None:
    github.get(f"{API}/pulls/206", json=pull(206, changed_files=3512))
    mock_head_pulls(github, pull(206, changed_files=3512))
    github.get(f"{API}/pulls/206/reviews", json=[])
    github.get(f"{API}/commits/{HEAD}/check-runs", json={"total_count": 0, "check_runs": []})

    snap = collect_ownership(repo(), POLICIES, (206,), T)

    assert github.count("GET", "/files") == 0  # 30 pages would still not show them all
    assert snap.pulls[0].files is None
    (check,) = plan_ownership(POLICIES, snap, T).actions
    assert isinstance(check, UpsertCheckRun)
    assert (check.conclusion, check.title) == ("failure", "Too many files to check (3,512 > 3,000)")


def _paged_files(count: int) -> Any:
    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        import json
        from urllib.parse import parse_qs, urlsplit

        page = int(parse_qs(urlsplit(request.url).query).get("page", ["1"])[0])
        start = (page - 1) * 100
        items = [
            checker.pr_file_json(f"dataface/core/gen/f{i}.py")
            for i in range(start, min(start + 100, count))
        ]
        headers = {}
        if start + 100 < count:
            nxt = f"{checker.API_URL}{API}/pulls/207/files?per_page=100&page={page + 1}"
            headers["Link"] = f'<{nxt}>; rel="next"'
        return 200, headers, json.dumps(items)

    return callback


def test_a_listed_pr_at_the_files_limit_is_asked_for_its_count(github: GitHubMock) -> None:
    item = pull(207)
    del item["changed_files"]
    github.get(f"{API}/pulls", json=[item])
    github.add_callback(
        "GET",
        re.compile(re.escape(f"{checker.API_URL}{API}/pulls/207/files") + r"(\?.*)?$"),
        callback=_paged_files(3000),
        content_type="application/json",
    )
    github.get(f"{API}/pulls/207/reviews", json=[])
    github.get(f"{API}/commits/{HEAD}/check-runs", json={"total_count": 0, "check_runs": []})
    github.get(f"{API}/pulls/207", json=pull(207, changed_files=4100))

    snap = collect_ownership(repo(), POLICIES, None, T)

    assert github.count("GET", "/pulls/207/files") == 30
    assert snap.pulls[0].changed_files == 4100
    (check,) = plan_ownership(POLICIES, snap, T).actions
    assert isinstance(check, UpsertCheckRun)
    assert (check.conclusion, check.title) == ("failure", "Too many files to check (4,100 > 3,000)")


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({".github/CODEOWNERS": "x @a\n"}, (".github/CODEOWNERS", "x @a\n", None)),
        ({"docs/CODEOWNERS": "y @b\n"}, ("docs/CODEOWNERS", "y @b\n", None)),
        ({}, (None, "", None)),
    ],
    ids=["dot-github-first", "docs-last", "none"],
)
def test_codeowners_locations_in_githubs_order(
    github: GitHubMock, answers: dict[str, str], expected: tuple[Any, ...]
) -> None:
    from automation.features.ownership.collect import read_codeowners

    for path in (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"):
        if path in answers:
            github.get(
                f"{API}/contents/{path}", json=checker.contents_json(REPO, path, answers[path])
            )
        else:
            github.get(f"{API}/contents/{path}", status=404, json={"message": "Not Found"})
    found = read_codeowners(repo(), BASE)
    assert (found.path, found.text, found.problem) == expected


def test_unreadable_codeowners_fails_closed(github: GitHubMock) -> None:
    from automation.features.ownership.collect import read_codeowners

    github.get(f"{API}/contents/.github/CODEOWNERS", status=500, json={"message": "boom"})
    found = read_codeowners(repo(), BASE)
    assert (found.path, found.problem) == (
        None,
        "reading .github/CODEOWNERS failed: RetryError",
    )
    assert github.count() == 3  # the client retried twice (pacing off), then gave up


def test_our_app_is_the_installations_app_or_github_actions() -> None:
    """Only our own app's check runs are ours: the App's id, or GITHUB_TOKEN's Actions app."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from automation.features.ownership.collect import own_app

    assert own_app(repo()) == (None, "github-actions")
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    settings = Settings(repo=REPO, app_id="4242", app_private_key=pem, installation_id=2)
    app_repo = make_github(settings).get_repo(REPO)  # lazy: no request
    assert own_app(app_repo) == (4242, None)

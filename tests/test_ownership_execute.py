"""Writing the owner-approval check: check runs, the commit-status fallback, and a full run."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from automation import cli
from automation.actions import Plan, RequestReviewers, UpsertCheckRun
from automation.commands.codeowners import generated_text
from automation.execute import execute
from automation.github import make_github
from automation.policy.loader import load_policy_dir
from automation.settings import Settings
from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock
from tests.github_api.webhooks import webhook_payload

ROOT = Path(__file__).resolve().parent.parent
REPO = "dataface/dataface"
API = f"/repos/{REPO}"
HEAD = "a" * 40


def repo(name: str = REPO) -> Any:
    return make_github(Settings(repo=name, token="t", pacing=False)).get_repo(name)


CHECK = UpsertCheckRun(
    reason="#201: Owner approval needed: prompts",
    name="owner-approval",
    head_sha=HEAD,
    conclusion="failure",
    title="Owner approval needed: prompts",
    summary="| path group | owners | approved by | missing |",
)


def test_check_run_is_created_on_the_head(github: GitHubMock) -> None:
    github.post(f"{API}/check-runs", status=201, json=checker.check_run_json(9, repo=REPO))
    report = execute([Plan("ownership", (CHECK,))], repo())
    assert [o.status for o in report.outcomes] == ["applied"]
    assert github.json_bodies("POST") == [
        {
            "name": "owner-approval",
            "head_sha": HEAD,
            "status": "completed",
            "conclusion": "failure",
            "output": {"title": CHECK.title, "summary": CHECK.summary},
        }
    ]


def test_existing_check_run_is_updated(github: GitHubMock) -> None:
    github.patch(f"{API}/check-runs/9", json=checker.check_run_json(9, repo=REPO))
    update = UpsertCheckRun(**{**CHECK.__dict__, "check_run_id": 9})
    report = execute([Plan("ownership", (update,))], repo())
    assert [o.status for o in report.outcomes] == ["applied"]
    assert github.count("POST") == 0
    assert github.json_bodies("PATCH")[0]["conclusion"] == "failure"


def test_a_run_of_another_app_is_replaced_by_our_own(github: GitHubMock) -> None:
    """GitHub refuses to let one app edit another's run: create ours (the newest wins)."""
    github.patch(
        f"{API}/check-runs/9",
        status=403,
        json={"message": "Resource not accessible by integration"},
    )
    github.post(f"{API}/check-runs", status=201, json=checker.check_run_json(12, repo=REPO))
    update = UpsertCheckRun(**{**CHECK.__dict__, "check_run_id": 9})
    report = execute([Plan("ownership", (update,))], repo())
    assert [o.status for o in report.outcomes] == ["applied"]
    assert "belongs to another app" in report.outcomes[0].detail
    assert github.count("PATCH") == 1
    assert github.json_bodies("POST")[0]["head_sha"] == HEAD


def test_forbidden_check_runs_fall_back_to_a_commit_status(
    github: GitHubMock, caplog: pytest.LogCaptureFixture
) -> None:
    # A personal token cannot create check runs: GitHub answers 403.
    github.post(
        f"{API}/check-runs",
        status=403,
        json={"message": "You must authenticate via a GitHub App.", "documentation_url": "x"},
    )
    github.get(f"{API}/commits/{HEAD}/statuses", json=[])
    github.post(
        f"{API}/statuses/{HEAD}",
        status=201,
        json=checker.example("repos/create-commit-status", repo=REPO),
    )
    with caplog.at_level(logging.WARNING, logger="dataface_ops.execute"):
        report = execute([Plan("ownership", (CHECK,))], repo())
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.detail) == (
        "applied",
        "check runs not permitted: set a commit status instead",
    )
    assert github.count("POST", "/check-runs") == 1  # a 403 POST is not retried
    assert github.json_bodies("POST", "/statuses/") == [
        {"state": "failure", "description": CHECK.title, "context": "owner-approval"}
    ]
    assert "falling back to a commit status" in caplog.text


def test_a_commit_status_that_already_says_so_is_not_posted_again(github: GitHubMock) -> None:
    # The fallback runs on every run: the planner never sees a check run. The latest status
    # of the context already carries this verdict, so nothing is written.
    github.post(
        f"{API}/check-runs",
        status=403,
        json={"message": "You must authenticate via a GitHub App.", "documentation_url": "x"},
    )
    status = checker.example("repos/list-commit-statuses-for-ref", repo=REPO)[0]
    older = {**status, "id": status["id"] - 1, "state": "success", "description": "Approved"}
    latest = {**status, "state": "failure", "description": CHECK.title}
    other = {**status, "context": "ci/build", "state": "success", "description": "ok"}
    for item in (latest, older):
        item["context"] = "owner-approval"
    github.get(f"{API}/commits/{HEAD}/statuses", json=[other, latest, older])
    report = execute([Plan("ownership", (CHECK,))], repo())
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.detail) == (
        "applied",
        "check runs not permitted; the commit status already says so",
    )
    assert github.count("POST", "/statuses/") == 0


def test_review_request_names_people_and_teams(github: GitHubMock) -> None:
    github.post(
        f"{API}/pulls/201/requested_reviewers",
        status=201,
        json=checker.pull_json(201, repo=REPO),
    )
    action = RequestReviewers(
        reason="owners never asked",
        number=201,
        reviewers=("maya-chen",),
        team_reviewers=("prompt-eng",),
    )
    report = execute([Plan("ownership", (action,))], repo())
    assert [o.status for o in report.outcomes] == ["applied"]
    assert github.json_bodies("POST") == [
        {"reviewers": ["maya-chen"], "team_reviewers": ["prompt-eng"]}
    ]


def test_dry_run_sends_nothing(github: GitHubMock) -> None:
    report = execute([Plan("ownership", (CHECK,))], repo(), dry_run=True)
    assert [o.status for o in report.outcomes] == ["dry-run"]
    assert len(github.calls) == 0


# --------------------------------------------------------------------------- end to end


def _content(path: str, text: str, repo_name: str) -> dict[str, Any]:
    url = f"{checker.API_URL}/repos/{repo_name}/contents/{path}"
    return {
        "type": "file",
        "encoding": "base64",
        "size": len(text.encode()),
        "name": path,
        "path": path,
        "content": base64.b64encode(text.encode()).decode(),
        "sha": "d" * 40,
        "url": url,
        "git_url": None,
        "html_url": None,
        "download_url": None,
        "_links": {"self": url, "git": None, "html": None},
    }


def test_run_on_a_review_event_reports_the_check_and_asks_owners(
    github: GitHubMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    payload = webhook_payload("pull_request_review.submitted")
    name = payload["repository"]["full_name"]
    number = payload["pull_request"]["number"]
    head = payload["pull_request"]["head"]["sha"]
    base = payload["pull_request"]["base"]["sha"]
    author = payload["pull_request"]["user"]["login"]
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(payload))
    api = f"/repos/{name}"
    pr = checker.pull_json(number, head_sha=head, user_login=author, repo=name)
    pr["base"]["sha"] = base
    pr.update(changed_files=1, draft=False, requested_reviewers=[], requested_teams=[])
    github.get(f"{api}/pulls/{number}", json=pr)
    github.get(f"{api}/commits/{head}/pulls", json=[pr])
    github.get(
        f"{api}/pulls/{number}/files", json=[checker.pr_file_json("dataface/ai/mcp/server.py")]
    )
    github.get(
        f"{api}/pulls/{number}/reviews",
        json=[checker.review_json(1, state="COMMENTED", user_login=author, commit_id=head)],
    )
    github.get(f"{api}/issues/{number}/events", json=[])
    github.get(f"{api}/commits/{head}/check-runs", json={"total_count": 0, "check_runs": []})
    github.get(f"{api}/contents/.github/CODEOWNERS", status=404, json={"message": "Not Found"})
    codeowners = generated_text(load_policy_dir(ROOT / "policies"))
    github.get(f"{api}/contents/CODEOWNERS", json=_content("CODEOWNERS", codeowners, name))
    github.get("/orgs/dataface/teams/ai-platform/members", status=403, json={"message": "no"})
    github.post(f"{api}/check-runs", status=201, json=checker.check_run_json(3, repo=name))
    github.post(
        f"{api}/pulls/{number}/requested_reviewers",
        status=201,
        json=checker.pull_json(number, repo=name),
    )
    for key, value in {
        "GITHUB_EVENT_NAME": "pull_request_review",
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": name,
        "GITHUB_TOKEN": "t",
        "GITHUB_API_URL": checker.API_URL,
        "DATAFACE_OPS_NO_PACING": "1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)

    status = cli.main(["run", "ownership", "--policies", str(ROOT / "policies")])

    assert status == 0
    out = capsys.readouterr().out
    assert (
        "check 'owner-approval' on ec26c3e: failure (Owner approval needed: mcp-and-tools)" in out
    )
    assert f"#{number}: request review from team ai-platform" in out
    (check,) = github.json_bodies("POST", "/check-runs")
    assert (check["head_sha"], check["conclusion"]) == (head, "failure")
    assert "| mcp-and-tools (1 file) | @dataface/ai-platform | none |" in check["output"]["summary"]
    assert github.json_bodies("POST", "/requested_reviewers") == [
        {"reviewers": [], "team_reviewers": ["ai-platform"]}
    ]
    assert all(
        f"ref={base}" in (c.request.url or "")
        for c in github.calls
        if "/contents/" in (c.request.url or "")
    )
    # 7 reads (the head's pulls, files, reviews, check runs, 2 contents, events) + 2 writes:
    # the payload's PR is not read again, and with no review but the author's no team is.
    assert github.count() == 9
    assert github.count("GET", f"/pulls/{number}") == 2  # files and reviews only


def test_after_an_ambiguous_failure_only_our_own_run_counts_as_created(
    github: GitHubMock,
) -> None:
    """A 502 on the POST, and the only run of that name is another app's: create ours."""
    github.post(f"{API}/check-runs", status=502, json={"message": "Bad Gateway"})
    github.post(f"{API}/check-runs", status=201, json=checker.check_run_json(12, repo=REPO))
    theirs = checker.check_run_json(9, repo=REPO, name="owner-approval", head_sha=HEAD)
    theirs["app"] = {**theirs["app"], "id": 999, "slug": "not-us"}
    github.get(f"{API}/commits/{HEAD}/check-runs", json={"total_count": 1, "check_runs": [theirs]})
    report = execute([Plan("ownership", (CHECK,))], repo())
    assert [o.status for o in report.outcomes] == ["applied"]
    assert "resent" in report.outcomes[0].detail
    assert github.count("POST", "/check-runs") == 2

"""The owner-approval check end to end, as an attacker would try it.

Each test runs `dataface-ops run` on a real webhook payload (@octokit/webhooks-examples)
against the contract-checked GitHub mock, and looks at what was written to GitHub.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from responses import matchers

from automation import cli
from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock
from tests.github_api.webhooks import webhook_payload

ROOT = Path(__file__).resolve().parent.parent
CODEOWNERS = (ROOT / "CODEOWNERS").read_text(encoding="utf-8")
OTHER_BASE = "c" * 40


@dataclass
class Flow:
    """A review event on one PR, with the GitHub state around it."""

    github: GitHubMock
    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch
    event: str = "pull_request_review.submitted"
    payload: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.payload = webhook_payload(self.event)
        self.repo = self.payload["repository"]["full_name"]
        self.api = f"/repos/{self.repo}"
        pr = self.payload["pull_request"]
        self.number = pr["number"]
        self.head = pr["head"]["sha"]
        self.base = pr["base"]["sha"]
        self.author = pr["user"]["login"]
        self.policies = ROOT / "policies"

    def pull(self, number: int, *, base_sha: str | None = None, **extra: Any) -> dict[str, Any]:
        """The PR as GitHub lists it: open, on the event's head commit."""
        data = checker.pull_json(
            number, head_sha=self.head, user_login=self.author, repo=self.repo, base_ref="master"
        )
        data["base"]["sha"] = base_sha or self.base
        data.update(draft=False, requested_reviewers=[], requested_teams=[])
        data.update(extra)
        return data

    def pulls_of_head(self, pulls: list[dict[str, Any]]) -> None:
        """GET /repos/{o}/{r}/commits/{sha}/pulls: every PR associated with the head."""
        self.github.get(f"{self.api}/commits/{self.head}/pulls", json=pulls)
        for pull in pulls:  # what a check that reads each PR again would ask for
            self.github.get(f"{self.api}/pulls/{pull['number']}", json=pull)

    def pr_reads(
        self, number: int, files: Iterable[str], reviews: Iterable[tuple[str, str]] = ()
    ) -> None:
        """Files and reviews (login, state) of one PR; reviews are on the head commit."""
        self.github.get(
            f"{self.api}/pulls/{number}/files",
            json=[checker.pr_file_json(f) for f in files],
        )
        self.github.get(
            f"{self.api}/pulls/{number}/reviews",
            json=[
                checker.review_json(
                    100 + i,
                    state=state,
                    user_login=login,
                    commit_id=self.head,
                    submitted_at=f"2026-11-2{i}T10:00:00Z",
                )
                for i, (login, state) in enumerate(reviews)
            ],
        )
        self.github.get(f"{self.api}/issues/{number}/events", json=[])

    def check_runs(self, runs: list[dict[str, Any]] = ()) -> None:  # type: ignore[assignment]
        self.github.get(
            f"{self.api}/commits/{self.head}/check-runs",
            json={"total_count": len(runs), "check_runs": list(runs)},
        )

    def codeowners(self, ref: str, text: str = CODEOWNERS) -> None:
        """CODEOWNERS at the root of `ref` (none in .github/)."""
        ref_only = [matchers.query_param_matcher({"ref": ref})]
        self.github.get(
            f"{self.api}/contents/.github/CODEOWNERS",
            status=404,
            json={"message": "Not Found"},
            match=ref_only,
        )
        self.github.get(
            f"{self.api}/contents/CODEOWNERS",
            json=checker.contents_json(self.repo, "CODEOWNERS", text),
            match=ref_only,
        )

    def policies_at(self, ref: str, directory: Path | None = None) -> None:
        """The policy files at `ref`, as GraphQL reads them (one request for all)."""
        files = {
            f"policies/{path.name}": path.read_text()
            for path in sorted((directory or self.policies).glob("*.yaml"))
        }
        self.github.serve_files(self.repo, ref, files)

    def head_commit(self, author: str, committer: str = "web-flow") -> None:
        """GET /repos/{o}/{r}/commits/{sha}: who authored and committed the latest push."""
        commit = checker.example("repos/get-commit", repo=self.repo)
        commit.update(
            sha=self.head, author=checker.user_json(author), committer=checker.user_json(committer)
        )
        self.github.get(f"{self.api}/commits/{self.head}", json=commit)

    def team(self, slug: str, members: list[str] | None) -> None:
        """A team's members; None: the token cannot read them, as with GITHUB_TOKEN."""
        url = f"/orgs/dataface/teams/{slug}/members"
        if members is None:
            self.github.get(
                url, status=403, json={"message": "Resource not accessible by integration"}
            )
        else:
            self.github.get(url, json=[checker.user_json(m) for m in members])

    def writes_ok(self) -> None:
        self.github.post(
            f"{self.api}/check-runs", status=201, json=checker.check_run_json(3, repo=self.repo)
        )
        self.github.post(
            f"{self.api}/pulls/{self.number}/requested_reviewers",
            status=201,
            json=checker.pull_json(self.number, repo=self.repo),
        )

    def run(self, *extra_env: tuple[str, str]) -> int:
        event_path = self.tmp_path / "event.json"
        event_path.write_text(json.dumps(self.payload))
        env = {
            "GITHUB_EVENT_NAME": self.event.split(".")[0],
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": self.repo,
            "GITHUB_TOKEN": "t",
            "GITHUB_API_URL": checker.API_URL,
            # The workflow checks out the event PR's base commit; the action says which.
            "DATAFACE_OPS_CHECKOUT_SHA": self.base,
            # Pacing (PyGithub sleeping between requests) is not what a flow tests.
            "DATAFACE_OPS_NO_PACING": "1",
            **dict(extra_env),
        }
        for key, value in env.items():
            self.monkeypatch.setenv(key, value)
        self.monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        # ownership only: the review loop routed to the same events has its own flow tests.
        return cli.main(["run", "ownership", "--policies", str(self.policies)])

    def posted_check(self) -> dict[str, Any]:
        (check,) = self.github.json_bodies("POST", "/check-runs")
        assert isinstance(check, dict)
        return check


@pytest.fixture
def flow(github: GitHubMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flow:
    return Flow(github, tmp_path, monkeypatch)


# --------------------------------------------------------------------------- (a) one commit


def test_a_second_pr_on_the_same_head_cannot_turn_the_commit_green(flow: Flow) -> None:
    """PR A (head S -> main) changes prompts/ unreviewed; a review on PR B (S -> another base
    that already has the change) must not post success on S, which A shows too."""
    pr_b = flow.pull(flow.number)
    pr_a = flow.pull(7, base_sha=OTHER_BASE, title="Sneak a prompt in")
    flow.pulls_of_head([pr_a, pr_b])
    flow.pr_reads(flow.number, ["README.md"])
    flow.pr_reads(7, ["prompts/sql/generate.md"])
    flow.check_runs()
    flow.codeowners(OTHER_BASE)
    flow.policies_at(OTHER_BASE)
    flow.team("prompt-eng", ["lena-fischer", "maya-chen"])
    flow.writes_ok()
    flow.github.post(
        f"{flow.api}/pulls/7/requested_reviewers",
        status=201,
        json=checker.pull_json(7, repo=flow.repo),
    )

    assert flow.run() == 0

    check = flow.posted_check()
    assert (check["head_sha"], check["conclusion"]) == (flow.head, "failure")
    summary = check["output"]["summary"]
    assert "#7" in summary and f"#{flow.number}" in summary
    assert "Sneak a prompt in" in summary
    assert "#7" in check["output"]["title"]


def test_a_base_whose_policies_cannot_be_read_fails_closed(flow: Flow) -> None:
    """PR 7's base policies (read in one GraphQL request) are refused: PR 7 cannot be graded,
    and the shared head must not turn green on PR B's review."""
    pr_b = flow.pull(flow.number)
    pr_a = flow.pull(7, base_sha=OTHER_BASE, title="Sneak a prompt in")
    flow.pulls_of_head([pr_a, pr_b])
    flow.pr_reads(flow.number, ["README.md"])
    flow.pr_reads(7, ["prompts/sql/generate.md"])
    flow.check_runs()
    flow.codeowners(OTHER_BASE)
    refused = (
        '{"data": {"repository": null}, "errors": [{"type": "FORBIDDEN", '
        '"message": "Resource not accessible by integration", "path": ["repository"]}]}'
    )
    flow.github.graphql(lambda _query, _variables: (200, {}, refused))
    flow.team("prompt-eng", ["lena-fischer", "maya-chen"])
    flow.writes_ok()

    flow.run()

    check = flow.posted_check()
    assert (check["head_sha"], check["conclusion"]) == (flow.head, "failure")
    assert "#7" in check["output"]["summary"]
    assert "reading policies/ at" in check["output"]["summary"]
    assert "The check fails closed" in check["output"]["summary"]
    assert flow.github.count("POST", "/graphql") == 1


# --------------------------------------------------------------------------- (b) machinery


def test_a_pr_changing_only_the_checks_own_machinery_needs_owners(flow: Flow) -> None:
    machinery = [
        ".github/workflows/events.yml",
        "automation/planners/ownership.py",
        "action.yml",
        "pyproject.toml",
    ]
    flow.pulls_of_head([flow.pull(flow.number)])
    flow.pr_reads(flow.number, machinery)
    flow.check_runs()
    flow.codeowners(flow.base)
    flow.team("ops-council", ["maya-chen", "raj-iyer"])
    flow.writes_ok()

    assert flow.run() == 0

    check = flow.posted_check()
    assert check["conclusion"] == "failure"
    assert "No protected path touched" not in check["output"]["title"]
    for path in machinery:
        assert path in check["output"]["summary"]


# --------------------------------------------------------------------------- (c) membership


def test_a_team_roster_github_will_not_show_fails_closed(flow: Flow) -> None:
    """lena-fischer is listed in owners.yaml's prompt-eng, but GitHub could not confirm it."""
    flow.pulls_of_head([flow.pull(flow.number)])
    flow.pr_reads(flow.number, ["prompts/sql/generate.md"], [("lena-fischer", "APPROVED")])
    flow.check_runs()
    flow.codeowners(flow.base)
    flow.team("prompt-eng", None)
    flow.writes_ok()

    assert flow.run() == 0

    check = flow.posted_check()
    assert check["conclusion"] == "failure"
    summary = check["output"]["summary"]
    assert "@dataface/prompt-eng" in summary
    assert "could not be read from GitHub" in summary
    assert "team_source: policy" in summary  # how to opt in, said where it is read


def test_a_removed_team_member_cannot_approve(flow: Flow, monkeypatch: pytest.MonkeyPatch) -> None:
    """GitHub's roster wins over owners.yaml, and the summary says where it came from."""
    from automation import codeowners

    parsed: list[str] = []
    real_parse = codeowners.parse
    monkeypatch.setattr(codeowners, "parse", lambda text: parsed.append(text) or real_parse(text))
    codeowners.parse_cached.cache_clear()
    flow.pulls_of_head([flow.pull(flow.number)])
    flow.pr_reads(flow.number, ["prompts/sql/generate.md"], [("lena-fischer", "APPROVED")])
    flow.check_runs()
    flow.codeowners(flow.base)
    flow.team("prompt-eng", ["maya-chen"])
    flow.writes_ok()

    assert flow.run() == 0

    check = flow.posted_check()
    assert check["conclusion"] == "failure"
    assert "@lena-fischer (not an owner)" in check["output"]["summary"]
    assert "read from GitHub" in check["output"]["summary"]
    # Once per run, for the collector and the planner (loading the policies parses the
    # CODEOWNERS they generate, a different text).
    assert parsed.count(CODEOWNERS) == 1


def test_team_source_policy_is_an_explicit_choice_the_summary_names(
    flow: Flow, policy_copy: Path
) -> None:
    path = policy_copy / "ownership.yaml"
    text = path.read_text()
    assert "\nteam_source: github\n" in text
    path.write_text(text.replace("\nteam_source: github\n", "\nteam_source: policy\n"))
    flow.policies = policy_copy
    shutil.copy(ROOT / "CODEOWNERS", policy_copy.parent / "CODEOWNERS")  # the base checkout
    flow.pulls_of_head([flow.pull(flow.number)])
    flow.pr_reads(flow.number, ["prompts/sql/generate.md"], [("lena-fischer", "APPROVED")])
    flow.check_runs()
    flow.head_commit(flow.author)
    flow.writes_ok()

    assert flow.run() == 0

    check = flow.posted_check()
    assert check["conclusion"] == "success"
    assert "policies/owners.yaml (team_source: policy)" in check["output"]["summary"]
    assert flow.github.count("GET", "/orgs/") == 0


# --------------------------------------------------------------------------- (d) escaping


def test_a_file_name_cannot_write_the_bots_text(flow: Flow) -> None:
    evil = "prompts/x\n\n**All owners approved: merge away**\n<!-- .md"
    flow.pulls_of_head([flow.pull(flow.number)])
    flow.pr_reads(flow.number, [evil])
    flow.check_runs()
    flow.codeowners(flow.base)
    flow.team("prompt-eng", ["lena-fischer", "maya-chen"])
    flow.writes_ok()

    assert flow.run() == 0

    summary = flow.posted_check()["output"]["summary"]
    assert "\n**All owners" not in summary
    assert "**All owners" not in summary
    assert "<!--" not in summary
    assert all(not line.startswith("**") for line in summary.splitlines())


def test_a_check_run_of_another_app_is_not_taken_for_ours(flow: Flow) -> None:
    """A workflow of the PR's author can post `owner-approval` too: never edit or trust it."""
    flow.pulls_of_head([flow.pull(flow.number)])
    flow.pr_reads(flow.number, ["README.md"])
    theirs = checker.check_run_json(
        9,
        repo=flow.repo,
        name="owner-approval",
        head_sha=flow.head,
        status="completed",
        conclusion="success",
    )
    theirs["app"] = {**theirs["app"], "id": 999, "slug": "not-us"}
    flow.check_runs([theirs])
    flow.writes_ok()

    assert flow.run() == 0

    assert flow.github.count("PATCH") == 0
    assert flow.posted_check()["conclusion"] == "success"


# --------------------------------------------------------------------------- latest push


def test_an_owner_cannot_approve_the_push_they_made(flow: Flow) -> None:
    """prompts/ is sensitive: the latest push needs an approval from someone who did not
    push it (GitHub's rule), and lena-fischer committed the head herself."""
    flow.pulls_of_head([flow.pull(flow.number)])
    flow.pr_reads(flow.number, ["prompts/sql/generate.md"], [("lena-fischer", "APPROVED")])
    flow.check_runs()
    flow.codeowners(flow.base)
    flow.team("prompt-eng", ["lena-fischer", "maya-chen"])
    flow.head_commit(flow.author, committer="lena-fischer")
    flow.writes_ok()

    assert flow.run() == 0

    check = flow.posted_check()
    assert check["conclusion"] == "failure"
    assert "@lena-fischer (made the latest push)" in check["output"]["summary"]
    assert flow.github.count("GET", f"/commits/{flow.head}") == 1 + 1 + 1  # pulls, runs, it


# --------------------------------------------------------------------------- request floor

TYPICAL_FILES = [
    *(f"dataface/ai/tools/t{i}.py" for i in range(5)),
    *(f"prompts/sql/p{i}.md" for i in range(3)),
    "README.md",
    "dataface/core/sql.py",
]


def _typical(flow: Flow, policy_copy: Path, run: dict[str, Any]) -> None:
    """10 files, 2 reviews, 2 protected groups; members from owners.yaml (GITHUB_TOKEN)."""
    path = policy_copy / "ownership.yaml"
    path.write_text(path.read_text().replace("team_source: github", "team_source: policy"))
    shutil.copy(ROOT / "CODEOWNERS", policy_copy.parent / "CODEOWNERS")
    flow.policies = policy_copy
    flow.pulls_of_head([flow.pull(flow.number)])
    flow.pr_reads(
        flow.number, TYPICAL_FILES, [("dev-patel", "APPROVED"), ("lena-fischer", "APPROVED")]
    )
    flow.check_runs([run])
    flow.head_commit(flow.author)
    flow.github.patch(f"{flow.api}/check-runs/{run['id']}", json=run)


def _our_run(
    flow: Flow, output: dict[str, str], conclusion: str, external_id: str | None = None
) -> dict[str, Any]:
    run = checker.check_run_json(
        41,
        repo=flow.repo,
        name="owner-approval",
        head_sha=flow.head,
        status="completed",
        conclusion=conclusion,
        output={**checker.check_run_json(41)["output"], **output},
        external_id=external_id,
    )
    run["app"] = {**run["app"], "id": 15368, "slug": "github-actions"}
    return run


def test_the_typical_pr_stays_at_the_request_floor(
    github: GitHubMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy_copy: Path
) -> None:
    """The README lists these requests; a new one must be argued for there."""
    flow = Flow(github, tmp_path, monkeypatch)
    _typical(flow, policy_copy, _our_run(flow, {"title": "Owner approval needed"}, "failure"))

    assert flow.run() == 0

    first = [(c.request.method, (c.request.url or "").split("?")[0]) for c in github.calls]
    (update,) = github.json_bodies("PATCH")
    assert update["conclusion"] == "success"
    # Who pushed the head rides on our run, for the next run.
    assert update["external_id"] == f"dataface-ops:pushers={flow.author},web-flow"
    api = f"{checker.API_URL}{flow.api}"
    reads = [
        ("GET", f"{api}/commits/{flow.head}/pulls"),
        ("GET", f"{api}/pulls/{flow.number}/files"),
        ("GET", f"{api}/pulls/{flow.number}/reviews"),
        ("GET", f"{api}/commits/{flow.head}/check-runs"),
    ]
    assert first == [
        *reads,
        ("GET", f"{api}/commits/{flow.head}"),
        ("PATCH", f"{api}/check-runs/41"),
    ]

    # A review event whose verdict changes, the pusher already on our run: 4 reads, 1 write.
    github.reset()
    stale = _our_run(flow, {"title": "Owner approval needed"}, "failure", update["external_id"])
    _typical(flow, policy_copy, stale)
    assert flow.run() == 0
    assert [(c.request.method, (c.request.url or "").split("?")[0]) for c in github.calls] == [
        *reads,
        ("PATCH", f"{api}/check-runs/41"),
    ]

    # The same event again, the check already saying so: 4 reads, no write.
    github.reset()
    _typical(flow, policy_copy, _our_run(flow, update["output"], "success", update["external_id"]))
    assert flow.run() == 0
    assert github.count() == 4
    assert github.writes() == []


def test_a_push_event_names_its_pusher(
    github: GitHubMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On `synchronize` the sender pushed the head: no commit read, and their own approval of
    it does not count."""
    flow = Flow(github, tmp_path, monkeypatch, event="pull_request.synchronize")
    flow.payload["sender"] = checker.user_json("lena-fischer")
    flow.pulls_of_head([flow.pull(flow.number)])
    flow.pr_reads(flow.number, ["prompts/sql/generate.md"], [("lena-fischer", "APPROVED")])
    flow.check_runs()
    flow.codeowners(flow.base)
    flow.team("prompt-eng", ["lena-fischer", "maya-chen"])
    flow.writes_ok()
    monkeypatch.setattr(flow, "event", "pull_request_target.synchronize")

    assert flow.run() == 0

    check = flow.posted_check()
    assert check["conclusion"] == "failure"
    assert "@lena-fischer (made the latest push)" in check["output"]["summary"]
    assert check["external_id"] == "dataface-ops:pushers=lena-fischer"
    assert github.count("GET", f"/commits/{flow.head}") == 2  # its pulls and check runs only


def test_a_malformed_checkout_sha_is_one_clear_line(
    flow: Flow, capsys: pytest.CaptureFixture[str]
) -> None:
    assert flow.run(("DATAFACE_OPS_CHECKOUT_SHA", "main")) == 2
    err = capsys.readouterr().err
    assert "DATAFACE_OPS_CHECKOUT_SHA must be a 40-hex commit sha, got 'main'" in err
    assert "Traceback" not in err
    assert flow.github.count() == 0

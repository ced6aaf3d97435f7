"""The weekly digest end to end: a repository mocked through the REST-checked `github` fixture.

The week reported is 2026-W47 (Mon 2026-11-16 .. Sun 2026-11-22, UTC); the run happens on
Tuesday 2026-11-24, in W48.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from automation import cli
from tests.github_api import checker
from tests.github_api.fixtures import GitHubMock

ROOT = Path(__file__).resolve().parent.parent
REPO = "dataface/dataface"
API = f"https://api.github.com/repos/{REPO}"
AT = "2026-11-24T12:00:00Z"
BOT = "dataface-ops[bot]"


def issue(
    number: int,
    created: str,
    *,
    labels: tuple[str, ...] = (),
    closed: str | None = None,
    reason: str | None = None,
    updated: str | None = None,
    assignees: tuple[str, ...] = (),
    merged: str | None = None,
    pull: bool = False,
    title: str = "",
    body: str = "",
    author: str = "sam-okafor",
) -> dict[str, Any]:
    """An issues-list item (a PR when `pull`)."""
    data = checker.issue_json(
        number,
        title=title or f"item {number}",
        body=body,
        state="closed" if closed else "open",
        labels=list(labels),
        assignees=list(assignees),
        user_login=author,
        repo=REPO,
        created_at=created,
        updated_at=updated or closed or created,
        closed_at=closed,
        state_reason=reason if closed else None,
        comments=0,
    )
    if pull or merged:
        data["pull_request"] = {
            "url": f"{API}/pulls/{number}",
            "html_url": f"https://github.com/{REPO}/pull/{number}",
            "diff_url": f"https://github.com/{REPO}/pull/{number}.diff",
            "patch_url": f"https://github.com/{REPO}/pull/{number}.patch",
            "merged_at": merged,
        }
    else:
        data.pop("pull_request", None)
    return data


def timeline_event(kind: str, actor: str, at: str, label: str | None = None) -> dict[str, Any]:
    """A timeline entry built from GitHub's own examples."""
    examples = checker.example(("GET", "/repos/{owner}/{repo}/issues/{issue_number}/timeline"))
    entry = copy.deepcopy(next(e for e in examples if e["event"] == kind))
    entry["actor"] = checker.user_json(actor)
    entry["created_at"] = at
    if kind == "commented":
        entry["user"] = checker.user_json(actor)
        entry["updated_at"] = at
        entry["body"] = "Looking at it."
    if label is not None:
        entry["label"] = {"name": label, "color": "ededed"}
    return entry


def pull(
    number: int, sha: str, updated: str, merged: str | None, labels: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A pulls-list item."""
    return checker.pull_json(
        number,
        title=f"PR {number}",
        state="closed",
        head_sha=sha,
        labels=list(labels),
        user_login="dev-patel",
        repo=REPO,
        updated_at=updated,
        closed_at=updated,
        merged_at=merged,
        created_at="2026-11-10T09:00:00Z",
    )


def check_runs(sha: str, conclusion: str | None) -> dict[str, Any]:
    """A check-runs answer with zero or one owner-approval run."""
    runs = []
    if conclusion is not None:
        runs.append(
            checker.check_run_json(
                7000 + len(sha),
                repo=REPO,
                name="owner-approval",
                head_sha=sha,
                status="completed",
                conclusion=conclusion,
            )
        )
    return {"total_count": len(runs), "check_runs": runs}


REGRESSION = "eval-regression"

OPEN_ITEMS = [
    issue(
        502,
        "2026-11-18T08:00:00Z",
        labels=(REGRESSION, "severity:sev2", "area:mcp-server"),
        updated="2026-11-19T14:00:00Z",
        assignees=("dev-patel",),
    ),
    issue(
        503,
        "2026-11-20T10:00:00Z",
        labels=(REGRESSION, "severity:sev3", "area:evals"),
        updated="2026-11-20T10:05:00Z",
        assignees=("raj-iyer",),
    ),
    issue(520, "2026-08-01T09:00:00Z", labels=("stale",), updated="2026-11-18T06:00:00Z"),
    issue(522, "2026-07-01T09:00:00Z", labels=("stale",), updated="2026-11-05T06:00:00Z"),
    issue(540, "2026-10-01T09:00:00Z", updated="2026-10-02T09:00:00Z"),
    issue(541, "2026-11-18T09:00:00Z"),
    issue(545, "2026-11-21T09:00:00Z", pull=True, labels=("release-train",)),
]
CLOSED_ITEMS = [
    issue(
        501,
        "2026-11-17T09:00:00Z",
        labels=(REGRESSION, "severity:sev1", "area:prompts"),
        closed="2026-11-19T16:00:00Z",
        reason="completed",
        assignees=("maya-chen",),
    ),
    issue(
        504,
        "2026-11-10T09:00:00Z",
        labels=(REGRESSION, "severity:sev2", "area:evals"),
        closed="2026-11-16T12:00:00Z",
        reason="completed",
        assignees=("tomas-silva",),
    ),
    issue(
        521,
        "2026-08-15T09:00:00Z",
        labels=("stale",),
        closed="2026-11-21T06:00:00Z",
        reason="not_planned",
    ),
    issue(542, "2026-09-01T09:00:00Z", closed="2026-11-03T09:00:00Z", reason="completed"),
    issue(
        510,
        "2026-11-17T15:00:00Z",
        labels=("release-train",),
        closed="2026-11-19T10:00:00Z",
        merged="2026-11-19T10:00:00Z",
    ),
    *(
        issue(n, "2026-11-10T09:00:00Z", closed=at, merged=at)
        for n, at in (
            (530, "2026-11-18T09:00:00Z"),
            (531, "2026-11-20T09:00:00Z"),
            (532, "2026-11-21T09:00:00Z"),
            (533, "2026-11-22T09:00:00Z"),
        )
    ),
]
TIMELINES = {
    501: [
        timeline_event("labeled", BOT, "2026-11-17T09:01:00Z", "severity:sev1"),
        timeline_event("commented", BOT, "2026-11-17T09:01:00Z"),
        timeline_event("labeled", "maya-chen", "2026-11-17T11:00:00Z", "triaged"),
    ],
    502: [
        timeline_event("commented", "lena-fischer", "2026-11-18T12:00:00Z"),  # not assignee
        timeline_event("commented", "dev-patel", "2026-11-19T14:00:00Z"),
    ],
    503: [timeline_event("commented", BOT, "2026-11-20T10:01:00Z")],
    504: [timeline_event("labeled", "tomas-silva", "2026-11-10T10:00:00Z", "triaged")],
}
PULLS = [  # sorted by updated, newest first, as GitHub answers sort=updated&direction=desc
    pull(533, "c" * 40, "2026-11-22T09:00:00Z", "2026-11-22T09:00:00Z"),
    pull(532, "b" * 40, "2026-11-21T09:00:00Z", "2026-11-21T09:00:00Z"),
    pull(531, "a" * 40, "2026-11-20T09:00:00Z", "2026-11-20T09:00:00Z"),
    pull(510, "d" * 40, "2026-11-19T10:00:00Z", "2026-11-19T10:00:00Z", ("release-train",)),
    pull(530, "e" * 40, "2026-11-18T09:00:00Z", "2026-11-18T09:00:00Z"),
    pull(529, "f" * 40, "2026-11-12T09:00:00Z", None),
    pull(528, "9" * 40, "2026-11-11T09:00:00Z", "2026-11-11T09:00:00Z"),
]
FILES = {
    533: [
        checker.pr_file_json(
            "docs/old-stale.yaml", status="renamed", previous_filename="policies/stale.yaml"
        )
    ],
    532: [checker.pr_file_json("docs/index.md")],
    531: [checker.pr_file_json("dataface/ai/tools/query_metrics.py")],
    510: [checker.pr_file_json("CHANGELOG.md")],
    530: [checker.pr_file_json("prompts/summarize.md")],
}
RUNS = {"c" * 40: None, "a" * 40: "failure", "e" * 40: "success"}
RELEASES = [
    checker.release_json(
        2,
        tag_name="v2026.11.19",
        published_at="2026-11-19T10:05:00Z",
        created_at="2026-11-19T10:05:00Z",
    ),
    checker.release_json(
        1,
        tag_name="v2026.10.06",
        published_at="2026-10-06T15:00:00Z",
        created_at="2026-10-06T15:00:00Z",
    ),
]


class FakeRepo:
    """The repository's state behind the mocks: created issues persist across runs."""

    def __init__(self) -> None:
        self.created: dict[int, dict[str, Any]] = {}
        self.releases = list(RELEASES)

    def issues(self, request: Any) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url).query)
        state = query["state"][0]
        if state == "open":
            items = [*OPEN_ITEMS, *self.created.values()]
        else:
            assert query["since"] == ["2026-10-26T00:00:00Z"]
            items = CLOSED_ITEMS
        return 200, {}, json.dumps(items)

    def create(self, request: Any) -> tuple[int, dict[str, str], str]:
        sent = json.loads(request.body)
        number = 599
        self.created[number] = issue(
            number,
            AT,
            labels=tuple(sent["labels"]),
            title=sent["title"],
            body=sent["body"],
            author=BOT,
        )
        return 201, {}, json.dumps(self.created[number])

    def edit(self, request: Any) -> tuple[int, dict[str, str], str]:
        sent = json.loads(request.body)
        self.created[599].update(title=sent["title"], body=sent["body"])
        return 200, {}, json.dumps(self.created[599])

    def list_releases(self, request: Any) -> tuple[int, dict[str, str], str]:
        return 200, {}, json.dumps(self.releases)


def mock_repository(github: GitHubMock) -> FakeRepo:
    """Register every endpoint the digest reads and writes."""
    fake = FakeRepo()
    github.get(API, json=checker.example("repos/get", repo=REPO, default_branch="trunk"))
    github.add_callback("GET", f"{API}/issues", fake.issues)
    github.add_callback("POST", f"{API}/issues", fake.create)
    github.add_callback("PATCH", f"{API}/issues/599", fake.edit)
    for number, events in TIMELINES.items():
        github.get(f"{API}/issues/{number}/timeline", json=events)
    github.get(f"{API}/pulls", json=PULLS)
    for number, files in FILES.items():
        github.get(f"{API}/pulls/{number}/files", json=files)
    for sha, conclusion in RUNS.items():
        github.get(f"{API}/commits/{sha}/check-runs", json=check_runs(sha, conclusion))
    github.add_callback("GET", f"{API}/releases", fake.list_releases)
    return fake


@pytest.fixture
def actions_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scheduled GitHub Actions run of the digest."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"schedule": "0 6 * * 1"}))
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GITHUB_EVENT_NAME", "schedule")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    monkeypatch.setenv("GITHUB_API_URL", "https://api.github.com")
    monkeypatch.setenv("DATAFACE_OPS_NO_PACING", "1")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def run_digest() -> int:
    return cli.main(["run", "digest", "--at", AT])


def test_digest_end_to_end_opens_then_edits_the_same_issue(
    github: GitHubMock, actions_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = mock_repository(github)

    assert run_digest() == 0
    first_run = len(github.calls)
    # 2 issue lists + 4 timelines + 1 pulls list + 5 PR files + 3 check-run lists
    # + 1 releases list + 1 repository = 17 reads, and one POST.
    assert github.count("GET") == 17
    assert first_run == 18
    assert github.count("GET", "/timeline") == 4
    assert github.count("GET", "/check-runs") == 3
    assert github.count("GET", "/search") == 0
    [created] = github.json_bodies("POST", "/issues")
    assert created["title"] == "Operating digest 2026-W47"
    assert created["labels"] == ["ops-digest"]
    body = created["body"]
    assert body.startswith("<!-- dataface-ops:digest:2026-W47 -->\n")
    rows = {
        line.split(" | ")[0].lstrip("| "): line.split(" | ")[1:]
        for line in body.splitlines()
        if line.startswith("| ") and " | " in line
    }
    assert rows["eval regressions opened"] == ["3", "#501, #502, #503 |"]
    assert rows["eval regressions acknowledged"] == ["2", "#501, #502 |"]
    assert rows["eval regressions resolved"] == ["2", "#501, #504 |"]
    assert rows["time to acknowledge, median"] == ["16.0 h", "|"]
    assert rows["time to acknowledge, p90"] == ["30.0 h", "|"]
    assert rows["SLA breaches (not acknowledged in time)"] == ["1", "#502 |"]
    assert rows["release trains due"] == ["1", "|"]
    assert rows["release trains shipped"] == ["1", "#510 |"]
    assert rows["release trains late (merged over a day after departure)"] == ["1", "#510 |"]
    assert rows["release trains skipped"] == ["0", "- |"]
    assert rows["releases published"] == ["1", "v2026.11.19 |"]
    assert rows["stale warnings"] == ["1", "#520 |"]
    assert rows["stale closes"] == ["1", "#521 |"]
    assert rows["merges into protected paths without a passing `owner-approval`"] == [
        "2",
        "#531, #533 |",
    ]
    assert rows["backlog (open issues) at the end of the week"] == ["6", "+1 over the week |"]
    assert "| `severity:sev1` | 4 h | 1 | 2.0 h | 2.0 h | 1/1 |" in body
    assert "| `severity:sev2` | 24 h | 1 | 30.0 h | 30.0 h | 0/1 |" in body
    assert "| #531 PR 531 | @dev-patel | 2026-11-20 09:00 | mcp-and-tools | failure |" in body
    assert "| #533 PR 533 | @dev-patel | 2026-11-22 09:00 | operating-model | missing |" in body
    assert "| 2026-W44 | 5 | 0 | 0 |" in body
    assert "| 2026-W45 | 4 | 0 | 0 |" in body
    assert "| 2026-W46 | 5 | 1 | 0 |" in body
    assert "| 2026-W47 | 6 | 3 | 2 |" in body
    assert '    x-axis ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]' in body
    assert "    bar [0, 0, 1, 3]\n    line [5, 4, 5, 6]" in body
    assert f"https://github.com/{REPO}/blob/trunk/docs/runbooks/eval-regression.md" in body

    # Rerun later the same week, nothing changed: converged, no write at all.
    assert run_digest() == 0
    assert len(github.writes()) == 1

    # A release published late in W47 shows up on the next run: the same issue is edited.
    fake.releases.insert(
        0,
        checker.release_json(
            3,
            tag_name="v2026.11.22",
            published_at="2026-11-22T08:00:00Z",
            created_at="2026-11-22T08:00:00Z",
        ),
    )
    assert run_digest() == 0
    assert [c.request.method for c in github.writes()] == ["POST", "PATCH"]
    [edited] = github.json_bodies("PATCH", "/issues/599")
    assert "| releases published | 2 | v2026.11.19, v2026.11.22 |" in edited["body"]
    assert edited["title"] == "Operating digest 2026-W47"
    out = capsys.readouterr().out
    assert "2026-W47: 3 regressions opened, 1 SLA breaches, 2 unapproved merges" in out


def test_digest_dry_run_sends_no_write(
    github: GitHubMock, actions_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    mock_repository(github)
    assert cli.main(["run", "digest", "--at", AT, "--dry-run"]) == 0
    assert github.writes() == []
    # The digest was planned from the same reads; only the write was held back.
    out = capsys.readouterr().out
    assert "[dry-run] new issue: write 'Operating digest 2026-W47'" in out
    assert "applied 0, dry-run 1, skipped 0, failed 0" in out


def test_pulls_listing_stops_at_the_first_pr_older_than_the_week(
    github: GitHubMock, actions_env: None
) -> None:
    mock_repository(github)
    pages = {
        "1": PULLS[:3],
        "2": PULLS[3:],
        "3": [pull(527, "8" * 40, "2026-11-01T09:00:00Z", None)],
    }

    def paged(request: Any) -> tuple[int, dict[str, str], str]:
        page = parse_qs(urlsplit(request.url).query).get("page", ["1"])[0]
        following = f"{API}/pulls?state=closed&sort=updated&direction=desc&page={int(page) + 1}"
        link = f'<{following}>; rel="next"'
        return 200, {"Link": link}, json.dumps(pages[page])

    github.remove("GET", f"{API}/pulls")
    github.add_callback("GET", f"{API}/pulls", paged)
    assert run_digest() == 0
    listed = [
        c.request.url for c in github.calls if urlsplit(c.request.url).path.endswith("/pulls")
    ]
    assert len(listed) == 2  # page 3 is never read
    assert github.count("GET", "/files") == 5

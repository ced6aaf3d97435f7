"""End to end through `dataface-ops run`: schedule, update in place, merge, release, rerun."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from automation import cli
from automation.features.release.plan import SECTION_BEGIN, SECTION_END, changelog_of
from tests.flow_env import NO_SUMMARY_NO_LIMITS, actions_env
from tests.github_api.fixtures import GitHubMock
from tests.github_api.webhooks import webhook_payload
from tests.release_github import FakeRepo, hexsha
from tests.release_helpers import ROOT

REPO = "dataface/dataface"
UTC = dt.UTC
TRAIN = "release-train/2026-11-24"
LABELS = {
    0: ("mcp-tool-schema",),
    1: ("area:prompts",),
    2: ("area:mcp-server",),
    3: ("area:evals",),
}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def last_week(fake: FakeRepo, merged: int = 40) -> None:
    """Last week's train (#298) and release, then `merged` PRs into main since."""
    fake.main.extend(hexsha(n) for n in (1, 2, 3))
    fake.refs["main"] = hexsha(3)
    fake.add_pull(296, title="Old fix", merged_at=at("2026-11-10T10:00"), merge_sha=hexsha(1))
    fake.add_pull(
        298,
        title="Release train 2026-11-17",
        base="stable",
        head="release-train/2026-11-17",
        head_sha=hexsha(3),
        merged_at=at("2026-11-17T16:00"),
        merge_sha=hexsha(600_000),
        created_at=at("2026-11-17T15:00"),
    )
    fake.add_release("train-2026-11-17", hexsha(600_000), at("2026-11-17T16:01"))
    fake.tags["train-2026-11-17"] = hexsha(3)
    start = at("2026-11-18T09:00")
    for index in range(merged):
        number = 300 + index
        labels = LABELS.get(index % 8, ())  # half labelled by area, half not
        files = ("docs/guide.md",) if not labels else ()
        if index == 5:
            files = ("prompts/sql/system.md",)  # unlabelled prompt change: found by path
        fake.merge_into_main(
            number,
            f"Change {number}",
            start + dt.timedelta(hours=2 * index),
            labels=labels,
            files=files,
        )
    fake.add_pull(299, title="Abandoned idea", state="closed", created_at=at("2026-11-19T09:00"))


@pytest.fixture
def run_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run `dataface-ops run release` with an event, like the Actions step does."""

    def run(event: str, payload: dict[str, Any], when: str) -> int:
        actions_env(monkeypatch, tmp_path, event, payload, REPO, **NO_SUMMARY_NO_LIMITS)
        return cli.main(["run", "release", "--policies", str(ROOT / "policies"), "--at", when])

    return run


SCHEDULE = {"schedule": "0 15 * * 2"}


def merged_event(fake: FakeRepo, number: int) -> dict[str, Any]:
    payload = webhook_payload("pull_request.closed")
    pull = payload["pull_request"]
    pull.update(number=number, merged=True, merge_commit_sha=fake.pulls[number]["merge_commit_sha"])
    pull["head"]["ref"] = TRAIN
    pull["base"]["ref"] = "stable"
    payload["number"] = number
    payload["repository"]["full_name"] = REPO
    return payload


def writes(github: GitHubMock, since: int) -> list[str]:
    return [
        f"{c.request.method} {c.request.path_url.split('?')[0]}"
        for c in list(github.calls)[since:]
        if c.request.method not in ("GET", "HEAD")
    ]


def test_train_opens_updates_in_place_releases_and_then_rests(
    github: GitHubMock, run_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeRepo(github)
    last_week(fake)
    api = f"/repos/{REPO}"

    # 1. Tuesday 15:00 London: the train is due. One PR is opened.
    assert run_env("schedule", SCHEDULE, "2026-11-24T15:00:00Z") == 0
    first_run = github.count()
    assert writes(github, 0) == [
        f"POST {api}/git/refs",
        f"POST {api}/pulls",
        f"POST {api}/issues/340/labels",
        f"POST {api}/pulls/340/requested_reviewers",
    ]
    assert first_run <= 12, first_run
    counts = {"first train run": first_run}
    train = fake.pulls[340]
    assert (train["head"]["ref"], train["base"]["ref"], train["title"]) == (
        TRAIN,
        "stable",
        "Release train 2026-11-24",
    )
    assert fake.refs[TRAIN] == hexsha(339)
    assert "**40 PRs**" in train["body"]
    # An unlabelled prompt change, placed by path without reading any PR's files.
    prompts = changelog_of(train["body"]).split("### Prompts")[1].split("###")[0]
    assert "Change 305 ([#305]" in prompts
    assert github.count("GET", "/files") == 0
    assert fake.commit_listings == ["prompts"]
    assert github.json_bodies("POST", "/requested_reviewers") == [
        {"reviewers": ["tomas-silva"], "team_reviewers": ["ai-platform", "prompt-eng", "evals"]}
    ]
    assert github.count("GET", "/search") == 0

    # A person adds notes around the generated section; one more PR merges.
    train["body"] = "Captain: hold #301 if the SDK slips.\n\n" + train["body"] + "\nQA: ok\n"
    fake.merge_into_main(341, "Add SQL eval suite", at("2026-11-24T17:00"), labels=("area:evals",))

    # 2. The next run updates the same PR in place.
    before = len(github.calls)
    assert run_env("schedule", SCHEDULE, "2026-11-25T09:00:00Z") == 0
    assert writes(github, before) == [
        f"PATCH {api}/git/refs/heads/{TRAIN}",
        f"PATCH {api}/pulls/340",
    ]
    counts["update run"] = len(github.calls) - before
    assert [n for n, p in fake.pulls.items() if p["state"] == "open"] == [340]
    body = train["body"]
    assert body.startswith("Captain: hold #301 if the SDK slips.\n\n" + SECTION_BEGIN)
    assert body.endswith(SECTION_END + "\n\nQA: ok\n")
    assert "Add SQL eval suite ([#341]" in body and "**41 PRs**" in body
    assert fake.refs[TRAIN] == hexsha(341)

    # 3. The train PR merges: the merge commit is tagged and the release published.
    fake.merge_pull(340, at("2026-11-25T16:00"))
    fake.now = at("2026-11-25T16:01")
    before = len(github.calls)
    assert run_env("pull_request", merged_event(fake, 340), "2026-11-25T16:01:00Z") == 0
    assert writes(github, before) == [f"POST {api}/releases"]
    (release,) = github.json_bodies("POST", "/releases")
    assert release["tag_name"] == "train-2026-11-24"
    assert release["target_commitish"] == fake.pulls[340]["merge_commit_sha"]
    assert release["name"] == "Release train 2026-11-24"
    assert changelog_of(body) in release["body"]
    counts["release run"] = len(github.calls) - before

    # 4. A rerun of the same event, and the next sweeps, send no write.
    before = len(github.calls)
    assert run_env("pull_request", merged_event(fake, 340), "2026-11-25T16:05:00Z") == 0
    assert run_env("schedule", SCHEDULE, "2026-11-26T15:00:00Z") == 0
    assert writes(github, before) == []
    counts["event rerun + next-day sweep"] = len(github.calls) - before
    out = capsys.readouterr().out
    with capsys.disabled():
        print(f"\nrelease train request counts: {counts}")
    # 4 reads (latest release, train PRs, comparison, closed PRs) + 1 commits-by-path
    # listing (prompts/: the only category directory the range touches) + 4 writes; then the
    # same 5 reads + 2 writes; then 3 reads (latest, train PRs, release by tag) + 1 write;
    # then 2 + 2 reads.
    assert counts == {
        "first train run": 9,
        "update run": 7,
        "release run": 4,
        "event rerun + next-day sweep": 4,
    }
    assert "not due: the next train leaves Tue 2026-12-01 15:00 Europe/London" in out


def test_a_week_with_nothing_merged_skips_the_train(github: GitHubMock, run_env: Any) -> None:
    fake = FakeRepo(github)
    last_week(fake, merged=0)
    assert run_env("schedule", SCHEDULE, "2026-11-24T15:00:00Z") == 0
    assert github.writes() == []
    assert github.count() == 3  # latest release, train PRs, comparison


def test_dry_run_dispatch_writes_nothing(
    github: GitHubMock, run_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeRepo(github)
    last_week(fake, merged=3)
    payload = webhook_payload("workflow_dispatch")
    payload["inputs"] = {"dry_run": "true"}
    payload["repository"]["full_name"] = REPO
    assert run_env("workflow_dispatch", payload, "2026-11-24T15:00:00Z") == 0
    assert github.writes() == []
    # The due train was planned in full; only its two writes were held back.
    out = capsys.readouterr().out
    assert f"[dry-run] create branch {TRAIN} at" in out
    assert f"[dry-run] open PR {TRAIN} -> stable: 'Release train 2026-11-24'" in out
    assert "applied 0, dry-run 2, skipped 0, failed 0" in out


def test_more_than_250_commits_and_100_prs_are_paged(github: GitHubMock, run_env: Any) -> None:
    fake = FakeRepo(github)
    last_week(fake, merged=150)
    # Direct pushes as well: 150 PR commits + 110 others = 260 commits on main.
    fake.main.extend(hexsha(900_000 + n) for n in range(110))
    fake.refs["main"] = fake.main[-1]
    assert run_env("schedule", SCHEDULE, "2026-11-24T15:00:00Z") == 0
    assert github.count("GET", "/compare/") == 3  # 100 + 100 + 60 commits
    assert github.count("GET", f"/repos/{REPO}/pulls") - github.count("GET", "/files") == 3
    body = fake.pulls[max(fake.pulls)]["body"]
    assert "**150 PRs** (260 commits)" in body
    assert fake.refs["release-train/2026-11-24"] == fake.main[-1]


def typical_week(fake: FakeRepo, merged: int, unlabelled_paths: dict[int, str]) -> None:
    """`merged` PRs, labelled by area as a labeler would, but for a few unlabelled ones."""
    last_week(fake, merged=0)
    labels = ("mcp-tool-schema", "area:prompts", "area:mcp-server", "area:evals")
    for index in range(merged):
        number = 300 + index
        path = unlabelled_paths.get(number)
        fake.merge_into_main(
            number,
            f"Change {number}",
            at("2026-11-18T09:00") + dt.timedelta(hours=index),
            labels=() if path else (labels[index % len(labels)],),
            files=(path or "dataface/ai/x.py",),
        )


@pytest.mark.parametrize(
    ("merged", "unlabelled", "expected"),
    [
        # Every PR labelled: 4 reads and 4 writes.
        (95, {}, 8),
        # Unlabelled PRs: one commits-by-path listing per category directory the range
        # touches (prompts, evals, dataface/evals, and dataface/ai from the labelled PRs).
        (
            95,
            {
                310: "prompts/a.md",
                311: "prompts/b.md",
                320: "evals/suite.py",
                321: "dataface/evals/runner.py",
                330: "docs/x.md",
                331: "docs/y.md",
            },
            12,
        ),
        # Two unlabelled PRs: reading their files is cheaper than listing by path.
        (60, {310: "prompts/a.md", 311: "docs/x.md"}, 10),
    ],
)
def test_a_typical_week_costs_at_most_12_requests(
    github: GitHubMock,
    run_env: Any,
    capsys: pytest.CaptureFixture[str],
    merged: int,
    unlabelled: dict[int, str],
    expected: int,
) -> None:
    fake = FakeRepo(github)
    typical_week(fake, merged, unlabelled)
    assert run_env("schedule", SCHEDULE, "2026-11-24T15:00:00Z") == 0
    with capsys.disabled():
        print(f"\ntypical week, {merged} PRs, {len(unlabelled)} unlabelled: {github.count()}")
    assert github.count() == expected <= 12
    body = fake.pulls[max(fake.pulls)]["body"]
    changelog = changelog_of(body)
    for number, path in unlabelled.items():
        section = (
            "### Prompts"
            if path.startswith("prompts/")
            else ("### Evals" if "evals/" in path else "### Other changes")
        )
        part = changelog.split(section)[1].split("\n### ")[0]
        assert f"[#{number}]" in part, (number, section)


def test_merge_commits_fall_back_to_each_prs_files(github: GitHubMock, run_env: Any) -> None:
    fake = FakeRepo(github)
    typical_week(fake, 20, {310: "prompts/a.md", 311: "docs/x.md", 312: "docs/y.md"})
    original = fake._compare

    def with_a_merge_commit(path: str, query: dict[str, str], body: Any) -> Any:
        status, payload, headers = original(path, query, body)
        payload["commits"][0]["parents"] = payload["commits"][0]["parents"] * 2
        return status, payload, headers

    fake._compare = with_a_merge_commit  # type: ignore[method-assign]
    github.reset()
    fake._register()
    assert run_env("schedule", SCHEDULE, "2026-11-24T15:00:00Z") == 0
    assert github.count("GET", "/files") == 3
    assert fake.commit_listings == []
    prompts = changelog_of(fake.pulls[max(fake.pulls)]["body"]).split("### Prompts")[1]
    assert "[#310]" in prompts.split("\n### ")[0]


def test_an_ordinary_merge_reads_two_things_and_writes_nothing(
    github: GitHubMock, run_env: Any
) -> None:
    fake = FakeRepo(github)
    last_week(fake, merged=3)
    payload = webhook_payload("pull_request.closed")
    payload["pull_request"].update(number=302)
    payload["number"] = 302
    payload["repository"]["full_name"] = REPO
    assert run_env("pull_request", payload, "2026-11-24T15:30:00Z") == 0
    assert github.writes() == []
    assert github.count() == 2  # latest release, train PRs: the train itself is cron's


def test_a_review_request_a_person_removed_is_not_made_again(
    github: GitHubMock, run_env: Any
) -> None:
    fake = FakeRepo(github)
    last_week(fake)
    assert run_env("schedule", SCHEDULE, "2026-11-24T15:00:00Z") == 0
    assert github.count("POST", "/requested_reviewers") == 1
    # The captain is taken off the train PR by a person: the next run reads who was asked
    # before and leaves the PR as it is.
    fake.remove_review_request(340, "tomas-silva")
    before = len(github.calls)
    assert run_env("schedule", SCHEDULE, "2026-11-24T16:00:00Z") == 0
    assert writes(github, before) == []
    assert github.count("GET", "/issues/340/events") == 1

"""The retrospective over a generated year (tests/retro_history.py): it finds every injected
problem, proposes exactly the expected edits, and opens one PR whose policies still validate
and whose operating model passes `docs check`; a second run writes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from automation import cli
from automation.docs import check_docs
from automation.features.retro.collect import (
    HISTORY_CHUNK,
    HISTORY_PAGE,
    History,
    reaction_entry,
    read_histories,
    read_pr_files,
)
from automation.features.retro.figures import percentile
from automation.github import Repository, make_github
from automation.policy.loader import load_policy_dir
from automation.settings import Settings
from automation.snapshot.collect import (
    comment_from_json,
    reaction_from_json,
    requested_event_from_json,
    review_from_json,
)
from automation.snapshot.models import IssueEvent
from tests.faults.injector import WRITE_FAULTS, Fault, FaultyGitHub
from tests.github_api.fixtures import GitHubMock
from tests.retro_history import BOT, NOW, ROOT, YearHistory
from tests.test_output_contract import _validate

ARGS = [
    "retro",
    "--since",
    "2026-01-01",
    "--until",
    "2027-01-01",
    "--at",
    NOW.isoformat(),
    "--repo",
    "o/r",
]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "GITHUB_TOKEN": "t",
        "GITHUB_API_URL": "https://api.github.com",
        "DATAFACE_OPS_NO_PACING": "1",
    }.items():
        monkeypatch.setenv(name, value)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = cli.main([*ARGS, "--policies", str(ROOT / "policies"), "--format", "json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_year_finds_every_injected_problem_and_opens_one_pr(
    github: GitHubMock, capsys: pytest.CaptureFixture[str], env: None, tmp_path: Path
) -> None:
    policies = load_policy_dir(ROOT / "policies")
    history = YearHistory(policies)
    history.install(github)
    code, report = run(capsys, "--open-pr")
    assert code == 0, report
    _validate(report, "retro")  # the documented output contract (docs/output.schema.json)
    truth = history.truth

    findings = {(f["policy"], f["subject"]): f for f in report["findings"]}  # type: ignore[union-attr]
    assert set(findings) == {
        ("triage", "`severity:sev2`"),
        ("oncall", "@raj-iyer"),
        ("stale", "rule `pull-requests`"),
        ("release", "the train"),
        ("reviews", "area `prompts`"),
        ("incidents", "`sev2`"),
    }
    sla = math.ceil(percentile(truth.sev2_waits, 0.9) or 0)
    edits = [
        (e["file"], tuple(e["loc"]), e["old"], e["new"])
        for f in report["findings"]  # type: ignore[union-attr]
        for e in f["edits"]
    ]
    assert edits == [
        ("triage", ("sla_hours", "sev2"), 24, sla),
        ("triage", ("areas", 3, "assignee"), "raj-iyer", "tomas-silva"),
        ("stale", ("rules", 0, "days_until_stale"), 30, 45),
        ("release", ("every_weeks",), 1, 2),
        ("release", ("anchor",), None, "2027-01-05"),
        # The review loop's own figure for `prompts` is over the threshold: ask its secondary
        # sooner (halfway from the 16 h reminder to the 32 h escalation).
        ("reviews", ("escalate_after_hours",), 32, 24),
        # The incidents feature's median MTTR of sev2 is over 48 h: updates twice as often.
        ("incidents", ("status_updates", "every_hours", "sev2"), 4, 2),
    ]
    # The figures behind them are the injected ones.
    sev2 = next(r for r in report["triage"] if r["severity"] == "sev2")  # type: ignore[union-attr]
    assert (sev2["met"], sev2["decided"]) == (truth.sev2_met, len(truth.sev2_waits))
    stale = {r["rule"]: r for r in report["stale"]}  # type: ignore[union-attr]
    for rule in ("backlog", "pull-requests"):
        assert stale[rule]["closed"] == sorted(truth.stale_closed[rule])
        assert stale[rule]["reopened"] == sorted(truth.stale_reopened[rule])
    assert report["trains"]["late"] == truth.late_trains  # type: ignore[index]
    assert [str(s) for s in truth.skipped_slots] == report["trains"]["skipped"]  # type: ignore[index]
    assert [str(s) for s in truth.held_slots] == report["trains"]["held"]  # type: ignore[index]
    pages = {r["login"]: r["pages"] for r in report["load"]["rows"]}  # type: ignore[index]
    assert {k: v for k, v in pages.items() if v} == truth.pages
    assert report["load"]["max_over_median"] > 2  # type: ignore[index]
    # Reviews and incidents are the features' own figures, over the areas the PRs' files give.
    reviews = {r["area"]: r for r in report["reviews"]}  # type: ignore[union-attr]
    assert set(reviews) == {"mcp-server", "prompts", "evals", "cloud-chat"}
    assert reviews["prompts"]["reviewed"] == len(truth.prompts_waits)
    # From the PR's creation (its ready time), five minutes before the request.
    p90 = percentile(truth.prompts_waits, 0.9) or 0
    assert reviews["prompts"]["first_review_p90"] == pytest.approx(p90 + 5 / 60, abs=1e-3)
    assert all(r["first_review_p90"] <= 48 for a, r in reviews.items() if a != "prompts")
    incidents = {r["severity"]: r for r in report["incidents"]}  # type: ignore[union-attr]
    assert (incidents["sev2"]["opened"], incidents["sev2"]["closed"]) == (12, 12)
    ttr = sorted(truth.sev2_ttr)
    assert incidents["sev2"]["mttr_median"] == pytest.approx((ttr[5] + ttr[6]) / 2, abs=1e-3)
    # Acknowledged by the label, an assignee's reaction (sev2) or comment (sev1).
    assert incidents["sev2"]["mtta_median"] == pytest.approx(1.0)
    assert incidents["sev1"]["mtta_median"] == pytest.approx(0.2)

    # One PR, from one commit of the edited policies and the re-rendered document.
    assert len(history.opened) == 1 and len(history.commits) == 1
    files = history.committed_files()
    assert sorted(files) == [
        "docs/OPERATING_MODEL.md",
        "policies/incidents.yaml",
        "policies/release.yaml",
        "policies/reviews.yaml",
        "policies/stale.yaml",
        "policies/triage.yaml",
    ]
    tree = tmp_path / "repo"
    shutil.copytree(ROOT / "policies", tree / "policies")
    shutil.copytree(ROOT / "docs", tree / "docs")
    for path, text in files.items():
        (tree / path).write_text(text, encoding="utf-8")
    edited = load_policy_dir(tree / "policies")
    assert edited.triage.sla_hours["sev2"] == sla
    assert edited.stale.rules[0].days_until_stale == 45
    assert edited.release.every_weeks == 2
    assert edited.reviews.escalate_after_hours == 24
    assert edited.incidents.status_updates.every_hours == {"sev1": 1, "sev2": 2}
    assert check_docs(edited, tree).ok
    # Comments and layout kept: only the edited lines differ.
    before = (ROOT / "policies/stale.yaml").read_text().splitlines()
    after = files["policies/stale.yaml"].splitlines()
    assert [(a, b) for a, b in zip(before, after, strict=True) if a != b] == [
        ("    days_until_stale: 30", "    days_until_stale: 45")
    ]
    before = (ROOT / "policies/incidents.yaml").read_text().splitlines()
    after = files["policies/incidents.yaml"].splitlines()
    assert [(a, b) for a, b in zip(before, after, strict=True) if a != b] == [
        ("  every_hours: {sev1: 1, sev2: 4}", "  every_hours: {sev1: 1, sev2: 2}")
    ]
    pull = history.items[history.opened[0]]
    assert pull.labels == ["ops-retro"]
    assert f"{sla}" in pull.body and "days_until_stale" in pull.body
    assert "escalate_after_hours" in pull.body and "status_updates.every_hours.sev2" in pull.body

    first = len(github.calls)
    queries = [c for c in github.calls if c.request.url.endswith("/graphql")]
    reads = [c for c in github.calls if c.request.method == "GET"] + queries
    writes = first - len(reads)
    assert writes == 5  # tree, commit, ref, PR, its label
    timelines = sum(1 for c in reads if c.request.url.split("?")[0].endswith("/timeline"))
    lists = sum(1 for c in reads if "/issues?" in c.request.url)
    history_queries = sum(1 for q in history.queries if "timelineItems" in q)
    files_queries = sum(1 for q in history.queries if "changedFiles" in q)
    # The list, the needed timelines (HISTORY_CHUNK items a GraphQL query: none has more
    # than a page; the acknowledging reactions in the same queries), the reviewed PRs' files
    # (50 PRs a GraphQL query), and the repository, branch, five policy files, the document
    # and the PR lookup.
    lower = lists + math.ceil(len(truth.needed) / HISTORY_CHUNK)
    lower += math.ceil(len(truth.reviewed) / 50) + 9
    asked = sorted(
        int(n)
        for q in history.queries
        if "timelineItems" in q
        for n in re.findall(r"\bn(\d+): ", q)
    )
    figures = (
        f"requests: {len(reads)} reads ({lists} list pages, {history_queries} GraphQL queries "
        f"for {len(asked)} timelines, {files_queries} for PR files), {writes} writes; "
        f"lower bound {lower} reads"
    )
    assert timelines == 0  # no REST timeline: GraphQL gives what the figures read
    assert not any("/reactions" in c.request.url for c in reads)
    assert history_queries == math.ceil(len(asked) / HISTORY_CHUNK)
    assert asked == sorted(truth.needed | truth.warned)  # each once, nothing else
    assert files_queries == math.ceil(len(truth.reviewed) / 50)
    assert len(queries) == history_queries + files_queries
    assert not any(c.request.url.split("?")[0].endswith("/files") for c in reads)
    assert len(reads) == lower

    # A second run over the same data finds the PR saying so already: no write.
    code, again = run(capsys, "--open-pr")
    assert code == 0
    assert again["actions"] == []
    assert len(github.writes()) == writes
    with capsys.disabled():
        print(figures)


def test_pr_paths_past_the_graphql_page_come_from_the_files_api(
    github: GitHubMock, env: None
) -> None:
    history = YearHistory(load_policy_dir(ROOT / "policies"))
    big, small = [i for i in history.items.values() if i.pull and i.files][:2]
    big.files = [f"prompts/p{n:03}.md" for n in range(101)]
    issue = next(i for i in history.items.values() if not i.pull)
    history.install(github)
    repo = make_github(Settings(repo="o/r", token="t", pacing=False)).get_repo("o/r")
    paths = read_pr_files(repo, (big.number, small.number, issue.number))
    # An issue is no PR: left out. The big PR's paths come from every page of the REST list.
    assert sorted(paths) == sorted([big.number, small.number])
    assert [f.filename for f in paths[big.number]] == big.files
    assert [f.filename for f in paths[small.number]] == small.files
    urls = [c.request.url.split("?")[0] for c in github.calls]
    assert sum(u.endswith("/graphql") for u in urls) == 1
    assert sum(u.endswith(f"/pulls/{big.number}/files") for u in urls) == 2  # 100 a page


def rest_history(timeline: list[dict[str, Any]]) -> History:
    """What the REST timeline of an item gave the figures (the collector's old per-item
    read): every entry an event, `commented` ones comments, `reviewed` ones reviews."""
    events, comments, reviews = [], [], []
    for entry in timeline:
        if entry["event"] == "commented":
            comment = comment_from_json(entry)
            comments.append(comment)
            events.append(
                IssueEvent(
                    event="commented",
                    actor=comment.author,
                    actor_is_bot=comment.author_is_bot,
                    created_at=comment.created_at,
                )
            )
        elif entry["event"] == "reviewed":
            review = review_from_json({**entry, "state": entry["state"].upper()})
            reviews.append(review)
            assert review.submitted_at is not None
            events.append(
                IssueEvent(
                    event="reviewed",
                    actor=review.user,
                    actor_is_bot=review.user.endswith("[bot]"),
                    created_at=review.submitted_at,
                )
            )
        else:
            events.append(requested_event_from_json(entry))
    return History(tuple(events), tuple(comments), tuple(reviews))


def _repo() -> Repository:
    return make_github(Settings(repo="o/r", token="t", pacing=False)).get_repo("o/r")


def test_graphql_histories_are_what_the_rest_timelines_gave(github: GitHubMock) -> None:
    history = YearHistory(load_policy_dir(ROOT / "policies"))
    history.install(github)
    numbers = sorted(history.truth.needed | history.truth.warned)
    reacted = history.truth.reacted
    found = read_histories(_repo(), [(n, history.items[n].pull) for n in numbers], reacted)
    assert sorted(found) == numbers
    for number, got in found.items():
        item = history.items[number]
        assert replace(got, reactions=None) == rest_history(item.timeline), number
        if number in reacted:
            rest = [reaction_from_json(r) for r in item.reactions]
            assert got.reactions == tuple(rest) and rest
        else:
            assert got.reactions is None


def test_an_item_with_more_than_a_page_is_read_on_alone(github: GitHubMock) -> None:
    history = YearHistory(load_policy_dir(ROOT / "policies"))
    pull = next(i for i in history.items.values() if i.pull and i.files)
    issue = next(i for i in history.items.values() if not i.pull)
    start = pull.created
    for index in range(120):  # with the PR's own: three pages of 100
        at = start + dt.timedelta(minutes=index)
        history.event(pull, "labeled" if index % 2 else "unlabeled", "maya-chen", at, label="wip")
        history.comment(pull, "raj-iyer", at, f"note {index}")
    history.event(pull, "ready_for_review", "tomas-silva", start + dt.timedelta(hours=3))
    history.event(pull, "assigned", BOT, start + dt.timedelta(hours=4), assignee="maya-chen")
    history.event(
        pull, "unassigned", "maya-chen", start + dt.timedelta(hours=5), assignee="maya-chen"
    )
    team = {"slug": "prompt-owners", "name": "Prompt owners"}
    history.event(
        pull, "review_requested", "tomas-silva", start + dt.timedelta(hours=6), requested_team=team
    )
    history.event(
        pull,
        "review_request_removed",
        "tomas-silva",
        start + dt.timedelta(hours=7),
        requested_reviewer="raj-iyer",
    )
    history.review(pull, "dependabot[bot]", start + dt.timedelta(hours=8))
    others = [
        i.number for i in history.items.values() if i.number not in (pull.number, issue.number)
    ]
    wanted = [
        (pull.number, True),
        (issue.number, False),
        *((n, history.items[n].pull) for n in others[:58]),
    ]
    history.install(github)
    found = read_histories(_repo(), wanted)
    assert found[pull.number] == rest_history(pull.timeline)
    assert found[issue.number] == rest_history(issue.timeline)
    assert len(pull.timeline) > 2 * HISTORY_PAGE
    # 60 items: 50, then the other 10 with the PR's second page, then its third alone.
    aliases = [re.findall(r"\bn(\d+): ", q) for q in history.queries]
    assert [len(a) for a in aliases] == [50, 11, 1]
    assert aliases[2] == [str(pull.number)]
    got = found[pull.number].events
    assert ("review_requested", None, "prompt-owners") in {
        (e.event, e.requested_reviewer, e.requested_team) for e in got
    }
    assert found[pull.number].reviews[-1].user == "dependabot[bot]"


def test_an_item_gone_since_the_list_is_left_out(github: GitHubMock) -> None:
    history = YearHistory(load_policy_dir(ROOT / "policies"))
    history.install(github)
    kept = next(iter(history.items.values()))
    found = read_histories(_repo(), [(kept.number, kept.pull), (99_999, False)])
    assert sorted(found) == [kept.number]


@pytest.mark.parametrize(
    ("answer", "line"),
    [
        (
            {
                "data": {"repository": None},
                "errors": [{"type": "FORBIDDEN", "message": "Resource not accessible"}],
            },
            "error: unexpected answer from GitHub: the GraphQL answer for timelines: "
            "Resource not accessible",
        ),
        (
            {"data": {"repository": {"n1": {"timelineItems": {"nodes": []}}}}},
            "error: unexpected answer from GitHub: the timeline answer for #1 lacks 'pageInfo'",
        ),
        (
            {
                "data": {
                    "repository": {
                        "n1": {
                            "timelineItems": {
                                "pageInfo": {"hasNextPage": False, "endCursor": None},
                                "nodes": [{"__typename": "LabeledEvent", "label": {"name": "x"}}],
                            }
                        }
                    }
                }
            },
            "error: unexpected answer from GitHub: a timeline node of #1 lacks 'createdAt'",
        ),
    ],
    ids=["errors", "no-page-info", "no-time"],
)
def test_a_bad_timeline_answer_is_one_line_and_exit_2(
    github: GitHubMock,
    capsys: pytest.CaptureFixture[str],
    env: None,
    answer: dict[str, Any],
    line: str,
) -> None:
    history = YearHistory(load_policy_dir(ROOT / "policies"))
    serve = history._graphql

    def bad(query: str, variables: Any) -> Any:
        if "timelineItems" in query:
            return 200, {}, json.dumps(answer)
        return serve(query, variables)

    history._graphql = bad  # type: ignore[method-assign]
    history.install(github)
    assert cli.main([*ARGS, "--policies", str(ROOT / "policies")]) == 2
    err = capsys.readouterr().err
    assert [x for x in err.splitlines() if not x.startswith("INFO ")] == [line]  # no traceback
    assert github.writes() == []


def _enabled(policy_copy: Path) -> Path:
    path = policy_copy / "retro.yaml"
    text = path.read_text()
    assert "enabled: true" in text
    # A quarter of the year holds enough cases for the thresholds (min_cases) to act.
    path.write_text(text.replace("schedule: monthly", "schedule: quarterly"))
    return policy_copy


def test_scheduled_sweep_runs_only_when_its_period_is_due(
    github: GitHubMock,
    capsys: pytest.CaptureFixture[str],
    env: None,
    policy_copy: Path,
) -> None:
    history = YearHistory(load_policy_dir(ROOT / "policies"))
    history.install(github)
    policies = str(_enabled(policy_copy))
    base = ["apply", "retro", "--repo", "o/r", "--policies", policies, "--format", "json"]
    # Outside the window after the last quarter: nothing read, nothing written.
    assert cli.main([*base, "--at", "2026-12-20T06:00:00Z"]) == 0
    assert "not due" in capsys.readouterr().out
    assert len(github.calls) == 0
    # Two days after the year ended: the retrospective over its last quarter opens its PR.
    assert cli.main([*base, "--at", "2027-01-02T06:00:00Z"]) == 0
    out = json.loads(capsys.readouterr().out)
    _validate(out, "plans")
    kinds = [a["type"] for p in out["plans"] for a in p["actions"]]
    assert kinds == ["CommitFiles", "UpsertPullRequest"], out["notes"]
    assert len(history.opened) == 1
    pull = history.items[history.opened[0]]
    assert pull.title.startswith("Operating-model retrospective 2026-Q4:")
    # The next scheduled run in the window writes nothing.
    writes = len(github.writes())
    assert cli.main([*base, "--at", "2027-01-03T06:00:00Z"]) == 0
    capsys.readouterr()
    assert len(github.writes()) == writes


def test_text_report_and_dry_run_write_nothing(
    github: GitHubMock, capsys: pytest.CaptureFixture[str], env: None
) -> None:
    history = YearHistory(load_policy_dir(ROOT / "policies"))
    history.install(github)
    policies = str(ROOT / "policies")
    assert cli.main([*ARGS, "--policies", policies]) == 0
    out = capsys.readouterr().out
    assert "# Retrospective 2026-01-01..2027-01-01" in out
    assert "| stale | rule `pull-requests` | false-close rate 20 %" in out
    assert "| pull-requests | 30 days | 40 | 8 | 20 % |" in out
    assert not any("/contents/" in c.request.url for c in github.calls)  # no PR: no files read
    assert cli.main([*ARGS, "--policies", policies, "--open-pr", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert (
        "dry-run: commit policies/incidents.yaml, policies/release.yaml, policies/reviews.yaml, "
        "policies/stale.yaml, policies/triage.yaml" in out
    )
    assert "dry-run: open PR dataface-ops/retro -> main" in out
    assert github.writes() == []


@pytest.mark.parametrize("fault", [WRITE_FAULTS[0], WRITE_FAULTS[1], WRITE_FAULTS[3]], ids=str)
@pytest.mark.parametrize("index", range(5), ids=["tree", "commit", "ref", "pull", "label"])
def test_a_failed_write_is_resumed_without_a_second_pr(
    fault: Fault,
    index: int,
    capsys: pytest.CaptureFixture[str],
    env: None,
    policy_copy: Path,
) -> None:
    mock = FaultyGitHub()
    mock.start()
    try:
        history = YearHistory(load_policy_dir(ROOT / "policies"))
        history.install(mock)
        base = ["apply", "retro", "--repo", "o/r", "--policies", str(_enabled(policy_copy))]
        mock.arm(fault, writes=True, index=index)
        cli.main([*base, "--at", "2027-01-02T06:00:00Z"])
        assert mock.disarm() is not None
        # The next scheduled run in the window finishes the job, and the one after is quiet.
        assert cli.main([*base, "--at", "2027-01-02T07:00:00Z"]) == 0
        opened = [
            i for i in history.items.values() if i.pull and i.head_ref == "dataface-ops/retro"
        ]
        assert len(opened) == 1 and opened[0].labels == ["ops-retro"]
        assert "2026-Q4" in opened[0].title
        assert history.refs["dataface-ops/retro"] in {
            hashlib.sha1(json.dumps(c, sort_keys=True).encode()).hexdigest()
            for c in history.commits
        }
        mock.writes_sent = 0
        assert cli.main([*base, "--at", "2027-01-02T08:00:00Z"]) == 0
        assert mock.writes_sent == 0
        capsys.readouterr()
        assert mock.problems() == []
    finally:
        mock.stop(allow_assert=False)
        mock.reset()


def test_a_graphql_reaction_reads_as_the_rest_list_gives_it() -> None:
    person = reaction_entry(
        {
            "databaseId": 7,
            "content": "THUMBS_UP",
            "createdAt": "2026-03-01T10:00:00Z",
            "user": {"login": "raj-iyer"},
        }
    )
    assert (person.id, person.user, person.content, person.user_is_bot) == (
        7,
        "raj-iyer",
        "+1",
        False,
    )
    # GraphQL names a reaction's User only: a bot's has none, and acknowledges nothing.
    bot = reaction_entry(
        {"databaseId": 8, "content": "EYES", "createdAt": "2026-03-01T10:00:00Z", "user": None}
    )
    assert (bot.user, bot.content) == ("ghost", "eyes")

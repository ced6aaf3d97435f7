"""The executor against GitHub's REST contract: retries, identity, dry-run, budget, failures."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from github.Repository import Repository

from automation.actions import (
    AddLabels,
    EditIssue,
    Plan,
    UpsertComment,
    UpsertIssue,
    UpsertPullRequest,
)
from automation.execute import execute
from automation.github import make_github
from automation.markers import marker
from automation.settings import Settings
from tests.github_api import checker
from tests.github_api.fixtures import GHES_URL, GitHubMock

REPO = "dataface/dataface"
MARK = marker("triage", "issue-7")


def _repo(base_url: str = checker.API_URL) -> Repository:
    settings = Settings(repo=REPO, token="test-token", api_url=base_url, pacing=False)
    return make_github(settings).get_repo(REPO)


def _comment_plan(number: int = 7) -> Plan:
    return Plan(
        "triage",
        (
            UpsertComment(
                reason="triage comment",
                number=number,
                marker=MARK,
                body=f"{MARK}\nAssigned to the on-call.",
            ),
        ),
    )


def test_comment_post_answered_502_after_being_applied_leaves_one_comment(
    github: GitHubMock,
) -> None:
    """GitHub applied the POST but answered 502: the executor finds it instead of resending."""
    applied: list[str] = []

    def create(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        applied.append(json.loads(request.body or b"{}")["body"])
        return 502, {}, json.dumps({"message": "Bad Gateway"})

    def listing(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        comments = [
            checker.comment_json(9000 + i, body=body, issue_number=7, repo=REPO)
            for i, body in enumerate(applied)
        ]
        for made in comments:  # GitHub stamps what it applied with its own clock: now
            made["created_at"] = made["updated_at"] = (
                f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
            )
        return 200, {}, json.dumps(comments)

    github.add_callback("POST", f"/repos/{REPO}/issues/7/comments", callback=create)
    github.add_callback("GET", f"/repos/{REPO}/issues/7/comments", callback=listing)

    report = execute([_comment_plan()], _repo())

    assert len(applied) == 1, "the comment must not be posted twice"
    assert github.count("POST") == 1
    assert [o.status for o in report.outcomes] == ["applied"]
    assert "found by identity" in report.outcomes[0].detail


def test_comment_post_502_not_applied_is_resent_once(github: GitHubMock) -> None:
    """A 502 where GitHub did not apply the POST: not found by marker, so it is sent again."""
    attempts: list[int] = []

    def create(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        attempts.append(1)
        if len(attempts) == 1:
            return 502, {}, json.dumps({"message": "Bad Gateway"})
        body = json.loads(request.body or b"{}")["body"]
        return 201, {}, json.dumps(checker.comment_json(1, body=body, repo=REPO))

    github.add_callback("POST", f"/repos/{REPO}/issues/7/comments", callback=create)
    github.get(f"/repos/{REPO}/issues/7/comments", json=[])

    report = execute([_comment_plan()], _repo())

    assert len(attempts) == 2
    assert report.outcomes[0].status == "applied"
    assert "resent" in report.outcomes[0].detail


def test_dry_run_sends_no_request_at_all(github: GitHubMock) -> None:
    plan = Plan(
        "triage",
        (
            *_comment_plan().actions,
            EditIssue(reason="route", number=7, labels=("eval-regression",), assignees=("a",)),
        ),
    )
    report = execute([plan], _repo(), dry_run=True)
    assert len(github.calls) == 0
    assert [o.status for o in report.outcomes] == ["dry-run", "dry-run"]


def test_max_writes_stops_cleanly_and_reports_what_it_skipped(github: GitHubMock) -> None:
    for n in (1, 2, 3):
        github.post(
            f"/repos/{REPO}/issues/{n}/labels",
            json=[checker.label_json("stale", repo=REPO)],
        )
    plan = Plan(
        "stale", tuple(AddLabels(reason="inactive", number=n, labels=("stale",)) for n in (1, 2, 3))
    )
    report = execute([plan], _repo(), max_writes=2)
    assert github.count("POST") == 2
    assert [o.status for o in report.outcomes] == ["applied", "applied", "skipped"]
    assert report.outcomes[2].detail == "write budget of 2 reached"


def test_one_failure_does_not_stop_the_rest(github: GitHubMock) -> None:
    github.post(f"/repos/{REPO}/issues/1/labels", status=422, json={"message": "Validation Failed"})
    github.post(f"/repos/{REPO}/issues/2/labels", json=[checker.label_json("x", repo=REPO)])
    plan = Plan("t", tuple(AddLabels(reason="r", number=n, labels=("x",)) for n in (1, 2)))
    report = execute([plan], _repo())
    assert [o.status for o in report.outcomes] == ["failed", "applied"]
    assert "422" in report.outcomes[0].detail and "Validation Failed" in report.outcomes[0].detail


def test_exhausted_rate_limit_stops_the_run_and_reports_the_rest(github: GitHubMock) -> None:
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4102444800"}
    github.post(
        f"/repos/{REPO}/issues/1/labels",
        status=403,
        headers=headers,
        json={"message": "API rate limit exceeded for installation ID 1."},
    )
    plan = Plan("t", tuple(AddLabels(reason="r", number=n, labels=("x",)) for n in (1, 2, 3)))
    report = execute([plan], _repo())
    assert github.count("POST") == 1
    assert [o.status for o in report.outcomes] == ["failed", "skipped", "skipped"]
    assert report.stopped and "rate limit" in report.stopped


def test_bad_credentials_stop_the_run(github: GitHubMock) -> None:
    github.patch(f"/repos/{REPO}/issues/1", status=401, json={"message": "Bad credentials"})
    plan = Plan(
        "t",
        (
            EditIssue(reason="r", number=1, labels=("a",)),
            EditIssue(reason="r", number=2, labels=("a",)),
        ),
    )
    report = execute([plan], _repo())
    assert github.count() == 1
    assert [o.status for o in report.outcomes] == ["failed", "skipped"]
    assert report.stopped == "GitHub rejected the credentials"


def test_edit_issue_sets_labels_and_assignees_in_one_patch(github: GitHubMock) -> None:
    github.patch(f"/repos/{REPO}/issues/7", json=checker.issue_json(7, repo=REPO))
    plan = Plan(
        "triage",
        (
            EditIssue(
                reason="route",
                number=7,
                labels=("eval-regression", "severity:sev2"),
                assignees=("maya-chen",),
            ),
        ),
    )
    execute([plan], _repo())
    assert github.json_bodies("PATCH") == [
        {"labels": ["eval-regression", "severity:sev2"], "assignees": ["maya-chen"]}
    ]


def test_enterprise_server_base_url_is_used_for_every_call(github: GitHubMock) -> None:
    github.patch(
        f"{GHES_URL}/repos/{REPO}/issues/7",
        json=checker.issue_json(7, repo=REPO, base_url=GHES_URL),
    )
    github.patch(
        f"{GHES_URL}/repos/{REPO}/issues/comments/55",
        json=checker.comment_json(55, repo=REPO, base_url=GHES_URL),
    )
    plan = Plan(
        "triage",
        (
            EditIssue(reason="r", number=7, state="closed", state_reason="not_planned"),
            UpsertComment(reason="r", number=7, marker=MARK, body=MARK, comment_id=55),
        ),
    )
    report = execute([plan], _repo(GHES_URL))
    assert [o.status for o in report.outcomes] == ["applied", "applied"]
    assert [c.request.url for c in github.calls] == [
        f"{GHES_URL}/repos/{REPO}/issues/7",
        f"{GHES_URL}/repos/{REPO}/issues/comments/55",
    ]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_idempotent_patch_is_retried_on_5xx(github: GitHubMock, status: int) -> None:
    answers: list[int] = [status]

    def edit(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        if answers:
            return answers.pop(), {}, json.dumps({"message": "oops"})
        return 200, {}, json.dumps(checker.issue_json(7, repo=REPO))

    github.add_callback("PATCH", f"/repos/{REPO}/issues/7", callback=edit)
    report = execute([Plan("t", (EditIssue(reason="r", number=7, labels=("a",)),))], _repo())
    assert github.count("PATCH") == 2
    assert report.outcomes[0].status == "applied"


def test_token_never_appears_in_settings_repr() -> None:
    settings = Settings(repo=REPO, token="ghs_secret_value", app_private_key="-----BEGIN")
    for shown in (repr(settings), str(settings), f"{settings!r}"):
        assert "ghs_secret_value" not in shown
        assert "BEGIN" not in shown
        assert f"repo='{REPO}'" in shown  # the rest is still shown
    # Hidden from the repr only: the values themselves are kept for use.
    assert (settings.token, settings.app_private_key) == ("ghs_secret_value", "-----BEGIN")


def _unused(_: Any) -> None:  # keep the import list honest for type checkers
    return None


def test_secondary_rate_limit_honours_retry_after_then_succeeds(github: GitHubMock) -> None:
    """A 403 secondary limit with Retry-After is waited out and the idempotent write retried."""
    answers = [
        (403, {"Retry-After": "1"}, {"message": "You have exceeded a secondary rate limit."})
    ]

    def edit(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        if answers:
            status, headers, body = answers.pop()
            return status, headers, json.dumps(body)
        return 200, {}, json.dumps(checker.issue_json(7, repo=REPO))

    github.add_callback("PATCH", f"/repos/{REPO}/issues/7", callback=edit)
    report = execute([Plan("t", (EditIssue(reason="r", number=7, labels=("a",)),))], _repo())
    assert github.count("PATCH") == 2
    assert report.outcomes[0].status == "applied"


def test_post_is_never_resent_blindly_by_the_http_layer(github: GitHubMock) -> None:
    """urllib3 may retry PATCH on a 5xx, but a POST 5xx reaches the executor's identity check."""
    github.post(f"/repos/{REPO}/issues/7/labels", status=502, json={"message": "Bad Gateway"})
    report = execute([Plan("t", (AddLabels(reason="r", number=7, labels=("a",)),))], _repo())
    assert github.count("POST") == 1
    assert report.outcomes[0].status == "failed"


ONCALL_MARK = marker("oncall", "handoff")


def _old_closed_oncall_issue() -> dict[str, Any]:
    # The previous on-call issue, closed by a person: same marker, created long ago.
    return checker.issue_json(
        3,
        repo=REPO,
        state="closed",
        body=f"{ONCALL_MARK}\nold roster",
        labels=["on-call"],
        created_at="2026-01-05T10:00:00Z",
        updated_at=_utc_now(),
    )


def _utc_now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _issue_plan() -> Plan:
    return Plan(
        "oncall",
        (
            UpsertIssue(
                reason="no on-call issue yet",
                marker=ONCALL_MARK,
                title="On call: @a",
                body=f"{ONCALL_MARK}\nroster",
                labels=("on-call",),
            ),
        ),
    )


@pytest.mark.parametrize("applied", [True, False])
def test_issue_post_502_is_checked_against_issues_created_now_not_by_label(
    github: GitHubMock, applied: bool
) -> None:
    """The identity check finds the issue the POST made even without its labels (GitHub drops
    them silently when the token may not set them), and never takes an older issue with the
    same marker for it."""
    created: list[dict[str, Any]] = []

    def create(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        sent = json.loads(request.body or b"{}")
        made = checker.issue_json(
            50 + len(created),
            repo=REPO,
            title=sent["title"],
            body=sent["body"],
            labels=[],  # dropped
            created_at=_utc_now(),
            updated_at=_utc_now(),
        )
        if applied or created:
            created.append(made)
            return 201, {}, json.dumps(made)
        created.append({})  # the first attempt failed before GitHub applied it
        return 502, {}, json.dumps({"message": "Bad Gateway"})

    def bad_gateway_after_applying(
        request: requests.PreparedRequest,
    ) -> tuple[int, dict[str, str], str]:
        create(request)
        return 502, {}, json.dumps({"message": "Bad Gateway"})

    def listing(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        # As GitHub does: a `labels` filter lists only issues carrying every one of them.
        query = parse_qs(urlsplit(request.url or "").query)
        wanted = set(",".join(query.get("labels", [])).split(",")) - {""}
        items = [c for c in reversed(created) if c]
        if not applied:  # an older issue with the marker must not pass for the new one
            items.append(_old_closed_oncall_issue())
        items = [i for i in items if wanted <= {label["name"] for label in i["labels"]}]
        return 200, {}, json.dumps(items)

    github.add_callback(
        "POST", f"/repos/{REPO}/issues", callback=bad_gateway_after_applying if applied else create
    )
    github.add_callback("GET", f"/repos/{REPO}/issues", callback=listing)

    report = execute([_issue_plan()], _repo())

    assert report.outcomes[0].status == "applied"
    assert len([c for c in created if c]) == 1, "exactly one new issue"
    if applied:
        assert github.count("POST") == 1
        assert "found by identity" in report.outcomes[0].detail
    else:
        assert github.count("POST") == 2
        assert "resent" in report.outcomes[0].detail


def test_opening_a_pr_whose_head_already_has_one_open_uses_it_not_a_second(
    github: GitHubMock,
) -> None:
    """GitHub answers 422 when the head already has an open PR into that base (a concurrent
    run, or a PR the snapshot did not list): the executor takes that PR, never fails forever."""
    head = "release-train/2026-11-24"
    github.post(
        f"/repos/{REPO}/pulls",
        status=422,
        json={
            "message": "Validation Failed",
            "errors": [
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": f"A pull request already exists for dataface:{head}.",
                }
            ],
        },
    )
    pull = checker.pull_json(340, repo=REPO, head_ref=head, base_ref="stable", state="open")
    github.get(f"/repos/{REPO}/pulls", json=[pull])
    github.post(f"/repos/{REPO}/issues/340/labels", json=[checker.label_json("release", repo=REPO)])
    action = UpsertPullRequest(
        reason="r", head=head, base="stable", title="t", body="b", labels=("release",)
    )

    report = execute([Plan("release", (action,))], _repo())

    assert [o.status for o in report.outcomes] == ["applied"]
    assert "PR #340" in report.outcomes[0].detail
    listed = [c.request.url or "" for c in github.calls if c.request.method == "GET"]
    assert len(listed) == 1 and f"head=dataface%3A{head.replace('/', '%2F')}" in listed[0]
    assert "base=stable" in listed[0]
    assert github.count("POST", "/issues/340/labels") == 1
    assert github.count("PATCH") == 0  # people's text in that PR is left for the next run


def test_pygithub_log_lines_go_through_our_handler_once(
    github: GitHubMock, capsys: pytest.CaptureFixture[str]
) -> None:
    """PyGithub adds its own console handler at import, which printed its retry notices a
    second time, bare; only the root handler (with the context) may print them."""
    import logging

    from automation.logs import configure

    assert not [h for h in logging.getLogger("github").handlers if type(h) is logging.StreamHandler]
    configure()
    try:
        github.patch(
            f"/repos/{REPO}/issues/7",
            status=403,
            headers={"Retry-After": "0"},
            json={"message": "You have exceeded a secondary rate limit."},
        )
        github.patch(f"/repos/{REPO}/issues/7", json=checker.issue_json(7, repo=REPO))
        report = execute([Plan("t", (EditIssue(reason="r", number=7, labels=("x",)),))], _repo())
        assert [o.status for o in report.outcomes] == ["applied"]
        lines = [line for line in capsys.readouterr().err.splitlines() if "Retrying" in line]
        assert lines == ["INFO github.GithubRetry [feature=t]: Retrying after 0 seconds"]
    finally:
        logging.getLogger().handlers[:] = []


@pytest.mark.parametrize("fast_forward", [True, False])
def test_creating_a_branch_that_exists_only_fast_forwards_it(
    github: GitHubMock, fast_forward: bool
) -> None:
    """The plan thought the branch new; it exists (a raced run, or a PR's branch with commits
    someone pushed). Moving it must not force: GitHub refuses a non-fast-forward, and the
    action fails instead of throwing those commits away."""
    from automation.actions import SetBranch

    name = "release-train/2026-11-24"
    sha = "a" * 40
    github.post(f"/repos/{REPO}/git/refs", status=422, json={"message": "Reference already exists"})
    if fast_forward:
        github.patch(
            f"/repos/{REPO}/git/refs/heads/{name}",
            json=checker.ref_json(f"refs/heads/{name}", sha, repo=REPO),
        )
    else:
        github.patch(
            f"/repos/{REPO}/git/refs/heads/{name}",
            status=422,
            json={"message": "Update is not a fast forward"},
        )
    report = execute([Plan("release", (SetBranch(reason="r", name=name, sha=sha),))], _repo())
    assert github.json_bodies("PATCH") == [{"sha": sha, "force": False}]
    assert [o.status for o in report.outcomes] == ["applied" if fast_forward else "failed"]


def test_an_ambiguous_failure_never_takes_an_older_comment_with_the_marker_for_its_own(
    github: GitHubMock,
) -> None:
    """Issue 18: after a 502, a comment with the same marker from before the attempt (an
    earlier warning cycle's) is not the one this attempt made: the POST is sent again."""
    attempts: list[int] = []

    def create(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        attempts.append(1)
        if len(attempts) == 1:
            return 502, {}, json.dumps({"message": "Bad Gateway"})
        body = json.loads(request.body or b"{}")["body"]
        return 201, {}, json.dumps(checker.comment_json(2, body=body, repo=REPO))

    old = checker.comment_json(1, body=f"{MARK}\nan earlier cycle", issue_number=7, repo=REPO)
    old["created_at"] = old["updated_at"] = "2026-01-05T10:00:00Z"
    github.add_callback("POST", f"/repos/{REPO}/issues/7/comments", callback=create)
    github.get(f"/repos/{REPO}/issues/7/comments", json=[old])

    report = execute([_comment_plan()], _repo())

    assert len(attempts) == 2
    assert report.outcomes[0].status == "applied"
    assert "resent" in report.outcomes[0].detail

"""The contract checker accepts what GitHub documents and rejects drift."""

from __future__ import annotations

import json
import warnings

import pytest
from github import Auth, Github
from github.Repository import Repository

from tests.github_api import checker
from tests.github_api.fixtures import GHES_URL, GitHubMock, UndocumentedEndpoint
from tests.github_api.webhooks import webhook_payload

API = "https://api.github.com"
ISSUE = "/repos/o/r/issues/5"


def _repo(base_url: str) -> Repository:
    with warnings.catch_warnings():  # get_repo(lazy=...) is deprecated but still supported
        warnings.simplefilter("ignore", DeprecationWarning)
        gh = Github(auth=Auth.Token("x"), base_url=base_url, lazy=True)
        return gh.get_repo("o/r", lazy=True)


def _mock_issue_flow(mock: GitHubMock, base: str) -> None:
    kw = {"repo": "o/r", "base_url": base}
    mock.post(
        f"{base}{ISSUE}/comments",
        json=checker.comment_json(9, body="hi", issue_number=5, **kw),
        status=201,
    )
    mock.patch(
        f"{base}{ISSUE}",
        json=checker.issue_json(5, labels=["bug"], assignees=["alice"], **kw),
    )
    mock.get(f"{base}/repos/o/r/pulls/1/files", json=[checker.pr_file_json("src/a.py")])


@pytest.mark.parametrize("base", [API, GHES_URL])
def test_pygithub_calls_against_example_mocks_pass(base: str) -> None:
    mock = GitHubMock(base)
    with mock:
        _mock_issue_flow(mock, base)
        repo = _repo(base)
        issue = repo.get_issue(5)
        comment = issue.create_comment("hi")
        issue.edit(labels=["bug"], assignees=["alice"])
        files = [f.filename for f in repo.get_pull(1).get_files()]
        problems = mock.problems()
        assert mock.count() == 3
        assert mock.count("PATCH", path_contains="/issues/5") == 1
        assert [c.request.method for c in mock.writes()] == ["POST", "PATCH"]
        assert mock.json_bodies("PATCH") == [{"labels": ["bug"], "assignees": ["alice"]}]
    assert problems == []
    assert comment.id == 9
    assert [label.name for label in issue.labels] == ["bug"]
    assert files == ["src/a.py"]


def test_fixture_works_end_to_end(github: GitHubMock) -> None:
    github.get("/repos/o/r/issues/5", json=checker.issue_json(5, title="Flaky", repo="o/r"))
    github.post(f"{API}{ISSUE}/labels", json=[checker.label_json("bug", repo="o/r")])
    issue = _repo(API).get_issue(5)
    assert issue.title == "Flaky"
    issue.add_to_labels("bug")  # PyGithub posts a bare array, allowed by the spec's prose
    assert github.count("POST") == 1


def test_undocumented_path_fails_registration() -> None:
    with GitHubMock() as mock, pytest.raises(UndocumentedEndpoint) as err:
        mock.get(f"{API}/repos/o/r/issue/5", json={})
    assert "/repos/o/r/issue/5: no vendored GitHub REST path template matches" in str(err.value)


def test_undocumented_method_fails_registration() -> None:
    problems = checker.check_registration("PUT", f"{API}{ISSUE}")
    assert problems == [
        "PUT /repos/o/r/issues/5: method not documented for "
        "/repos/{owner}/{repo}/issues/{issue_number} (vendored: GET, PATCH)"
    ]


def test_non_integer_path_parameter_does_not_match() -> None:
    problems = checker.check_registration("GET", f"{API}/repos/o/r/issues/abc")
    assert problems and "no vendored GitHub REST path template matches" in problems[0]


def test_patch_issue_with_wrong_label_type_fails() -> None:
    problems = checker.check_call(
        "PATCH", f"{API}{ISSUE}", json.dumps({"labels": "bug"}), 200, checker.issue_json(5)
    )
    assert problems == [
        "PATCH /repos/{owner}/{repo}/issues/{issue_number} (issues/update): "
        "request body field $.labels: 'bug' is not of type 'array'"
    ]


def test_undocumented_request_field_fails() -> None:
    problems = checker.check_call("PATCH", f"{API}{ISSUE}", b'{"lables": []}', 200, None)
    assert "issues/update): request body field $.lables is not documented" in problems[0]


def test_response_enum_drift_fails() -> None:
    body = checker.pull_json(1, state="bogus")
    problems = checker.check_call("GET", f"{API}/repos/o/r/pulls/1", None, 200, body)
    assert problems == [
        "GET /repos/{owner}/{repo}/pulls/{pull_number} (pulls/get): "
        "response 200 body field $.state: 'bogus' is not one of ['open', 'closed']"
    ]


def test_response_wrong_type_fails_but_partial_passes() -> None:
    url = f"{API}{ISSUE}"
    assert checker.check_call("GET", url, None, 200, {"number": 5}) == []
    problems = checker.check_call("GET", url, None, 200, {"number": "5", "locked": "no"})
    assert problems == [
        "GET /repos/{owner}/{repo}/issues/{issue_number} (issues/get): "
        "response 200 body field $.locked: 'no' is not of type 'boolean'",
        "GET /repos/{owner}/{repo}/issues/{issue_number} (issues/get): "
        "response 200 body field $.number: '5' is not of type 'integer'",
    ]


def test_undocumented_status_fails() -> None:
    problems = checker.check_call("GET", f"{API}{ISSUE}", None, 418, "")
    assert problems == [
        "GET /repos/{owner}/{repo}/issues/{issue_number} (issues/get): "
        "status 418 is not documented (documented: 200, 301, 304, 404, 410)"
    ]


def test_query_parameters_are_checked() -> None:
    ok = checker.check_registration("GET", f"{API}/repos/o/r/issues?state=open&per_page=100")
    assert ok == []
    problems = checker.check_call(
        "GET", f"{API}/repos/o/r/issues?state=bogus&colour=red", None, 200, []
    )
    assert any("query parameter 'colour' is not declared" in p for p in problems)
    assert any("query parameter 'state': 'bogus' is not one of" in p for p in problems)


@pytest.mark.parametrize(
    ("url", "template"),
    [
        ("/repos/o/r/git/ref/heads/feature/x", "/repos/{owner}/{repo}/git/ref/{ref}"),
        ("/repos/o/r/contents/docs/a b.md", "/repos/{owner}/{repo}/contents/{path}"),
        ("/repos/o/r/compare/main...feature/x", "/repos/{owner}/{repo}/compare/{basehead}"),
        ("/repos/o/r/commits/abc/check-runs", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
        ("/repos/o/r/commits/abc", "/repos/{owner}/{repo}/commits/{ref}"),
        ("/repos/o/r/releases/latest", "/repos/{owner}/{repo}/releases/latest"),
        ("/repos/o/r/issues/comments/7", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ],
)
def test_template_resolution(url: str, template: str) -> None:
    for base in (API, GHES_URL):
        matches, problems = checker.resolve(checker.api_path(base + url)[0])
        assert problems == []
        assert {m.operation.path for m in matches} == {template}


def test_unmatched_request_is_reported_at_teardown() -> None:
    mock = GitHubMock()
    with mock:
        with pytest.raises(Exception, match="Connection refused by Responses"):
            _repo(API).get_issue(5).create_comment("hi")
        problems = mock.problems()
    assert problems[0].startswith("call 0: POST https://api.github.com/repos/o/r/issues/5/comments")
    assert "no mock matched" in problems[0]


def test_every_vendored_example_validates_against_its_schema() -> None:
    checked = 0
    for op in checker.operations():
        for status, entry in op.responses.items():
            if entry.get("example") is not None:
                assert checker.check_response(op.operation_id, int(status), entry["example"]) == []
                checked += 1
    assert checked >= 45


def test_example_overrides_and_rebasing() -> None:
    issue = checker.issue_json(7, title="T", labels=["a"], repo="o/r", base_url=GHES_URL)
    assert issue["url"] == f"{GHES_URL}/repos/o/r/issues/7"
    assert issue["labels"][0]["name"] == "a"
    assert checker.example("issues/get", title="x")["title"] == "x"
    assert checker.example(("GET", "/repos/{owner}/{repo}/issues/{issue_number}"))["number"]
    first = checker.example("issues/get")
    first["title"] = "mutated"
    assert checker.example("issues/get")["title"] != "mutated"  # deep copies


def test_webhook_payloads_load() -> None:
    assert webhook_payload("issues.opened")["action"] == "opened"
    assert webhook_payload("pull_request.closed")["pull_request"]["merged"] is True
    assert webhook_payload("pull_request.closed-unmerged")["pull_request"]["merged"] is False
    assert "zen" in webhook_payload("ping")
    with pytest.raises(FileNotFoundError, match="available"):
        webhook_payload("schedule")

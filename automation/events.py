"""The event value object, built from a GitHub Actions run or from a webhook delivery.

Every payload is checked at this edge (`parse_event`): the fields a feature, the router or
the app reads must have their shape (positive numbers, OWNER/NAME, known dispatch inputs
with their types), so a malformed payload is one EventError line and nothing is written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr, ValidationError


class EventError(Exception):
    """The event payload is missing or malformed."""


# GitHub's numbers are database integers; a larger one cannot name an issue or PR.
Number = Annotated[int, Field(strict=True, gt=0, le=2**31 - 1)]
# OWNER/NAME as GitHub spells logins and repository names.
FullName = Annotated[str, Field(strict=True, pattern=r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")]
# The events whose payload must name the subject they are about (the routed ones and their
# siblings): without it the run would sweep nothing and report success.
SUBJECT_OF: dict[str, str] = {
    "issues": "issue",
    "issue_comment": "issue",
    "pull_request": "pull_request",
    "pull_request_target": "pull_request",
    "pull_request_review": "pull_request",
    "pull_request_review_comment": "pull_request",
    "pull_request_review_thread": "pull_request",
}
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no", "")


class _Part(BaseModel):
    """A part of a payload: only the fields the features read are checked; the rest pass."""

    model_config = ConfigDict(extra="allow", frozen=True)


class RepositoryRef(_Part):
    """`repository`: the repository the event is about."""

    full_name: FullName


class Account(_Part):
    """`sender`: whoever caused the event."""

    login: StrictStr
    type: StrictStr | None = None


class Subject(_Part):
    """`issue` or `pull_request`: the subject a feature re-checks."""

    number: Number


class Installation(_Part):
    """`installation`: the GitHub App installation a delivery is for."""

    id: Number


def _dry_run(value: object) -> bool:
    # Actions hands boolean dispatch inputs over as the strings "true"/"false"; a JSON
    # boolean is fine too. Anything else ("maybe", 5) must not silently mean "write".
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (*_TRUE, *_FALSE):
        return value.lower() in _TRUE
    raise ValueError("use true or false")


class DispatchInputs(_Part):
    """workflow_dispatch `inputs` the features read; other inputs of a workflow pass."""

    features: StrictStr | None = None
    dry_run: Annotated[bool, BeforeValidator(_dry_run)] = False


class Payload(_Part):
    """The fields of a payload any feature, the router or the app reads."""

    action: StrictStr | None = None
    repository: RepositoryRef | None = None
    sender: Account | None = None
    installation: Installation | None = None
    issue: Subject | None = None
    pull_request: Subject | None = None
    inputs: DispatchInputs | None = None


def _short(value: object, limit: int = 60) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _problems(exc: ValidationError) -> str:
    out = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "payload"
        if error["type"] == "missing":
            out.append(f"{where}: missing")
            continue
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] in ("model_type", "dict_type"):
            message = "must be a JSON object"
        out.append(f"{where}: {message} (got {_short(error.get('input'))})")
    return "; ".join(out)


def parse_event(name: str, payload: object, *, delivery_id: str | None = None) -> Event:
    """Check a decoded payload's shape for event `name`; raise EventError with one line."""
    if not name:
        raise EventError("the event has no name")
    if not isinstance(payload, Mapping):
        raise EventError(f"the {name} event must be a JSON object, not {_short(payload)}")
    try:
        parsed = Payload.model_validate(payload)
    except ValidationError as exc:
        raise EventError(f"the {name} event is malformed: {_problems(exc)}") from None
    missing = []
    subject = SUBJECT_OF.get(name)
    if subject is not None:
        missing = [key for key in (subject, "repository") if getattr(parsed, key) is None]
        if parsed.action is None:
            missing.append("action")
    if missing:
        listed = ", ".join(f"{key}: missing or null" for key in missing)
        raise EventError(f"the {name} event is malformed: {listed}")
    return Event(name, payload, delivery_id)


@dataclass(frozen=True)
class Event:
    """One trigger: its name, action, payload and where it came from."""

    name: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    delivery_id: str | None = None

    @property
    def action(self) -> str | None:
        """The payload's action (`opened`, `submitted`, ...), if any."""
        value = self.payload.get("action")
        return value if isinstance(value, str) else None

    @property
    def key(self) -> str:
        """`issues.opened`-style routing key, or just the name for events without an action."""
        return f"{self.name}.{self.action}" if self.action else self.name

    @property
    def repo(self) -> str | None:
        """OWNER/NAME of the repository the event is about."""
        repository = self.payload.get("repository")
        if isinstance(repository, Mapping):
            full_name = repository.get("full_name")
            return full_name if isinstance(full_name, str) else None
        return None

    @property
    def sender(self) -> str | None:
        """Login of whoever caused the event."""
        sender = self.payload.get("sender")
        if isinstance(sender, Mapping) and isinstance(sender.get("login"), str):
            return str(sender["login"])
        return None

    @property
    def sender_is_bot(self) -> bool:
        """Whether the event was caused by a bot account."""
        sender = self.payload.get("sender")
        return isinstance(sender, Mapping) and sender.get("type") == "Bot"

    @property
    def subject(self) -> Mapping[str, Any] | None:
        """The issue or pull request the event is about, as the payload carries it."""
        for key in ("pull_request", "issue"):
            value = self.payload.get(key)
            if isinstance(value, Mapping):
                return value
        return None

    @property
    def number(self) -> int | None:
        """The issue or PR number the event is about."""
        subject = self.subject
        number = subject.get("number") if subject is not None else None
        # `type is int`: True is an int to isinstance, and would name issue #1.
        return number if type(number) is int and number > 0 else None

    @property
    def serial_key(self) -> str | None:
        """What runs for this event must not overlap on (None: nothing in particular).

        A pull request event keys on the PR's head commit, not its number: the owner-approval
        check belongs to the commit, and several PRs can share one head, so their runs must
        take turns. Other events key on the issue or PR number.
        """
        repo = (self.repo or "").lower()
        subject = self.subject
        if self.name.startswith("pull_request") and subject is not None:
            head = subject.get("head")
            if isinstance(head, Mapping) and isinstance(head.get("sha"), str) and head["sha"]:
                return f"{repo}@{head['sha']}"
        number = self.number
        return f"{repo}#{number}" if number is not None else None

    @property
    def inputs(self) -> Mapping[str, Any]:
        """workflow_dispatch inputs (empty for other events)."""
        inputs = self.payload.get("inputs")
        return inputs if isinstance(inputs, Mapping) else {}


def event_from_json(name: str, body: bytes | str, *, delivery_id: str | None = None) -> Event:
    """Parse and check a payload; raise EventError on malformed JSON or an unusable shape."""
    if not name:
        raise EventError("the event has no name")
    if not body.strip():
        raise EventError(f"the {name} event is empty: there is no payload to read")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError, UnicodeDecodeError and an integer longer than
        # Python's int_max_str_digits; RecursionError, nesting deeper than the parser goes.
        raise EventError(f"the {name} event is not valid JSON: {str(exc)[:200]}") from None
    return parse_event(name, data, delivery_id=delivery_id)


def event_from_actions(env: Mapping[str, str] | None = None) -> Event:
    """Read the event GitHub Actions provides (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH)."""
    env = os.environ if env is None else env
    name = env.get("GITHUB_EVENT_NAME", "")
    path = env.get("GITHUB_EVENT_PATH", "")
    if not name:
        raise EventError("GITHUB_EVENT_NAME is not set: is this running in GitHub Actions?")
    if not path:
        # Actions always writes the event file; without one only a sweep can go on.
        return parse_event(name, {}, delivery_id=env.get("GITHUB_RUN_ID"))
    try:
        with open(path, "rb") as handle:
            body = handle.read()
    except OSError as exc:
        raise EventError(f"cannot read GITHUB_EVENT_PATH {path!r}: {exc.strerror}") from None
    return event_from_json(name, body, delivery_id=env.get("GITHUB_RUN_ID"))

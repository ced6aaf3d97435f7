"""The event value object, built from a GitHub Actions run or from a webhook delivery."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class EventError(Exception):
    """The event payload is missing or malformed."""


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
        if subject is not None and isinstance(subject.get("number"), int):
            return int(subject["number"])
        return None

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


def _require_mapping(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise EventError(f"{where}: the event payload must be a JSON object")
    subject = data.get("issue") or data.get("pull_request")
    if subject is not None and not (
        isinstance(subject, Mapping) and isinstance(subject.get("number"), int)
    ):
        raise EventError(f"{where}: the payload's issue or pull_request has no number")
    return data


def event_from_json(name: str, body: bytes | str, *, delivery_id: str | None = None) -> Event:
    """Parse a payload; raise EventError on malformed JSON or an unusable shape."""
    if not name:
        raise EventError("the event has no name")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError, UnicodeDecodeError and an integer longer than
        # Python's int_max_str_digits; RecursionError, nesting deeper than the parser goes.
        raise EventError(f"the {name} payload is not valid JSON: {str(exc)[:200]}") from None
    return Event(name, _require_mapping(data, name), delivery_id)


def event_from_actions(env: Mapping[str, str] | None = None) -> Event:
    """Read the event GitHub Actions provides (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH)."""
    env = os.environ if env is None else env
    name = env.get("GITHUB_EVENT_NAME", "")
    path = env.get("GITHUB_EVENT_PATH", "")
    if not name:
        raise EventError("GITHUB_EVENT_NAME is not set: is this running in GitHub Actions?")
    if not path:
        return Event(name, {}, env.get("GITHUB_RUN_ID"))
    try:
        with open(path, "rb") as handle:
            body = handle.read()
    except OSError as exc:
        raise EventError(f"cannot read GITHUB_EVENT_PATH {path!r}: {exc.strerror}") from None
    return event_from_json(name, body, delivery_id=env.get("GITHUB_RUN_ID"))

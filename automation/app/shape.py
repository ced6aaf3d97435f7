"""What the app requires of a payload beyond `events.parse_event`, before it is queued.

`parse_event` (run by `event_from_json` at intake) already checks what the features read:
positive subject numbers, `owner/name`, the subject of each event. A delivery also needs an
installation to act as, and GitHub's own naming rules for the repository and its branch,
since both end up in request paths.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from automation.events import Event

# GitHub's own limits: owner up to 39 characters, [A-Za-z0-9-]; repository up to 100, and
# `.`, `_` and `-` too, never `.` or `..` alone.
_OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
_NAME = r"(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}"
FULL_NAME = re.compile(rf"{_OWNER}/{_NAME}")
# GitHub's ids and numbers fit in a signed 64-bit integer.
_MAX_ID = 2**63 - 1


def _positive_int(value: Any) -> bool:
    # bool is an int in Python: `"number": true` would act on #1.
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_ID


def shape_problem(event: Event) -> str | None:
    """What is wrong with the payload's shape, or None."""
    payload = event.payload
    installation = payload.get("installation")
    if not isinstance(installation, Mapping) or not _positive_int(installation.get("id")):
        return "no installation id"
    repository = payload.get("repository")
    if not isinstance(repository, Mapping):
        return "no repository"
    full_name = repository.get("full_name")
    if not isinstance(full_name, str) or not FULL_NAME.fullmatch(full_name):
        return "repository.full_name is not owner/name"
    branch = repository.get("default_branch")
    if branch is not None and (not isinstance(branch, str) or not branch or ".." in branch):
        return "repository.default_branch is not a branch name"
    return None

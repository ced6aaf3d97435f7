"""Feature command groups added to the CLI (each registers its own subparsers).

Keep these modules light: they run on every `dataface-ops` invocation, so their heavy
imports belong inside the handlers.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

# Each feature appends its registrar here, e.g. `from automation.commands.oncall import add`.
COMMAND_GROUPS: list[Registrar] = []

from automation.commands.release import add as _add_release  # noqa: E402

COMMAND_GROUPS.append(_add_release)

from automation.commands.docs import add as _add_docs  # noqa: E402

COMMAND_GROUPS.append(_add_docs)

from automation.commands.audit import add as _add_audit  # noqa: E402

COMMAND_GROUPS.append(_add_audit)
from automation.commands.codeowners import add as _add_codeowners  # noqa: E402

COMMAND_GROUPS.append(_add_codeowners)

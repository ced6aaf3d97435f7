"""Feature command groups added to the CLI (each registers its own subparsers).

Keep these modules light: they run on every `dataface-ops` invocation, so their heavy
imports belong inside the handlers.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from automation.commands import oncall

Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

# Each feature appends its registrar here, e.g. `from automation.commands.oncall import add`.
COMMAND_GROUPS: list[Registrar] = [oncall.add]

"""Feature command groups added to the CLI (each registers its own subparsers).

Keep these modules light: they run on every `dataface-ops` invocation, so their heavy
imports belong inside the handlers.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from automation.commands import (
    audit,
    codeowners,
    docs,
    incidents,
    init,
    oncall,
    release,
    retro,
    serve,
    stale,
)

Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

# One registrar per feature command group, in the order `--help` lists them.
COMMAND_GROUPS: list[Registrar] = [
    init.add,
    oncall.add,
    incidents.add,
    stale.add,
    release.add,
    retro.add,
    codeowners.add,
    docs.add,
    audit.add,
    serve.add,
]

"""Progress of long work: every request a run sends, counted, and reported on stderr.

A 5,000-item sweep reads for minutes; without this it said nothing until the end. In a
terminal one line updates in place; elsewhere (CI logs) a log line every `every` requests
(a page of a list is one request of up to 100 items). Never on stdout, which carries the
plan or the report.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import TextIO

log = logging.getLogger("dataface_ops.progress")

# Requests between two progress lines when stderr is not a terminal.
EVERY = 10
# Seconds between two redraws of the terminal line.
REDRAW_S = 0.2


class Progress:
    """Counts reads and writes; reports them as they happen."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        every: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.every = every or EVERY
        self.clock = clock
        self.reads = 0
        self.writes = 0
        self._drawn = False
        self._last = float("-inf")
        isatty = getattr(self.stream, "isatty", None)
        self.terminal = bool(isatty and isatty())

    @property
    def text(self) -> str:
        """`N reads, M writes so far`."""
        return f"{self.reads} read(s), {self.writes} write(s) so far"

    def request(self, verb: str, url: str) -> None:
        """Count one request (a GraphQL POST is a read) and report if it is time."""
        if verb in ("GET", "HEAD") or url.endswith("/graphql"):
            self.reads += 1
        else:
            self.writes += 1
        if self.terminal:
            now = self.clock()
            if now - self._last >= REDRAW_S:
                self._last = now
                self.stream.write(f"\r\x1b[Kdataface-ops: {self.text}")
                self.stream.flush()
                self._drawn = True
        elif (self.reads + self.writes) % self.every == 0:
            log.info("%s", self.text)

    def finish(self) -> None:
        """End the terminal line, so what follows starts on a line of its own."""
        if self._drawn:
            self.stream.write(f"\r\x1b[Kdataface-ops: {self.text}\n")
            self.stream.flush()
            self._drawn = False


# The progress of this process's clients (one per run of the command line).
_ACTIVE: list[Progress] = []


def started(progress: Progress) -> Progress:
    """Remember a terminal progress so `finish_all` ends its line (only those need it, so a
    long-lived server's clients are not kept)."""
    if progress.terminal:
        _ACTIVE.append(progress)
    return progress


def finish_all() -> None:
    """End every progress line (the command line calls this when a command returns)."""
    while _ACTIVE:
        _ACTIVE.pop().finish()

"""Run one feature's scenario unfaulted, then once per fault, then clean, and compare.

A scenario builds GitHub's state on a fresh `FaultyGitHub`, runs `dataface-ops` the way a
workflow step does, and reads the state back as plain data. For each fault the harness runs
the feature with the fault armed (exit 0 only if it still converged, else exit 1 saying the
next run resumes; never a traceback), then a clean run hours or days later (no text may
depend on when it is written), and asserts that the state equals the unfaulted run's, that
nothing was created twice, and that one more run writes nothing. Every call is checked
against GitHub's REST description.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from automation import cli
from automation.policy.loader import Policies, load_policy_dir
from tests.faults.injector import Fault, FaultyGitHub

ROOT = Path(__file__).resolve().parents[2]


@cache
def shipped_policies() -> Policies:
    """The shipped policies, loaded once for the whole layer."""
    return load_policy_dir(ROOT / "policies")


class World:
    """GitHub's state for one scenario: whatever fakes it needs."""

    def set_now(self, at: dt.datetime) -> None:
        """The clock the fakes stamp comments and events with."""

    def state(self) -> Any:
        """What a person would see, as plain data (no ids, no times)."""
        raise NotImplementedError

    def duplicates(self) -> list[str]:
        """Anything the project created twice (a second comment with one marker, ...)."""
        return []


@dataclass(frozen=True)
class Scenario:
    """One feature's representative run."""

    name: str
    build: Callable[[FaultyGitHub], World]
    argv: tuple[str, ...]  # the command after `dataface-ops`, without --at
    at: dt.datetime
    later: dt.timedelta = dt.timedelta(hours=1)
    event: tuple[str, dict[str, Any]] | None = None  # (GITHUB_EVENT_NAME, payload)
    policies: Callable[[], Policies] = shipped_policies
    repo: str = "dataface/dataface"
    # A known failure, by fault name -> pytest mark (xfail, strict, with the issue it waits on).
    marks: dict[str, Any] = field(default_factory=dict)
    # Reads whose failure the feature answers by failing closed (a written verdict), so its
    # run may exit 0 short of the unfaulted state: URL fragments, each with its reason.
    fails_closed: tuple[str, ...] = ()


@dataclass
class Run:
    code: int
    out: str
    err: str
    writes: int
    reads: int


def run_once(
    scenario: Scenario,
    mock: FaultyGitHub,
    world: World,
    at: dt.datetime,
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Run:
    """One `dataface-ops` run against the world, as an Actions step would make it."""
    world.set_now(at)
    env = {
        "GITHUB_REPOSITORY": scenario.repo,
        "GITHUB_TOKEN": "t",
        "GITHUB_API_URL": "https://api.github.com",
        "DATAFACE_OPS_NO_PACING": "1",
    }
    if scenario.event is not None:
        name, payload = scenario.event
        path = tmp / "event.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        env.update(GITHUB_EVENT_NAME=name, GITHUB_EVENT_PATH=str(path))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("GITHUB_STEP_SUMMARY", "DATAFACE_OPS_DRY_RUN", "DATAFACE_OPS_MAX_WRITES"):
        monkeypatch.delenv(key, raising=False)
    # Loading and cross-checking the policies is not what this layer tests: load them once.
    monkeypatch.setattr(cli, "_policies", lambda args: scenario.policies())
    mock.reads = mock.writes_sent = 0
    # Each run is a fresh Actions step: nothing cached per commit from the run before.
    from automation.features.ownership.collect import clear_caches

    clear_caches()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([*scenario.argv, "--at", at.isoformat()])
    return Run(code, out.getvalue(), err.getvalue(), mock.writes_sent, mock.reads)


@dataclass(frozen=True)
class Baseline:
    state: Any
    writes: int
    reads: int


def _fresh(scenario: Scenario) -> tuple[FaultyGitHub, World]:
    mock = FaultyGitHub()
    mock.start()
    return mock, scenario.build(mock)


def _stop(mock: FaultyGitHub) -> list[str]:
    problems = mock.problems()
    mock.stop(allow_assert=False)
    mock.reset()
    return problems


_BASELINES: dict[str, Baseline] = {}


def baseline(scenario: Scenario, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Baseline:
    """The unfaulted run: its final state, and how many writes and reads it sends (once)."""
    if scenario.name not in _BASELINES:
        _BASELINES[scenario.name] = _baseline(scenario, tmp, monkeypatch)
    return _BASELINES[scenario.name]


def _baseline(scenario: Scenario, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Baseline:
    mock, world = _fresh(scenario)
    try:
        first = run_once(scenario, mock, world, scenario.at, tmp, monkeypatch)
        assert first.code == 0, first.out + first.err
        assert first.writes > 0, f"{scenario.name}: the unfaulted run wrote nothing"
        state = world.state()
        again = run_once(scenario, mock, world, scenario.at + scenario.later, tmp, monkeypatch)
        assert (again.code, again.writes) == (0, 0), again.out + again.err
        assert world.state() == state
    finally:
        problems = _stop(mock)
    assert problems == [], problems
    return Baseline(state, first.writes, first.reads)


def fault_run(
    scenario: Scenario,
    fault: Fault,
    *,
    writes: bool,
    index: int,
    expected: Baseline,
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """Fail one request, then run clean; return what failed. Asserts convergence."""
    mock, world = _fresh(scenario)
    try:
        mock.arm(fault, writes=writes, index=index)
        faulted = run_once(scenario, mock, world, scenario.at, tmp, monkeypatch)
        fired = mock.disarm()
        what = f"{scenario.name}: {fault} on {fired}"
        assert fired is not None, f"{scenario.name}: {fault}: request {index} never came"
        assert faulted.code in (cli.EXIT_OK, cli.EXIT_FAILED), (
            f"{what}: exit {faulted.code}\n{faulted.out}{faulted.err}"
        )
        assert "Traceback" not in faulted.err, f"{what}:\n{faulted.err}"
        if faulted.code == cli.EXIT_FAILED:
            said = faulted.out + faulted.err
            assert "the next run resumes" in said, f"{what}: exit 1 without saying so\n{said}"
        later = scenario.at + scenario.later
        # A fault the run got over by itself (a retried read, a resent or found POST) left
        # the unfaulted state already: the clean run is then the one that must write nothing.
        recovered = faulted.code == cli.EXIT_OK and world.state() == expected.state
        # Exit 0 means done: a run the fault left short of the unfaulted state must say so.
        closed = any(part in fired for part in scenario.fails_closed)
        assert recovered or closed or faulted.code == cli.EXIT_FAILED, (
            f"{what}: exit 0 but not converged\n{faulted.out}"
        )
        clean = run_once(scenario, mock, world, later, tmp, monkeypatch)
        assert clean.code == cli.EXIT_OK, f"{what}: the clean run failed\n{clean.out}{clean.err}"
        assert world.duplicates() == [], f"{what}: {world.duplicates()}"
        _same(world.state(), expected.state, what)
        if recovered:
            assert clean.writes == 0, f"{what}: not converged\n{clean.out}"
        else:
            rest = run_once(scenario, mock, world, later, tmp, monkeypatch)
            assert (rest.code, rest.writes) == (0, 0), f"{what}: not converged\n{rest.out}"
    finally:
        problems = _stop(mock)
    assert problems == [], problems
    return fired


def _same(state: Any, expected: Any, what: str) -> None:
    """Equal states, or a failure naming what differs (not two whole states)."""
    if state == expected:
        return
    if isinstance(state, dict) and isinstance(expected, dict):
        keys = sorted(set(state) | set(expected), key=str)
        diff = {k: (expected.get(k), state.get(k)) for k in keys if state.get(k) != expected.get(k)}
        raise AssertionError(f"{what}: differs from the unfaulted run (expected, got): {diff}")
    raise AssertionError(f"{what}: differs from the unfaulted run: {expected!r} != {state!r}")

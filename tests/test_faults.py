"""The fault-injection layer: every write of each feature's representative run fails in turn
(a 502 GitHub applied, one it did not, a connection dropped before or after GitHub applied
it, a timeout, a secondary and a primary rate limit), and every read fails (a 500 and a 429
once, a 502 that persists); then a clean run must reach the unfaulted state, with nothing
created twice, and the run after it must write nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults import scenarios
from tests.faults.harness import Scenario, baseline, fault_run
from tests.faults.injector import READ_FAULTS, WRITE_FAULTS, Fault

SCENARIOS = (
    scenarios.TRIAGE,
    scenarios.ESCALATION,
    scenarios.ONCALL,
    scenarios.DIGEST,
    scenarios.STALE,
    scenarios.RELEASE_OPEN,
    scenarios.RELEASE_UPDATE,
    scenarios.RELEASE_PUBLISH,
    scenarios.OWNERSHIP,
    scenarios.DUPLICATE,
    scenarios.INCIDENT,
    scenarios.REVIEWS,
    scenarios.DOCS_UPKEEP,
)


def _cases(faults: tuple[Fault, ...]) -> list[object]:
    return [
        pytest.param(s, f, id=f"{s.name}-{f.name}", marks=s.marks.get(f.name, ()))
        for s in SCENARIOS
        for f in faults
    ]


@pytest.mark.parametrize(("scenario", "fault"), _cases(WRITE_FAULTS))
def test_each_write_failing_then_a_clean_run_converges(
    scenario: Scenario, fault: Fault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = baseline(scenario, tmp_path, monkeypatch)
    for index in range(expected.writes):
        fault_run(
            scenario,
            fault,
            writes=True,
            index=index,
            expected=expected,
            tmp=tmp_path,
            monkeypatch=monkeypatch,
        )


@pytest.mark.parametrize(("scenario", "fault"), _cases(READ_FAULTS))
def test_each_read_failing_then_a_clean_run_converges(
    scenario: Scenario, fault: Fault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = baseline(scenario, tmp_path, monkeypatch)
    for index in range(expected.reads):
        fault_run(
            scenario,
            fault,
            writes=False,
            index=index,
            expected=expected,
            tmp=tmp_path,
            monkeypatch=monkeypatch,
        )

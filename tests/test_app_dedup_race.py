"""Two machines, one delivery: the dedup holds when one finishes while the other accepts.

Seen on main under load (the two-machine test, run beside other work): a GUID posted to both
machines was accepted by both and processed twice. Machine B checked `seen` before machine A
finished, and A's finish deleted the job record before B wrote its own. These tests put the
two machines' steps in exactly that order, on the embedded SQLite store and on Redis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from automation.app.queue import DeliveryQueue, Permanent
from tests import app_harness as h

pytest.importorskip("huey")

DELIVERY_ID = "72d3162e-cc78-11e3-81ab-4c9367dc0958"


def _machines(
    tmp_path: Path, processed: list[str], *, fail: bool = False
) -> tuple[DeliveryQueue, DeliveryQueue]:
    config = h.config("unused", tmp_path, workers=0)

    def process(delivery: Any) -> None:
        processed.append(delivery.id)
        if fail:
            raise Permanent("the policy is broken")

    return DeliveryQueue(config, process), DeliveryQueue(config, process)


def _interleave(machine: DeliveryQueue, step: Any) -> None:
    """Run `step` (the other machine finishing) right before `machine` writes its job record."""
    put_if_empty = machine.journal.put_if_empty

    def late(key: str, value: bytes) -> bool:
        if key == f"job:{DELIVERY_ID}":
            machine.journal.put_if_empty = put_if_empty  # type: ignore[method-assign]
            step()
        return bool(put_if_empty(key, value))

    machine.journal.put_if_empty = late  # type: ignore[method-assign]


@pytest.mark.usefixtures("backend")
def test_a_delivery_finished_while_the_other_machine_accepts_it_is_a_duplicate(
    tmp_path: Path,
) -> None:
    processed: list[str] = []
    one, two = _machines(tmp_path, processed)
    body, _ = h.delivery("issues.opened", delivery_id=DELIVERY_ID)
    assert one.submit(DELIVERY_ID, "issues", body) == "accepted"
    # Two has checked `seen` (not yet) and stored the body; one now processes and finishes.
    _interleave(two, lambda: one._run(DELIVERY_ID))
    assert two.submit(DELIVERY_ID, "issues", body) == "duplicate"
    two._run(DELIVERY_ID)  # a copy of the task, had one been queued, finds nothing to do
    assert processed == [DELIVERY_ID]


@pytest.mark.usefixtures("backend")
def test_a_delivery_that_failed_for_good_is_accepted_again_with_its_own_body(
    tmp_path: Path,
) -> None:
    # A failed delivery is not marked seen (its redelivery must be processed); the finish of
    # the failed attempt must not take away the body of the new one.
    processed: list[str] = []
    one, two = _machines(tmp_path, processed, fail=True)
    body, _ = h.delivery("issues.opened", delivery_id=DELIVERY_ID)
    assert one.submit(DELIVERY_ID, "issues", body) == "accepted"
    _interleave(two, lambda: one._run(DELIVERY_ID))
    assert two.submit(DELIVERY_ID, "issues", body) == "accepted"
    two._run(DELIVERY_ID)
    assert processed == [DELIVERY_ID, DELIVERY_ID]
    assert two.metrics.count(two.metrics.failed) == one.metrics.count(one.metrics.failed) == 1

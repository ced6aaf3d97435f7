"""Order statistics the figures share (digest, incidents, review loop, retrospective)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeVar

# Hours as floats, durations as timedeltas: anything ordered.
Ordered = TypeVar("Ordered", bound=Any)


def percentile(values: Sequence[Ordered], share: float) -> Ordered | None:
    """The nearest-rank percentile (share in 0..1: p90 of 10 values is the 9th); None when
    there are none. Nearest rank, not interpolation: the figure is a value that happened."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]

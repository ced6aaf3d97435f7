"""The Policies aggregate: every policy model, validated and cross-checked (by the loader).

Its own module, below the loader, so planners and collectors can name the type without
depending on YAML or file reading, and the models never import the loader.
"""

from __future__ import annotations

from dataclasses import dataclass

from automation.policy.oncall import OncallPolicy
from automation.policy.owners import OwnersPolicy
from automation.policy.ownership import OwnershipPolicy
from automation.policy.release import ReleasePolicy
from automation.policy.stale import StalePolicy
from automation.policy.triage import TriagePolicy


@dataclass(frozen=True)
class Policies:
    """Every policy file, validated and cross-checked."""

    owners: OwnersPolicy
    oncall: OncallPolicy
    triage: TriagePolicy
    ownership: OwnershipPolicy
    release: ReleasePolicy
    stale: StalePolicy
    source: str = "policies"

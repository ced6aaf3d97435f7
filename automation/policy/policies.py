"""The Policies aggregate: every policy model, validated and cross-checked (by the loader).

Its own module, below the loader, so planners and collectors can name the type without
depending on YAML or file reading, and the models never import the loader.
"""

from __future__ import annotations

from dataclasses import dataclass

from automation.policy.digest import DigestPolicy
from automation.policy.docs import DocsPolicy
from automation.policy.incidents import IncidentsPolicy
from automation.policy.oncall import OncallPolicy
from automation.policy.owners import OwnersPolicy
from automation.policy.ownership import OwnershipPolicy
from automation.policy.release import ReleasePolicy
from automation.policy.retro import RetroPolicy
from automation.policy.reviews import ReviewsPolicy
from automation.policy.stale import StalePolicy
from automation.policy.tools import ToolsPolicy
from automation.policy.triage import TriagePolicy


@dataclass(frozen=True)
class Policies:
    """Every policy file, validated and cross-checked; absent files are named in `absent`."""

    owners: OwnersPolicy
    oncall: OncallPolicy
    triage: TriagePolicy
    ownership: OwnershipPolicy
    release: ReleasePolicy
    stale: StalePolicy
    digest: DigestPolicy
    tools: ToolsPolicy
    incidents: IncidentsPolicy
    retro: RetroPolicy
    reviews: ReviewsPolicy
    docs: DocsPolicy
    source: str = "policies"
    # Files that do not exist: their model is an empty stand-in and the features that
    # need them are off (features are opt-in by file).
    absent: frozenset[str] = frozenset()

    def off_reason(self, files: tuple[str, ...]) -> str | None:
        """Why a feature needing `files` is off (absent or `enabled: false`), or None if on."""
        for name in files:
            if name in self.absent:
                return f"{self.source}/{name}.yaml absent"
            if not getattr(self, name).enabled:
                return f"enabled: false in {self.source}/{name}.yaml"
        return None

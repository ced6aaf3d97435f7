"""policies/digest.yaml: the weekly digest is on when this file exists.

It has no settings of its own yet (the digest reads triage, ownership, release and stale):
the file is the opt-in, and `enabled: false` turns the digest off.
"""

from __future__ import annotations

from automation.policy.base import PolicyFile


class DigestPolicy(PolicyFile):
    """The weekly digest's switch."""

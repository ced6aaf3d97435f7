"""Plain frozen data about the repository: what planners read instead of the API."""

from automation.snapshot.models import (
    ChangedFile,
    CheckRun,
    CodeownersFile,
    Comment,
    Comparison,
    Issue,
    IssueEvent,
    PullRequest,
    Release,
    Review,
    Snapshot,
)

__all__ = [
    "ChangedFile",
    "CheckRun",
    "CodeownersFile",
    "Comment",
    "Comparison",
    "Issue",
    "IssueEvent",
    "PullRequest",
    "Release",
    "Review",
    "Snapshot",
]

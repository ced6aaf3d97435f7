"""Plain frozen data about the repository: what planners read instead of the API."""

from automation.snapshot.models import (
    ChangedFile,
    CheckRun,
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
    "Comment",
    "Comparison",
    "Issue",
    "IssueEvent",
    "PullRequest",
    "Release",
    "Review",
    "Snapshot",
]

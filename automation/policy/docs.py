"""policies/docs.yaml: documentation upkeep: every runbook has an owning area and is reviewed
at least every so many days; an overdue one gets one "review due" issue for its owners."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field

from automation.policy.base import PolicyFile, PolicyModel, RefProblem, Slug

if TYPE_CHECKING:
    from automation.policy.policies import Policies

_DOC_PATH = re.compile(r"^docs/(?:[A-Za-z0-9_.-]+/)*[A-Za-z0-9_.-]+\.md$")


def _doc_path(value: str) -> str:
    if not _DOC_PATH.match(value) or ".." in value.split("/"):
        raise ValueError(f"a Markdown file under docs/, e.g. docs/runbooks/x.md: {value!r}")
    return value


DocPath = Annotated[str, AfterValidator(_doc_path)]


class Document(PolicyModel):
    """One document, its owning area, and (optionally) its own review period."""

    path: DocPath
    area: Slug = Field(description="the area of owners.yaml whose owners review it")
    review_days: int | None = Field(
        default=None, ge=1, le=3650, description="overrides review_days for this document"
    )


class DocsPolicy(PolicyFile):
    """Which documents are kept up to date, by whom, and how often they are reviewed."""

    review_days: int = Field(
        default=180, ge=1, le=3650, description="days between reviews, unless a document says"
    )
    changes_count_as_review: bool = Field(
        default=True,
        description="a commit to the document counts as a review; false: only a Reviewed: line",
    )
    labels: tuple[Annotated[str, Field(min_length=1)], ...] = Field(
        default=("docs-review",),
        min_length=1,
        description="put on every review-due issue; the first one finds them again",
    )
    documents: tuple[Document, ...] = ()

    def document(self, path: str) -> Document | None:
        """The entry for `path`, if listed."""
        return next((d for d in self.documents if d.path == path), None)

    def period(self, document: Document) -> int:
        """The review period of one document, in days."""
        return document.review_days or self.review_days

    def cross_check(self, policies: Policies) -> Iterator[RefProblem]:
        """Every document is listed once and its area exists in owners.yaml."""
        counts = Counter(d.path for d in self.documents)
        seen: set[str] = set()
        for index, document in enumerate(self.documents):
            if counts[document.path] > 1 and document.path in seen:
                yield RefProblem(
                    ("documents", index, "path"), f"duplicate document '{document.path}'"
                )
            seen.add(document.path)
            if policies.owners.area(document.area) is None:
                yield RefProblem(("documents", index, "area"), f"unknown area '{document.area}'")

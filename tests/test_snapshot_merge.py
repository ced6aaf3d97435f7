"""`snapshot export` merges the features' snapshots: two copies of one item, field by field.

Seen: the review loop's copy of an open PR (comments, events, files and reviews read, but no
head or base SHA) replaced the owner-approval collector's whole copy, so an exported snapshot
planned offline graded no open PR; and stale's REST events gave way to review-request events.
"""

from __future__ import annotations

from automation.engine import merge_snapshots
from automation.snapshot.models import ChangedFile, Review
from tests.factories import ago, make_comment, make_event, make_issue, make_pull, make_snapshot

HEAD = "a" * 40
BASE = "b" * 40


def test_two_copies_of_a_pr_keep_what_each_read() -> None:
    labeled = make_event("labeled", label="bug", created_at=ago(days=3))
    requested = make_event(
        "review_requested", requested_reviewer="raj-iyer", created_at=ago(days=2)
    )
    ownership = make_pull(
        7,
        head_sha=HEAD,
        base_sha=BASE,
        base_ref="develop",
        comments=None,
        events=(labeled,),
        files=(ChangedFile(filename="prompts/a.md"),),
        reviews=None,
    )
    reviews = make_pull(
        7,
        head_sha="",
        comments=(make_comment(3, body="ping"),),
        events=(requested,),
        files=(ChangedFile(filename="prompts/a.md"), ChangedFile(filename="evals/b.py")),
        reviews=(Review(id=9, user="raj-iyer", state="COMMENTED", submitted_at=ago(days=1)),),
        requested_reviewers=("raj-iyer",),
    )
    (merged,) = merge_snapshots(
        [make_snapshot(pulls=(ownership,)), make_snapshot(pulls=(reviews,))]
    ).pulls
    assert (merged.head_sha, merged.base_sha, merged.base_ref) == (HEAD, BASE, "develop")
    assert merged.events == (labeled, requested)  # both sources, in time order
    assert merged.comments == reviews.comments and merged.reviews == reviews.reviews
    assert [f.filename for f in merged.files or ()] == ["prompts/a.md", "evals/b.py"]
    assert merged.requested_reviewers == ("raj-iyer",)


def test_an_item_read_once_and_overlapping_comments() -> None:
    first = make_issue(1, comments=(make_comment(1), make_comment(2)), events=None)
    second = make_issue(1, comments=(make_comment(2), make_comment(3)), events=())
    only = make_issue(2)
    merged = merge_snapshots(
        [make_snapshot(issues=(first,)), make_snapshot(issues=(second, only))]
    ).issues
    assert [i.number for i in merged] == [1, 2]
    assert [c.id for c in merged[0].comments or ()] == [1, 2, 3]  # by id, once each
    assert merged[0].events == ()  # read (empty) beats not read
    assert merged[1] == only

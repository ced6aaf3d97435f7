"""The README's first command: the review loop and documentation upkeep have work in the example.

examples/snapshot.json holds two open PRs in the shape the reviews collector writes (#205
waits on a requested team past the reminder, #206 on a person past the escalation) and the
listed documents in the shape the docs_upkeep collector writes (one runbook past its period).
"""

from __future__ import annotations

from automation.actions import RequestReviewers, UpsertComment, UpsertIssue
from automation.features.docs_upkeep.plan import plan_docs_upkeep
from automation.features.reviews.collect import pull_from_graphql
from automation.features.reviews.plan import plan_reviews
from automation.simulate import simulate
from automation.snapshot.models import Snapshot
from tests.triage_factories import NOW, ROOT, policies


def _example() -> Snapshot:
    return Snapshot.model_validate_json((ROOT / "examples" / "snapshot.json").read_text())


def test_example_reminds_the_overdue_reviewers_and_asks_the_secondary() -> None:
    snap = _example()
    plan = plan_reviews(policies(), snap, NOW)
    summary = [
        (type(a).__name__, a.number, getattr(a, "reviewers", ()))  # type: ignore[attr-defined]
        for a in plan.actions
    ]
    assert summary == [
        ("UpsertComment", 205, ()),
        ("UpsertComment", 206, ()),
        ("RequestReviewers", 206, ("tomas-silva",)),
    ]
    team, person, _ = plan.actions
    assert isinstance(team, UpsertComment) and isinstance(person, UpsertComment)
    # A team counts in the default time zone; a person in their own (raj-iyer: Asia/Kolkata).
    assert "@dataface/ai-platform: this pull request has waited" in team.body
    assert "Asked as well" not in team.body  # past the reminder, not yet the escalation
    assert "@raj-iyer: this pull request has waited for your review since 2026-11-16" in (
        person.body
    )
    assert "Asked as well: @tomas-silva" in person.body
    assert isinstance(plan.actions[2], RequestReviewers)
    # The figures the example showed before are still there, and a second run writes nothing.
    assert any(n.startswith("review figures prompts:") for n in plan.notes)
    assert plan_reviews(policies(), simulate(snap, plan), NOW).actions == ()


def test_example_review_prs_have_the_reviews_collectors_shape() -> None:
    """What `snapshot export` would write for them: the GraphQL fields, nothing more."""
    for number in (205, 206):
        pull = _example().pull(number)
        assert pull is not None
        assert pull.files is not None and pull.reviews == () and pull.comments == ()
        assert pull.head_sha == ""  # the review loop's query does not ask for the head
        events = pull.events or ()
        assert [e.event for e in events] == ["review_requested"]
        node = {
            "number": pull.number,
            "title": pull.title,
            "state": "OPEN",
            "isDraft": pull.draft,
            "createdAt": pull.created_at.isoformat(),
            "updatedAt": pull.updated_at.isoformat(),
            "url": pull.html_url,
            "changedFiles": pull.changed_files,
            "author": {"__typename": "User", "login": pull.author},
            "labels": {"nodes": []},
            "files": {"nodes": [{"path": f.filename} for f in pull.files]},
            "reviewRequests": {
                "nodes": [
                    {"requestedReviewer": {"__typename": "User", "login": login}}
                    for login in pull.requested_reviewers
                ]
                + [
                    {"requestedReviewer": {"__typename": "Team", "slug": slug}}
                    for slug in pull.requested_teams
                ]
            },
            "reviews": {"nodes": []},
            "timelineItems": {
                "nodes": [
                    {
                        "__typename": "ReviewRequestedEvent",
                        "createdAt": e.created_at.isoformat(),
                        "actor": {"__typename": "User", "login": e.actor},
                        "requestedReviewer": (
                            {"__typename": "Team", "slug": e.requested_team}
                            if e.requested_team
                            else {"__typename": "User", "login": e.requested_reviewer}
                        ),
                    }
                    for e in events
                ]
            },
            "comments": {"totalCount": 0, "nodes": []},
        }
        assert pull_from_graphql(node) == pull


def test_example_opens_one_review_due_issue() -> None:
    snap = _example()
    plan = plan_docs_upkeep(policies(), snap, NOW)
    assert plan.notes == ("documents: 9 read, 1 due for review",)
    assert len(plan.actions) == 1
    issue = plan.actions[0]
    assert isinstance(issue, UpsertIssue) and issue.number is None
    assert issue.title == "Review due: docs/runbooks/rotate-cached-profiles.md"
    assert issue.labels == ("docs-review",)
    assert issue.assignees == ("dev-patel", "maya-chen", "sam-okafor")  # mcp-server's team
    assert "due since 2026-10-25" in issue.body
    assert plan_docs_upkeep(policies(), simulate(snap, plan), NOW).actions == ()

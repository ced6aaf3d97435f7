"""The digest's incident figures: opened, closed, MTTA and MTTR per severity (median, p90),
escalation steps and overdue postmortems; the pure figure functions on their own."""

from __future__ import annotations

import datetime as dt

import pytest

from automation.features.digest.plan import compute_figures, render_digest
from automation.markers import marker
from automation.rules.incidents import figures, median, percentile
from automation.snapshot.models import Issue
from tests.incident_factories import BOT, comment, incident, policies, snapshot

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
# The digest of Tuesday 2026-12-08 reports the ISO week of Mon 2026-11-30 to Sun 2026-12-06.
NOW = dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.UTC)
WEEK = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("minutes", "med", "p90"),
    [
        ([], None, None),
        ([10], 10, 10),
        ([10, 30], 20, 30),
        ([5, 1, 3], 3, 5),
        (list(range(1, 11)), 5.5, 9),
        (list(range(1, 21)), 10.5, 18),
    ],
)
def test_median_and_nearest_rank_p90(
    minutes: list[int], med: float | None, p90: int | None
) -> None:
    values = [m * M for m in minutes]
    assert median(values) == (None if med is None else med * M)
    assert percentile(values, 90) == (None if p90 is None else p90 * M)


def _acked(number: int, opened: dt.datetime, after: dt.timedelta, **kw: object) -> Issue:
    return incident(
        number,
        created_at=opened,
        assignees=("raj-iyer",),
        comments=(comment(number * 10, "on it", author="raj-iyer", at=opened + after),),
        **kw,
    )


def _week_issues() -> list[Issue]:
    sev1 = {"labels": ("incident", "severity:sev1")}
    escalated = comment(9, f"{marker('incidents', 'escalation-secondary')}\nstep", at=WEEK + 2 * H)
    return [
        _acked(1, WEEK + H, 10 * M, **sev1),
        _acked(2, WEEK + 2 * H, 30 * M, **sev1).model_copy(
            update={"state": "closed", "closed_at": WEEK + 5 * H}
        ),
        _acked(3, WEEK + 3 * H, 50 * M),  # sev2 from its body (12% error rate)
        incident(
            4, created_at=WEEK + 1 * H, comments=(escalated,), labels=("incident", "severity:sev2")
        ),
        _acked(5, WEEK - 2 * H, 5 * M).model_copy(  # opened the week before, closed in it
            update={"state": "closed", "closed_at": WEEK + 22 * H}
        ),
        _acked(6, WEEK + 8 * 24 * H, 5 * M),  # after the week
    ]


def test_figures_per_severity() -> None:
    rows = {r.severity: r for r in figures(policies(), _week_issues(), WEEK, WEEK + 7 * 24 * H)}
    assert set(rows) == {"sev1", "sev2"}
    assert (rows["sev1"].opened, rows["sev1"].closed) == (2, 1)
    assert rows["sev1"].mtta_median == 20 * M and rows["sev1"].mtta_p90 == 30 * M
    assert rows["sev1"].mttr_median == 3 * H
    assert (rows["sev2"].opened, rows["sev2"].closed, rows["sev2"].escalations) == (2, 1, 1)
    assert rows["sev2"].mtta_median == 50 * M  # #4 is not acknowledged
    assert rows["sev2"].mttr_median == 24 * H


def test_the_digest_has_an_incidents_section() -> None:
    overdue = Issue(
        number=90,
        title="Postmortem: #5",
        body=f"{marker('incidents', 'postmortem-5')}\n"
        "<!-- dataface-ops:incidents-postmortem incident=5 due=2026-12-04T10:00:00+00:00 -->",
        author=BOT,
        author_is_bot=True,
        labels=("postmortem",),
        created_at=WEEK,
        updated_at=WEEK,
    )
    snap = snapshot(*_week_issues(), overdue, now=NOW)
    found = compute_figures(policies(), snap, NOW)
    assert found.incidents is not None
    assert found.incidents.opened == [1, 2, 3, 4]
    assert found.incidents.closed == [2, 5]
    assert found.incidents.postmortems_overdue == [90]
    body = render_digest(found, snap, policies())
    assert "| incidents opened | 4 | #1, #2, #3, #4 |" in body
    assert "| escalation steps taken | 1 | |" in body
    assert "| postmortems overdue | 1 | #90 |" in body
    assert "| `severity:sev1` | 2 | 1 | 20 min | 30 min | 3 h 00 min | 3 h 00 min | 0 |" in body

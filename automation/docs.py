"""The operating model in writing: render docs/OPERATING_MODEL.md and check it and its links.

The schedule part of the document depends on time. To keep `docs check` deterministic the
rendered file records the date its schedule starts from (`schedule-from: YYYY-MM-DD`, the
Monday of the week `docs render` ran in); `docs check` re-renders from that same date, so the
check fails only when the policies or templates changed, never because a week went by.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automation.rendering import TEMPLATES, render_document
from automation.rendering import DocsError as DocsError

if TYPE_CHECKING:
    from automation.policy.oncall import Rotation
    from automation.policy.policies import Policies
    from automation.policy.release import Blackout, Freeze
    from automation.rules.release import Departure

OUTPUT = Path("docs/OPERATING_MODEL.md")
RUNBOOKS = Path("docs/runbooks")
HANDOFFS_SHOWN = 8
TRAINS_SHOWN = 8

_ANCHOR = re.compile(r"schedule-from: (\d{4}-\d{2}-\d{2})")
# Any mention of a runbook: repository paths, blob URLs and links relative to docs/.
_RUNBOOK_REF = re.compile(r"runbooks/([A-Za-z0-9_.-]+\.md)")
# Inside docs/runbooks/ a sibling is linked by its bare name: [text](other.md).
_SIBLING_LINK = re.compile(r"\]\((?:\./)?([A-Za-z0-9_.-]+\.md)(?:#[^)]*)?\)")


@dataclass(frozen=True)
class Handoff:
    """One scheduled handoff: from `at` (local time of the rotation), `member` is on call."""

    at: dt.datetime
    member: str


@dataclass(frozen=True)
class ProtectedOwners:
    """A protected path and the areas (and their owners) that CODEOWNERS gives it."""

    group: str
    path: str
    approvals: int
    areas: tuple[str, ...]
    owners: tuple[str, ...]


@dataclass
class DocsCheck:
    """What `docs check` found: a diff when the document is stale, and dead runbook links."""

    diff: str = ""
    dead_links: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether everything is up to date and every link resolves."""
        return not (self.diff or self.dead_links or self.problems)


def schedule_anchor(now: dt.datetime) -> dt.date:
    """The Monday (UTC) of the week containing `now`: where the rendered schedule starts."""
    day = now.astimezone(dt.UTC).date()
    return day - dt.timedelta(days=day.weekday())


def handoffs(
    policies: Policies, rotation: Rotation, start: dt.date, count: int = HANDOFFS_SHOWN
) -> list[Handoff]:
    """The shift in progress at `start` and the next handoffs, `count` rows in all."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(rotation.timezone)
    first = rotation.shift_start(dt.datetime.combine(start, dt.time(12), tzinfo=dt.UTC))
    rows: list[Handoff] = []
    week = 0
    # Step on local calendar dates so the handoff keeps its wall-clock time across DST.
    while len(rows) < count and week < count * 8 * 2:
        local = dt.datetime.combine(
            first.date() + dt.timedelta(weeks=week), rotation.handoff_time, tzinfo=zone
        )
        member = policies.oncall.on_call(rotation.name, local)
        if not rows or rows[-1].member != member:
            rows.append(Handoff(local, member))
        week += 1
    return rows


@dataclass(frozen=True)
class Train:
    """One scheduled train: when it really leaves (None: held, no catch-up), and its captain."""

    slot: dt.date
    departure: Departure | None
    captain: str | None
    freeze: Freeze | None = None
    blackout: Blackout | None = None


def trains(policies: Policies, start: dt.date, count: int = TRAINS_SHOWN) -> list[Train]:
    """The first `count` trains the cadence schedules on or after the local date `start`."""
    from automation.rules.release import SEARCH_DAYS, captain_at, departure_of, is_train_day

    policy = policies.release
    rows: list[Train] = []
    day = start
    for _ in range(SEARCH_DAYS):
        if len(rows) == count:
            break
        if is_train_day(policy, day):
            departure = departure_of(policy, day)
            freeze = next((f for f in policy.freezes if f.start <= day <= f.end), None)
            blackout = next((b for b in policy.blackout_dates if b.date == day), None)
            captain = captain_at(policies, departure.at) if departure is not None else None
            rows.append(Train(day, departure, captain, freeze, blackout))
        day += dt.timedelta(days=1)
    return rows


def _sample_path(pattern: str) -> str:
    path = pattern.lstrip("/").replace("**", "x").replace("*", "x")
    return f"{path}x" if path.endswith("/") else path


def protected_owners(policies: Policies) -> list[ProtectedOwners]:
    """For every protected path, the areas whose paths cover it (CODEOWNERS semantics)."""
    from automation.codeowners import compile_pattern

    result = []
    for group in policies.ownership.protected:
        for path in group.paths:
            sample = _sample_path(path)
            areas = tuple(
                area.name
                for area in policies.owners.areas
                if any(compile_pattern(p).fullmatch(sample) for p in area.paths)
            )
            refs: list[str] = []
            for name in areas:
                found = policies.owners.area(name)
                if found is not None:
                    refs.extend(found.owners)
            result.append(
                ProtectedOwners(
                    group.name,
                    path,
                    group.approvals,
                    areas,
                    policies.owners.expand(tuple(dict.fromkeys(refs))),
                )
            )
    return result


def render_operating_model(policies: Policies, now: dt.datetime) -> str:
    """Render docs/OPERATING_MODEL.md from the policies; the schedule starts at `now`'s week."""
    from automation.rules.release import signoffs

    anchor = schedule_anchor(now)
    context: dict[str, Any] = {
        "anchor": anchor,
        "owners": policies.owners,
        "oncall": policies.oncall,
        "triage": policies.triage,
        "ownership": policies.ownership,
        "release": policies.release,
        "stale": policies.stale,
        "tools": policies.tools,
        "incidents": policies.incidents,
        "retro": policies.retro,
        "reviews": policies.reviews,
        "docs": policies.docs,
        "handoffs": {r.name: handoffs(policies, r, anchor) for r in policies.oncall.rotations},
        "protected": protected_owners(policies),
        "last_push": {
            g.name: policies.ownership.last_push_approval(g, policies)
            for g in policies.ownership.protected
        },
        # An absent file's section is left out (its model is an empty stand-in).
        "absent": policies.absent,
        "trains": trains(policies, anchor) if "release" not in policies.absent else [],
        "signoffs": signoffs(policies),
        "expand": policies.owners.expand,
        "person": policies.owners.person,
    }
    return render_document("docs/operating_model.md.j2", context)


def rendered_anchor(text: str) -> dt.date | None:
    """The schedule date recorded in a rendered document's header, if any."""
    match = _ANCHOR.search(text[:1000])
    return dt.date.fromisoformat(match.group(1)) if match else None


def runbook_refs(text: str, *, sibling_links: bool = False) -> Iterator[str]:
    """Every runbook file name a text links to."""
    for match in _RUNBOOK_REF.finditer(text):
        yield match.group(1)
    if sibling_links:
        for match in _SIBLING_LINK.finditer(text):
            yield match.group(1)


def link_sources(policies: Policies, root: Path, rendered: str) -> Iterator[tuple[str, str]]:
    """(where, text) of everything whose runbook links must resolve."""
    yield "docs/OPERATING_MODEL.md (rendered)", rendered
    policy_dir = Path(policies.source)
    for path in sorted(policy_dir.glob("*.yaml")):
        yield str(path), path.read_text(encoding="utf-8")
    for path in sorted(TEMPLATES.rglob("*.j2")):
        yield f"automation/templates/{path.relative_to(TEMPLATES)}", path.read_text("utf-8")


def dead_runbook_links(policies: Policies, root: Path, rendered: str) -> list[str]:
    """Name every link to a runbook under docs/runbooks/ that does not exist."""
    runbooks = root / RUNBOOKS
    dead: list[str] = []
    for where, text in link_sources(policies, root, rendered):
        for name in dict.fromkeys(runbook_refs(text)):
            if not (runbooks / name).is_file():
                dead.append(f"{where}: links docs/runbooks/{name}, which does not exist")
    for index, area in enumerate(policies.owners.areas):
        if area.runbook and not (root / area.runbook).is_file():
            dead.append(
                f"{policies.source}/owners.yaml areas[{index}].runbook: "
                f"{area.runbook} does not exist"
            )
    # Triage comments link this path (its default when triage.yaml names none), wherever it
    # lives: the patterns above see only links under runbooks/ written out in the policy.
    runbook = policies.triage.runbook
    if runbook and not (root / runbook.split("#", 1)[0]).is_file():
        dead.append(f"{policies.source}/triage.yaml runbook: {runbook} does not exist")
    # Every registered tool needs a runbook an incident about it can link first.
    for index, tool in enumerate(policies.tools.tools):
        where = f"{policies.source}/tools.yaml tools[{index}] ({tool.name})"
        if not tool.runbook:
            dead.append(f"{where}: no runbook (an incident about it would link nothing)")
        elif not (root / tool.runbook.split("#", 1)[0]).is_file():
            dead.append(f"{where}.runbook: {tool.runbook} does not exist")
    for path in sorted(runbooks.glob("*.md")) if runbooks.is_dir() else ():
        text = path.read_text(encoding="utf-8")
        for name in dict.fromkeys(runbook_refs(text, sibling_links=True)):
            if not (runbooks / name).is_file():
                dead.append(f"{RUNBOOKS / path.name}: links {name}, which does not exist")
    return list(dict.fromkeys(dead))


def upkeep_problems(policies: Policies, root: Path) -> list[str]:
    """With policies/docs.yaml present: every runbook under docs/runbooks/ is listed there (it
    has an owner), and every document it lists exists."""
    if "docs" in policies.absent:
        return []
    from automation.policy.loader import field_lines

    source = Path(policies.source) / "docs.yaml"
    try:
        line_of = field_lines(source.read_text(encoding="utf-8"))
    except OSError:
        line_of = field_lines("")
    listed = {d.path for d in policies.docs.documents}
    runbooks = root / RUNBOOKS
    problems = [
        f"{source}:{line_of(('documents',))} documents: {RUNBOOKS}/{path.name} has no owner "
        "(list it with its area)"
        for path in (sorted(runbooks.glob("*.md")) if runbooks.is_dir() else ())
        if f"{RUNBOOKS}/{path.name}" not in listed
    ]
    for index, document in enumerate(policies.docs.documents):
        if not (root / document.path).is_file():
            loc = ("documents", index, "path")
            problems.append(
                f"{source}:{line_of(loc)} documents[{index}].path: {document.path} does not exist"
            )
    return problems


def check_docs(policies: Policies, root: Path, output: Path = OUTPUT) -> DocsCheck:
    """Compare the committed document with a fresh render and check every runbook link."""
    result = DocsCheck()
    target = root / output
    try:
        current = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = ""
        result.problems.append(f"{output} does not exist (run: dataface-ops docs render)")
    anchor = rendered_anchor(current)
    if current and anchor is None:
        result.problems.append(
            f"{output} has no 'schedule-from' header: "
            "it was not written by dataface-ops docs render"
        )
    at = dt.datetime.combine(anchor or dt.date(2000, 1, 3), dt.time(12), tzinfo=dt.UTC)
    rendered = render_operating_model(policies, at)
    if current and anchor is not None and current != rendered:
        result.diff = "".join(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                rendered.splitlines(keepends=True),
                fromfile=f"{output} (committed)",
                tofile=f"{output} (rendered from {policies.source})",
            )
        )
    result.dead_links = dead_runbook_links(policies, root, rendered)
    result.problems.extend(upkeep_problems(policies, root))
    return result

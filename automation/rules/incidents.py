"""Pure incident rules shared by the incidents collector, planner, `incidents explain` and
the digest: read the report, size it, and tell where the clock stands (acknowledged, each
escalation step, status updates, the postmortem), all from the issue's own state.

The figure functions at the end (MTTA, MTTR, median, p90) are what the digest prints and
what a retrospective can reuse.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from automation.markers import MARKER_PREFIX, marker
from automation.rules import stats
from automation.rules.triage import NO_RESPONSE, _form_sections

if TYPE_CHECKING:
    from automation.policy.incidents import IncidentsPolicy
    from automation.policy.policies import Policies
    from automation.policy.tools import Tool
    from automation.snapshot.models import Comment, Issue

FEATURE = "incidents"
_PERCENT = re.compile(r"[-+]?(?:\d+(?:\.\d+)?|\.\d+)")
# Hidden data in the summary comment: a digest of what it was rendered from (so it is
# rewritten only when that changes) and whether it asked for the tool (needs-info).
DATA = re.compile(
    r"<!-- dataface-ops:incidents-data key=(?P<key>[0-9a-f]+)(?P<info> needs-info)? -->"
)
# Hidden data in a postmortem issue: the incident it follows and when it is due.
POSTMORTEM_DATA = re.compile(
    r"<!-- dataface-ops:incidents-postmortem incident=(?P<n>\d+) due=(?P<due>\S+) -->"
)


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentReport:
    """What an incident's body says, by field key (empty fields left out)."""

    fields: dict[str, str] = field(default_factory=dict)
    form: bool = False  # the body had the Tool and Symptom headings

    @property
    def tool(self) -> str | None:
        """The tool named, as written."""
        return self.fields.get("tool")

    @property
    def impact(self) -> str | None:
        """The impact, as written."""
        return self.fields.get("impact")

    @property
    def error_rate(self) -> Decimal | None:
        """The error rate in percent ("35%", "35 %", "0.35" is 0.35%), or None."""
        return parse_percent(self.fields.get("error_rate"))

    @property
    def started_at(self) -> dt.datetime | None:
        """When it started (ISO 8601; UTC if no offset), or None."""
        return parse_started(self.fields.get("started_at"))


def parse_percent(text: str | None) -> Decimal | None:
    """The first number in `text` as a percentage from 0 to 100, else None."""
    if not text:
        return None
    found = _PERCENT.search(text)
    if found is None:
        return None
    try:
        value = Decimal(found.group(0))
    except InvalidOperation:
        return None
    return value if 0 <= value <= 100 else None


def parse_started(text: str | None) -> dt.datetime | None:
    """An ISO 8601 timestamp (2026-12-05T09:30:00Z), aware; None if unreadable."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def parse_incident(policy: IncidentsPolicy, body: str) -> IncidentReport:
    """Read the incident's fields from its `### Label` sections (form, monitor, receiver)."""
    sections = _form_sections(body.replace("\r\n", "\n").replace("\r", "\n"))
    from automation.policy.incidents import FIELD_KEYS

    fields: dict[str, str] = {}
    for key in FIELD_KEYS:
        value = sections.get(policy.fields.label(key).lower())
        if value is not None and value != NO_RESPONSE:
            # One line for the short fields; Symptom and Links keep their lines.
            text = value if key in ("symptom", "links") else value.split("\n")[0]
            fields[key] = text.strip().strip("`*_").strip()
    form = all(policy.fields.label(k).lower() in sections for k in FIELD_KEYS[:2])
    return IncidentReport(fields={k: v for k, v in fields.items() if v}, form=form)


def is_incident(policy: IncidentsPolicy, issue: Issue) -> bool:
    """Whether this issue (open or closed) is an incident: its label, or the form's body."""
    if any(label in issue.labels for label in (*policy.recognise.labels, policy.labels.incident)):
        return True
    if issue.author_is_bot and f"{MARKER_PREFIX}{FEATURE}:postmortem-" in issue.body:
        return False  # our postmortem quotes the incident's headings
    return policy.recognise.form and parse_incident(policy, issue.body).form


def tool_of(policies: Policies, report: IncidentReport) -> Tool | None:
    """The registered tool the report names (case-insensitive, `tool:` prefix allowed)."""
    if not report.tool:
        return None
    name = report.tool.removeprefix(policies.incidents.labels.tool_prefix)
    return policies.tools.tool(name)


def find_comment(issue: Issue, key: str) -> Comment | None:
    """The comment carrying our marker `key` (ours first), if the comments were read."""
    return issue.marked_comment(marker(FEATURE, key))


# --- severity ------------------------------------------------------------------------------


def severity_for(policies: Policies, report: IncidentReport, tool: Tool | None) -> tuple[str, str]:
    """(severity, why) from the impact, the error rate and the tool's criticality."""
    policy = policies.incidents
    impact = (report.impact or "").strip().lower()
    rate = report.error_rate
    critical = bool(tool and tool.critical)
    chosen: tuple[str, str] | None = None
    for index, rule in enumerate(policy.rules):
        reasons: list[str] = []
        if rule.impact:
            if impact not in {i.lower() for i in rule.impact}:
                continue
            reasons.append(f"impact '{report.impact}'")
        if rule.critical_tool is not None:
            if critical != rule.critical_tool:
                continue
            reasons.append("a critical tool" if critical else "a non-critical tool")
        if rule.min_error_rate is not None:
            if rate is None or rate < rule.min_error_rate:
                continue
            reasons.append(f"error rate {rate}% >= {rule.min_error_rate}%")
        chosen = (rule.severity, f"rule {index + 1}: " + " and ".join(reasons))
        break
    if chosen is None:
        chosen = (policy.default_severity, "no rule matched (the default)")
    floor = policy.critical_severity
    if critical and floor is not None and policy.rank(floor) < policy.rank(chosen[0]):
        chosen = (floor, f"{tool.name if tool else 'the tool'} is critical (at least {floor})")
    return chosen


def severity_label(policy: IncidentsPolicy, issue: Issue) -> str | None:
    """The severity the issue is labelled with (a person's label wins over ours)."""
    prefix = policy.labels.severity_prefix
    found = [
        label[len(prefix) :]
        for label in issue.labels
        if label.startswith(prefix) and label[len(prefix) :] in policy.severities
    ]
    return min(found, key=policy.rank) if found else None


def severity_of(policies: Policies, issue: Issue) -> tuple[str, str]:
    """(severity, why): its label when it has one, else what the report says."""
    policy = policies.incidents
    labelled = severity_label(policy, issue)
    report = parse_incident(policy, issue.body)
    computed = severity_for(policies, report, tool_of(policies, report))
    if labelled is not None and labelled != computed[0]:
        return labelled, f"labelled {policy.labels.severity_prefix}{labelled}"
    return computed


# --- acknowledgement -----------------------------------------------------------------------


@dataclass(frozen=True)
class Ack:
    """How an incident was acknowledged: when (None: the label, its time not read), by
    what and by whom."""

    at: dt.datetime | None
    how: str
    who: str


def acknowledgement(policy: IncidentsPolicy, issue: Issue) -> Ack | None:
    """The first acknowledgement: an assignee's comment or reaction, or the label."""
    ack = policy.acknowledgement
    assignees = {a.lower() for a in issue.assignees}
    found: list[Ack] = []
    if ack.assignee_comment:
        for comment in issue.comments or ():
            if comment.author.lower() in assignees and not comment.author_is_bot:
                found.append(Ack(comment.created_at, "comment", comment.author))
                break
    if ack.assignee_reaction:
        for reaction in sorted(issue.reactions or (), key=lambda r: r.created_at):
            if reaction.user.lower() in assignees and not reaction.user_is_bot:
                found.append(
                    Ack(reaction.created_at, f"reaction :{reaction.content}:", reaction.user)
                )
                break
    if ack.label:
        labelled = label_added(issue, ack.label)
        if labelled is not None:
            found.append(Ack(labelled[0], f"label {ack.label}", labelled[1]))
        elif ack.label in issue.labels:
            found.append(Ack(None, f"label {ack.label}", "someone"))
    timed = sorted((a for a in found if a.at is not None), key=lambda a: a.at or issue.created_at)
    if timed:
        return timed[0]
    return found[0] if found else None


def label_added(issue: Issue, label: str) -> tuple[dt.datetime, str] | None:
    """When and by whom `label` was last added, while it is on (events read), else None."""
    if label not in issue.labels:
        return None
    last = None
    for event in issue.events or ():
        if event.event == "labeled" and event.label == label:
            last = event
    return (last.created_at, last.actor) if last is not None else None


def needs_reactions(policy: IncidentsPolicy, issue: Issue) -> bool:
    """Whether whether it is acknowledged can only be told from its reactions (unread)."""
    if not policy.acknowledgement.assignee_reaction or issue.reactions is not None:
        return False
    if issue.reactions_count == 0:
        return False
    return acknowledgement(policy, issue) is None or (issue.state == "closed")


# --- escalation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step of the escalation chain, as it stands."""

    index: int
    to: str
    after_minutes: int
    due: dt.datetime
    people: tuple[str, ...]  # logins paged (primary, secondary, the area's people)
    handles: tuple[str, ...]  # how the comment mentions them (@login, @org/team)
    assign: str | None  # the one person the step assigns
    done: Comment | None  # our comment for the step, once written

    @property
    def key(self) -> str:
        """The marker key of the step's comment (by target: each is paged once)."""
        return f"escalation-{self.to}"


def _area_name(policies: Policies, issue: Issue) -> str | None:
    tool = tool_of(policies, parse_incident(policies.incidents, issue.body))
    if tool is not None:
        return tool.area
    prefix = policies.incidents.labels.area_prefix
    return next((lb[len(prefix) :] for lb in issue.labels if lb.startswith(prefix)), None)


def area_people(policies: Policies, area: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(logins, mention handles) of an area's owners; empty for an unknown area."""
    found = policies.owners.area(area) if area else None
    if found is None:
        return (), ()
    return (
        policies.owners.expand(found.owners),
        policies.owners.codeowners_handles(found.owners),
    )


def steps(policies: Policies, issue: Issue, severity: str) -> list[Step]:
    """The escalation chain of `severity` for this incident; people are whoever holds each
    role at the step's due time (a handoff during the incident pages the new on-call)."""
    policy = policies.incidents
    out: list[Step] = []
    for index, step in enumerate(policy.escalation.get(severity, ())):
        due = issue.created_at + dt.timedelta(minutes=step.after_minutes)
        people: tuple[str, ...] = ()
        handles: tuple[str, ...] = ()
        if step.to == "primary":
            people = (policies.oncall.on_call(policy.rotation, due),)
        elif step.to == "secondary":
            second = policies.oncall.secondary_on_call(policy.rotation, due)
            people = (second,) if second else ()
        elif step.to == "area-owners":
            people, handles = area_people(policies, _area_name(policies, issue))
        else:
            people, handles = area_people(policies, "operating-model")
        if not handles:
            handles = tuple(f"@{p}" for p in people)
        key = f"escalation-{step.to}"
        out.append(
            Step(
                index=index + 1,
                to=step.to,
                after_minutes=step.after_minutes,
                due=due,
                people=people,
                handles=handles,
                assign=people[0] if step.assign and people else None,
                done=find_comment(issue, key),
            )
        )
    return out


# --- status updates ------------------------------------------------------------------------


def status_updates(policy: IncidentsPolicy, issue: Issue) -> list[Comment]:
    """Comments that are status updates: by an assignee, or with a `Status:` line."""
    rules = policy.status_updates
    assignees = {a.lower() for a in issue.assignees}
    pattern = re.compile(rules.pattern)
    return [
        c
        for c in issue.comments or ()
        if not c.author_is_bot
        and ((rules.by_assignee and c.author.lower() in assignees) or pattern.search(c.body))
    ]


@dataclass(frozen=True)
class UpdateClock:
    """When the next status update is due, after which update, and its reminder's key."""

    due: dt.datetime
    every_hours: int
    last: Comment | None

    @property
    def key(self) -> str:
        """The reminder's marker key: one reminder per late gap after an update."""
        return f"status-after-{self.last.id if self.last else 'opened'}"


def update_clock(policy: IncidentsPolicy, issue: Issue, severity: str) -> UpdateClock | None:
    """The status-update clock of an open incident of a severity that wants updates."""
    hours = policy.status_updates.every_hours.get(severity)
    if hours is None or issue.state != "open":
        return None
    updates = status_updates(policy, issue)
    last = max(updates, key=lambda c: (c.created_at, c.id)) if updates else None
    since = last.created_at if last else issue.created_at
    return UpdateClock(since + dt.timedelta(hours=hours), hours, last)


# --- postmortems ---------------------------------------------------------------------------


def add_working_days(start: dt.datetime, days: int, zone: ZoneInfo) -> dt.datetime:
    """`days` working days (Monday to Friday, local) after `start`, at the same local wall
    time (across a daylight-saving change too). A weekend start counts from Monday."""
    local = start.astimezone(zone)
    day = local.date()
    left = days
    while left > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    wall = dt.datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=zone)
    return wall.astimezone(dt.UTC).astimezone(zone)


def postmortem_due(policy: IncidentsPolicy, closed_at: dt.datetime) -> dt.datetime:
    """When a postmortem of an incident closed at `closed_at` is due."""
    pm = policy.postmortem
    return add_working_days(closed_at, pm.due_working_days, ZoneInfo(pm.timezone))


def wants_postmortem(policies: Policies, issue: Issue) -> bool:
    """A closed (as completed) incident of a severity that gets a postmortem."""
    policy = policies.incidents
    if (
        issue.state != "closed"
        or issue.state_reason == "not_planned"
        or not is_incident(policy, issue)
    ):
        return False
    return severity_of(policies, issue)[0] in policy.postmortem.severities


def postmortem_for(issues: Iterable[Issue], number: int) -> Issue | None:
    """The postmortem issue of incident `number` among `issues` (by its marker)."""
    tag = marker(FEATURE, f"postmortem-{number}")
    found = [i for i in issues if tag in i.body]
    return min(found, key=lambda i: i.number) if found else None


def postmortem_due_of(issue: Issue) -> tuple[int, dt.datetime] | None:
    """(incident number, due) recorded in a postmortem issue we wrote, else None."""
    found = POSTMORTEM_DATA.search(issue.body)
    if found is None:
        return None
    due = parse_started(found["due"])
    return (int(found["n"]), due) if due else None


def postmortem_overdue(issue: Issue, now: dt.datetime) -> bool:
    """An open postmortem of ours past its due time (done = closed)."""
    recorded = postmortem_due_of(issue)
    return issue.state == "open" and recorded is not None and now > recorded[1]


@dataclass(frozen=True)
class Entry:
    """One line of an incident's timeline."""

    at: dt.datetime
    what: str
    since_open: dt.timedelta


def timeline(policies: Policies, issue: Issue) -> list[Entry]:
    """Opened, acknowledged, each escalation, each status update, resolved, in order."""
    policy = policies.incidents
    opened = issue.created_at
    items: list[tuple[dt.datetime, str]] = [(opened, f"opened by @{issue.author}")]
    ack = acknowledgement(policy, issue)
    if ack is not None and ack.at is not None:
        items.append((ack.at, f"acknowledged by @{ack.who} ({ack.how})"))
    severity = severity_of(policies, issue)[0]
    for step in steps(policies, issue, severity):
        if step.done is not None:
            who = ", ".join(step.handles) or "nobody"
            items.append((step.done.created_at, f"escalated to {step.to} ({who})"))
    for comment in status_updates(policy, issue):
        first = next((ln.strip() for ln in comment.body.splitlines() if ln.strip()), "")
        text = first[:117] + "..." if len(first) > 120 else first
        items.append((comment.created_at, f"update by @{comment.author}: {text}"))
    if issue.closed_at is not None:
        items.append((issue.closed_at, "resolved (closed)"))
    items.sort(key=lambda pair: pair[0])
    return [Entry(at, what, at - opened) for at, what in items]


def holders(policies: Policies, issue: Issue) -> tuple[str, ...]:
    """Who held the incident: its assignees, else the primary on call when it closed."""
    people = tuple(a for a in issue.assignees if not a.endswith("[bot]"))
    if people:
        return people[:10]
    when = issue.closed_at or issue.created_at
    return (policies.oncall.on_call(policies.incidents.rotation, when),)


# --- figures (the digest, a retrospective) -------------------------------------------------


def duration_text(delta: dt.timedelta) -> str:
    """`45 min`, `2 h 05 min`, `3 d 4 h`: a duration for people."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def time_to_acknowledge(policy: IncidentsPolicy, issue: Issue) -> dt.timedelta | None:
    """Opened to first acknowledgement (None: not acknowledged, or its time unknown)."""
    ack = acknowledgement(policy, issue)
    return ack.at - issue.created_at if ack is not None and ack.at is not None else None


def time_to_resolve(issue: Issue) -> dt.timedelta | None:
    """Opened to closed (None while open)."""
    return issue.closed_at - issue.created_at if issue.closed_at is not None else None


def median(values: Sequence[dt.timedelta]) -> dt.timedelta | None:
    """The median (the mean of the middle two for an even count); None for none."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[dt.timedelta], pct: int) -> dt.timedelta | None:
    """The nearest-rank percentile `pct` (p90 of 10 values is the 9th); None for none."""
    return stats.percentile(values, pct / 100)


@dataclass(frozen=True)
class SeverityFigures:
    """One severity's incidents over a window."""

    severity: str
    opened: int = 0
    closed: int = 0
    mtta_median: dt.timedelta | None = None
    mtta_p90: dt.timedelta | None = None
    mttr_median: dt.timedelta | None = None
    mttr_p90: dt.timedelta | None = None
    escalations: int = 0


def figures(
    policies: Policies, issues: Iterable[Issue], start: dt.datetime, end: dt.datetime
) -> list[SeverityFigures]:
    """Per severity: opened and closed in [start, end), MTTA (of those opened) and MTTR (of
    those closed), median and p90, and escalation steps taken in the window."""
    policy = policies.incidents
    rows: list[SeverityFigures] = []
    incidents = [i for i in issues if is_incident(policy, i)]
    for severity in policy.severities:
        mine = [i for i in incidents if severity_of(policies, i)[0] == severity]
        opened = [i for i in mine if start <= i.created_at < end]
        closed = [i for i in mine if i.closed_at is not None and start <= i.closed_at < end]
        tta = [d for i in opened if (d := time_to_acknowledge(policy, i)) is not None]
        ttr = [d for i in closed if (d := time_to_resolve(i)) is not None]
        escalations = sum(
            1
            for i in mine
            for s in steps(policies, i, severity)
            if s.done is not None and start <= s.done.created_at < end
        )
        if not (opened or closed or escalations):
            continue
        rows.append(
            SeverityFigures(
                severity,
                len(opened),
                len(closed),
                median(tta),
                percentile(tta, 90),
                median(ttr),
                percentile(ttr, 90),
                escalations,
            )
        )
    return rows

"""Pure triage rules shared by the triage collector and planners: parse a report, size it,
and tell a regression, its state and what a person did to it."""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from automation.markers import marker

if TYPE_CHECKING:
    from automation.policy.triage import AreaRule, FormField, Metric, TriagePolicy
    from automation.snapshot.models import Comment, Issue, Snapshot


FEATURE = "triage"
NO_RESPONSE = "_No response_"  # what GitHub writes for an empty optional form field

_HEADING = re.compile(r"^\s{0,3}###\s+(?P<label>.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_KEY_VALUE = re.compile(
    r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?[*_`]*\s*(?P<key>[A-Za-z][A-Za-z0-9 @/_-]{0,40}?)\s*[*_`]*"
    r"\s*[:=]\s*[*_`]*\s*(?P<value>.*?)\s*[*_`]*\s*$"
)
_NUMBER = re.compile(r"[-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?")
_FROM_TO = re.compile(
    r"(?i)(?:(?P<metric>[A-Za-z][\w@./-]*)\s+(?:(?:dropped|fell|regressed|rose|increased|"
    r"decreased|went|jumped|climbed|changed|moved)\s+(?:up\s+|down\s+)?)?)?from\s+"
    r"(?P<baseline>" + _NUMBER.pattern + r")\s*%?\s*(?:ms|s)?\s+to\s+"
    r"(?P<current>" + _NUMBER.pattern + r")"
)
_NOT_METRICS = frozenset({"it", "this", "that", "which", "value", "score", "number", "and"})
_MAX_EXPONENT = 30  # eval metrics live far inside 1e-30 .. 1e30
_URL = re.compile(r"https?://[^\s)>\]]+")
_SHA = re.compile(r"(?i)\bcommit\b[^0-9a-f\n]{0,20}\b(?P<sha>[0-9a-f]{7,40})\b")
# Hidden data in the triage comment: a digest of what the summary was rendered from (so a
# change of assignees alone does not rewrite it) and the duplicate decision, made once.
_DATA = re.compile(
    r"<!-- dataface-ops:triage-data key=(?P<key>[0-9a-f]+)(?: duplicate-of=(?P<n>\d+))? -->"
)


# --- parsing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """What an issue body says about a regression."""

    fields: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()  # labels of required fields without a usable value
    form: bool = False  # the body had the form's headings

    @property
    def baseline(self) -> Decimal | None:
        """The baseline value as a number."""
        return parse_number(self.fields.get("baseline"))

    @property
    def current(self) -> Decimal | None:
        """The current value as a number."""
        return parse_number(self.fields.get("current"))

    @property
    def duplicate_key(self) -> tuple[str, str] | None:
        """(suite, metric), case-insensitive: what makes two regressions the same."""
        suite, metric = self.fields.get("suite"), self.fields.get("metric")
        if not suite or not metric:
            return None
        return suite.strip().lower(), metric.strip().lower()


def parse_number(text: str | None) -> Decimal | None:
    """The first number in `text` ("0.91", "1,240 ms", "84%"), exactly, or None."""
    if not text:
        return None
    found = _NUMBER.search(text)
    if found is None:
        return None
    try:
        number = Decimal(found.group(0).replace(",", ""))
    except InvalidOperation:
        return None
    # "1e999999999" is a valid Decimal, but arithmetic on it overflows the context (a crash
    # for the whole sweep) and printing the change would make a comment GitHub rejects.
    if number and abs(number.adjusted()) > _MAX_EXPONENT:
        return None
    return number


def _form_sections(body: str) -> dict[str, str | None]:
    """`### Label` sections of a rendered issue form: label (lower case) -> value or None."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    fenced = False
    for line in body.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
            continue  # a `render:` field wraps its value in a code fence
        heading = None if fenced else _HEADING.match(line)
        if heading:
            current = sections.setdefault(heading.group("label").strip().lower(), [])
            continue
        if current is not None:
            current.append(line)
    values: dict[str, str | None] = {}
    for label, lines in sections.items():
        value = "\n".join(lines).strip()
        values[label] = None if value in ("", NO_RESPONSE) else value
    return values


def _clean(value: str) -> str:
    return value.strip().strip("`*_").strip()


def parse_report(policy: TriagePolicy, body: str) -> Report:
    """Read the regression report from a form body, an API-filed body or free text."""
    return _parse_report(policy.fields, body)


@functools.lru_cache(maxsize=4096)
def _parse_report(specs: tuple[FormField, ...], body: str) -> Report:
    # Cached: duplicate detection reads every open regression's body once per subject.
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    sections = _form_sections(body)
    fields: dict[str, str] = {}
    form = False
    for spec in specs:
        label = spec.label.lower()
        if label in sections:
            form = True
            value = sections[label]
            if value is not None:
                fields[spec.key] = (
                    _clean(value.split("\n")[0]) if spec.key != "target" else (_clean(value))
                )
    if not form:
        fields.update(_free_form(specs, body))
    missing: list[str] = []
    for spec in specs:
        value = fields.get(spec.key)
        numeric = spec.key in ("baseline", "current")
        if numeric and value is not None and parse_number(value) is None:
            fields.pop(spec.key)
            missing.append(f"{spec.label} (not a number)")
            continue
        if spec.key == "run_url" and value is not None and not _URL.search(value):
            fields.pop(spec.key)
            missing.append(f"{spec.label} (not a link)")
            continue
        if spec.required and not fields.get(spec.key):
            missing.append(spec.label)
    return Report(fields=fields, missing=tuple(missing), form=form)


def _free_form(specs: tuple[FormField, ...], body: str) -> dict[str, str]:
    """Best effort for bodies written by hand: `Key: value` lines, `from X to Y`, links."""
    aliases: list[tuple[str, str]] = []
    for spec in specs:
        for alias in (spec.label, *spec.aliases):
            aliases.append((alias.lower(), spec.key))
    aliases.sort(key=lambda pair: -len(pair[0]))
    fields: dict[str, str] = {}
    for line in body.split("\n"):
        heading = _HEADING.match(line)
        if heading:
            continue
        match = _KEY_VALUE.match(line)
        if not match or not match.group("value"):
            continue
        key = " ".join(match.group("key").lower().split())
        for alias, name in aliases:
            if key == alias and name not in fields:
                value = _clean(match.group("value"))
                if value and value != NO_RESPONSE:
                    fields[name] = value
                break
    change = _FROM_TO.search(body)
    if change:
        fields.setdefault("baseline", change.group("baseline"))
        fields.setdefault("current", change.group("current"))
        if change.group("metric") and change.group("metric").lower() not in _NOT_METRICS:
            fields.setdefault("metric", change.group("metric"))
    if "run_url" not in fields:
        links = _URL.findall(body)
        runs = [link for link in links if "/runs/" in link]
        if runs:
            fields["run_url"] = runs[0]
    if "commit" not in fields:
        sha = _SHA.search(body)
        if sha:
            fields["commit"] = sha.group("sha")
    return fields


# --- sizing and routing --------------------------------------------------------------------


@dataclass(frozen=True)
class Sizing:
    """How bad a regression is."""

    severity: str
    family: Metric | None
    worsening: Decimal | None  # positive when the metric got worse
    relative: Decimal | None  # worsening / |baseline|

    def change_text(self, baseline: Decimal, current: Decimal) -> str:
        """`-0.07, -7.7%; higher is better`: the signed change, as reported."""
        delta = current - baseline
        text = f"{delta:+}"
        if baseline != 0:
            text += f", {(delta / abs(baseline) * 100):+.1f}%"
        if self.family is not None:
            text += f"; {self.family.better} is better"
        return text


def size(policy: TriagePolicy, metric: str, baseline: Decimal, current: Decimal) -> Sizing:
    """Severity from the size of the regression, direction-aware; bounds are inclusive."""
    family = policy.metric(metric)
    if family is None:
        return Sizing(policy.default_severity, None, None, None)
    worsening = baseline - current if family.better == "higher" else current - baseline
    relative = worsening / abs(baseline) if baseline != 0 else None
    if worsening > 0:
        for severity in policy.severities:
            for threshold in family.thresholds:
                if threshold.severity != severity:
                    continue
                if threshold.absolute is not None and worsening >= threshold.absolute:
                    return Sizing(severity, family, worsening, relative)
                if (
                    threshold.relative is not None
                    and relative is not None
                    and relative >= threshold.relative
                ):
                    return Sizing(severity, family, worsening, relative)
    return Sizing(policy.default_severity, family, worsening, relative)


def _glob(value: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)


def area_rule(policy: TriagePolicy, report: Report) -> AreaRule | None:
    """The area rule for a report: the affected tool or prompt first, then the suite."""
    target = report.fields.get("target")
    if target:
        for rule in policy.areas:
            if _glob(target.strip(), rule.targets):
                return rule
    suite = report.fields.get("suite")
    if suite:
        for rule in policy.areas:
            if _glob(suite.strip(), rule.suites):
                return rule
    return None


# --- per-issue decisions -------------------------------------------------------------------


def is_regression(policy: TriagePolicy, issue: Issue) -> bool:
    """Whether triage treats this issue as an eval regression."""
    if issue.state != "open":
        return False
    if any(label in issue.labels for label in policy.recognise.labels):
        return True
    pattern = policy.recognise.title_pattern
    if pattern and re.search(pattern, issue.title):
        return True
    if policy.recognise.form:
        sections = _form_sections(issue.body.replace("\r\n", "\n"))
        wanted = [f.label.lower() for f in policy.fields if f.key in ("suite", "metric")]
        return all(label in sections for label in wanted)
    return False


def find_comment(issue: Issue, key: str) -> Comment | None:
    """The comment carrying the marker `key`, if the comments were read."""
    return issue.marked_comment(marker(FEATURE, key))


def is_fresh(issue: Issue) -> bool:
    """Never triaged: no triage comment (so no decision of ours a person could have undone)."""
    return issue.comments_count == 0 or (
        issue.comments is not None and find_comment(issue, f"issue-{issue.number}") is None
    )


def _is_person(actor: str, bot: str) -> bool:
    return actor.lower() != bot.lower()


def removed_by_person(issue: Issue, label: str, bot: str) -> bool:
    """Whether the latest change of `label` was a person removing it."""
    last = None
    for event in issue.events or ():
        if event.event in ("labeled", "unlabeled") and event.label == label:
            last = event
    return last is not None and last.event == "unlabeled" and _is_person(last.actor, bot)


def added_by_bot(issue: Issue, label: str, bot: str) -> bool:
    """Whether the latest change of `label` was the bot adding it."""
    last = None
    for event in issue.events or ():
        if event.event in ("labeled", "unlabeled") and event.label == label:
            last = event
    return last is not None and last.event == "labeled" and not _is_person(last.actor, bot)


def closed_by_bot(issue: Issue, bot: str) -> bool:
    """Whether the bot ever closed this issue (unknown events: not as far as we know)."""
    return any(e.event == "closed" and not _is_person(e.actor, bot) for e in issue.events or ())


def unassigned_by_person(issue: Issue, bot: str) -> bool:
    """Whether a person ever took an assignee off this issue."""
    return any(e.event == "unassigned" and _is_person(e.actor, bot) for e in issue.events or ())


def may_lift_needs_info(policy: TriagePolicy, issue: Issue) -> bool:
    """Whether `needs-info` is on an issue whose report is now complete (the events say who
    added it, and only the bot's own label comes off)."""
    return policy.labels.needs_info in issue.labels and not parse_report(policy, issue.body).missing


def assignment_dropped(issue: Issue, bot: str) -> bool:
    """Whether the bot's triage edit landed but no assignment did.

    GitHub silently drops assignees without access to the repository from an issue edit;
    trying again on every run would only repeat the same write.
    """
    events = issue.events or ()
    edited = any(e.event == "labeled" and not _is_person(e.actor, bot) for e in events)
    return edited and not any(e.event == "assigned" for e in events)


def severity_label(policy: TriagePolicy, issue: Issue) -> str | None:
    """The severity the issue is labelled with (a person's choice wins over ours)."""
    prefix = policy.labels.severity_prefix
    for label in issue.labels:
        if label.startswith(prefix) and label[len(prefix) :] in policy.sla_hours:
            return label[len(prefix) :]
    return None


def acknowledged(policy: TriagePolicy, issue: Issue) -> bool:
    """Acknowledged: the `triaged` label, or a comment by a current assignee."""
    ack = policy.acknowledgement
    if ack.label and ack.label in issue.labels:
        return True
    if ack.assignee_comment:
        assignees = {a.lower() for a in issue.assignees}
        return any(
            c.author.lower() in assignees and not c.author_is_bot for c in issue.comments or ()
        )
    return False


def due_at(policy: TriagePolicy, issue: Issue) -> dt.datetime | None:
    """When the regression must be acknowledged by (None without a severity)."""
    severity = severity_label(policy, issue)
    if severity is None:
        return None
    return issue.created_at + dt.timedelta(hours=policy.sla_hours[severity])


def runbook_url(policy: TriagePolicy, snapshot: Snapshot) -> str:
    """Link to the eval-regression runbook on the default branch."""
    base = policy.server_url.rstrip("/")
    return f"{base}/{snapshot.repo}/blob/{snapshot.default_branch}/{policy.runbook}"


def inert(text: str) -> str:
    """Text from an issue, safe to echo in a comment: an HTML comment typed into a report
    could carry one of our markers and pass for what the bot wrote (an escalation record)."""
    return text.replace("<!--", "&lt;!--")

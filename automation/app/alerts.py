"""The Alertmanager receiver: `POST /alerts/alertmanager` opens or updates one incident per
alert group, comments when it resolves, and closes it if the incidents policy says so.

The payload is Prometheus Alertmanager's webhook JSON (version "4"), documented at
https://prometheus.io/docs/alerting/latest/configuration/#webhook_config . It is checked at
the edge (`parse_payload`), queued durably like a GitHub delivery (name `alertmanager`, the
configured repository in `repository.full_name`), then processed here:

    collect_alert_incident  GET /repos/{o}/{r}/issues?state=open&labels=incident (the open
                            incident carrying the group's marker), its comments if resolved
    plan_alert              pure: UpsertIssue / UpsertComment / EditIssue
    execute                 the house's executor (a retried POST finds the issue by marker)
    incident feature        run on the issue in the same job: the app ignores the
                            issues.opened delivery of its own write, so triage must not wait

An alert group's identity is a hash of its `groupKey` in a hidden marker. Only an OPEN
incident is updated: a group that fires again after its incident was closed opens a new
incident (a new occurrence gets its own clock and postmortem; the old one keeps its
timeline).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
)

from automation.actions import Action, EditIssue, Plan, UpsertComment, UpsertIssue
from automation.markers import marker

if TYPE_CHECKING:
    from automation.app.config import AppConfig
    from automation.app.processor import InstallationClients, PolicyCache
    from automation.app.queue import Delivery, Processor
    from automation.github import Repository
    from automation.policy.policies import Policies
    from automation.snapshot.models import Issue

log = logging.getLogger("dataface_ops.webhook")

EVENT = "alertmanager"
FEATURE = "alertmanager"
# The house's incident feature (triage, clock, escalation), run on the issue in the same job.
INCIDENT_FEATURE = "incidents"
NO_RESPONSE = "_No response_"
# GitHub's limits: a title of 256 characters, a body of 65,536.
TITLE_LIMIT = 256
BODY_LIMIT = 65_536
MAX_LISTED = 50  # alerts listed in the body; the rest are counted


class _Part(BaseModel):
    # Fields Alertmanager adds in later versions pass; the ones read here are checked.
    model_config = ConfigDict(extra="ignore", frozen=True)


Labels = dict[StrictStr, StrictStr]


class Alert(_Part):
    """One alert of the group (the field names are Alertmanager's, camelCase)."""

    status: Literal["firing", "resolved"]
    labels: Labels
    annotations: Labels = Field(default_factory=dict)
    startsAt: AwareDatetime
    endsAt: AwareDatetime
    generatorURL: StrictStr = ""
    fingerprint: StrictStr = ""


class AlertGroup(_Part):
    """Alertmanager's webhook payload: one notification about one alert group."""

    version: Literal["4"]
    groupKey: StrictStr = Field(min_length=1, max_length=10_000)
    truncatedAlerts: StrictInt = Field(default=0, ge=0)
    status: Literal["firing", "resolved"]
    receiver: StrictStr
    groupLabels: Labels = Field(default_factory=dict)
    commonLabels: Labels = Field(default_factory=dict)
    commonAnnotations: Labels = Field(default_factory=dict)
    externalURL: StrictStr = ""
    alerts: tuple[Alert, ...] = Field(min_length=1, max_length=10_000)


class PayloadError(ValueError):
    """The body is not Alertmanager's webhook JSON."""


def parse_payload(body: bytes) -> tuple[AlertGroup, Any]:
    """Decode and check the body; PayloadError with one line naming the first problem."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"not valid JSON: {str(exc)[:200]}") from None
    try:
        return AlertGroup.model_validate(data), data
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"]) or "payload"
        message = "missing" if error["type"] == "missing" else str(error["msg"])
        # The first problem only: pydantic adds echoes of it (a list left too short).
        raise PayloadError(f"not Alertmanager's webhook JSON: {where}: {message}") from None


def group_hash(group_key: str) -> str:
    """A short stable hash of the group key (group keys can be long and hold any text)."""
    return hashlib.sha256(group_key.encode("utf-8")).hexdigest()[:20]


def incident_marker(group_key: str) -> str:
    """The hidden marker of the incident opened for this alert group."""
    return marker(FEATURE, f"group:{group_hash(group_key)}")


def resolved_marker(group_key: str) -> str:
    """The hidden marker of the one comment saying the group resolved."""
    return marker(FEATURE, f"resolved:{group_hash(group_key)}")


def delivery_id(body: bytes) -> str:
    """The queue's id of a notification: a retried identical POST is the same delivery."""
    return "alertmanager-" + hashlib.sha256(body).hexdigest()[:40]


def queued_body(repo: str, raw: Any) -> bytes:
    """What the queue stores: the payload as received, and the repository it is for."""
    return json.dumps(
        {"repository": {"full_name": repo}, EVENT: raw}, sort_keys=True, separators=(",", ":")
    ).encode()


# --- the incident body (pure) ----------------------------------------------------------------


def _first(group: AlertGroup, key: str, *, annotation: bool = True, label: bool = True) -> str:
    """A value from the common annotations or labels, else from the first alert having it."""
    sources: list[Mapping[str, str]] = []
    if annotation:
        sources.append(group.commonAnnotations)
    if label:
        sources.append(group.commonLabels)
    for alert in group.alerts:
        if annotation:
            sources.append(alert.annotations)
        if label:
            sources.append(alert.labels)
    for source in sources:
        value = source.get(key, "").strip()
        if value:
            return value
    return ""


def _time(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _one_line(text: str) -> str:
    # A value sits on lines of its own under its heading: no heading or marker may start there.
    return " ".join(text.split()).replace("<!--", "&lt;!--")


def _field(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("<!--", "&lt;!--").strip().splitlines()]
    # A heading or a code fence in an annotation would end or hide the incident's fields.
    kept = [
        ("\\" + line if line.lstrip().startswith(("#", "```", "~~~")) else line) for line in lines
    ]
    return "\n".join(kept).strip() or NO_RESPONSE


def incident_fields(group: AlertGroup, tool_label: str) -> dict[str, str]:
    """The incident form's fields, filled from the alert group."""
    summary = _first(group, "summary", label=False)
    description = _first(group, "description", label=False)
    symptom = "\n\n".join(x for x in (summary, description) if x) or _first(group, "alertname")
    links = []
    for url in dict.fromkeys(
        (_first(group, "runbook_url", label=False), *(a.generatorURL for a in group.alerts))
    ):
        if url.startswith(("https://", "http://")):
            links.append(f"- {_one_line(url)}")
    if group.externalURL.startswith(("https://", "http://")):
        links.append(f"- {_one_line(group.externalURL)} (Alertmanager)")
    return {
        "tool": _one_line(_first(group, tool_label, annotation=False)) or NO_RESPONSE,
        "symptom": _field(symptom),
        "started_at": _time(min(a.startsAt for a in group.alerts)),
        "impact": _one_line(_first(group, "impact")) or NO_RESPONSE,
        "error_rate": _one_line(_first(group, "error_rate")) or NO_RESPONSE,
        "links": "\n".join(links[:20]) or NO_RESPONSE,
    }


def incident_title(group: AlertGroup, tool_label: str) -> str:
    """`Incident: TOOL: summary` (or the alert name), within GitHub's title limit."""
    tool = _first(group, tool_label, annotation=False)
    what = _first(group, "summary", label=False) or _first(group, "alertname") or "alert"
    title = _one_line(f"Incident: {tool}: {what}" if tool else f"Incident: {what}")
    return title[:TITLE_LIMIT]


def _alert_line(alert: Alert) -> str:
    name = alert.labels.get("alertname", "alert")
    labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname")
    when = f"since {_time(alert.startsAt)}"
    if alert.status == "resolved":
        when += f", resolved {_time(alert.endsAt)}"
    return _one_line(f"- **{alert.status}** `{name}` {{{labels}}} {when}")


def incident_body(policies: Policies, group: AlertGroup, tool_label: str) -> str:
    """The body in the incident form's format (`### Label`, a blank line, the value), its
    marker first, then the group's alerts under a heading of their own."""
    headings = policies.incidents.fields
    values = incident_fields(group, tool_label)
    parts = [incident_marker(group.groupKey)]
    for key in ("tool", "symptom", "started_at", "impact", "error_rate", "links"):
        parts.append(f"### {headings.label(key)}\n\n{values[key]}")
    listed = [_alert_line(a) for a in group.alerts[:MAX_LISTED]]
    hidden = len(group.alerts) - len(listed) + group.truncatedAlerts
    if hidden:
        listed.append(f"- ...and {hidden} more")
    parts.append("### Alerts\n\n" + "\n".join(listed))
    parts.append(
        f"_Opened by the Alertmanager receiver for the alert group of receiver "
        f"`{_one_line(group.receiver)}`; it updates this issue while the group fires._"
    )
    return ("\n\n".join(parts) + "\n")[:BODY_LIMIT]


def resolved_comment(group: AlertGroup) -> str:
    """The one comment saying the alert group resolved."""
    ended = max(a.endsAt for a in group.alerts)
    count = len(group.alerts) + group.truncatedAlerts
    noun = "alert" if count == 1 else "alerts"
    return (
        f"{resolved_marker(group.groupKey)}\n"
        f"Resolved: Alertmanager reports the group's {count} {noun} resolved "
        f"(last at {_time(ended)})."
    )


# --- plan (pure) -----------------------------------------------------------------------------


def find_incident(issues: tuple[Issue, ...], group_key: str) -> Issue | None:
    """The open incident the receiver opened for this group (the oldest, should there be two).

    Only the bot's own issues count: anyone can file an incident form with a marker in it.
    """
    tag = incident_marker(group_key)
    found = [i for i in issues if i.state == "open" and i.author_is_bot and tag in i.body]
    return min(found, key=lambda i: i.number) if found else None


def plan_alert(
    policies: Policies, issues: tuple[Issue, ...], group: AlertGroup, tool_label: str
) -> Plan:
    """Open or update the group's incident while it fires; comment (and close) once resolved."""
    existing = find_incident(issues, group.groupKey)
    settings = policies.incidents.alertmanager
    actions: list[Action] = []
    notes: list[str] = []
    if group.status == "firing":
        title = incident_title(group, tool_label)
        body = incident_body(policies, group, tool_label)
        if existing is None:
            actions.append(
                UpsertIssue(
                    reason="an alert group fires and no open incident carries its marker",
                    marker=incident_marker(group.groupKey),
                    title=title,
                    body=body,
                    labels=(policies.incidents.labels.incident,),
                )
            )
        elif existing.title != title or existing.body != body:
            actions.append(
                UpsertIssue(
                    reason=f"the alert group of incident #{existing.number} fired again",
                    marker=incident_marker(group.groupKey),
                    title=title,
                    body=body,
                    number=existing.number,
                )
            )
        return Plan(FEATURE, tuple(actions), tuple(notes))
    if existing is None:
        notes.append("resolved: no open incident for this alert group")
        return Plan(FEATURE, (), tuple(notes))
    if settings.comment_on_resolved:
        tag = resolved_marker(group.groupKey)
        text = resolved_comment(group)
        said = next((c for c in existing.comments or () if tag in c.body), None)
        if said is None or said.body != text:
            actions.append(
                UpsertComment(
                    reason="the alert group resolved",
                    number=existing.number,
                    marker=tag,
                    body=text,
                    comment_id=said.id if said else None,
                )
            )
    if settings.close_on_resolved:
        actions.append(
            EditIssue(
                reason="the alert group resolved and incidents.alertmanager.close_on_resolved",
                number=existing.number,
                state="closed",
                state_reason="completed",
            )
        )
    return Plan(FEATURE, tuple(actions), tuple(notes))


# --- collect and process ---------------------------------------------------------------------


def collect_alert_incident(
    repo: Repository, policies: Policies, group: AlertGroup
) -> tuple[Issue, ...]:
    """GET /repos/{o}/{r}/issues?state=open&labels=incident; the group's incident with its
    comments when the notification says resolved (its resolved comment may be there)."""
    from automation.snapshot.collect import open_issues, with_comments

    issues = tuple(open_issues(repo, policies.incidents.labels.incident))
    found = find_incident(issues, group.groupKey)
    if found is None or group.status != "resolved":
        return issues
    return tuple(with_comments(repo, i) if i.number == found.number else i for i in issues)


def alert_processor(
    config: AppConfig,
    clients: InstallationClients,
    policies: PolicyCache,
    *,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Processor:
    """Process a queued Alertmanager notification for the configured repository."""
    from automation import engine
    from automation import features as registry
    from automation.app.processor import installation_of, job_failures, raise_if_stopped
    from automation.app.queue import Permanent
    from automation.execute import execute
    from automation.github import known_repo, request_json

    def process(delivery: Delivery) -> None:
        event = delivery.event
        full_name = event.repo
        assert full_name  # the intake wrote the configured repository
        try:
            group = AlertGroup.model_validate(event.payload.get(EVENT))
        except ValidationError:
            raise Permanent("stored Alertmanager payload unreadable") from None
        started = now()
        with job_failures(started.timestamp):
            client = clients.for_job(installation_of(clients, full_name))
            repo = client.get_repo(full_name)  # lazy: no request
            # GET /repos/{o}/{r}: the default branch, where the policies are read from.
            branch = str(request_json(repo, "GET", repo.url).get("default_branch") or "main")
            # The collectors link runbooks on it: a repository that knows it (no request).
            repo = known_repo(client, full_name, branch)
            loaded = policies.get(repo, full_name, branch)
            off = loaded.off_reason(("incidents",))
            if off is not None:
                # Incidents are opt-in by file like every feature: no issue without it.
                raise Permanent(f"the Alertmanager receiver opens no incident: {off}")
            issues = collect_alert_incident(repo, loaded, group)
            plan = plan_alert(loaded, issues, group, config.alerts_tool_label)
            report = execute(
                [plan],
                repo,
                dry_run=config.dry_run,
                max_writes=config.max_writes,
                started=started,
            )
            for outcome in report.outcomes:
                log.info(
                    "%s: %s %s",
                    outcome.status,
                    outcome.action.describe(),
                    outcome.detail,
                    extra={"feature": FEATURE},
                )
            raise_if_stopped(report.stopped, client)
            if report.failed:
                # GitHub failed a write: the retry finds what was made by its marker.
                raise RuntimeError(f"{len(report.failed)} write(s) failed; retrying")
            if config.dry_run or registry.FEATURES.get(INCIDENT_FEATURE) is None:
                return
            written = any(o.status == "applied" for o in report.outcomes)
            number = _incident_number(repo, loaded, group, issues, written)
            if number is None:
                return
            # The app ignores its own issues.opened/edited/closed deliveries: triage, the
            # clock and the postmortem run here, on this issue, in the same job.
            triage = engine.run_live(
                repo,
                loaded,
                (INCIDENT_FEATURE,),
                (number,),
                started,
                dry_run=config.dry_run,
                max_writes=config.max_writes,
            )
            if triage.stopped or not triage.ok:
                raise RuntimeError(
                    f"{INCIDENT_FEATURE} on #{number}: "
                    f"{triage.stopped or '; '.join(triage.errors) or 'a write failed'}"
                )

    return process


def _incident_number(
    repo: Repository,
    policies: Policies,
    group: AlertGroup,
    before: tuple[Issue, ...],
    written: bool,
) -> int | None:
    """The group's incident after the writes: known, or (just opened) listed once more."""
    found = find_incident(before, group.groupKey)
    if found is not None:
        return found.number
    if not written:
        return None
    from automation.snapshot.collect import open_issues

    # The POST's answer is not kept by the executor: one more list finds it by its marker.
    after = find_incident(
        tuple(open_issues(repo, policies.incidents.labels.incident)), group.groupKey
    )
    return after.number if after is not None else None


def dispatching(engine: Processor, alerts: Processor) -> Processor:
    """One processor for the queue: Alertmanager notifications here, GitHub's to the engine."""

    def process(delivery: Delivery) -> None:
        if delivery.event.name == EVENT:
            alerts(delivery)
        else:
            engine(delivery)

    return process

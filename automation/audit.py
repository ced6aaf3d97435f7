"""`dataface-ops audit`: who owns what, and the loose ends of the operating model. Pure."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from automation.policy.policies import Policies


@dataclass(frozen=True)
class Finding:
    """One loose end: a kind, the policy file and field it is in, and a sentence."""

    kind: str
    where: str
    message: str
    file: str = ""  # file:line, for a finding outside the policy files' fields


@dataclass(frozen=True)
class Holding:
    """What one person owns: areas as owner (directly or through a team), and as secondary."""

    login: str
    name: str
    owns: tuple[str, ...]
    secondary_for: tuple[str, ...]
    rotations: tuple[str, ...]


@dataclass
class AuditReport:
    """Everything `dataface-ops audit` reports."""

    holdings: list[Holding] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def referenced_logins(policies: Policies) -> Iterator[tuple[str, str]]:
    """(login, where) for every person the policies name."""
    owners = policies.owners
    for index, person in enumerate(owners.people):
        yield person.login, f"owners.yaml people[{index}]"
    for t_index, team in enumerate(owners.teams):
        for m_index, member in enumerate(team.members):
            yield member, f"owners.yaml teams[{t_index}].members[{m_index}]"
    for a_index, area in enumerate(owners.areas):
        for o_index, ref in enumerate(area.owners):
            if owners.team(ref) is None:
                yield ref, f"owners.yaml areas[{a_index}].owners[{o_index}]"
        if area.secondary:
            yield area.secondary, f"owners.yaml areas[{a_index}].secondary"
    for r_index, rotation in enumerate(policies.oncall.rotations):
        for m_index, member in enumerate(rotation.members):
            yield member, f"oncall.yaml rotations[{r_index}].members[{m_index}]"


UNLISTED = "the token cannot list them (it needs push access)"


def run_audit(
    policies: Policies, collaborators: tuple[str, ...] | None, unchecked_because: str = UNLISTED
) -> AuditReport:
    """Audit the policies; `collaborators` None means they could not be listed."""
    from automation.docs import protected_owners

    report = AuditReport()
    owners = policies.owners
    for person in owners.people:
        login = person.login.lower()
        report.holdings.append(
            Holding(
                person.login,
                person.name,
                tuple(a.name for a in owners.areas if login in _lower(owners.expand(a.owners))),
                tuple(a.name for a in owners.areas if (a.secondary or "").lower() == login),
                tuple(r.name for r in policies.oncall.rotations if login in _lower(r.members)),
            )
        )

    if collaborators is None:
        report.notes.append(f"collaborators not checked: {unchecked_because}")
    else:
        known = _lower(collaborators)
        seen: set[str] = set()
        for login, where in referenced_logins(policies):
            if login.lower() not in known and login.lower() not in seen:
                seen.add(login.lower())
                report.findings.append(
                    Finding(
                        "not-a-collaborator",
                        where,
                        f"@{login} is not a collaborator: GitHub will not let them be "
                        "assigned or requested for review",
                    )
                )
    for index, area in enumerate(owners.areas):
        if area.secondary is None:
            report.findings.append(
                Finding(
                    "no-secondary",
                    f"owners.yaml areas[{index}]",
                    f"area '{area.name}' has no secondary: escalations have nobody to go to",
                )
            )
    for index, rotation in enumerate(policies.oncall.rotations):
        if len(_lower(rotation.members)) == 1:
            report.findings.append(
                Finding(
                    "single-person-rotation",
                    f"oncall.yaml rotations[{index}]",
                    f"rotation '{rotation.name}' has one person (@{rotation.members[0]}): "
                    "nobody covers their leave",
                )
            )
    groups = {g.name: index for index, g in enumerate(policies.ownership.protected)}
    for row in protected_owners(policies):
        if not row.owners:
            report.findings.append(
                Finding(
                    "unowned-protected-path",
                    f"ownership.yaml protected[{groups[row.group]}]",
                    f"protected path '{row.path}' ({row.group}) is owned by no area: "
                    "no approval can ever satisfy the owner-approval check",
                )
            )
    return report


def _lower(logins: tuple[str, ...] | list[str]) -> set[str]:
    return {login.lower() for login in logins}


def render_audit(report: AuditReport) -> str:
    """The audit as Markdown (it reads fine as plain text too)."""
    lines = ["## Who owns what", "", "| person | owns | secondary for | on call in |"]
    lines.append("| --- | --- | --- | --- |")
    for h in report.holdings:
        lines.append(
            f"| @{h.login} ({h.name}) | {', '.join(h.owns) or '-'} | "
            f"{', '.join(h.secondary_for) or '-'} | {', '.join(h.rotations) or '-'} |"
        )
    lines += ["", f"## Findings ({len(report.findings)})", ""]
    if not report.findings:
        lines.append("None.")
    for finding in report.findings:
        where = finding.file or f"policies/{finding.where}"
        lines.append(f"- [{finding.kind}] {where}: {finding.message}")
    for note in report.notes:
        lines += ["", f"Note: {note}"]
    return "\n".join(lines) + "\n"

"""`dataface-ops incidents explain`: where one incident's clock stands, and why."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.snapshot.models import Snapshot


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `incidents explain`."""
    from automation.commands import common

    common.add_explain(
        sub,
        "incidents",
        "MCP tool incident tooling",
        "show severity, acknowledgement, escalation, status updates and postmortem",
        cmd_explain,
    )


def cmd_explain(args: argparse.Namespace) -> int:
    """Print the clock of one incident; reads it through GitHub when live."""
    from automation.commands import common
    from automation.features.incidents.explain import explain, explain_lines

    policies = common.policies(args, needs="incidents")
    now = common.now(args)
    snapshot = common.explained_snapshot(args, lambda: _read_one(args, args.number, now, policies))
    document = explain(policies, snapshot, args.number, now)
    common.print_explained(args, f"Incident: #{args.number}", explain_lines(document), document)
    return common.EXIT_OK


def _read_one(
    args: argparse.Namespace, number: int, now: dt.datetime, policies: Policies
) -> Snapshot:
    """GET the issue, its comments (when it has any), its reactions and events when the
    clock rests on them, and the postmortems when it is a closed sev1/sev2: as the sweep."""
    from automation.commands import common
    from automation.features.incidents.collect import _complete, listed_issues
    from automation.rules.incidents import wants_postmortem
    from automation.snapshot.collect import (
        is_pull_request,
        issue_from_json,
        raw,
        read_events,
        read_reactions,
    )
    from automation.snapshot.models import Snapshot

    repo = common.repository(common.settings(args))
    data = raw(repo.get_issue(number).complete())
    if is_pull_request(data):
        raise common.UsageError(f"#{number} is a pull request, not an incident")
    issue = _complete(repo, policies, issue_from_json(data), now)
    if issue.reactions is None and issue.reactions_count != 0:
        # explain says how it was acknowledged, so it reads what the sweep may skip.
        issue = issue.model_copy(update={"reactions": read_reactions(repo, number)})
    if policies.incidents.acknowledgement.label in issue.labels and issue.events is None:
        issue = issue.model_copy(update={"events": read_events(repo, number)})  # when
    context = (
        listed_issues(repo, policies.incidents.postmortem.label, "all")
        if wants_postmortem(policies, issue)
        else []
    )
    others = tuple(i for i in context if i.number != number)
    return Snapshot.model_validate(
        {"repo": repo.full_name, "taken_at": now, "issues": (issue, *others)}
    )

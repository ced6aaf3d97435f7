"""`dataface-ops stale explain`: how the stale sweep sees one item, and why."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from automation.policy.policies import Policies
    from automation.snapshot.models import Snapshot


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `stale explain`."""
    from automation.commands import common

    common.add_explain(
        sub,
        "stale",
        "stale backlog tooling",
        "show the rule, exemptions, activity and verdict for one item",
        cmd_explain,
    )


def cmd_explain(args: argparse.Namespace) -> int:
    """Print how the sweep sees one item; reads the item and its timeline when live."""
    from automation.commands import common
    from automation.features.stale.plan import explain

    policies = common.policies(args, needs="stale")
    now = common.now(args)
    snapshot = common.explained_snapshot(args, lambda: _read_one(args, args.number, now, policies))
    lines = explain(policies, snapshot, args.number, now)
    verdicts = [line.removeprefix("verdict: ") for line in lines if line.startswith("verdict:")]
    document = {
        "number": args.number,
        "at": now.isoformat(),
        "verdict": verdicts[-1] if verdicts else None,
        "lines": lines,
    }
    common.print_explained(args, f"Stale: #{args.number}", lines, document)
    return common.EXIT_OK


def _read_one(args: argparse.Namespace, number: int, now: object, policies: Policies) -> Snapshot:
    """GET the item, then its timeline (two reads, whatever the verdict), and for an issue
    the pinned issues (one GraphQL request) when a rule exempts them, as the sweep does."""
    from automation.commands import common
    from automation.features.stale.collect import (
        _item,
        _wants_pinned,
        read_pinned_issues,
        read_timeline,
    )
    from automation.snapshot.collect import is_pull_request, raw
    from automation.snapshot.models import PullRequest, Snapshot

    repo = common.repository(common.settings(args))
    issue = repo.get_issue(number)
    issue.update()
    data = raw(issue)
    wants = not is_pull_request(data) and _wants_pinned(policies)
    item = _item(data, read_pinned_issues(repo) if wants else frozenset())
    comments, events = read_timeline(repo, number)
    item = item.model_copy(update={"comments": comments, "events": events})
    key = "pulls" if isinstance(item, PullRequest) else "issues"
    return Snapshot.model_validate({"repo": repo.full_name, "taken_at": now, key: (item,)})

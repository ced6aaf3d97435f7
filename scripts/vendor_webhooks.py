#!/usr/bin/env python3
"""Vendor a few webhook payload examples from @octokit/webhooks-examples.

Usage:
    python scripts/vendor_webhooks.py [PATH_TO/api.github.com/index.json]

Without an argument the package is fetched with ``npm pack``. Writes
``tests/fixtures/webhooks/<event>.<action>.json`` (or ``<event>.json`` for events without
actions) plus ``VERSION.json``. Standard library only.
Note: webhooks-examples has no ``pull_request_target`` (same payload as ``pull_request``)
and no ``schedule`` (not a webhook).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

PACKAGE = "@octokit/webhooks-examples"
VERSION = "7.6.1"
FILE = "api.github.com/index.json"

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "fixtures" / "webhooks"

Payload = dict[str, Any]


def _merged(value: bool) -> Callable[[Payload], bool]:
    return lambda p: p.get("pull_request", {}).get("merged") is value


# (file stem, event, action or None, extra predicate or None, required?)
WANTED: list[tuple[str, str, str | None, Callable[[Payload], bool] | None, bool]] = [
    ("issues.opened", "issues", "opened", None, True),
    ("issues.edited", "issues", "edited", None, True),
    ("issues.reopened", "issues", "reopened", None, True),
    ("issues.labeled", "issues", "labeled", None, True),
    ("issues.unlabeled", "issues", "unlabeled", None, True),
    ("issue_comment.created", "issue_comment", "created", None, True),
    ("pull_request.opened", "pull_request", "opened", None, True),
    ("pull_request.synchronize", "pull_request", "synchronize", None, True),
    ("pull_request.reopened", "pull_request", "reopened", None, True),
    # 7.6.1 has no closed example with merged=true; see derive_merged() below.
    ("pull_request.closed", "pull_request", "closed", _merged(True), False),
    ("pull_request.closed-unmerged", "pull_request", "closed", _merged(False), False),
    ("pull_request.edited", "pull_request", "edited", None, False),
    ("pull_request.ready_for_review", "pull_request", "ready_for_review", None, False),
    ("pull_request_review.submitted", "pull_request_review", "submitted", None, True),
    ("pull_request_review.dismissed", "pull_request_review", "dismissed", None, True),
    ("workflow_dispatch", "workflow_dispatch", None, None, True),
    ("ping", "ping", None, None, True),
]


def fetch_with_npm() -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="octokit-webhooks-examples-"))
    subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=tmp, check=True)
    tarball = next(tmp.glob("*.tgz"))
    with tarfile.open(tarball) as tar:
        names = [f"package/{FILE}", "package/package.json"]
        tar.extractall(tmp, members=[tar.getmember(n) for n in names], filter="data")
    return tmp / "package" / FILE


def find(
    index: list[dict[str, Any]],
    event: str,
    action: str | None,
    pred: Callable[[Payload], bool] | None,
) -> Payload | None:
    for entry in index:
        if entry["name"] != event:
            continue
        for payload in entry["examples"]:
            if action is not None and payload.get("action") != action:
                continue
            if pred is not None and not pred(payload):
                continue
            return dict(payload)
    return None


def derive_merged(unmerged: Payload) -> tuple[Payload, dict[str, Any]]:
    """Derive a merged ``pull_request.closed`` payload from a real unmerged one.

    Only used when the package has no merged example; the patch is recorded in
    VERSION.json so nobody mistakes it for a verbatim GitHub payload.
    """
    payload = json.loads(json.dumps(unmerged))
    pr = payload["pull_request"]
    patch = {
        "merged": True,
        "merged_at": pr.get("closed_at"),
        "merged_by": payload.get("sender"),
        "merge_commit_sha": pr.get("merge_commit_sha") or pr["head"]["sha"],
        "mergeable": None,
        "mergeable_state": "unknown",
    }
    pr.update(patch)
    return payload, {"pull_request": {k: v for k, v in patch.items() if k != "merged_by"}}


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else fetch_with_npm()
    index = json.loads(src.read_text(encoding="utf-8"))
    version = VERSION
    package_json = src.parent.parent / "package.json"  # package/api.github.com/index.json
    if package_json.is_file():
        meta = json.loads(package_json.read_text(encoding="utf-8"))
        if meta.get("name") == PACKAGE:
            version = meta["version"]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    missing: list[str] = []
    derived: dict[str, Any] = {}
    for stem, event, action, pred, required in WANTED:
        payload = find(index, event, action, pred)
        if payload is None and stem == "pull_request.closed":
            unmerged = find(index, event, action, _merged(False))
            if unmerged is not None:
                payload, patch = derive_merged(unmerged)
                derived[f"{stem}.json"] = {
                    "from": "first pull_request/closed example (merged=false)",
                    "patched": patch,
                    "also": "pull_request.merged_by set to the payload's sender",
                }
        if payload is None:
            if required:
                raise SystemExit(f"no example for {stem} in {src}")
            missing.append(stem)
            continue
        path = OUT_DIR / f"{stem}.json"
        path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(stem)
    meta_out = {
        "package": PACKAGE,
        "version": version,
        "file": FILE,
        "selection": (
            "first example per event/action; pull_request.closed has merged=true"
            " (derived from an unmerged example when the package has none, see derived)"
        ),
        "files": sorted(f"{s}.json" for s in written),
        "not_available": sorted(missing),
        "derived": derived,
        "notes": [
            "webhooks-examples has no pull_request_target (same payload as pull_request)",
            "schedule is not a webhook event and has no example",
        ],
    }
    (OUT_DIR / "VERSION.json").write_text(
        json.dumps(meta_out, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"wrote {len(written)} payloads to {OUT_DIR.relative_to(ROOT)}; missing: {missing}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

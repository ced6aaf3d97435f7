#!/usr/bin/env python3
"""Vendor a small, dereferenced subset of GitHub's REST OpenAPI description.

Usage:
    python scripts/vendor_github_api.py [PATH_TO/api.github.com.json]

Without an argument the description is fetched with ``npm pack @octokit/openapi@VERSION``
into a temporary directory. The output is ``tests/github_api/openapi-subset.json``.
Standard library only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@octokit/openapi"
VERSION = "23.0.2"
FILE = "generated/api.github.com.json"

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "github_api" / "openapi-subset.json"

# (METHOD, path template). POST /graphql is not part of the REST description.
OPERATIONS: list[tuple[str, str]] = [
    ("GET", "/repos/{owner}/{repo}"),
    ("GET", "/user"),
    ("GET", "/rate_limit"),
    ("GET", "/repos/{owner}/{repo}/issues"),
    ("POST", "/repos/{owner}/{repo}/issues"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"),
    ("GET", "/repos/{owner}/{repo}/labels"),
    ("POST", "/repos/{owner}/{repo}/labels"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/events"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/timeline"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/assignees"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/reactions"),
    ("GET", "/repos/{owner}/{repo}/pulls"),
    ("POST", "/repos/{owner}/{repo}/pulls"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers"),
    ("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers"),
    ("POST", "/repos/{owner}/{repo}/check-runs"),
    ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
    ("POST", "/repos/{owner}/{repo}/statuses/{sha}"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses"),
    ("GET", "/repos/{owner}/{repo}/compare/{basehead}"),
    ("GET", "/repos/{owner}/{repo}/commits"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}"),
    ("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls"),
    ("GET", "/repos/{owner}/{repo}/git/ref/{ref}"),
    ("POST", "/repos/{owner}/{repo}/git/refs"),
    ("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}"),
    ("POST", "/repos/{owner}/{repo}/git/tags"),
    ("GET", "/repos/{owner}/{repo}/branches/{branch}"),
    ("GET", "/repos/{owner}/{repo}/tags"),
    ("GET", "/repos/{owner}/{repo}/releases"),
    ("POST", "/repos/{owner}/{repo}/releases"),
    ("GET", "/repos/{owner}/{repo}/releases/latest"),
    ("GET", "/repos/{owner}/{repo}/releases/tags/{tag}"),
    ("GET", "/repos/{owner}/{repo}/contents/{path}"),
    ("GET", "/repos/{owner}/{repo}/collaborators"),
    ("GET", "/repos/{owner}/{repo}/collaborators/{username}"),
    ("GET", "/orgs/{org}/teams/{team_slug}/members"),
    ("GET", "/repos/{owner}/{repo}/codeowners/errors"),
    ("POST", "/app/installations/{installation_id}/access_tokens"),
    ("GET", "/repos/{owner}/{repo}/installation"),
    ("GET", "/app/hook/deliveries"),
    ("POST", "/app/hook/deliveries/{delivery_id}/attempts"),
    ("GET", "/app"),
    # The retrospective's PR: one commit of several files (git data API).
    ("POST", "/repos/{owner}/{repo}/git/trees"),
    ("POST", "/repos/{owner}/{repo}/git/commits"),
]

# Schema keywords kept in the subset; everything else (description, example(s),
# x-github*, discriminator, title, deprecated, readOnly...) is dropped.
SCHEMA_KEYS = {
    "type",
    "properties",
    "items",
    "enum",
    "required",
    "nullable",
    "anyOf",
    "oneOf",
    "allOf",
    "format",
    "additionalProperties",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
}
MAX_DEPTH = 10  # nesting depth (in schemas) after which sub-schemas become {} (any)


class Resolver:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ValueError(f"external $ref not supported: {ref}")
        node: Any = self.spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def deref(self, node: Any) -> Any:
        """Follow a top-level $ref chain (for parameters, responses, examples)."""
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise ValueError(f"$ref cycle at {ref}")
            seen.add(ref)
            node = self.lookup(ref)
        return node

    def schema(self, node: Any, stack: tuple[str, ...] = (), depth: int = 0) -> Any:
        """Inline every $ref, keep only SCHEMA_KEYS, cut recursion and excessive depth."""
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if ref in stack or depth > MAX_DEPTH:
                return {}
            return self.schema(self.lookup(ref), (*stack, ref), depth)
        if depth > MAX_DEPTH:
            return {}
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key not in SCHEMA_KEYS:
                continue
            if key == "properties":
                out[key] = {name: self.schema(sub, stack, depth + 1) for name, sub in value.items()}
            elif key in ("items", "additionalProperties"):
                out[key] = self.schema(value, stack, depth + 1)
            elif key in ("anyOf", "oneOf", "allOf"):
                out[key] = [self.schema(sub, stack, depth + 1) for sub in value]
            else:
                out[key] = value
        return out


def _pick_content(content: dict[str, Any]) -> dict[str, Any] | None:
    if "application/json" in content:
        return dict(content["application/json"])
    for media, body in content.items():
        if media.endswith("json"):
            return dict(body)
    return None


def vendor_operation(r: Resolver, method: str, path: str) -> dict[str, Any]:
    item = r.spec["paths"].get(path)
    if item is None:
        raise KeyError(f"path not in description: {path}")
    op = item.get(method.lower())
    if op is None:
        raise KeyError(f"{method} not documented for {path}")
    params: dict[str, dict[str, Any]] = {"path": {}, "query": {}}
    for raw in [*item.get("parameters", []), *op.get("parameters", [])]:
        p = r.deref(raw)
        if p["in"] in params:
            params[p["in"]][p["name"]] = {
                "required": bool(p.get("required", False)),
                "schema": r.schema(p.get("schema", {})),
            }
    result: dict[str, Any] = {
        "method": method,
        "path": path,
        "operationId": op["operationId"],
        "path_params": params["path"],
        "query_params": params["query"],
        "request_body": None,
        "responses": {},
    }
    if "requestBody" in op:
        rb = r.deref(op["requestBody"])
        content = _pick_content(rb.get("content", {}))
        result["request_body"] = {
            "required": bool(rb.get("required", False)),
            "media_types": sorted(rb.get("content", {})),
            "schema": r.schema(content.get("schema", {})) if content else None,
        }
    for status, raw in op["responses"].items():
        resp = r.deref(raw)
        entry: dict[str, Any] = {}
        if str(status).startswith("2"):
            content = _pick_content(resp.get("content", {}))
            if content is not None:
                entry["schema"] = r.schema(content.get("schema", {}))
                examples = content.get("examples") or {}
                if examples:
                    name = "default" if "default" in examples else sorted(examples)[0]
                    ex = r.deref(examples[name])
                    # Some examples wrap a $ref to another example object in "value".
                    while isinstance(ex.get("value"), dict) and "$ref" in ex["value"]:
                        ex = r.deref(ex["value"])
                    if "value" in ex:
                        entry["example"] = ex["value"]
                        entry["example_name"] = name
                elif "example" in content:
                    entry["example"] = content["example"]
        result["responses"][str(status)] = entry
    return result


def fetch_with_npm() -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="octokit-openapi-"))
    subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=tmp, check=True)
    tarball = next(tmp.glob("*.tgz"))
    with tarfile.open(tarball) as tar:
        member = tar.getmember(f"package/{FILE}")
        tar.extractall(tmp, members=[member], filter="data")
    return tmp / "package" / FILE


def dump(out: dict[str, Any]) -> str:
    """Sorted-key JSON, compact, one operation per line (stable and diffable, ~1 MB)."""
    # Provenance first, then the rest of the header in sorted order.
    head = {"source": dict(sorted(out["source"].items()))}
    head.update(sorted((k, v) for k, v in out.items() if k not in ("source", "operations")))
    lines = [json.dumps(op, sort_keys=True, separators=(",", ":")) for op in out["operations"]]
    head_text = json.dumps(head, indent=1)[:-2]  # drop closing "\n}"
    return head_text + ',\n "operations": [\n' + ",\n".join(lines) + "\n ]\n}\n"


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else fetch_with_npm()
    spec = json.loads(src.read_text(encoding="utf-8"))
    version = VERSION
    package_json = src.parent.parent / "package.json"  # package/generated/<file>
    if package_json.is_file():
        meta = json.loads(package_json.read_text(encoding="utf-8"))
        if meta.get("name") == PACKAGE:
            version = meta["version"]
    r = Resolver(spec)
    ops = [vendor_operation(r, m, p) for m, p in OPERATIONS]
    out = {
        "source": {"package": PACKAGE, "version": version, "file": FILE},
        "openapi": spec.get("openapi"),
        "info_version": spec.get("info", {}).get("version"),
        "operations": ops,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(dump(out), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(ops)} operations, {OUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

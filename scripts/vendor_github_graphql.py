#!/usr/bin/env python3
"""Vendor GitHub's public GraphQL schema for the test mock (tests/github_api/graphql.py).

Usage:
    python scripts/vendor_github_graphql.py [PATH_TO/schema.graphql]

Without an argument the schema is fetched with ``npm pack @octokit/graphql-schema@VERSION``
into a temporary directory. The output is ``tests/github_api/graphql-schema.graphql``.
Standard library only.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@octokit/graphql-schema"
VERSION = "15.26.1"
FILE = "package/schema.graphql"

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "github_api" / "graphql-schema.graphql"


def main() -> None:
    if len(sys.argv) > 1:
        shutil.copyfile(sys.argv[1], OUT)
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=tmp, check=True)
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as archive:
            member = archive.extractfile(FILE)
            assert member is not None
            OUT.write_bytes(member.read())
    print(f"wrote {OUT.relative_to(ROOT)} from {PACKAGE}@{VERSION}")


if __name__ == "__main__":
    main()

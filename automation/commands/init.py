"""`dataface-ops init`: adopt one feature at a time, starting in dry-run.

Writes minimal, commented policy files (with a `$schema` header pointing at the schemas
published with this version) and the workflow, never over an existing file; `init --check`
says what is still missing or invalid for the chosen features.
"""

from __future__ import annotations

import argparse
from pathlib import Path

SCHEMA_URL = (
    "https://raw.githubusercontent.com/dataface/dataface-ops/v{version}/"
    "policies/schema/{name}.schema.json"
)
WORKFLOW = Path(".github/workflows/dataface-ops.yml")
DRY_RUN = "dry-run: 'true' # start here: read the job summaries, then delete this line"


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `init`."""
    parser = sub.add_parser(
        "init", help="write minimal policies and the workflow for the chosen features"
    )
    parser.add_argument(
        "--features",
        metavar="NAMES",
        default="",
        help="comma-separated features to adopt (default: every feature)",
    )
    parser.add_argument("--dir", default=".", help="the repository's root (default: .)")
    parser.add_argument(
        "--check", action="store_true", help="say what is missing or invalid; write nothing"
    )
    parser.set_defaults(handler=cmd_init)


def chosen_features(text: str) -> tuple[str, ...]:
    """The named features in running order (UsageError for an unknown one); all if none."""
    from automation import engine

    names = [n.strip() for n in text.split(",") if n.strip()]
    return engine.resolve_features(names)


def files_for(features: tuple[str, ...]) -> dict[str, bool]:
    """Policy file name -> whether init writes it switched on (its feature was chosen).

    A file only referred into (oncall.yaml's rotations for triage) is written with
    `enabled: false` unless its own feature was chosen; owners.yaml turns no feature on.
    """
    from automation import features as registry
    from automation.policy.loader import POLICY_FILES

    on = {name for f in features for name in registry.get(f).policy_files}
    used = {name for f in features for name in registry.get(f).uses_files}

    return {name: name in on for name in POLICY_FILES if name in on | used}


def policy_text(name: str, switched_on: bool) -> str:
    """A minimal policy file: the `$schema` header, then the commented template."""
    from importlib.metadata import version
    from importlib.resources import files

    url = SCHEMA_URL.format(version=version("dataface-ops"), name=name)
    header = f"# yaml-language-server: $schema={url}"
    body = files("automation").joinpath(f"templates/init/{name}.yaml").read_text("utf-8")
    if not switched_on and _owned_by_a_feature(name):
        off = "enabled: false # read by the features you chose; true also runs its own feature"
        body = f"{off}\n{body}"
    return f"{header}\n{body}"


def _owned_by_a_feature(name: str) -> bool:
    from automation import features as registry

    return any(name in f.policy_files for f in registry.FEATURES.values())


def workflow_text() -> str:
    """The adoption workflow with the action in dry-run on every job."""
    from importlib.resources import files

    text = files("automation").joinpath("templates/init/dataface-ops.yml").read_text("utf-8")
    lines = text.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        out.append(line)
        index += 1
        if "uses: dataface/dataface-ops@" not in line:
            continue
        indent = " " * (len(line) - len(line.lstrip()) + 2)
        if index < len(lines) and lines[index].strip() == "with:":
            out.append(lines[index])
            index += 1
        else:
            out.append(f"{indent}with:")
        out.append(f"{indent}  {DRY_RUN}")
    return "\n".join(out) + "\n"


def cmd_init(args: argparse.Namespace) -> int:
    """Write what is missing (never overwriting), or with --check only report it."""
    from automation.commands.common import EXIT_FAILED, EXIT_OK

    features = chosen_features(args.features)
    root = Path(args.dir)
    wanted = files_for(features)
    if args.check:
        return EXIT_OK if _check(root, features, wanted) else EXIT_FAILED
    targets = {root / "policies" / f"{n}.yaml": policy_text(n, on) for n, on in wanted.items()}
    targets[root / WORKFLOW] = workflow_text()
    for path, text in targets.items():
        if path.exists():
            print(f"kept {path} (it exists)")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    print(f"next: dataface-ops init --check --features {','.join(features)} --dir {root}")
    return EXIT_OK


def _check(root: Path, features: tuple[str, ...], wanted: dict[str, bool]) -> bool:
    """Print each missing file, policy problem or feature left off; True when none."""
    from automation import engine
    from automation.policy.loader import PolicyError, load_policy_dir

    directory = root / "policies"
    gaps = [
        f"{directory}/{name}.yaml is missing"
        for name in wanted
        if not (directory / f"{name}.yaml").exists()
    ]
    if not (root / WORKFLOW).exists():
        gaps.append(f"{root / WORKFLOW} is missing")
    try:
        policies = load_policy_dir(directory) if directory.is_dir() else None
    except PolicyError as exc:
        gaps.extend(str(p) for p in exc.problems)
        policies = None
    if policies is not None:
        from automation.protection import protection_gaps

        on, off = engine.switched_on(policies, features)
        gaps.extend(line for line in off if "enabled: false" in line)  # absent: said above
        if "ownership" in on:  # as `validate`: the check must guard what it reads
            gaps.extend(str(gap) for gap in protection_gaps(policies, directory))
    for gap in gaps:
        print(gap)
    if gaps:
        print(f"not ready: {len(gaps)} thing(s) to fix; `dataface-ops init` writes missing files")
        return False
    print(f"ready: {', '.join(features)} (start in dry-run; see the job summary)")
    return True

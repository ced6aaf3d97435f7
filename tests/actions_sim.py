"""Run our workflows' logic the way GitHub Actions would, far enough to reach the acting step.

For an event (name + payload) this decides which jobs of a workflow run (`on:` triggers and
types, each job's `if:`), follows `uses: ./` into action.yml, renders the inputs and the
acting step's `env:` with GitHub's expression rules, and returns the command line and the
environment the runner would give `dataface-ops run`. The expression evaluator covers the
subset our files use (property paths, literals, ! == != && || and contains/startsWith/format);
anything else raises, so a workflow edit cannot silently escape these tests.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
ACTION = ROOT / "action.yml"


class ExpressionError(Exception):
    """An expression this evaluator does not understand."""


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||[!(),])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_*][A-Za-z0-9_-]*)*))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ExpressionError(f"cannot parse {text[pos:]!r} in {text!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def truthy(value: Any) -> bool:
    """GitHub's falsy values: false, 0, '', null (and NaN)."""
    return value not in (None, False, 0, "") and value == value


def _equal(a: Any, b: Any) -> bool:
    # Strings compare case-insensitively; null and '' both coerce to 0.
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if {type(a), type(b)} <= {type(None), str} and (a in (None, "") and b in (None, "")):
        return True
    return bool(a == b)


class _Parser:
    def __init__(self, text: str, context: Mapping[str, Any]) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.context = context
        self.text = text

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value or 'more'} in {self.text!r}")
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"trailing {self.peek()} in {self.text!r}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.cmp()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.cmp()
            value = right if truthy(value) else value
        return value

    def cmp(self) -> Any:
        value = self.unary()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            right = self.unary()
            value = _equal(value, right) if op == "==" else not _equal(value, right)
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.atom()

    def atom(self) -> Any:
        kind, text = self.take()
        if text == "(":
            value = self.or_()
            self.take(")")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind != "name":
            raise ExpressionError(f"unexpected {text!r} in {self.text!r}")
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if self.peek() == ("op", "("):
            return self.call(text)
        return self.lookup(text)

    def call(self, name: str) -> Any:
        self.take("(")
        args: list[Any] = []
        while self.peek() != ("op", ")"):
            args.append(self.or_())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        if name == "contains":
            haystack, needle = args
            if isinstance(haystack, list):
                return any(_equal(item, needle) for item in haystack)
            return str(needle or "").lower() in str(haystack or "").lower()
        if name == "startsWith":
            return str(args[0] or "").lower().startswith(str(args[1] or "").lower())
        if name == "format":
            return re.sub(r"\{(\d+)\}", lambda m: str(args[1 + int(m.group(1))]), args[0])
        raise ExpressionError(f"function {name}() is not supported by the simulator")

    def lookup(self, path: str) -> Any:
        head, *rest = path.split(".")
        if head not in self.context:
            raise ExpressionError(f"unknown context {head!r} in {self.text!r}")
        value: Any = self.context[head]
        for part in rest:
            value = value.get(part) if isinstance(value, Mapping) else None
        return value


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """Evaluate one expression (without the `${{ }}`)."""
    return _Parser(expression, context).parse()


_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Render a YAML value holding `${{ }}` templates; a lone template keeps its type."""
    if not isinstance(value, str):
        return value
    whole = _TEMPLATE.fullmatch(value.strip())
    if whole:
        return evaluate(whole.group(1), context)
    return _TEMPLATE.sub(lambda m: _to_string(evaluate(m.group(1), context)), value)


def _to_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def condition(text: Any, context: Mapping[str, Any]) -> bool:
    """Evaluate a job or step `if:` (bare expression or `${{ }}`)."""
    if text is None:
        return True
    if isinstance(text, bool):
        return text
    stripped = str(text).strip()
    whole = _TEMPLATE.fullmatch(stripped)
    return truthy(evaluate(whole.group(1) if whole else stripped, context))


def load(path: Path) -> dict[str, Any]:
    """Load a workflow; PyYAML reads the `on` key as True (YAML 1.1), so normalise it."""
    data: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return data


def triggers(workflow: Mapping[str, Any]) -> dict[str, Any]:
    """The workflow's `on:` as a mapping of event name -> its settings."""
    on = workflow["on"]
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on)


def subscribed(workflow: Mapping[str, Any], name: str, payload: Mapping[str, Any]) -> bool:
    """Whether GitHub would start this workflow for the event (name, `types:`, cron)."""
    settings = triggers(workflow)
    if name not in settings:
        return False
    config = settings[name] or {}
    if name == "schedule":
        return any(entry["cron"] == payload.get("schedule") for entry in config)
    types = config.get("types") if isinstance(config, Mapping) else None
    return types is None or payload.get("action") in types


@dataclass(frozen=True)
class ActingStep:
    """What the runner hands the acting step of one job."""

    workflow: str
    job: str
    argv: list[str]
    env: dict[str, str]
    permissions: dict[str, str]
    checkout: dict[str, Any]
    concurrency: str


def dispatch_inputs(workflow: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """`inputs` as a workflow_dispatch run sees them: declared defaults, typed values."""
    declared = (triggers(workflow).get("workflow_dispatch") or {}).get("inputs") or {}
    values = {name: spec.get("default") for name, spec in declared.items()}
    for name, value in given.items():
        if name not in declared:
            raise KeyError(f"workflow_dispatch has no input {name!r}")
        values[name] = value
    return values


def acting_steps(
    workflow_file: str,
    name: str,
    payload: Mapping[str, Any],
    *,
    action_inputs: Mapping[str, str] | None = None,
    token: str = "ghs_actions_token",
) -> list[ActingStep]:
    """Every job that would run for the event, reduced to its acting step's argv and env."""
    workflow = load(ROOT / workflow_file if "/" in workflow_file else WORKFLOWS / workflow_file)
    if not subscribed(workflow, name, payload):
        return []
    inputs = payload.get("inputs") if name == "workflow_dispatch" else None
    context: dict[str, Any] = {
        "github": {
            "event_name": name,
            "event": payload,
            "token": token,
            "api_url": "https://api.github.com",
            "repository": (payload.get("repository") or {}).get("full_name"),
            "action_path": str(ROOT),
        },
        "inputs": dict(inputs) if isinstance(inputs, Mapping) else {},
        "secrets": {},
        "env": {},
    }
    action = load(ACTION)
    found: list[ActingStep] = []
    for job_id, job in workflow["jobs"].items():
        if not condition(job.get("if"), context):
            continue
        checkout: dict[str, Any] = {}
        for step in job["steps"]:
            uses = step.get("uses", "")
            if uses.startswith("actions/checkout@"):
                checkout = {k: render(v, context) for k, v in (step.get("with") or {}).items()}
            # `./` in this repository; `dataface/dataface-ops@SHA` in an adopting one.
            if uses != "./" and not uses.startswith("dataface/dataface-ops@"):
                continue
            given = {k: render(v, context) for k, v in (step.get("with") or {}).items()}
            given.update(action_inputs or {})
            declared = action["inputs"]
            unknown = set(given) - set(declared)
            if unknown:
                raise KeyError(f"{workflow_file} {job_id}: unknown action inputs {unknown}")
            # A default may itself be an expression (`${{ github.token }}`), rendered like a value.
            values = {
                k: _to_string(given.get(k, render(spec.get("default"), context)))
                for k, spec in declared.items()
            }
            for key, spec in declared.items():
                if spec.get("required") and not values[key]:
                    raise KeyError(f"{workflow_file} {job_id}: required input {key!r} is empty")
            action_context = {**context, "inputs": values}
            acting = [s for s in action["runs"]["steps"] if "dataface-ops" in str(s.get("run"))]
            assert len(acting) == 1, "action.yml must have exactly one dataface-ops step"
            step_env = {
                k: _to_string(render(v, action_context))
                for k, v in (acting[0].get("env") or {}).items()
            }
            found.append(
                ActingStep(
                    workflow_file,
                    job_id,
                    shlex.split(acting[0]["run"]),
                    step_env,
                    dict(job.get("permissions") or {}),
                    checkout,
                    _to_string(render((job.get("concurrency") or {}).get("group"), context)),
                )
            )
    return found


def runner_env(
    step: ActingStep, name: str, payload: Mapping[str, Any], tmp: Path
) -> dict[str, str]:
    """The environment GitHub's runner gives a step: event file, GITHUB_* and the step's env."""
    event_path = tmp / "event.json"
    event_path.write_text(json.dumps(payload), encoding="utf-8")
    summary = tmp / "step_summary.md"
    summary.touch()
    repo = (payload.get("repository") or {}).get("full_name") or "dataface/dataface"
    return {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": repo,
        "GITHUB_API_URL": "https://api.github.com",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_WORKFLOW": step.workflow,
        "GITHUB_JOB": step.job,
        "GITHUB_WORKSPACE": str(ROOT),
        "GITHUB_STEP_SUMMARY": str(summary),
        **step.env,
    }

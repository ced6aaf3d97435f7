"""Policies the validator used to let through (issue 12, case 8), through `validate`.

Each broken copy must give `policies/FILE.yaml:LINE` on every problem line, exit 2, no
traceback, in under 2 s and 200 MB.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from automation.cli import main
from automation.policy.templating import render_template, template_problem
from tests.policy_files import ROOT, edit_policy

SECONDS = 2.0
BYTES = 200 * 1024 * 1024

# (file, old, new, what the problem line says). The problem is on the line `old` was on.
CASES: list[tuple[str, str, str, str]] = [
    # Globs are compiled at load: an unclosed [ used to validate, then never match as meant.
    ("triage.yaml", '"chat-*"', '"chat-[*"', r"areas\[2\]\.suites\[0\]: .*unclosed '\['"),
    ("triage.yaml", '"prompts/*"', '"prompts/[*"', r"areas\[1\]\.targets\[0\]: .*unclosed"),
    ("triage.yaml", '"f1*"', '"f1[*"', r"metrics\[0\]\.match\[4\]: .*unclosed"),
    ("stale.yaml", '"security*"', '"security[*"', r"rules\[0\]\.exempt_labels\[2\]: .*unclosed"),
    ("stale.yaml", '["*"]', '["[v1*"]', r"rules\[1\]\.exempt_milestones\[0\]: .*unclosed"),
    ("triage.yaml", '"mcp-*"', '"mcp-\\\\*"', r"areas\[0\]\.suites\[1\]: .*backslash"),
    ("stale.yaml", '"do-not-close"', '"do-not-close\\\\"', r"exempt_labels\[1\]: .*backslash"),
    # CODEOWNERS patterns: GitHub does not support escaping a leading #, nor a lone backslash.
    ("owners.yaml", '["dataface/ai/"]', '["\\\\#ai/"]', r"areas\[0\]\.paths\[0\]: .*'#'"),
    ("owners.yaml", '["dataface/ai/"]', '["#ai/"]', r"areas\[0\]\.paths\[0\]: .*comment"),
    ("owners.yaml", '["dataface/ai/"]', '["dataface/ai\\\\"]', r"paths\[0\]: .*backslash"),
    ("release.yaml", '["prompts/"]', '["\\\\#prompts/"]', r"categories\[1\]\.paths\[0\]: .*'#'"),
    # Durations that make no sense.
    ("triage.yaml", "sev1: 4\n", "sev1: -4\n", r"sla_hours\.sev1: .*greater than 0"),
    ("triage.yaml", "sev2: 24\n", "sev2: 0\n", r"sla_hours\.sev2: .*greater than 0"),
    ("triage.yaml", "sev3: 72\n", "sev3: 100000000000\n", r"sla_hours\.sev3: .*less than"),
    ("stale.yaml", "days_until_stale: 60", "days_until_stale: 10000000000000", r"less than"),
    # An override replacing someone the rotation never puts on call would never apply.
    (
        "oncall.yaml",
        "replaces: maya-chen",
        "replaces: lena-fischer",
        r"rotations\[0\]\.overrides\[0\]\.replaces: 'lena-fischer' is not in rotation",
    ),
    # Impossible dates: a traceback from inside the YAML loader before.
    ("release.yaml", "start: 2026-12-18", "start: 2026-02-30", r"freezes\[0\]\.start: .*date"),
    ("release.yaml", "date: 2026-12-08", "date: 2026-12-32", r"blackout_dates\[0\]\.date: "),
    ("oncall.yaml", "start: 2026-01-05", "start: 2026-02-30", r"rotations\[0\]\.start: "),
    ("oncall.yaml", "start: 2026-12-21", "start: 2026-02-30", r"overrides\[1\]\.start: "),
    ("oncall.yaml", '"2026-12-10T00:00"', "2026-12-32T00:00:00", r"overrides\[0\]\.start"),
    # Dates at the edge of the calendar: `oncall now` overflowed computing the day after.
    ("oncall.yaml", "end: 2027-01-01", "end: 9999-12-31", r"overrides\[1\]\.end: .*year"),
    ("release.yaml", "end: 2027-01-04", "end: 9999-12-31", r"freezes\[0\]\.end: .*year"),
    ("oncall.yaml", "start: 2026-01-05", "start: 0001-01-01", r"rotations\[0\]\.start: .*year"),
    # A value of the wrong kind behind an explicit tag: ValueError inside the loader before.
    ("stale.yaml", "max_writes_per_run: 50", 'max_writes_per_run: !!int "fifty"', "YAML"),
    # Template rendering at load is bounded in time and memory.
    ("triage.yaml", "Runbook: {{ runbook_url }}", '{{ "x" * 3000000000 }}', r"comment: .*large"),
    ("stale.yaml", "{{ days_inactive }} days, so", '{{ "x" | center(3000000000) }}', "large"),
    (
        "stale.yaml",
        "{{ days_inactive }} days, so",
        "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
        r"warning_comment: .*(steps|long)",
    ),
    (
        "triage.yaml",
        "Runbook: {{ runbook_url }}",
        '{% set ns = namespace(s="xx") %}{% for i in range(64) %}'
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        r"comment: .*large",
    ),
    ("triage.yaml", "Runbook: {{ runbook_url }}", "{{ 9 ** 999999999 }}", r"comment: .*large"),
    ("triage.yaml", "Runbook: {{ runbook_url }}", '{{ "%3000000000s" % 1 }}', r"comment: .*large"),
    ("triage.yaml", "Runbook: {{ runbook_url }}", "{{ lipsum(3000000000) }}", r"comment: "),
    ("triage.yaml", "Runbook: {{ runbook_url }}", '{{ "{:>3000000000}".format(1) }}', "large"),
    # Aliases are refused: the line map followed them (billion laughs) or recursed forever.
    ("stale.yaml", "max_writes_per_run: 50", "max_writes_per_run: &n [*n]", "alias"),
]


def _run_validate(
    directory: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, float, int]:
    tracemalloc.start()
    # This thread's CPU time: a busy machine, or threads other tests left running (the
    # webhook app's workers), must not count against the loader.
    started = time.thread_time()
    try:
        code = main(["validate", "--policies", str(directory)])
    finally:
        elapsed = time.thread_time() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return code, capsys.readouterr().err, elapsed, peak


def _assert_located(err: str, directory: Path) -> list[str]:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines and lines[-1].endswith("policy problem(s); nothing was written"), err
    problems = lines[:-1]
    for line in problems:
        assert re.match(rf"^{re.escape(str(directory))}/[a-z]+\.yaml:\d+[ :]", line), line
        assert len(line) < 400, line[:400]
    return problems


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    CASES,
    ids=[f"{i:02d}-{case[0].removesuffix('.yaml')}" for i, case in enumerate(CASES)],
)
def test_the_validator_catches_what_cannot_work(
    name: str,
    old: str,
    new: str,
    expected: str,
    policy_copy: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = edit_policy(policy_copy / name, old, new)
    code, err, elapsed, peak = _run_validate(policy_copy, capsys)
    assert code == 2, err
    problems = _assert_located(err, policy_copy)
    matching = [p for p in problems if re.search(expected, p)]
    assert matching, err
    # Located at the edited line (a template problem: the line of its key, at or above it).
    located = int(re.findall(rf"{name}:(\d+)", matching[0])[0])
    assert located <= line and (located == line or "comment" in matching[0]), (located, line)
    assert elapsed < SECONDS, elapsed
    assert peak < BYTES, peak


def _laughs(levels: int) -> str:
    names = [f"l{i}" for i in range(levels)]
    rows = ['  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in itertools.pairwise(names):
        rows.append(f"  {name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "bomb:\n" + "\n".join(rows) + "\n"


def test_a_billion_laughs_is_refused_fast(
    policy_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = policy_copy / "stale.yaml"
    stale.write_text(stale.read_text() + _laughs(9))
    first_alias = stale.read_text().splitlines().index(_laughs(9).splitlines()[2]) + 1
    code, err, elapsed, peak = _run_validate(policy_copy, capsys)
    assert code == 2
    problems = _assert_located(err, policy_copy)
    assert any(f"stale.yaml:{first_alias} " in p and "alias" in p for p in problems), err
    assert elapsed < SECONDS and peak < BYTES, (elapsed, peak)


def test_a_policy_file_over_one_megabyte_is_refused_with_a_line(
    policy_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    owners = policy_copy / "owners.yaml"
    text = owners.read_text()
    padding = "# " + "x" * 98 + "\n"  # 100 bytes a line
    owners.write_text(text + padding * 11_000)  # 1.1 MB: refused before it is parsed
    code, err, elapsed, peak = _run_validate(policy_copy, capsys)
    assert code == 2
    (problem,) = _assert_located(err, policy_copy)
    # The line at which the file passes 1 MB (1,000,000 bytes).
    limit_line = owners.read_bytes()[:1_000_000].count(b"\n") + 1
    assert f"owners.yaml:{limit_line}: " in problem and "larger than 1 MB" in problem, problem
    assert elapsed < SECONDS and peak < BYTES, (elapsed, peak)


def test_a_policy_file_just_under_the_limit_loads_in_well_under_a_second(
    policy_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A 0.95 MB file (a long people list) parsed once, with libyaml's loader when present:
    # a 3 MB file took 5 s with the pure-Python loader running twice.
    owners = policy_copy / "owners.yaml"
    people = "".join(
        f"  - login: person-{i}\n    name: Person {i}\n    timezone: Europe/London\n"
        for i in range(12_500)
    )
    owners.write_text(owners.read_text().replace("people:\n", "people:\n" + people, 1))
    assert 900_000 < owners.stat().st_size < 1_000_000
    # CPU time, and no tracemalloc (it slows the loader tenfold). Before: 3.9 s; now 0.6 s.
    started = time.thread_time()
    code = main(["validate", "--policies", str(policy_copy)])
    assert code == 0, capsys.readouterr().err
    assert time.thread_time() - started < SECONDS


def test_a_huge_value_is_cut_short_in_the_error_line(
    policy_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = edit_policy(policy_copy / "owners.yaml", "login: raj-iyer", "login: " + "r" * 900_000)
    code, err, _, _ = _run_validate(policy_copy, capsys)
    assert code == 2
    problems = _assert_located(err, policy_copy)
    assert any(f"owners.yaml:{line} " in p and "not a GitHub login" in p for p in problems)
    assert len(err) < 4_000


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("triage.yaml", "Runbook: {{ runbook_url }}", '{{ "x" * 3000000000 }}'),
        ("stale.yaml", "max_writes_per_run: 50", "\n" + _laughs(9)),
        ("owners.yaml", "people:\n", "people:\n" + "# " + "x" * 5_000_000 + "\n"),
    ],
    ids=["template-bomb", "billion-laughs", "five-megabytes"],
)
def test_bombs_stay_small_in_a_real_process(
    name: str, old: str, new: str, policy_copy: Path
) -> None:
    """Peak resident memory of the whole `validate` process (C allocations too).

    The child reports its own VmHWM: the rusage a parent reads for a child (and the child's
    own ru_maxrss) starts at the parent's size at fork, so a large test process would fail
    this whatever the loader does.
    """
    edit_policy(policy_copy / name, old, new)
    peak_file = policy_copy.parent / "peak.txt"
    script = (
        "import atexit, sys\n"
        "def peak():\n"
        "    status = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
        f"    open({str(peak_file)!r}, 'w').write(status)\n"
        "atexit.register(peak)\n"
        "from automation.cli import main\n"
        f"sys.exit(main(['validate', '--policies', {str(policy_copy)!r}]))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    cpu = usage.ru_utime + usage.ru_stime
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    peak_kib = int(peak_file.read_text())
    assert peak_kib * 1024 < BYTES, peak_kib  # VmHWM is in kB
    assert cpu < SECONDS + 1, cpu  # the interpreter's start and imports included


@pytest.mark.parametrize(
    "source",
    [
        "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}",
        '{% set s = "x" * 100000 %}{% for i in range(100000) %}{{ s }}{% endfor %}',
        '{% set s = "x" * 100000 %}{% macro m() %}{% for i in range(99) %}{{ s }}{% endfor %}'
        "{% endmacro %}{{ m() | length }}",
        '{{ range(100000) | join("x" * 100000) }}',
        '{{ ("\t" * 100000).expandtabs(100000) }}',
        '{{ "%*s" % (3000000000, "x") }}',
        '{{ (1).to_bytes(3000000000, "big") }}',
        "{{ range(100000) | slice(3000000000) | list }}",
        '{{ ("a\nb" * 50000) | indent("y" * 1000) }}',
        '{{ ("{0}" * 60000).format("x" * 100000) }}',
        '{{ ("%(a)s" * 30000) % {"a": "x" * 100000} }}',
        '{{ ("a" * 100000).translate({97: "x" * 100000}) }}',
        '{{ ("x" * 100000) | wordwrap(1, true, "y" * 1000) }}',
        '{{ ("a.b " * 40000) | urlize(target="t" * 100000) }}',
        "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}"
        '{% set ns.l = ns.l + ["x" * 1000 ~ i] %}{% endfor %}',
    ],
    ids=[
        "macro-fan-out",
        "output-flood",
        "block-flood",
        "join",
        "tabs",
        "star-width",
        "to-bytes",
        "slice",
        "indent",
        "format-fields",
        "percent-fields",
        "translate",
        "wordwrap",
        "urlize",
        "list-growth",
    ],
)
def test_template_bombs_fail_fast(source: str) -> None:
    tracemalloc.start()
    started = time.thread_time()
    try:
        problem = template_problem(source, {})
    finally:
        elapsed = time.thread_time() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert problem is not None and problem.startswith("template does not render: "), problem
    assert elapsed < 1.0 and peak < 50 * 1024 * 1024, (elapsed, peak)


def test_bounded_templates_still_render_what_policies_write() -> None:
    source = (
        '{{ "{:,}".format(123456789) }} {{ "%05d" % 42 }} {{ names | join(", ") }} '
        '{{ "a" ~ "b" }} {{ 2 ** 10 }} {{ "ab" * 3 }} {{ "a-b".replace("-", "+") }}\n'
        "{% for a, b in pairs %}{{ loop.index }}:{{ a }}{{ b }}/{{ loop.length }} "
        "{% else %}none{% endfor %}{% for x in [] %}x{% else %}none{% endfor %}\n"
        "{% macro m(n) %}[{{ n }}{{ caller() }}]{% endmacro %}{% call m(1) %}c{% endcall %}"
        "{% set b %}block{% endset %}{{ b | indent(2, true) }}"
    )
    context = {"names": ["maya-chen", "dev-patel"], "pairs": [(1, 2), (3, 4)]}
    assert render_template(source, context) == (
        "123,456,789 00042 maya-chen, dev-patel ab 1024 ababab a+b\n1:12/2 2:34/2 none\n[1c]  block"
    )


def test_validate_parses_each_policy_file_once(
    policy_copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The protection check asks for owners.yaml's lines; the loader's parse answers it."""
    from automation.policy import loader

    walked: list[int] = []
    original = loader._walk

    def counting(root: Any) -> Any:
        walked.append(id(root))
        return original(root)

    monkeypatch.setattr(loader, "_walk", counting)
    assert main(["validate", "--policies", str(policy_copy)]) == 0, capsys.readouterr().err
    assert len(walked) == len(list(policy_copy.glob("*.yaml")))

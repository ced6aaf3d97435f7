"""Tests for automation.codeowners against GitHub's documented CODEOWNERS semantics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automation.codeowners import (
    MAX_BYTES,
    Codeowners,
    Rule,
    compile_pattern,
    explain,
    find_codeowners,
    generate,
    parse,
    validate,
)
from tests.codeowners_cases import GITHUB_EXAMPLE, TRICKY, G

# ------------------------------------------------------------------ GitHub's example file


def test_example_parses_without_errors() -> None:
    co = parse(GITHUB_EXAMPLE)
    assert co.errors == ()
    assert len(co.rules) == 14
    assert co.rules[1] == Rule("*.js", ("@js-owner",), 14)


@pytest.mark.parametrize(
    ("path", "owners"),
    [
        ("README.md", G),
        ("src/app.js", ("@js-owner",)),
        ("cmd/main.go", ("docs@example.com",)),
        ("notes/todo.txt", ("@octo-org/octocats",)),
        # /build/logs/ is later overridden by **/logs in the full file.
        ("build/logs/x.log", ("@octocat",)),
        # docs/* is later overridden by /docs/.
        ("docs/getting-started.md", ("@doctocat",)),
        ("docs/build-app/troubleshooting.md", ("@doctocat",)),
        ("src/apps/x.rb", ("@octocat",)),
        ("scripts/deploy.sh", ("@doctocat", "@octocat")),
        ("deeply/nested/logs/x", ("@octocat",)),
        ("scripts/logs/x", ("@octocat",)),
        ("apps/github/readme.md", ("@doctocat",)),
        ("apps/web/app.rb", ("@octocat",)),
    ],
)
def test_example_full_file(path: str, owners: tuple[str, ...]) -> None:
    assert parse(GITHUB_EXAMPLE).owners_of(path) == owners


DEFAULT = "* @global-owner1 @global-owner2\n"


@pytest.mark.parametrize(
    ("rules", "path", "owners"),
    [
        # "When someone opens a pull request that only modifies JS files, only @js-owner"
        ("*.js @js-owner #This is an inline comment.", "a/b.js", ("@js-owner",)),
        ("*.js @js-owner #This is an inline comment.", "a/b.py", G),
        # "@doctocat owns any files in the build/logs directory at the root ... subdirectories"
        ("/build/logs/ @doctocat", "build/logs/a.log", ("@doctocat",)),
        ("/build/logs/ @doctocat", "build/logs/sub/b.log", ("@doctocat",)),
        ("/build/logs/ @doctocat", "src/build/logs/a.log", G),
        # "docs/* will match docs/getting-started.md but not docs/build-app/troubleshooting.md"
        ("docs/*  docs@example.com", "docs/getting-started.md", ("docs@example.com",)),
        ("docs/*  docs@example.com", "docs/build-app/troubleshooting.md", G),
        # "@octocat owns any file in an apps directory anywhere in your repository"
        ("apps/ @octocat", "apps/a", ("@octocat",)),
        ("apps/ @octocat", "x/y/apps/a/b", ("@octocat",)),
        # "/docs/ ... in the root of your repository and any of its subdirectories"
        ("/docs/ @doctocat", "docs/a/b.md", ("@doctocat",)),
        ("/docs/ @doctocat", "src/docs/a.md", G),
        ("/scripts/ @doctocat @octocat", "scripts/x.sh", ("@doctocat", "@octocat")),
        # "**/logs: /build/logs, /scripts/logs, and /deeply/nested/logs"
        ("**/logs @octocat", "build/logs/x", ("@octocat",)),
        ("**/logs @octocat", "deeply/nested/logs/x", ("@octocat",)),
        # "/apps/github ... as its owners are left empty"
        ("/apps/ @octocat\n/apps/github", "apps/github/x", ()),
        ("/apps/ @octocat\n/apps/github", "apps/other/x", ("@octocat",)),
        # "/apps/github subdirectory has its own owner @doctocat"
        ("/apps/ @octocat\n/apps/github @doctocat", "apps/github/x", ("@doctocat",)),
        ("/apps/ @octocat\n/apps/github @doctocat", "apps/other/x", ("@octocat",)),
    ],
)
def test_example_claims_in_isolation(rules: str, path: str, owners: tuple[str, ...]) -> None:
    assert parse(DEFAULT + rules).owners_of(path) == owners


# ------------------------------------------------------------------ tricky table


@pytest.mark.parametrize(("text", "path", "owners"), TRICKY)
def test_tricky(text: str, path: str, owners: tuple[str, ...]) -> None:
    assert parse(text).owners_of(path) == owners


def test_tricky_table_is_big_enough() -> None:
    assert len(TRICKY) >= 50


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("!*.md @a", "negation"),
        ("*.[ch] @a", "char-range"),
        ("\\#notes @a", "escaped-hash"),
        ("/x @a not-an-owner", "invalid-owner"),
        ("/x @a @", "invalid-owner"),
        ("/ @a", "invalid-pattern"),
        ("a//b @a", "invalid-pattern"),
        ("x\\", "invalid-pattern"),
    ],
)
def test_rejected_lines_are_errors_and_skipped(line: str, kind: str) -> None:
    co = parse("* @d\n" + line)
    assert [(e.line, e.kind) for e in co.errors] == [(2, kind)]
    assert co.errors[0].text == line
    assert len(co.rules) == 1


def test_rule_with_no_owners_is_valid() -> None:
    co = parse("/apps/github\n")
    assert co.errors == ()
    assert co.rules == (Rule("/apps/github", (), 1),)


def test_rule_for_returns_winning_rule_and_match_many() -> None:
    co = parse("* @a\n*.md @b\n/docs/ @c\n")
    assert co.rule_for("docs/x.md") == Rule("/docs/", ("@c",), 3)
    assert co.match_many(["x.md", "x.py", "docs/y"]) == {
        "x.md": Rule("*.md", ("@b",), 2),
        "x.py": Rule("*", ("@a",), 1),
        "docs/y": Rule("/docs/", ("@c",), 3),
    }
    assert parse("*.md @b").rule_for("x.py") is None


def test_compile_pattern_fullmatches() -> None:
    assert compile_pattern("docs/*").fullmatch("docs/a")
    assert not compile_pattern("docs/*").fullmatch("docs/a/b")


# ------------------------------------------------------------------ find_codeowners


def test_find_codeowners_order_and_size() -> None:
    files = {"CODEOWNERS": "* @root", "docs/CODEOWNERS": "* @docs"}
    assert find_codeowners(files.get) == ("CODEOWNERS", "* @root")
    files[".github/CODEOWNERS"] = "* @gh"
    assert find_codeowners(files.get) == (".github/CODEOWNERS", "* @gh")
    assert find_codeowners({"docs/CODEOWNERS": "x"}.get) == ("docs/CODEOWNERS", "x")
    empty: dict[str, str] = {}
    assert find_codeowners(empty.get) is None
    # The first file found is too big: GitHub does not load it (and does not fall back).
    big = {".github/CODEOWNERS": "#" * MAX_BYTES, "CODEOWNERS": "* @root"}
    assert find_codeowners(big.get) is None
    # One byte under the limit is loaded, from the first location.
    ok = {".github/CODEOWNERS": "#" * (MAX_BYTES - 1), "CODEOWNERS": "* @root"}
    assert find_codeowners(ok.get) == (".github/CODEOWNERS", "#" * (MAX_BYTES - 1))


# ------------------------------------------------------------------ generate

AREAS: list[tuple[str, list[str], list[str], bool]] = [
    ("AI", ["dataface/ai/", "prompts/"], ["@org/ai-team"], True),
    ("Default", ["*"], ["@org/maintainers"], False),
    ("Docs", ["docs/", "*.md", "my docs/"], ["@org/docs", "docs@example.com"], False),
    ("Workflows", [".github/workflows/"], ["@org/platform"], True),
]


def test_generate_round_trip() -> None:
    text = generate(AREAS, "Source: policies/areas.yaml")
    assert text == generate(AREAS, "Source: policies/areas.yaml")  # deterministic
    assert text.startswith("# CODEOWNERS: generated by dataface-ops")
    assert "dataface-ops codeowners generate" in text
    assert "# Source: policies/areas.yaml" in text
    co = parse(text)
    assert co.errors == ()
    patterns = [r.pattern for r in co.rules]
    assert patterns == [
        "*",
        "docs/",
        "*.md",
        "my\\ docs/",
        "/dataface/ai/",
        "/prompts/",
        "/.github/workflows/",
    ]
    assert co.owners_of("dataface/ai/x.md") == ("@org/ai-team",)
    assert co.owners_of("my docs/a") == ("@org/docs", "docs@example.com")
    assert co.owners_of("src/prompts/x") == ("@org/maintainers",)  # anchored now
    assert co.owners_of(".github/workflows/ci.yml") == ("@org/platform",)


def test_generate_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        generate([("X", ["*"], ["nobody"], False)], "")
    with pytest.raises(ValueError):
        generate([("X", ["!*.md"], ["@a"], False)], "")


# ------------------------------------------------------------------ validate / explain

FILES = ["README.md", "dataface/ai/model.py", "dataface/core.py", "docs/a.md"]


def test_validate_clean() -> None:
    co = parse("* @a\n/dataface/ai/ @ai\n")
    assert validate(co, FILES, {"@a", "@AI"}, {"/dataface/ai/": ["@ai"]}) == []


def test_validate_syntax_errors() -> None:
    problems = validate(parse("* @a\n!x @b\n"), FILES, None, {})
    assert problems == ["line 2: negation: negation with ! is not supported by GitHub CODEOWNERS"]


def test_validate_unknown_owner() -> None:
    problems = validate(parse("* @a @ghost\n"), FILES, {"@a"}, {})
    assert problems == ["line 1: unknown owner @ghost"]


def test_validate_duplicate_pattern() -> None:
    problems = validate(parse("dataface/ai/ @a\n* @b\n/dataface/ai/ @c\n"), FILES, None, {})
    assert len(problems) == 1
    assert problems[0].startswith("line 1: duplicate pattern 'dataface/ai/'; line 3 overrides")


def test_validate_rule_matching_nothing() -> None:
    problems = validate(parse("* @a\n/legacy/ @b\n"), FILES, None, {})
    assert problems == ["line 2: pattern '/legacy/' matches no file"]


def test_validate_protected_overridden_and_unowned() -> None:
    co = parse("/dataface/ai/ @ai\n*.py @py\n/docs/\n")
    problems = validate(co, FILES, None, {"/dataface/ai/": ["@ai"], "/docs/": ["@d"]})
    assert any(
        "protected '/dataface/ai/'" in p and "owned by @py (line 2 '*.py')" in p for p in problems
    )
    assert any("protected '/docs/'" in p and "docs/a.md is unowned" in p for p in problems)


def test_validate_protected_path_without_files() -> None:
    co = parse("* @a\n")
    problems = validate(co, FILES, None, {"/secrets/key.pem": ["@sec"]})
    assert problems == [
        "protected '/secrets/key.pem' (expected @sec): secrets/key.pem is owned by @a (line 1 '*')"
    ]


def test_explain() -> None:
    co = parse("* @a\n/apps/github\n")
    assert explain(co, "x.py") == "x.py: @a (line 1 '*')"
    assert explain(co, "apps/github/x") == (
        "apps/github/x: unowned: line 2 '/apps/github' matches and lists no owners"
    )
    assert explain(parse("*.md @a"), "x.py") == "x.py: unowned: no rule matches"


# ------------------------------------------------------------------ property: index == reference


def _seg_match(pat: str, name: str) -> bool:
    """Independent glob for one segment: '*' any run, '?' one char (no regex)."""
    if not pat:
        return not name
    if pat[0] == "*":
        return any(_seg_match(pat[1:], name[k:]) for k in range(len(name) + 1))
    if not name:
        return False
    return (pat[0] == "?" or pat[0] == name[0]) and _seg_match(pat[1:], name[1:])


def _ends(ps: list[str], xs: list[str]) -> set[int]:
    """How many leading path segments xs the pattern segments ps can consume."""
    if not ps:
        return {0}
    head, rest = ps[0], ps[1:]
    out: set[int] = set()
    if head == "**":
        lo = 1 if not rest else 0  # trailing /** needs something inside
        for k in range(lo, len(xs) + 1):
            out |= {k + e for e in _ends(rest, xs[k:])}
        return out
    if xs and _seg_match(head, xs[0]):
        out |= {1 + e for e in _ends(rest, xs[1:])}
    return out


def reference_match(pattern: str, path: str) -> bool:
    """Plain reading of GitHub's rules, written independently of the regex compiler."""
    anchored = pattern.startswith("/")
    body = pattern[1:] if anchored else pattern
    dir_only = body.endswith("/")
    body = body[:-1] if dir_only else body
    ps = body.split("/")
    anchored = anchored or len(ps) > 1
    xs = path.split("/")
    starts = [0] if anchored or ps[0] == "**" else range(len(xs))
    for start in starts:
        for used in _ends(ps, xs[start:]):
            left = len(xs) - start - used
            if dir_only:
                ok = left >= 1
            elif ps[-1] == "*" and anchored:
                ok = left == 0
            else:
                ok = True
            if ok:
                return True
    return False


NAMES = ["a", "b", "a.py", "b.md", ".env", "logs", "ab"]
PAT_SEGS = ["a", "b", "logs", "*", "?", "**", "*.py", "a*", "*b", "?b", ".env"]

paths_st = st.lists(st.sampled_from(NAMES), min_size=1, max_size=5).map("/".join)
pattern_st = st.builds(
    lambda lead, segs, trail: ("/" if lead else "") + "/".join(segs) + ("/" if trail else ""),
    st.booleans(),
    st.lists(st.sampled_from(PAT_SEGS), min_size=1, max_size=4),
    st.booleans(),
)
rules_st = st.lists(
    st.tuples(pattern_st, st.sampled_from(["@a", "@b", "@c", "@org/t", "x@y.io"])),
    min_size=1,
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(rules=rules_st, paths=st.lists(paths_st, min_size=1, max_size=10))
def test_index_agrees_with_brute_force_reference(
    rules: list[tuple[str, str]], paths: list[str]
) -> None:
    co = Codeowners(tuple(Rule(p, (o,), i + 1) for i, (p, o) in enumerate(rules)))
    for path in paths:
        expected: tuple[str, ...] = ()
        regex_expected: tuple[str, ...] = ()
        for rule in reversed(co.rules):
            if reference_match(rule.pattern, path):
                expected = rule.owners
                break
        for rule in reversed(co.rules):
            if compile_pattern(rule.pattern).fullmatch(path):
                regex_expected = rule.owners
                break
        assert co.owners_of(path) == expected == regex_expected, (path, rules)

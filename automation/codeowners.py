"""Parse, match, generate and check GitHub CODEOWNERS files (pure: no network, no PyGithub).

Semantics follow GitHub's "About code owners" documentation:
https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "LOCATIONS",
    "MAX_BYTES",
    "Codeowners",
    "CodeownersError",
    "Rule",
    "compile_pattern",
    "explain",
    "find_codeowners",
    "generate",
    "is_valid_owner",
    "parse",
    "parse_cached",
    "validate",
]

# GitHub searches these in order and uses the first one it finds.
LOCATIONS: tuple[str, ...] = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
# GitHub docs: "CODEOWNERS files must be under 3 MB in size ... will not be loaded".
MAX_BYTES = 3 * 1024 * 1024

# Owner forms GitHub accepts: @username, @org/team-name, or an email address.
_USER_RE = re.compile(r"@[A-Za-z0-9][A-Za-z0-9_-]*")
_TEAM_RE = re.compile(r"@[A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9_][A-Za-z0-9_.-]*")
_EMAIL_RE = re.compile(r"[^@\s/]+@[^@\s/]+\.[^@\s/]+")


@dataclass(frozen=True)
class Rule:
    """One valid CODEOWNERS line: a pattern (as written, escapes kept) and its owners."""

    pattern: str
    owners: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class CodeownersError:
    """A line GitHub would reject (and skip) with the reason."""

    line: int
    kind: str
    message: str
    text: str


# --------------------------------------------------------------------------- pattern compiling

# Lexed pattern atoms: ("lit", char) for literal characters, ("*", "") and ("?", "") wildcards.
_Atom = tuple[str, str]
_Segment = tuple[_Atom, ...]


class _Shape(NamedTuple):
    """A pattern split into segments, without its regex (compiled only when a match needs it).

    `literal` is set when no segment has a wildcard: then whether a path matches is a
    comparison of segments, and no regex is ever compiled for the rule. (A NamedTuple: a
    3,000-line file makes 3,000 of them, and they are cheap to build.)
    """

    pattern: str
    anchored: bool
    dir_only: bool
    segments: tuple[_Segment, ...]
    literal: tuple[str, ...] | None


@dataclass(frozen=True)
class _Compiled:
    """A pattern split into segments plus its full-path regex."""

    anchored: bool
    dir_only: bool
    segments: tuple[_Segment, ...]
    regex: re.Pattern[str]


def _lex(pattern: str) -> list[_Atom | None]:
    """Turn a raw pattern into atoms; None marks an unescaped '/' separator."""
    out: list[_Atom | None] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= len(pattern):
                raise ValueError("pattern ends with a lone backslash")
            # gitignore-style escape: the next character is literal (e.g. "\ " for a space).
            out.append(("lit", pattern[i + 1]))
            i += 2
            continue
        if ch == "/":
            out.append(None)
        elif ch in "*?":
            out.append((ch, ""))
        elif ch == "[":
            # GitHub docs: "Using [ ] to define a character range" does not work in CODEOWNERS.
            raise ValueError("character ranges [ ] are not supported by GitHub CODEOWNERS")
        else:
            out.append(("lit", ch))
        i += 1
    return out


def _is_dstar(seg: _Segment) -> bool:
    """True for a whole-segment '**'."""
    return seg == (("*", ""), ("*", ""))


def _literal(seg: _Segment) -> str | None:
    """The segment's text if it has no wildcard, else None."""
    if all(kind == "lit" for kind, _ in seg):
        return "".join(ch for _, ch in seg)
    return None


def _seg_regex(seg: _Segment) -> str:
    """Regex for one segment: '*' and '?' never cross a '/'."""
    parts = []
    for kind, ch in seg:
        if kind == "*":
            parts.append("[^/]*")
        elif kind == "?":
            parts.append("[^/]")
        else:
            parts.append(re.escape(ch))
    return "".join(parts)


_EMPTY = "empty pattern or empty path segment"


def _shape_uncached(pattern: str) -> _Shape:
    if pattern.startswith("!"):
        # GitHub docs: "Using ! to negate a pattern" does not work in CODEOWNERS.
        raise ValueError("negation with ! is not supported by GitHub CODEOWNERS")
    if "*" not in pattern and "?" not in pattern and "\\" not in pattern and "[" not in pattern:
        # The common case, a plain path: string methods only.
        anchored = pattern.startswith("/")
        body = pattern[1:] if anchored else pattern
        dir_only = body.endswith("/")
        if dir_only:
            body = body[:-1]
        names = tuple(body.split("/"))
        if not body or "" in names:
            raise ValueError(_EMPTY)
        # gitignore: a slash at the start or in the middle anchors the pattern to the root.
        # Segments (atoms) are left empty: the literal names say all, and are cheaper.
        return _Shape(pattern, anchored or len(names) > 1, dir_only, (), names)
    atoms = _lex(pattern)
    anchored = bool(atoms) and atoms[0] is None
    if anchored:
        atoms = atoms[1:]
    dir_only = bool(atoms) and atoms[-1] is None
    if dir_only:
        atoms = atoms[:-1]
    segs: list[_Segment] = [()]
    for atom in atoms:
        if atom is None:
            segs.append(())
        else:
            segs[-1] = (*segs[-1], atom)
    if not atoms or any(not seg for seg in segs):
        raise ValueError(_EMPTY)
    segments = tuple(segs)
    texts = [_literal(seg) for seg in segments]
    literal = None if None in texts else tuple(t for t in texts if t is not None)
    return _Shape(pattern, anchored or len(segments) > 1, dir_only, segments, literal)


# Validating a pattern needs its shape only; the regex waits until a match needs it.
_shape = functools.lru_cache(maxsize=16384)(_shape_uncached)


def _regex_source(shape: _Shape) -> str:
    """The regex that fullmatches exactly the paths a pattern covers."""
    segments = shape.segments or tuple(
        tuple(("lit", ch) for ch in name) for name in shape.literal or ()
    )
    out = "" if shape.anchored else "(?:.*/)?"
    need_sep = False
    last = len(segments) - 1
    for i, seg in enumerate(segments):
        if _is_dstar(seg):
            if i == 0 and i == last:
                out += ".*"
            elif i == last:
                # trailing "/**" matches everything inside (a "/" may already be consumed)
                out += "/.*" if need_sep else ".+"
            else:
                # leading "**/" matches in all directories; "a/**/b" zero or more directories
                out += "/(?:.*/)?" if need_sep else "(?:.*/)?"
            need_sep = False
            continue
        if need_sep:
            out += "/"
        out += _seg_regex(seg)
        need_sep = True
    if shape.dir_only:
        # A trailing slash only matches directories, i.e. paths with something beneath.
        out += "/.*"
    elif _is_dstar(segments[-1]):
        pass
    elif segments[-1] == (("*", ""),) and shape.anchored:
        # GitHub docs: "docs/*" matches docs/getting-started.md but not nested files
        # (unlike .gitignore); "/*" likewise means top-level files only.
        pass
    else:
        # Without a trailing slash the name may be a file or a directory (and its contents).
        out += "(?:/.*)?"
    return out


@functools.lru_cache(maxsize=8192)
def _compile(pattern: str) -> _Compiled:
    """Compile a CODEOWNERS pattern into segments and a regex matched against whole paths."""
    shape = _shape(pattern)
    regex = re.compile(_regex_source(shape), re.DOTALL)
    return _Compiled(shape.anchored, shape.dir_only, shape.segments, regex)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Regex that fullmatches exactly the repo-relative paths a CODEOWNERS pattern covers."""
    return _compile(pattern).regex


# --------------------------------------------------------------------------- index


def _ext(text: str) -> str | None:
    """Text after the last dot, or None without a dot."""
    dot = text.rfind(".")
    return None if dot < 0 else text[dot + 1 :]


# How a rule is tested against a path whose segments are `segs` (see _Index.test).
_ANCHORED_LITERAL = 1  # the trie already compared every segment: only dir_only remains
_FLOATING_NAME = 2  # unanchored single literal name: some path segment equals it
_REGEX = 3


class _Index:
    """Buckets rules by a necessary literal so a path only tests plausible rules."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.patterns = [rule.pattern for rule in rules]
        self.shapes: list[_Shape] = []
        self.kinds: list[int] = []
        self.regexes: list[re.Pattern[str] | None] = []
        # Rules keyed by the literal leading segments every match must start with
        # ("dataface/ai" for /dataface/ai/): a dict of joined prefixes, not a tree of nodes.
        self.by_prefix: dict[str, list[int]] = {}
        self.by_segment: dict[str, list[int]] = {}
        self.by_ext: dict[str, list[int]] = {}
        self.always: list[int] = []
        for i, pattern in enumerate(self.patterns):
            shape = _shape(pattern)
            self.shapes.append(shape)
            self.regexes.append(None)
            self._add(i, shape)

    def _add(self, i: int, shape: _Shape) -> None:
        """File rule i under the most selective key that every matching path must have."""
        literal = shape.literal
        if literal is not None and shape.anchored:
            key = "/".join(literal)  # every match starts with exactly these segments
            found = self.by_prefix.get(key)
            if found is None:
                self.by_prefix[key] = [i]
            else:
                found.append(i)
            self.kinds.append(_ANCHORED_LITERAL)
            return
        if literal is not None:
            self.by_segment.setdefault(literal[-1], []).append(i)
            self.kinds.append(_FLOATING_NAME)
            return
        self.kinds.append(_REGEX)
        segs = shape.segments
        if shape.anchored and not _is_dstar(segs[0]):
            leading: list[str] = []
            for seg in segs:
                lit = _literal(seg)
                if lit is None:
                    break
                leading.append(lit)
            if leading:
                # Every match starts with these exact leading segments.
                self.by_prefix.setdefault("/".join(leading), []).append(i)
                return
        literals = [lit for seg in segs if not _is_dstar(seg) and (lit := _literal(seg))]
        if literals:
            # Each non-** pattern segment matches exactly one path segment.
            self.by_segment.setdefault(literals[-1], []).append(i)
            return
        for seg in reversed(segs):
            tail: list[str] = []
            for kind, ch in reversed(seg):
                if kind != "lit":
                    break
                tail.append(ch)
            ext = _ext("".join(reversed(tail)))
            if ext is not None and len(tail) < len(seg):
                # A segment like "*.js" only matches path segments with extension "js".
                self.by_ext.setdefault(ext, []).append(i)
                return
        self.always.append(i)

    def candidates(self, path: str) -> list[int]:
        """Rule indices that might match path, highest (latest) first."""
        segs = path.split("/")
        out: list[int] = list(self.always)
        by_prefix = self.by_prefix
        end = path.find("/")
        while True:
            # Each leading run of whole segments: "a", "a/b", ..., and the path itself.
            found = by_prefix.get(path if end < 0 else path[:end])
            if found is not None:
                out.extend(found)
            if end < 0:
                break
            end = path.find("/", end + 1)
        seen_ext: set[str] = set()
        for seg in set(segs):
            out.extend(self.by_segment.get(seg, ()))
            ext = _ext(seg)
            if ext is not None and ext not in seen_ext:
                seen_ext.add(ext)
                out.extend(self.by_ext.get(ext, ()))
        out.sort(reverse=True)
        return out

    def test(self, i: int, path: str, segs: list[str]) -> bool:
        """Whether rule i matches path (GitHub's semantics), compiling its regex if needed."""
        kind = self.kinds[i]
        shape = self.shapes[i]
        if kind == _ANCHORED_LITERAL:
            # A candidate by its prefix: its segments equal the path's leading ones.
            literal = shape.literal
            assert literal is not None
            return not shape.dir_only or len(segs) > len(literal)
        if kind == _FLOATING_NAME:
            literal = shape.literal
            assert literal is not None
            name = literal[0]
            last = len(segs) - 1 if shape.dir_only else len(segs)
            # "name/" needs something beneath it; "name" may be the file or a directory.
            return any(segs[j] == name for j in range(last))
        regex = self.regexes[i]
        if regex is None:
            regex = self.regexes[i] = _compile(self.patterns[i]).regex
        return regex.fullmatch(path) is not None

    def winner(self, path: str) -> int | None:
        """Index of the last rule matching path (GitHub: the last matching pattern wins)."""
        segs = path.split("/")
        for i in self.candidates(path):
            if self.test(i, path, segs):
                return i
        return None

    def all_matching(self, path: str) -> list[int]:
        """Indices of every rule matching path, latest first."""
        segs = path.split("/")
        return [i for i in self.candidates(path) if self.test(i, path, segs)]


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Codeowners:
    """A parsed CODEOWNERS file: valid rules in file order plus the lines GitHub skips."""

    rules: tuple[Rule, ...]
    errors: tuple[CodeownersError, ...] = ()
    _index: _Index = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", _Index(self.rules))

    def rule_for(self, path: str) -> Rule | None:
        """The winning (last matching) rule for a repo-relative path, or None."""
        i = self._index.winner(path)
        return None if i is None else self.rules[i]

    def owners_of(self, path: str) -> tuple[str, ...]:
        """Owners of path; empty when no rule matches or the winning rule lists none."""
        rule = self.rule_for(path)
        return () if rule is None else rule.owners

    def match_many(self, paths: Iterable[str]) -> dict[str, Rule | None]:
        """Winning rule for each path."""
        return {path: self.rule_for(path) for path in paths}

    def matching_rules(self, path: str) -> tuple[Rule, ...]:
        """Every rule matching path, latest (winning) first."""
        return tuple(self.rules[i] for i in self._index.all_matching(path))


def _split_line(line: str) -> list[str]:
    """Split on unescaped whitespace, dropping an inline comment (a field starting with #)."""
    if "\\" not in line:
        # Nothing escaped: the string methods give the same fields, much faster.
        # Only spaces and tabs separate fields (str.split() would also split on others).
        fields = [f for f in (line.replace("\t", " ") if "\t" in line else line).split(" ") if f]
        if "#" in line:
            for index, text in enumerate(fields):
                if text[0] == "#":
                    return fields[:index]
        return fields
    fields = []
    cur: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            cur.append(line[i : i + 2])  # keep escapes; the pattern lexer decodes them
            i += 2
            continue
        if ch in " \t":
            if cur:
                fields.append("".join(cur))
                cur = []
        elif ch == "#" and not cur:
            break  # GitHub's example: "*.js @js-owner #This is an inline comment."
        else:
            cur.append(ch)
        i += 1
    if cur:
        fields.append("".join(cur))
    return fields


@functools.lru_cache(maxsize=4096)
def is_valid_owner(owner: str) -> bool:
    """True for @user, @org/team or an email address."""
    # Cached: a file names the same few teams on thousands of lines.
    return any(rx.fullmatch(owner) for rx in (_USER_RE, _TEAM_RE, _EMAIL_RE))


def parse(text: str) -> Codeowners:
    """Parse CODEOWNERS text; invalid lines become errors and are skipped, as GitHub does."""
    rules: list[Rule] = []
    errors: list[CodeownersError] = []
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()  # strip() takes a CRLF file's "\r" too
        if not line or line.startswith("#"):
            continue
        fields = _split_line(line)
        if not fields:
            continue
        pattern, owners = fields[0], tuple(fields[1:])
        if pattern.startswith("\\#"):
            # GitHub docs: escaping a pattern starting with # using \ does not work.
            errors.append(
                CodeownersError(
                    lineno, "escaped-hash", "escaping a leading # with \\ is not supported", raw
                )
            )
            continue
        try:
            _shape(pattern)  # validates; the regex is compiled only if a match needs it
        except ValueError as exc:
            kind = "invalid-pattern"
            if pattern.startswith("!"):
                kind = "negation"
            elif "character ranges" in str(exc):
                kind = "char-range"
            errors.append(CodeownersError(lineno, kind, str(exc), raw))
            continue
        if not all(map(is_valid_owner, owners)):
            bad = [o for o in owners if not is_valid_owner(o)]
            # GitHub docs: lines with invalid syntax are skipped, so the whole rule is dropped
            # (keeping the valid owners would claim ownership GitHub does not apply).
            msg = "invalid owner(s) " + ", ".join(bad) + "; expected @user, @org/team or email"
            errors.append(CodeownersError(lineno, "invalid-owner", msg, raw))
            continue
        rules.append(Rule(pattern, owners, lineno))
    return Codeowners(tuple(rules), tuple(errors))


@functools.lru_cache(maxsize=16)
def parse_cached(text: str) -> Codeowners:
    """Parse once per text: a run (and the webhook app) reads each base's file many times."""
    return parse(text)


def find_codeowners(read: Callable[[str], str | None]) -> tuple[str, str] | None:
    """(path, text) of the CODEOWNERS GitHub would use, or None if none is usable."""
    for path in LOCATIONS:
        text = read(path)
        if text is None:
            continue
        if len(text.encode("utf-8")) >= MAX_BYTES:
            # GitHub uses the first file found; an oversized one is not loaded at all,
            # so there is no fallback to a later location.
            return None
        return path, text
    return None


# --------------------------------------------------------------------------- generate


def _escape_pattern(pattern: str) -> str:
    """Escape spaces so a pattern stays one field."""
    return pattern.replace(" ", "\\ ")


def _anchor(pattern: str) -> str:
    """Anchor a directory pattern to the root (``dataface/ai/`` -> ``/dataface/ai/``)."""
    if pattern.endswith("/") and not pattern.startswith(("/", "**")):
        return "/" + pattern
    return pattern


def generate(
    areas: Sequence[tuple[str, Sequence[str], Sequence[str], bool]],
    header: str,
) -> str:
    """Render CODEOWNERS text from (area, patterns, owners, sensitive) tuples."""
    lines = [
        "# CODEOWNERS: generated by dataface-ops. Do not edit by hand.",
        "# Regenerate with: dataface-ops codeowners generate",
    ]
    lines += [("# " + h).rstrip() for h in header.splitlines()]
    lines.append("# GitHub applies the LAST matching rule; sensitive areas are listed last.")
    # Stable partition keeps the caller's order (order is meaning) but puts sensitive areas
    # last so no later rule can override them.
    ordered = [a for a in areas if not a[3]] + [a for a in areas if a[3]]
    for name, patterns, owners, sensitive in ordered:
        for owner in owners:
            if not is_valid_owner(owner):
                raise ValueError(f"area {name!r}: invalid owner {owner!r}")
        pats = [_escape_pattern(_anchor(p) if sensitive else p) for p in patterns]
        for p in pats:
            _compile(p)  # raise early on patterns GitHub would reject
        lines.append("")
        lines.append(f"# {name}" + (" (sensitive)" if sensitive else ""))
        width = max((len(p) for p in pats), default=0)
        for p in pats:
            lines.append(f"{p.ljust(width)} {' '.join(owners)}".rstrip())
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- validate / explain


def _norm_pattern(pattern: str) -> str:
    """Canonical form: 'a/b' and '/a/b' are the same anchored pattern."""
    comp = _compile(pattern)
    if comp.anchored and not pattern.startswith("/"):
        return "/" + pattern
    return pattern


def _fold(owners: Iterable[str]) -> set[str]:
    """GitHub logins and team slugs are case-insensitive."""
    return {o.casefold() for o in owners}


def validate(
    co: Codeowners,
    files: Sequence[str],
    known_owners: set[str] | None,
    protected: Mapping[str, Sequence[str]],
) -> list[str]:
    """Human-readable problems: syntax errors, unknown owners, dead rules, broken protection."""
    problems = [f"line {e.line}: {e.kind}: {e.message}" for e in co.errors]
    if known_owners is not None:
        known = _fold(known_owners)
        for rule in co.rules:
            for owner in rule.owners:
                if owner.casefold() not in known:
                    problems.append(f"line {rule.line}: unknown owner {owner}")
    last_seen: dict[str, Rule] = {}
    for rule in reversed(co.rules):
        key = _norm_pattern(rule.pattern)
        if key in last_seen:
            later = last_seen[key]
            problems.append(
                f"line {rule.line}: duplicate pattern {rule.pattern!r}; line {later.line} "
                "overrides it, so this line is dead"
            )
        else:
            last_seen[key] = rule
    matched: set[int] = set()
    for path in files:
        matched.update(co._index.all_matching(path))
    for i, rule in enumerate(co.rules):
        if i not in matched:
            problems.append(f"line {rule.line}: pattern {rule.pattern!r} matches no file")
    for pattern, expected in protected.items():
        rx = compile_pattern(pattern)
        # With no such file in the list, probe a path the pattern covers: a file inside it
        # for a directory pattern (a trailing-slash rule never matches the bare directory).
        probe = pattern.strip("/") + ("/x" if pattern.endswith("/") else "")
        targets = [f for f in files if rx.fullmatch(f)] or [probe]
        want = _fold(expected)
        bad: list[str] = []
        for path in targets:
            win = co.rule_for(path)
            if win is None or not win.owners:
                bad.append(f"{path} is unowned" + ("" if win is None else f" (line {win.line})"))
            elif _fold(win.owners) != want:
                bad.append(
                    f"{path} is owned by {' '.join(win.owners)} (line {win.line} {win.pattern!r})"
                )
        if bad:
            more = f" (+{len(bad) - 3} more)" if len(bad) > 3 else ""
            problems.append(
                f"protected {pattern!r} (expected {' '.join(expected)}): "
                + "; ".join(bad[:3])
                + more
            )
    return problems


def explain(co: Codeowners, path: str) -> str:
    """One line saying which rule owns path, or why it is unowned."""
    rule = co.rule_for(path)
    if rule is None:
        return f"{path}: unowned: no rule matches"
    if not rule.owners:
        return f"{path}: unowned: line {rule.line} {rule.pattern!r} matches and lists no owners"
    return f"{path}: {' '.join(rule.owners)} (line {rule.line} {rule.pattern!r})"

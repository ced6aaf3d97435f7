"""Policy templates: sandboxed Jinja2 with StrictUndefined, trial-rendered at load.

A policy template is written by whoever edits policies/, and it is rendered both at load (a
trial) and in every sweep, so one render is bounded in time and memory: Jinja2's sandbox
keeps a template away from Python internals but lets `{{ "x" * 3000000000 }}` take 3 GB
and two nested loops run for hours. Here every value a template builds is at most
MAX_CHARS long and all of them together at most MAX_BUILT; a render takes at most
MAX_STEPS loop iterations, calls and filters, and MAX_SECONDS. The operations that could
build a huge value in one step (repetition, powers, padding, formatting widths, replace,
join) are checked before they run; every other one after, so a doubling loop stops at the
first value past the limit.
"""

from __future__ import annotations

import functools
import re
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateRuntimeError, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

# A comment body is at most 65,536 characters (GitHub's limit): room for that and more.
MAX_CHARS = 200_000
MAX_BUILT = 5_000_000
MAX_STEPS = 100_000
MAX_SECONDS = 0.5
_MAX_INT_BITS = 100_000  # about 30,000 digits
_LOOP = "_dataface_ops_loop"
_SIZED = "_dataface_ops_sized"
# A width or precision of seven digits or more in a %-format or a format spec.
_WIDE = re.compile(r"\d{7,}")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


@dataclass
class _Budget:
    deadline: float
    steps: int = 0
    built: int = 0


_BUDGET: ContextVar[_Budget | None] = ContextVar("dataface_ops_template_budget", default=None)


def _step() -> None:
    budget = _BUDGET.get()
    if budget is None:  # compiling (constant folding): no render to bound
        return
    budget.steps += 1
    if budget.steps > MAX_STEPS:
        raise SecurityError(f"the template takes more than {MAX_STEPS:,} steps")
    if budget.steps % 64 == 0 and time.monotonic() > budget.deadline:
        raise SecurityError(f"the template takes longer than {MAX_SECONDS} s to render")


def _size(value: object) -> int:
    """Characters (or items) a value holds, strings inside a collection counted too."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, int):
        return value.bit_length() // 8
    if isinstance(value, Mapping):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list | tuple | set | frozenset):
        return len(value) + sum(len(v) for v in value if isinstance(v, str | bytes))
    return 0


def _refuse(size: int) -> None:
    if size > MAX_CHARS:
        raise SecurityError(
            f"the template builds a value too large ({size:,} characters; at most {MAX_CHARS:,})"
        )


def _built(value: Any) -> Any:
    size = _size(value)
    _refuse(size)
    budget = _BUDGET.get()
    if budget is not None:
        budget.built += size
        if budget.built > MAX_BUILT:
            raise SecurityError(
                f"the template builds too much (over {MAX_BUILT:,} characters in all)"
            )
    return value


def _check_int(value: object) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_CHARS:
        _refuse(abs(value))


def _largest(values: object) -> int:
    """The size of the largest value one placeholder could insert (64 for other objects)."""
    if isinstance(values, Mapping):
        values = list(values.values())
    if not isinstance(values, list | tuple):
        values = [values]
    return max((_size(v) or 64 for v in values), default=0)


def _check_percent(template: str, values: object) -> None:
    """`"%3000000000s" % x`, `"%*s" % (3000000000, x)` and `"%(a)s" * n % {"a": big}` build
    their result before any check could run."""
    specs = _PERCENT_SPEC.findall(template)
    for width, precision in specs:
        for part in (width, precision):
            if part and part != "*" and _WIDE.fullmatch(part):
                _refuse(int(part))
            if part == "*":
                for value in values if isinstance(values, tuple) else (values,):
                    _check_int(value)
    _refuse(len(template) + len(specs) * _largest(values))


def _check_format(template: str, args: list[object]) -> None:
    """`"{:>3000000000}".format(x)` and `"{0}" * n .format(big)` build their result before any
    check could run."""
    try:
        fields = [
            spec for _, field, spec, _ in string.Formatter().parse(template) if field is not None
        ]
    except ValueError:
        return  # str.format raises the same error itself
    for spec in fields:
        wide = _WIDE.search(spec or "")
        if wide:
            _refuse(int(wide.group()))
        if spec and "{" in spec:  # a nested width: `{:{w}}`
            for value in args:
                _check_int(value)
    _refuse(len(template) + len(fields) * _largest(args))


def _check_replace(text: str | bytes, old: Any, new: Any, count: Any = -1) -> None:
    if not isinstance(old, str | bytes) or not isinstance(new, str | bytes):
        return
    hits = text.count(old) if old else len(text) + 1  # type: ignore[arg-type]
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    _refuse(len(text) + hits * max(0, len(new) - len(old)))


def _check_join(separator: str, items: list[Any]) -> None:
    _refuse(sum(_size(item) or len(str(item)) for item in items) + len(separator) * len(items))


class _Bounded(NodeTransformer):
    """Route every loop's iterable and every `~` through the budget."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        """Count each iteration of `{% for %}`."""
        visited = self.generic_visit(node)
        assert isinstance(visited, nodes.For)
        visited.iter = nodes.Filter(visited.iter, _LOOP, [], [], None, None, lineno=node.lineno)
        return visited

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        """Check the size of every `a ~ b`."""
        visited = self.generic_visit(node)
        assert isinstance(visited, nodes.Expr)
        return nodes.Filter(visited, _SIZED, [], [], None, None, lineno=node.lineno)


def _loop(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _step()
        yield item


def _sized(value: Any) -> Any:
    _step()
    return _built(value)


def _concat(parts: Iterable[str]) -> str:
    """Join a block's output (a macro, `{% set %}`, `caller()`) once its size is known."""
    pieces = list(parts)
    _refuse(sum(len(piece) for piece in pieces))
    joined = "".join(pieces)
    _built(joined)
    return joined


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    passes_state = hasattr(func, "jinja_pass_arg")  # context, eval context or environment first

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _step()
        args = list(args)  # type: ignore[assignment]
        at = 1 if passes_state else 0
        value, rest = (args[at], args[at + 1 :]) if len(args) > at else (None, [])
        for extra in (*rest, *kwargs.values()):
            if not (name == "indent" and isinstance(extra, str)):
                _check_int(extra)
        if name == "indent" and isinstance(value, str):
            width = kwargs.get("width", rest[0] if rest else 4)
            if isinstance(width, str):
                _refuse(len(value) + (value.count("\n") + 1) * len(width))
        elif name == "format" and isinstance(value, str):
            _check_percent(value, tuple(rest) or kwargs)
        elif name == "wordwrap" and isinstance(value, str):
            width = kwargs.get("width", rest[0] if rest else 79)
            wrap = kwargs.get("wrapstring", rest[2] if len(rest) > 2 else "\n")
            if isinstance(width, int) and isinstance(wrap, str):
                _refuse(len(value) + (len(value) // max(width, 1) + 1) * len(wrap))
        elif name == "urlize" and isinstance(value, str):
            links = value.count(".") + value.count("@") + 1
            extra = sum(len(v) for v in (*rest, *kwargs.values()) if isinstance(v, str))
            _refuse(3 * len(value) + links * (extra + 64))
        elif name == "replace" and isinstance(value, str) and len(rest) >= 2:
            _check_replace(value, *rest[:3])
        elif name == "join" and value is not None and not isinstance(value, str | bytes):
            items = list(value)
            args[at] = items  # type: ignore[index]
            separator = kwargs.get("d", rest[0] if rest else "")
            _check_join(separator if isinstance(separator, str) else "", items)
        return _built(func(*args, **kwargs))

    return wrapper


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with every render bounded in steps, time and memory."""

    # Constant folding skips intercepted operators, so `"x" * 3000000000` is not even
    # computed at compile time.
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)  # lipsum(n) loops n times in Python, unbounded
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.filters[_LOOP] = _loop
        self.filters[_SIZED] = _sized
        self.concat = _concat  # type: ignore[method-assign]

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        bounded = _Bounded().visit(tree)
        assert isinstance(bounded, nodes.Template)
        return bounded

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Check `*`, `**` and `%` before they run, and every result after."""
        _step()
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(times, int) and not isinstance(seq, int | float):
                    _refuse(_size(seq) * times)
            if isinstance(left, int) and isinstance(right, int):
                _refuse_bits(left.bit_length() + right.bit_length())
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
            _refuse_bits(max(left.bit_length() - 1, 0) * right)
        elif operator == "%" and isinstance(left, str):
            _check_percent(left, right)
        return _built(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Check the calls that could build a huge value in one step, then the result."""
        _step()
        target = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(target, "__self__", None)
        method = getattr(target, "__name__", "")
        if isinstance(owner, str) and method in ("format", "format_map"):
            values = list(args) + list(kwargs.values())
            if method == "format_map" and args and isinstance(args[0], Mapping):
                values = list(args[0].values())
            _check_format(owner, values)
        elif isinstance(owner, str | bytes | int) and not isinstance(owner, bool):
            for value in (*args, *kwargs.values()):
                _check_int(value)
            if isinstance(owner, str | bytes) and method == "replace" and len(args) >= 2:
                _check_replace(owner, *args[:3])
            elif isinstance(owner, str | bytes) and method == "expandtabs":
                tab = args[0] if args else kwargs.get("tabsize", 8)
                tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
                if isinstance(tab, int):
                    _refuse(len(owner) + tabs * tab)
            elif isinstance(owner, str) and method == "translate" and args:
                table = args[0]
                if isinstance(table, Mapping):
                    _refuse(len(owner) * max([1, *(_size(v) for v in table.values())]))
            elif isinstance(owner, str) and method == "join" and args:
                items = list(args[0])
                args = (items, *args[1:])
                _check_join(owner, items)
        return _built(super().call(__context, __obj, *args, **kwargs))


def _refuse_bits(bits: int) -> None:
    if bits > _MAX_INT_BITS:
        raise SecurityError(
            f"the template builds a number too large ({bits:,} bits; at most {_MAX_INT_BITS:,})"
        )


@lru_cache(maxsize=1)
def _environment() -> BoundedSandbox:
    # Policies are edited by people through pull requests: the sandbox keeps a template from
    # reaching Python internals, and StrictUndefined turns a typo into an error, not a blank.
    return BoundedSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    # Compiling costs about a millisecond; a sweep renders the same few sources many times.
    return _environment().from_string(source)


def render_template(source: str, context: Mapping[str, Any]) -> str:
    """Render a policy template within its bounds; raises jinja2.TemplateError on any problem."""
    token = _BUDGET.set(_Budget(time.monotonic() + MAX_SECONDS))
    try:
        pieces: list[str] = []
        total = 0
        for piece in _compiled(source).generate(**context):
            total += len(piece)
            _refuse(total)
            pieces.append(piece)
        return "".join(pieces)
    except TemplateError:
        raise
    except Exception as exc:  # `{{ 1 / 0 }}`, `{{ "%d" % name }}`, MemoryError: Python's own
        raise TemplateRuntimeError(f"{type(exc).__name__}: {exc}") from None
    finally:
        _BUDGET.reset(token)


def template_problem(source: str, sample_context: Mapping[str, Any]) -> str | None:
    """Trial-render a template against sample values; return the problem, or None."""
    try:
        render_template(source, sample_context)
    except TemplateError as exc:
        return f"template does not render: {exc.message or exc}"
    return None

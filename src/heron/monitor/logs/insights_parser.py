"""Logs Insights query text → commands, with expressions compiled to closures over a record.

Supported: ``fields``, ``display``, ``filter``, ``stats … by …``, ``sort``, ``limit`` and
``parse`` (glob with ``*`` or regex with named groups); expressions with ``= != < <= > >=``,
``+ - * /``, ``and or not``, ``in [...]``, ``not in``, ``like "sub"``, ``like /re/``, ``=~ /re/``,
``(?i)``, and the functions in ``FUNCTIONS``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]
Expr = Callable[[Record], Any]

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?(?:[smhdw]|ms)?)|(?P<str>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
    r"|(?P<bt>`[^`]*`)|(?P<name>[@A-Za-z_$][\w.@$-]*)|(?P<op><=|>=|!=|=~|[=<>+\-*/%(),\[\]]))"
)
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


class QueryError(ValueError):
    """A query Insights cannot parse (MalformedQueryException)."""


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "tolower": lambda s: None if s is None else str(s).lower(),
    "toupper": lambda s: None if s is None else str(s).upper(),
    "strlen": lambda s: None if s is None else len(str(s)),
    "trim": lambda s: None if s is None else str(s).strip(),
    "concat": lambda *a: "".join("" if x is None else str(x) for x in a),
    "strcontains": lambda s, t: int(s is not None and str(t) in str(s)),
    "abs": lambda x: None if _num(x) is None else abs(_num(x) or 0.0),
    "floor": lambda x: None if _num(x) is None else math.floor(_num(x) or 0.0),
    "ceil": lambda x: None if _num(x) is None else math.ceil(_num(x) or 0.0),
    "ispresent": lambda x: int(x is not None),
    "isempty": lambda x: int(x is None or x == ""),
    "coalesce": lambda *a: next((x for x in a if x is not None), None),
}


@dataclass
class Command:
    """One parsed command: its name and arguments (expressions, names, numbers)."""

    name: str
    items: list[tuple[str, Expr]] = field(default_factory=list)
    predicate: Expr | None = None
    aggregates: list[tuple[str, str, Expr | None, float]] = field(default_factory=list)
    group_by: list[tuple[str, Expr, int]] = field(default_factory=list)
    sort_keys: list[tuple[Expr, bool]] = field(default_factory=list)
    limit: int = 0
    parse_source: Expr | None = None
    parse_regex: re.Pattern[str] | None = None
    parse_names: list[str] = field(default_factory=list)


def split_commands(query: str) -> list[str]:
    """Split on ``|`` outside quotes and regex literals, dropping ``#`` comments."""
    lines = []
    for line in query.splitlines():
        out, quote = [], ""
        for c in line:
            if quote:
                quote = "" if c == quote else quote
            elif c in "\"'`/":
                quote = c
            elif c == "#":
                break
            out.append(c)
        lines.append("".join(out))
    text = "\n".join(lines)
    parts: list[str] = []
    buf: list[str] = []
    quote = ""
    for c in text:
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'`/":
            quote = c
        elif c == "|":
            parts.append("".join(buf))
            buf = []
            continue
        buf.append(c)
    parts.append("".join(buf))
    return [p.strip() for p in parts if p.strip()]


class _Parser:
    """Recursive descent over one command's argument text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        self._skip()
        return self.pos >= len(self.text)

    def peek_word(self) -> str:
        self._skip()
        m = re.compile(r"[A-Za-z_]+").match(self.text, self.pos)
        return m.group().lower() if m else ""

    def eat(self, literal: str) -> bool:
        self._skip()
        if self.text.startswith(literal, self.pos):
            end = self.pos + len(literal)
            if (
                literal[-1].isalpha()
                and end < len(self.text)
                and (self.text[end].isalnum() or self.text[end] == "_")
            ):
                return False
            self.pos = end
            return True
        if literal.isalpha() and self.text[self.pos : self.pos + len(literal)].lower() == literal:
            return self.eat(self.text[self.pos : self.pos + len(literal)])
        return False

    def token(self) -> tuple[str, str]:
        m = _TOKEN.match(self.text, self.pos)
        if not m or m.end() == self.pos:
            raise QueryError(f"unexpected text at {self.text[self.pos : self.pos + 20]!r}")
        self.pos = m.end()
        kind = m.lastgroup or ""
        return kind, m.group(kind)

    def regex(self) -> re.Pattern[str]:
        self._skip()
        if not self.text.startswith("/", self.pos):
            raise QueryError("expected a /regex/")
        end = self.pos + 1
        while end < len(self.text) and self.text[end] != "/":
            end += 2 if self.text[end] == "\\" else 1
        body = self.text[self.pos + 1 : end]
        self.pos = end + 1
        flags = 0
        if body.startswith("(?i)"):
            body, flags = body[4:], re.IGNORECASE
        try:
            return re.compile(re.sub(r"\(\?<(\w+)>", r"(?P<\1>", body), flags)
        except re.error as exc:
            raise QueryError(f"invalid regex: {exc}") from exc

    # Precedence: or < and < not < comparison < additive < multiplicative < unary/primary.
    def expr(self) -> Expr:
        left = self.and_expr()
        while self.eat("or"):
            left = _or(left, self.and_expr())
        return left

    def and_expr(self) -> Expr:
        left = self.not_expr()
        while self.eat("and"):
            left = _and(left, self.not_expr())
        return left

    def not_expr(self) -> Expr:
        if self.eat("not"):
            inner = self.not_expr()
            return lambda r: not inner(r)
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.additive()
        negate = False
        if self.peek_word() == "not":
            save = self.pos
            self.eat("not")
            if self.peek_word() in ("in", "like"):
                negate = True
            else:
                self.pos = save
                return left
        test: Expr
        if self.eat("in"):
            self.eat("[")
            values = []
            while not self.eat("]"):
                values.append(self.additive()({}))
                self.eat(",")
            test = lambda r: _in(left(r), values)  # noqa: E731
        elif self.eat("like") or self.eat("=~"):
            self._skip()
            if self.text.startswith("/", self.pos):
                rx = self.regex()
                test = lambda r: (v := left(r)) is not None and rx.search(str(v)) is not None  # noqa: E731
            else:
                sub = str(self.additive()({}))
                test = lambda r: (v := left(r)) is not None and sub in str(v)  # noqa: E731
        else:
            for op in ("<=", ">=", "!=", "=", "<", ">"):
                if self.eat(op):
                    return _comparison(op, left, self.additive())
            return left
        return (lambda r: not test(r)) if negate else test

    def additive(self) -> Expr:
        left = self.term()
        while True:
            self._skip()
            c = self.text[self.pos : self.pos + 1]
            if c in ("+", "-") and c:
                self.pos += 1
                left = _arith_expr(c, left, self.term())
            else:
                return left

    def term(self) -> Expr:
        left = self.primary()
        while True:
            self._skip()
            c = self.text[self.pos : self.pos + 1]
            if c in ("*", "/", "%") and c:
                self.pos += 1
                left = _arith_expr(c, left, self.primary())
            else:
                return left

    def primary(self) -> Expr:
        self._skip()
        if self.eat("("):
            inner = self.expr()
            if not self.eat(")"):
                raise QueryError("missing )")
            return inner
        kind, text = self.token()
        if kind == "num":
            if text[-1].isalpha():
                period = duration_ms(text)
                return lambda r: period
            value = float(text) if "." in text else int(text)
            return lambda r: value
        if kind == "str":
            value_s = bytes(text[1:-1], "utf-8").decode("unicode_escape")
            return lambda r: value_s
        if kind == "op" and text == "-":
            inner = self.primary()
            return lambda r: _arith("-", 0, inner(r))
        name = text[1:-1] if kind == "bt" else text
        if kind == "name" and self.eat("("):
            return self.call(name.lower())
        if kind not in ("name", "bt"):
            raise QueryError(f"unexpected {text!r}")
        return lambda r: r.get(name)

    def call(self, fname: str) -> Expr:
        args: list[Expr] = []
        while not self.eat(")"):
            args.append(self.expr())
            self.eat(",")
            if self.at_end():
                raise QueryError("missing )")
        if fname == "bin":
            if len(args) != 1:
                raise QueryError("bin() takes one period")
            period = args[0]({})
            if not isinstance(period, int) or period <= 0:
                raise QueryError("bin() needs a period such as 5m")
            return lambda r: (r["@timestamp"] // period) * period
        fn = FUNCTIONS.get(fname)
        if fn is None:
            raise QueryError(f"unknown function {fname}")
        return lambda r: fn(*(a(r) for a in args))


def _or(a: Expr, b: Expr) -> Expr:
    return lambda r: bool(a(r)) or bool(b(r))


def _and(a: Expr, b: Expr) -> Expr:
    return lambda r: bool(a(r)) and bool(b(r))


def _comparison(op: str, a: Expr, b: Expr) -> Expr:
    return lambda r: _compare(op, a(r), b(r))


def _arith_expr(op: str, a: Expr, b: Expr) -> Expr:
    return lambda r: _arith(op, a(r), b(r))


def duration_ms(text: str) -> int:
    """``5m`` → 300000."""
    m = re.fullmatch(r"(\d+)(ms|[smhdw])", text)
    if not m:
        raise QueryError(f"invalid period {text}")
    return int(m.group(1)) * _UNITS_MS[m.group(2)]


def _in(value: Any, values: list[Any]) -> bool:
    return any(_compare("=", value, v) for v in values)


def _compare(op: str, a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    na, nb = _num(a), _num(b)
    x, y = (na, nb) if na is not None and nb is not None else (str(a), str(b))
    if op == "=":
        return x == y
    if op == "!=":
        return x != y
    if op == "<":
        return x < y  # type: ignore[operator]
    if op == "<=":
        return x <= y  # type: ignore[operator]
    if op == ">":
        return x > y  # type: ignore[operator]
    return x >= y  # type: ignore[operator]


def _arith(op: str, a: Any, b: Any) -> float | None:
    x, y = _num(a), _num(b)
    if x is None or y is None:
        return None
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if y == 0:
        return None
    return x / y if op == "/" else x % y


def expr_text(parser: _Parser, start: int) -> str:
    """The source text an expression was parsed from (its default result field name)."""
    return parser.text[start : parser.pos].strip()

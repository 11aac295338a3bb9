"""Filter-pattern values and comparisons: literals, wildcards, regex and numbers, as closures.

JSON and space-delimited patterns both compare a selected value (a JSON scalar or a field of
the line) against a literal with ``= != < <= > >=``; this module turns one ``op literal`` pair
into a predicate once, so matching a line costs one call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Longest filter pattern CloudWatch accepts.
MAX_PATTERN_LENGTH = 1024
#: Most ``%regex%`` segments one pattern may carry.
MAX_REGEX_PER_PATTERN = 2

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# CloudWatch's regex subset: alphanumerics, a few symbols and the operators, no groups.
_REGEX_ALLOWED = re.compile(r"[A-Za-z0-9:_#=@/;,\-^$?\[\]{}|\\*+.]*")
NUMERIC_OPS = frozenset({"<", "<=", ">", ">="})
ALL_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})

#: A compiled comparison: takes the selected JSON scalar (or field string), answers the match.
Predicate = Callable[[Any], bool]


class PatternError(ValueError):
    """A filter pattern CloudWatch would reject; ``str(error)`` is AWS's message."""


@dataclass(frozen=True, slots=True)
class Literal:
    """The right-hand side of a comparison: ``kind`` is string, number, regex or any."""

    kind: str
    text: str
    number: float = 0.0
    regex: re.Pattern[str] | None = None


def parse_number(text: str) -> float | None:
    """``text`` as a number if it is written as one (signed, decimal, scientific), else None."""
    if text.isascii() and text.isdigit():  # the common case (sizes, counts): no regex
        return float(text)
    if _NUMBER.fullmatch(text):
        return float(text)
    return None


def compile_regex(body: str) -> re.Pattern[str]:
    """Compile a ``%...%`` body after checking it stays inside CloudWatch's regex subset."""
    if not body:
        raise PatternError("Invalid filter pattern")
    if not body.isascii():
        raise PatternError("Invalid character(s) in term '%" + body + "%'")
    if not _REGEX_ALLOWED.fullmatch(body):
        bad = next(c for c in body if not _REGEX_ALLOWED.fullmatch(c))
        raise PatternError(f"Invalid character(s) in term '{bad}'")
    try:
        return re.compile(body)
    except re.error as exc:
        raise PatternError("Invalid filter pattern") from exc


def literal_from_word(word: str, *, quoted: bool) -> Literal:
    """Classify a bare or quoted value token into a Literal."""
    if not quoted:
        if word == "*":
            return Literal("any", word)
        number = parse_number(word)
        if number is not None:
            return Literal("number", word, number)
    return Literal("string", word)


def scalar_text(value: Any) -> str | None:
    """A JSON scalar as the text CloudWatch compares; None for objects and arrays."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return None


def scalar_number(value: Any) -> float | None:
    """A JSON scalar as a number (numbers, or strings written as numbers), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return parse_number(value.strip())
    return None


def wildcard_matcher(text: str) -> Callable[[str], bool]:
    """A full-match test for a value with ``*`` wildcards (each ``*`` is any run of characters)."""
    if "*" not in text:
        return text.__eq__
    parts = text.split("*")
    if len(parts) == 2 and parts[1] == "":
        prefix = parts[0]
        return lambda s: s.startswith(prefix)
    if len(parts) == 2 and parts[0] == "":
        suffix = parts[1]
        return lambda s: s.endswith(suffix)
    rx = re.compile(".*".join(re.escape(p) for p in parts), re.DOTALL)
    return lambda s: rx.fullmatch(s) is not None


def comparison(op: str, literal: Literal) -> Predicate:
    """Compile ``<value> op literal`` into a predicate over a JSON scalar or field string.

    Objects, arrays and absent values never match (for ``!=`` too): the selector must name a
    value. Numeric literals compare numerically against numbers or number-like strings; string
    literals compare the value's text (``*`` wildcards allowed); ``%regex%`` searches the text.
    """
    if op not in ALL_OPS:
        raise PatternError("Invalid filter pattern")
    if literal.kind == "any":
        if op not in ("=", "!="):
            raise PatternError("Invalid filter pattern")
        present = op == "="
        return lambda v: scalar_text(v) is not None and present
    if literal.kind == "number":
        return _numeric(op, literal.number)
    if op in NUMERIC_OPS:
        raise PatternError("Invalid filter pattern")
    negate = op == "!="
    if literal.kind == "regex":
        assert literal.regex is not None
        search = literal.regex.search

        def regex_test(v: Any) -> bool:
            text = scalar_text(v)
            return text is not None and (search(text) is None) is negate

        return regex_test
    match = wildcard_matcher(literal.text)

    def string_test(v: Any) -> bool:
        if v.__class__ is str:  # every space-delimited field, most JSON values
            return match(v) is not negate
        text = scalar_text(v)
        return text is not None and match(text) is not negate

    return string_test


def _numeric(op: str, target: float) -> Predicate:
    compare: Callable[[float], bool] = {
        "=": lambda x: x == target,
        "!=": lambda x: x != target,
        "<": lambda x: x < target,
        "<=": lambda x: x <= target,
        ">": lambda x: x > target,
        ">=": lambda x: x >= target,
    }[op]

    def numeric_test(v: Any) -> bool:
        number = scalar_number(v)
        return number is not None and compare(number)

    return numeric_test


def required_literal(literal: Literal) -> str | None:
    """The longest wildcard-free piece of a string literal (a substring prefilter), or None."""
    if literal.kind != "string":
        return None
    best = max(literal.text.split("*"), key=len)
    return best or None

"""CloudWatch Logs filter patterns: parse once into a compiled matcher.

Three shapes, chosen by the first character after trimming:

* terms — ``ERROR "bad thing" ?WARN ?FATAL -DEBUG %ERR\\d+%``: case-sensitive substring tests;
  plain terms must all occur, at least one ``?`` term must occur (when there are any), no ``-``
  term may occur; an empty pattern matches everything;
* ``{ ... }`` — JSON selectors (see ``pattern_json``);
* ``[ ... ]`` — space-delimited fields (see ``pattern_space``).

Every pattern exposes ``required``: literals each matching line must contain, so scans can skip
lines (or push ``instr`` tests into SQL) before doing any parsing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from heron.monitor.logs.pattern_json import JsonExpr, compile_json, extracted_values
from heron.monitor.logs.pattern_space import SpaceExpr, compile_space
from heron.monitor.logs.pattern_tokens import read_quoted
from heron.monitor.logs.pattern_values import (
    MAX_PATTERN_LENGTH,
    MAX_REGEX_PER_PATTERN,
    PatternError,
    compile_regex,
)

__all__ = ["FilterPattern", "Match", "PatternError", "compile_pattern"]

_BARE_TERM = re.compile(r"[A-Za-z0-9_]+")
#: A space-delimited line's first field may be quoted or bracketed (its text then starts later).
_OPENERS = ('"', "[")
#: A line starting with one of these may still have ``leading`` as its first field's text.
#: Python's whitespace (``str.isspace``, which ``str.lstrip`` and ``str.split`` use), spelled
#: out: computing it at import would scan every code point.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_STARTS_THE_LONG_WAY = frozenset([*_OPENERS, *WHITESPACE])


class Match:
    """A matching line's detail: the parsed JSON document (JSON patterns), the line's fields
    (space-delimited patterns) and the extracted ``$`` values."""

    # A plain class, not a dataclass: one is made for every matching line, and the ``$`` dict
    # of a space-delimited match is only built when somebody asks for it.
    __slots__ = ("_expr", "_extracted", "doc", "fields")

    def __init__(
        self,
        doc: Any = None,
        extracted: dict[str, str] | None = None,
        *,
        fields: list[str] | None = None,
        expr: SpaceExpr | None = None,
    ) -> None:
        self.doc = doc
        self.fields = fields
        self._extracted = extracted
        self._expr = expr

    @property
    def extracted(self) -> dict[str, str]:
        """The extracted values, keyed ``$name`` / ``$<position>`` / ``$.selector``."""
        if self._extracted is None:
            if self._expr is not None and self.fields is not None:
                self._extracted = self._expr.extract(self.fields)
            else:
                self._extracted = {}
        return self._extracted


@dataclass(frozen=True, slots=True)
class FilterPattern:
    """A compiled filter pattern: ``matches(line)`` and ``match(line)`` for the detail."""

    source: str
    kind: str  # "terms", "json" or "space"
    matches: Callable[[str], bool]
    match: Callable[[str], Match | None]
    required: tuple[str, ...]
    regex_count: int
    #: Space-delimited patterns whose first field must be a text: lines that start with it,
    #: after leading whitespace, are the likely matches (see ``candidates``).
    leading: str | None = None
    #: Space-delimited patterns: where the field a ``$name`` extracts always is, if anywhere.
    field_index: Callable[[str], int | None] = lambda key: None

    @property
    def supports_dimensions(self) -> bool:
        """Metric-filter dimensions need named fields: only JSON and space-delimited patterns."""
        return self.kind != "terms"

    def may_match_within(self, text: str) -> bool:
        """False only when no line inside ``text`` (lines joined) can match: a required literal
        occurs nowhere in it. JSON may spell any character as an escape, so for JSON patterns
        text with a backslash always may."""
        for literal in self.required:
            if literal not in text:
                return self.kind == "json" and "\\" in text
        return True

    def candidates(self, events: Sequence[tuple[int, str]]) -> Sequence[tuple[int, str]]:
        """The (timestamp, line) events that may match: with a ``leading`` text, those that
        start with it or may the long way (all of them otherwise)."""
        lead = self.leading
        if lead is None:
            return events
        later = _STARTS_THE_LONG_WAY
        return [ev for ev in events if ev[1].startswith(lead) or ev[1][:1] in later]

    def select(self, lines: Iterable[str]) -> list[int]:
        """Indexes of the matching lines (the bulk path used by scans and benchmarks)."""
        matches = self.matches
        return [i for i, line in enumerate(lines) if matches(line)]


def compile_pattern(source: str) -> FilterPattern:
    """Compile a CloudWatch filter pattern, or raise PatternError with AWS's message."""
    if len(source) > MAX_PATTERN_LENGTH:
        raise PatternError("Invalid filter pattern")
    text = source.strip()
    if text.startswith("{"):
        if not text.endswith("}"):
            raise PatternError("Invalid filter pattern")
        pattern = _json_pattern(source, compile_json(text[1:-1]))
    elif text.startswith("["):
        if not text.endswith("]"):
            raise PatternError("Invalid filter pattern")
        pattern = _space_pattern(source, compile_space(text[1:-1]))
    else:
        pattern = _terms_pattern(source, text)
    if pattern.regex_count > MAX_REGEX_PER_PATTERN:
        raise PatternError("Invalid filter pattern")
    return pattern


def _prefilter(required: tuple[str, ...]) -> Callable[[str], bool]:
    """True when a line may match: every required literal occurs (or escapes could hide one)."""
    if not required:
        return lambda line: True
    if len(required) == 1:
        only = required[0]
        return lambda line: only in line or "\\" in line

    def pre(line: str) -> bool:
        for literal in required:
            if literal not in line:
                # JSON may spell any character as an escape, so only a backslash-free line
                # can be rejected on a missing literal.
                return "\\" in line
        return True

    return pre


def _json_pattern(source: str, expr: JsonExpr) -> FilterPattern:
    pre = _prefilter(expr.required)
    predicate = expr.predicate
    loads = orjson.loads

    def matches(line: str) -> bool:
        if not pre(line):
            return False
        try:
            doc = loads(line)
        except orjson.JSONDecodeError:
            return False
        return predicate(doc)

    def match(line: str) -> Match | None:
        if not pre(line):
            return None
        try:
            doc = loads(line)
        except orjson.JSONDecodeError:
            return None
        if not predicate(doc):
            return None
        return Match(doc, extracted_values(expr, doc))

    return FilterPattern(source, "json", matches, match, expr.required, expr.regex_count)


def _space_pattern(source: str, expr: SpaceExpr) -> FilterPattern:
    required = expr.required
    matching_fields = expr.matching_fields
    first = expr.first_equals

    def lacks_a_literal(line: str) -> bool:
        return any(literal not in line for literal in required)

    def match(line: str) -> Match | None:
        # Metric filters call this on every line: reject most of them (START, END, the
        # handler's own lines for a REPORT pattern) before splitting them into fields. The
        # first field, unless quoted or bracketed, is where the line's text starts; a line
        # that starts with it most likely matches, and the field tests check the rest.
        if first is not None:
            head = line.lstrip()
            if not head.startswith(first) and (head[:1] not in _OPENERS or lacks_a_literal(line)):
                return None
        elif lacks_a_literal(line):
            return None
        fields = matching_fields(line)
        return None if fields is None else Match(fields=fields, expr=expr)

    def matches(line: str) -> bool:
        return match(line) is not None

    return FilterPattern(
        source, "space", matches, match, required, expr.regex_count, first, expr.field_index
    )


def _terms_pattern(source: str, text: str) -> FilterPattern:
    musts: list[str] = []
    anys: list[Callable[[str], bool]] = []
    nots: list[Callable[[str], bool]] = []
    must_regex: list[Callable[[str], bool]] = []
    regex_count = 0
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        prefix = ""
        if text[i] in "?-":
            prefix = text[i]
            i += 1
            while i < n and text[i].isspace():  # AWS's own docs write `"ERROR" - "Exiting"`
                i += 1
            if i >= n:
                raise PatternError(f"Invalid character(s) in term '{prefix}'")
        test: Callable[[str], bool]
        literal: str | None = None
        if text[i] == '"':
            literal, i = read_quoted(text, i)
            test = _contains(literal)
        elif text[i] == "%":
            end = text.find("%", i + 1)
            if end < 0:
                raise PatternError("Invalid filter pattern")
            test = _searches(compile_regex(text[i + 1 : end]))
            regex_count += 1
            i = end + 1
        else:
            m = re.compile(r"\S+").match(text, i)
            assert m is not None
            word = m.group()
            if not _BARE_TERM.fullmatch(word):
                raise PatternError(f"Invalid character(s) in term '{word}'")
            literal, i = word, m.end()
            test = _contains(word)
        if prefix == "?":
            anys.append(test)
        elif prefix == "-":
            nots.append(test)
        elif literal is not None:
            musts.append(literal)
        else:
            must_regex.append(test)
    matches = _terms_matcher(tuple(musts), tuple(must_regex), tuple(anys), tuple(nots))

    def match(line: str) -> Match | None:
        return Match() if matches(line) else None

    return FilterPattern(source, "terms", matches, match, tuple(musts), regex_count)


def _searches(regex: re.Pattern[str]) -> Callable[[str], bool]:
    search = regex.search
    return lambda line: search(line) is not None


def _contains(literal: str) -> Callable[[str], bool]:
    return lambda line: literal in line


def _terms_matcher(
    musts: tuple[str, ...],
    regexes: tuple[Callable[[str], bool], ...],
    anys: tuple[Callable[[str], bool], ...],
    nots: tuple[Callable[[str], bool], ...],
) -> Callable[[str], bool]:
    # Specialised closures for the common shapes: the per-line cost is the whole budget.
    if not (regexes or anys or nots):
        if not musts:
            return lambda line: True
        if len(musts) == 1:
            only = musts[0]
            return lambda line: only in line
        return lambda line: all(m in line for m in musts)

    def general(line: str) -> bool:
        for m in musts:
            if m not in line:
                return False
        for r in regexes:
            if not r(line):
                return False
        if anys and not any(a(line) for a in anys):
            return False
        return not any(x(line) for x in nots)

    return general

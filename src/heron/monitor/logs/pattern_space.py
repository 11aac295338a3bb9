"""Space-delimited filter patterns ``[ip, user, ..., status=4* || status=5*, size>1000]``.

A line is split into fields on spaces; text inside ``[...]`` or ``"..."`` is one field (without
the brackets or quotes). Pattern elements match fields one to one; one ``...`` element absorbs
any number of fields. Each element is a name, optionally with conditions on that name joined by
``&&`` / ``||`` (parentheses allowed), or empty (a trailing comma). Extracted values are keyed
``$name`` for named elements and ``$<position>`` (1-based) for every other field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from heron.monitor.logs.pattern_tokens import Token, TokenStream, tokenize
from heron.monitor.logs.pattern_values import (
    Literal,
    PatternError,
    comparison,
    compile_regex,
    literal_from_word,
    required_literal,
)

_FIELD = re.compile(r'\[[^\]]*\]|"[^"]*"|\S+')
_NAME = re.compile(r"[A-Za-z0-9_]+")

FieldTest = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Element:
    """One pattern element: a name (or None), its field test (or None) and whether it is ``...``."""

    name: str | None
    test: FieldTest | None
    ellipsis: bool = False
    #: The one text the field may be, when the condition is a plain ``name = text``.
    equals: str | None = None


@dataclass(frozen=True, slots=True)
class SpaceExpr:
    """A compiled space-delimited pattern: elements, required literals and regex count."""

    before: tuple[Element, ...]
    after: tuple[Element, ...]
    has_ellipsis: bool
    required: tuple[str, ...]
    regex_count: int
    #: The ``before`` elements' ``$keys`` and their field tests by position, worked out once:
    #: plain equalities as texts to compare with, every other condition as a test.
    before_keys: tuple[str, ...] = ()
    before_tests: tuple[tuple[int, FieldTest], ...] = ()
    before_equals: tuple[tuple[int, str], ...] = ()

    @property
    def first_equals(self) -> str | None:
        """The text the first field must be, when the first element is a plain equality."""
        if self.before_equals and self.before_equals[0][0] == 0:
            return self.before_equals[0][1]
        return None

    def match(self, line: str) -> dict[str, str] | None:
        """The extracted ``$field`` values if ``line`` matches, else None."""
        fields = self.matching_fields(line)
        return None if fields is None else self.extract(fields)

    def matching_fields(self, line: str) -> list[str] | None:
        """The line's fields if it matches, else None (without building the ``$field`` dict,
        which a metric filter reading one field never needs)."""
        fields = split_fields(line)
        n, nb, after = len(fields), len(self.before), self.after
        if self.has_ellipsis:
            if n < nb + len(after):
                return None
        elif n != nb:
            return None
        for i, text in self.before_equals:
            if fields[i] != text:
                return None
        for i, test in self.before_tests:
            if not test(fields[i]):
                return None
        if after:
            offset = n - len(after)
            for j, element in enumerate(after):
                if element.test is not None and not element.test(fields[offset + j]):
                    return None
        return fields

    def extract(self, fields: list[str]) -> dict[str, str]:
        """The ``$field`` values of a matching line's fields."""
        # zip stops at the last ``before`` element; the rest are the ellipsis and ``after``.
        out = dict(zip(self.before_keys, fields, strict=False))
        nb, after = len(self.before), self.after
        offset = len(fields) - len(after)
        for j, element in enumerate(after):
            out[_key(element, offset + j)] = fields[offset + j]
        if offset > nb:
            for k in range(nb, offset):
                out[f"${k + 1}"] = fields[k]
        return out

    def field_index(self, key: str) -> int | None:
        """Where the field a ``$key`` names always is, when a ``before`` element names it."""
        keys = self.before_keys
        # A repeated name, a named ``after`` element or a digits-only name (``$3`` may also be
        # an ellipsis position) can make the extracted value another field's.
        if keys.count(key) != 1 or key[1:].isdigit():
            return None
        if any(e.name and _key(e, 0) == key for e in self.after):
            return None
        return keys.index(key)


def _key(element: Element, index: int) -> str:
    return f"${element.name}" if element.name else f"${index + 1}"


def split_fields(line: str) -> list[str]:
    """Split a log line into fields the way space-delimited patterns see them."""
    if '"' not in line and "[" not in line:
        # Nothing is quoted or bracketed: the fields are the runs of non-space, which is what
        # str.split finds (both use Python's own idea of whitespace), at a fraction of the cost.
        return line.split()
    fields = _FIELD.findall(line)
    for i, f in enumerate(fields):
        if len(f) >= 2 and ((f[0] == "[" and f[-1] == "]") or (f[0] == '"' and f[-1] == '"')):
            fields[i] = f[1:-1]
    return fields


def compile_space(body: str) -> SpaceExpr:
    """Compile the inside of a ``[...]`` pattern, or raise PatternError."""
    groups: list[list[Token]] = [[]]
    for token in tokenize(body):
        if token.kind == ",":
            groups.append([])
        else:
            groups[-1].append(token)
    elements: list[Element] = []
    required: list[str] = []
    regex_count = 0
    for tokens in groups:
        element, literals, regexes = _element(tokens)
        elements.append(element)
        required.extend(literals)
        regex_count += regexes
    if len(elements) == 1 and elements[0].name is None and not elements[0].ellipsis:
        raise PatternError("Invalid filter pattern")
    ellipses = [i for i, e in enumerate(elements) if e.ellipsis]
    if len(ellipses) > 1:
        raise PatternError("Invalid filter pattern")
    if ellipses:
        k = ellipses[0]
        before, after = tuple(elements[:k]), tuple(elements[k + 1 :])
    else:
        before, after = tuple(elements), ()
    keys = tuple(_key(e, i) for i, e in enumerate(before))
    equals = tuple((i, e.equals) for i, e in enumerate(before) if e.equals is not None)
    tests = tuple(
        (i, e.test) for i, e in enumerate(before) if e.test is not None and e.equals is None
    )
    return SpaceExpr(
        before, after, bool(ellipses), tuple(required), regex_count, keys, tests, equals
    )


def _element(tokens: list[Token]) -> tuple[Element, list[str], int]:
    if not tokens:
        return Element(None, None), [], 0
    if len(tokens) == 1 and tokens[0].kind == "ellipsis":
        return Element(None, None, ellipsis=True), [], 0
    if len(tokens) == 1 and tokens[0].kind == "word":
        if not _NAME.fullmatch(tokens[0].text):
            raise PatternError(f"Invalid character(s) in term '{tokens[0].text}'")
        return Element(tokens[0].text, None), [], 0
    parser = _Conditions(TokenStream(tokens))
    test, literals = parser.parse_or()
    if parser.stream.peek() is not None or len(parser.names) != 1:
        raise PatternError("Invalid filter pattern")
    return (
        Element(parser.names.pop(), test, equals=_plain_equality(tokens)),
        literals,
        parser.regexes,
    )


def _plain_equality(tokens: list[Token]) -> str | None:
    """The text a field must be when the condition is exactly ``name = text`` (no wildcard):
    compared directly instead of through a test, and usable as a prefilter."""
    if len(tokens) != 3 or tokens[1].kind != "op" or tokens[1].text != "=":
        return None
    value = tokens[2]
    if value.kind not in ("word", "string"):
        return None
    literal = literal_from_word(value.text, quoted=value.kind == "string")
    if literal.kind != "string" or "*" in literal.text:
        return None
    return literal.text


class _Conditions:
    """Recursive descent over one element's ``name op value`` conditions."""

    def __init__(self, stream: TokenStream) -> None:
        self.stream = stream
        self.names: set[str] = set()
        self.regexes = 0

    def parse_or(self) -> tuple[FieldTest, list[str]]:
        parts = [self.parse_and()]
        while self.stream.accept("||"):
            parts.append(self.parse_and())
        if len(parts) == 1:
            return parts[0]
        tests = tuple(t for t, _ in parts)
        return (lambda v: any(t(v) for t in tests)), []

    def parse_and(self) -> tuple[FieldTest, list[str]]:
        parts = [self.parse_atom()]
        while self.stream.accept("&&"):
            parts.append(self.parse_atom())
        if len(parts) == 1:
            return parts[0]
        tests = tuple(t for t, _ in parts)
        return (lambda v: all(t(v) for t in tests)), [lit for _, ls in parts for lit in ls]

    def parse_atom(self) -> tuple[FieldTest, list[str]]:
        if self.stream.accept("("):
            inner = self.parse_or()
            self.stream.expect(")")
            return inner
        name = self.stream.expect("word").text
        if not _NAME.fullmatch(name):
            raise PatternError(f"Invalid character(s) in term '{name}'")
        self.names.add(name)
        op = self.stream.expect("op").text
        token = self.stream.next()
        literal: Literal
        if token.kind == "regex":
            literal = Literal("regex", token.text, regex=compile_regex(token.text))
            self.regexes += 1
        elif token.kind in ("word", "string"):
            literal = literal_from_word(token.text, quoted=token.kind == "string")
        else:
            raise PatternError("Invalid filter pattern")
        test = comparison(op, literal)
        piece = required_literal(literal) if op == "=" else None
        return test, [piece] if piece else []

"""JSON filter patterns ``{ $.a.b = "x" && ($.n > 3 || $.c IS NULL) }`` compiled to closures.

Grammar (precedence ``()`` > ``&&`` > ``||``)::

    expr    := and ("||" and)*
    and     := primary ("&&" primary)*
    primary := "(" expr ")" | selector op value | selector IS (NULL|TRUE|FALSE)
             | selector NOT EXISTS

Each comparison also yields the literals a matching line must contain (the key, and the
wildcard-free part of an ``=`` string value), which the caller uses as a substring prefilter
before paying for a JSON parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from heron.monitor.logs.pattern_tokens import Token, TokenStream, tokenize
from heron.monitor.logs.pattern_values import (
    Literal,
    PatternError,
    comparison,
    compile_regex,
    literal_from_word,
    required_literal,
    scalar_text,
)

#: Returned by a selector when the path does not exist in the document.
MISSING: Any = object()
_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")

Getter = Callable[[Any], Any]
DocPredicate = Callable[[Any], bool]


@dataclass(frozen=True, slots=True)
class JsonExpr:
    """A compiled JSON expression: the predicate, required literals and the selectors it reads."""

    predicate: DocPredicate
    required: tuple[str, ...]
    selectors: tuple[tuple[str, Getter], ...]
    regex_count: int


def selector_getter(selector: str) -> Getter:
    """Compile ``$.a.b[0]`` into a function returning the node or MISSING."""
    path: list[str | int] = []
    pos = 1
    while pos < len(selector):
        m = _PART.match(selector, pos)
        if m is None:
            raise PatternError("Invalid filter pattern")
        path.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if len(path) == 1 and isinstance(path[0], str):
        key = path[0]
        return lambda doc: doc.get(key, MISSING) if type(doc) is dict else MISSING
    steps = tuple(path)

    def get(doc: Any) -> Any:
        node = doc
        for step in steps:
            if type(step) is int:
                if type(node) is not list or step >= len(node):
                    return MISSING
                node = node[step]
            elif type(node) is dict:
                node = node.get(step, MISSING)
                if node is MISSING:
                    return MISSING
            else:
                return MISSING
        return node

    return get


def selector_key(selector: str) -> str | None:
    """The last object key a selector names (``"b"`` for ``$.a.b[0]``), quoted as in JSON text."""
    keys = [m.group(1) for m in _PART.finditer(selector) if m.group(1) is not None]
    return f'"{keys[-1]}"' if keys else None


def compile_json(body: str) -> JsonExpr:
    """Compile the inside of a ``{...}`` pattern, or raise PatternError."""
    stream = TokenStream(tokenize(body))
    if stream.peek() is None:
        raise PatternError("Invalid filter pattern")
    expr = _parse_or(stream)
    if stream.peek() is not None:
        raise PatternError("Invalid filter pattern")
    return expr


def _parse_or(stream: TokenStream) -> JsonExpr:
    parts = [_parse_and(stream)]
    while stream.accept("||"):
        parts.append(_parse_and(stream))
    if len(parts) == 1:
        return parts[0]
    preds = tuple(p.predicate for p in parts)
    return JsonExpr(
        lambda doc: any(p(doc) for p in preds),
        (),  # an alternative needs none of its branches' literals
        tuple(s for p in parts for s in p.selectors),
        sum(p.regex_count for p in parts),
    )


def _parse_and(stream: TokenStream) -> JsonExpr:
    parts = [_parse_primary(stream)]
    while stream.accept("&&"):
        parts.append(_parse_primary(stream))
    if len(parts) == 1:
        return parts[0]
    preds = tuple(p.predicate for p in parts)
    return JsonExpr(
        lambda doc: all(p(doc) for p in preds),
        tuple(lit for p in parts for lit in p.required),
        tuple(s for p in parts for s in p.selectors),
        sum(p.regex_count for p in parts),
    )


def _parse_primary(stream: TokenStream) -> JsonExpr:
    if stream.accept("("):
        inner = _parse_or(stream)
        stream.expect(")")
        return inner
    selector = stream.expect("selector").text
    get = selector_getter(selector)
    key = selector_key(selector)
    token = stream.next()
    if token.kind == "word" and token.text.upper() in ("IS", "NOT"):
        return _keyword_test(token.text.upper(), stream.expect("word").text.upper(), selector, key)
    if token.kind != "op":
        raise PatternError("Invalid filter pattern")
    literal = _value(stream.next())
    test = comparison(token.text, literal)
    required = [key] if key else []
    if token.text == "=" and (piece := required_literal(literal)):
        required.append(piece)
    return JsonExpr(
        lambda doc: test(get(doc)),
        tuple(required),
        ((selector, get),),
        1 if literal.kind == "regex" else 0,
    )


def _keyword_test(first: str, second: str, selector: str, key: str | None) -> JsonExpr:
    get = selector_getter(selector)
    required: tuple[str, ...] = (key,) if key else ()
    pred: DocPredicate
    if first == "NOT" and second == "EXISTS":
        return JsonExpr(lambda doc: get(doc) is MISSING, (), ((selector, get),), 0)
    if first != "IS":
        raise PatternError("Invalid filter pattern")
    if second == "NULL":
        pred = lambda doc: get(doc) is None  # noqa: E731
        required += ("null",)
    elif second == "TRUE":
        pred = lambda doc: get(doc) is True  # noqa: E731
        required += ("true",)
    elif second == "FALSE":
        pred = lambda doc: get(doc) is False  # noqa: E731
        required += ("false",)
    else:
        raise PatternError("Invalid filter pattern")
    return JsonExpr(pred, required, ((selector, get),), 0)


def _value(token: Token) -> Literal:
    if token.kind == "string":
        return literal_from_word(token.text, quoted=True)
    if token.kind == "word":
        return literal_from_word(token.text, quoted=False)
    if token.kind == "regex":
        return Literal("regex", token.text, regex=compile_regex(token.text))
    raise PatternError("Invalid filter pattern")


def extracted_values(expr: JsonExpr, doc: Any) -> dict[str, str]:
    """The scalar values of every selector the pattern reads (TestMetricFilter's view)."""
    out: dict[str, str] = {}
    for text, get in expr.selectors:
        node = get(doc)
        if node is not MISSING and (value := scalar_text(node)) is not None:
            out[text] = value
    return out

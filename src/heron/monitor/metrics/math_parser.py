"""CloudWatch metric-math expressions: tokenizer, syntax tree and parser.

The grammar follows the "Metric math syntax and functions" page of the CloudWatch user guide:
query ids start with a lowercase letter, functions and keywords are upper case, ``[a, b]`` builds
an array of time series, strings are double-quoted (curly quotes too, since AWS's own examples use
them). Precedence, loosest first: ``OR ||``, ``AND &&``, ``NOT``, comparisons, ``+ -``, ``* /``,
unary minus, ``^`` (right-associative, so ``-2^2`` is ``-4``).

Every error is an ``AwsError`` shaped as CloudWatch answers a bad expression (a ValidationError
reading ``Error in expression 'e1': Invalid syntax``, as seen from AWS).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from heron.awsapi.errors import AwsError, validation_error

# Names that may stand alone (not followed by "(") as arguments: FILL's REPEAT/LINEAR, SORT's
# statistic and order.
KEYWORDS = frozenset({"REPEAT", "LINEAR", "ASC", "DESC", "SUM", "AVG", "MIN", "MAX", "STDDEV"})

# Hard caps on nesting so a hostile expression cannot exhaust the interpreter's stack.
MAX_DEPTH = 64
MAX_TREE_DEPTH = 200

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>"[^"]*"|\u201c[^\u201d]*\u201d)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/^()\[\],<>])
    """,
    re.VERBOSE,
)


def expression_error(query_id: str, detail: str) -> AwsError:
    """The error CloudWatch answers for an expression it cannot parse or evaluate."""
    return validation_error(f"Error in expression '{query_id}': {detail}")


@dataclass(frozen=True, slots=True)
class Num:
    """A number literal."""

    value: float


@dataclass(frozen=True, slots=True)
class Str:
    """A string literal (only METRICS("...") takes one)."""

    value: str


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to another query's Id."""

    name: str


@dataclass(frozen=True, slots=True)
class Keyword:
    """A bare upper-case word used as an argument (REPEAT, LINEAR, ASC, DESC, SUM, ...)."""

    name: str


@dataclass(frozen=True, slots=True)
class Array:
    """``[a, b, ...]``: an array of time series."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Call:
    """A function call such as ``FILL(m1, 0)``."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Unary:
    """``-x`` or ``NOT x``."""

    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    """An arithmetic, comparison or logical operator between two operands."""

    op: str
    left: Node
    right: Node


Node = Num | Str | Ref | Keyword | Array | Call | Unary | Binary

_COMPARISONS = frozenset({"==", "!=", "<=", ">=", "<", ">"})


def _tokens(text: str, query_id: str) -> list[tuple[str, str]]:
    """Split ``text`` into (kind, text) tokens; anything unrecognised is a syntax error."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise expression_error(query_id, "Invalid syntax")
        kind = match.lastgroup or ""
        if kind != "ws":
            out.append((kind, match.group()))
        pos = match.end()
    return out


class _Parser:
    """A recursive-descent parser over the token list (one instance per expression)."""

    def __init__(self, text: str, query_id: str, functions: frozenset[str]) -> None:
        self.tokens = _tokens(text, query_id)
        self.pos = 0
        self.depth = 0
        self.query_id = query_id
        self.functions = functions

    def fail(self, detail: str = "Invalid syntax") -> AwsError:
        return expression_error(self.query_id, detail)

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        if self.take()[1] != text:
            raise self.fail()

    def at_word(self, *words: str) -> bool:
        kind, text = self.peek()
        return (kind == "name" and text in words) or (kind == "op" and text in words)

    def parse(self) -> Node:
        if not self.tokens:
            raise self.fail()
        node = self.or_expr()
        if self.pos != len(self.tokens):
            raise self.fail()
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.at_word("OR", "||"):
            self.take()
            node = Binary("OR", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.at_word("AND", "&&"):
            self.take()
            node = Binary("AND", node, self.not_expr())
        return node

    def not_expr(self) -> Node:
        if self.at_word("NOT"):
            self.take()
            return Unary("NOT", self.nested(self.not_expr))
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        while self.peek()[0] == "op" and self.peek()[1] in _COMPARISONS:
            op = self.take()[1]
            node = Binary(op, node, self.additive())
        return node

    def additive(self) -> Node:
        node = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            node = Binary(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek() == ("op", "-"):
            self.take()
            return Unary("-", self.nested(self.unary))
        if self.peek() == ("op", "+"):
            self.take()
            return self.nested(self.unary)
        return self.power()

    def power(self) -> Node:
        base = self.primary()
        if self.peek() == ("op", "^"):
            self.take()
            return Binary("^", base, self.nested(self.unary))
        return base

    def nested(self, rule: Callable[[], Node]) -> Node:
        """Run ``rule`` one nesting level deeper, refusing absurd depth."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail("Expression is nested too deeply")
        try:
            return rule()
        finally:
            self.depth -= 1

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "num":
            return Num(float(text))
        if kind == "str":
            return Str(text[1:-1])
        if kind == "op" and text == "(":
            node = self.nested(self.or_expr)
            self.expect(")")
            return node
        if kind == "op" and text == "[":
            return Array(self.arguments("]"))
        if kind == "name":
            return self.named(text)
        raise self.fail()

    def named(self, text: str) -> Node:
        if self.peek() == ("op", "("):
            self.take()
            if text not in self.functions:
                raise self.fail(f"Unrecognized function: {text}")
            return Call(text, self.arguments(")"))
        if text[0].islower():
            return Ref(text)
        if text in KEYWORDS:
            return Keyword(text)
        raise self.fail(f"Unrecognized keyword: {text}")

    def arguments(self, closing: str) -> tuple[Node, ...]:
        items: list[Node] = []
        if self.peek() == ("op", closing):
            self.take()
            return ()
        while True:
            items.append(self.nested(self.or_expr))
            kind, text = self.take()
            if (kind, text) == ("op", closing):
                return tuple(items)
            if (kind, text) != ("op", ","):
                raise self.fail()


def parse(text: str, functions: frozenset[str], query_id: str = "expr") -> Node:
    """Parse ``text`` into a syntax tree, accepting only the function names in ``functions``."""
    node = _Parser(text, query_id, functions).parse()
    # Long operator chains nest without parentheses; bound the tree's depth so evaluation, which
    # recurses, stays far from the interpreter's recursion limit.
    if depth(node) > MAX_TREE_DEPTH:
        raise expression_error(query_id, "Expression is nested too deeply")
    return node


def children(node: Node) -> tuple[Node, ...]:
    """The direct operands of ``node``."""
    if isinstance(node, Array):
        return node.items
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children (iterative: trees may be deep)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def depth(node: Node) -> int:
    """The number of levels in the tree (a leaf is 1)."""
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children(current))
    return deepest


def referenced_ids(node: Node) -> set[str]:
    """The query ids an expression names directly (METRICS() is reported by ``uses_metrics``)."""
    return {n.name for n in walk(node) if isinstance(n, Ref)}


def uses_metrics(node: Node) -> bool:
    """Whether the expression calls METRICS(), which reads every MetricStat query."""
    return any(isinstance(n, Call) and n.name == "METRICS" for n in walk(node))

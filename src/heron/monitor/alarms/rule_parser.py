"""The composite-alarm AlarmRule language: tokenizer, parser and rule tree (§1.13).

Grammar ([AWS-doc] + aws-cdk alarm-rule.ts; precedence NOT > AND > OR [Inferred])::

    rule    := or
    or      := and ("OR" and)*
    and     := unary ("AND" unary)*
    unary   := "NOT" unary | "(" or ")" | "TRUE" | "FALSE"
             | STATE "(" ref ")"
             | "AT_LEAST" "(" INT ["%"] "," ["NOT"] STATE "," "(" ref ("," ref)* ")" ")"
    STATE   := "ALARM" | "OK" | "INSUFFICIENT_DATA"
    ref     := alarm name or ARN, bare (up to whitespace, "(", ")" or ",") or "double-quoted"

Errors are AWS's ``Error in AlarmRule [Unsupported token 'X' at char N]`` (N counted from 0),
with ``, must be: ')'`` when exactly one token fits there [AWS-observed]; the end-of-rule,
AT_LEAST-threshold and nesting messages are [Inferred] in the same form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from heron.awsapi.errors import AwsError, validation_error

STATE_WORDS = ("ALARM", "OK", "INSUFFICIENT_DATA")
MAX_RULE_LENGTH = 10_240
MAX_CHILDREN = 100
MAX_ELEMENTS = 500
#: Deepest nesting accepted (keeps parsing and evaluation clear of Python's recursion limit).
MAX_DEPTH = 100

_TOKEN = re.compile(
    r'\s*(?:(?P<punct>[(),])|(?P<q>"(?P<quoted>(?:[^"\\]|\\.)*)")|(?P<word>[^\s(),"]+))'
)
_ALARM_ARN = re.compile(r"^arn:aws[a-z-]*:cloudwatch:([a-z0-9-]*):(\d*):alarm:(.+)$")

# Rule tree nodes are tuples, cheap to build and to walk:
#   ("const", bool) | ("state", STATE, name) | ("not", node) | ("and", nodes) | ("or", nodes)
#   | ("atleast", threshold, percent, negate, STATE, names)
Node = tuple[Any, ...]


def rule_error(detail: str) -> AwsError:
    """An AlarmRule syntax error (ValidationError)."""
    return validation_error(f"Error in AlarmRule [{detail}]")


def alarm_name_of(ref: str) -> str:
    """The alarm name a rule reference points at (the name itself, or the tail of an ARN)."""
    m = _ALARM_ARN.match(ref)
    return m.group(3) if m else ref


def arn_parts(ref: str) -> tuple[str, str, str] | None:
    """(region, account, name) of a CloudWatch alarm ARN reference, None for a bare name."""
    m = _ALARM_ARN.match(ref)
    return (m.group(1), m.group(2), m.group(3)) if m else None


@dataclass(frozen=True, slots=True)
class Rule:
    """A parsed AlarmRule: its tree, the references in order of first use, and its size."""

    text: str
    root: Node
    refs: tuple[str, ...]  # as written (names or ARNs), de-duplicated
    elements: int

    @property
    def children(self) -> tuple[str, ...]:
        """The alarm names the rule reads, de-duplicated, in order of first use."""
        return tuple(dict.fromkeys(alarm_name_of(r) for r in self.refs))

    def evaluate(self, states: Mapping[str, str]) -> bool:
        """Whether the rule holds given each child's state (absent = INSUFFICIENT_DATA)."""
        return _eval(self.root, states)


def _state(states: Mapping[str, str], name: str) -> str:
    return states.get(name) or "INSUFFICIENT_DATA"


def _eval(node: Node, states: Mapping[str, str]) -> bool:
    kind = node[0]
    if kind == "state":
        return bool(_state(states, node[2]) == node[1])
    if kind == "and":
        return all(_eval(n, states) for n in node[1])
    if kind == "or":
        return any(_eval(n, states) for n in node[1])
    if kind == "not":
        return not _eval(node[1], states)
    if kind == "const":
        return bool(node[1])
    _, threshold, percent, negate, state, names = node
    hits = sum(1 for name in names if (_state(states, name) == state) != negate)
    if percent:
        return bool(hits * 100 >= threshold * len(names))
    return bool(hits >= threshold)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []  # (kind, text, position)
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                stray = text[pos:].lstrip()
                if not stray:
                    break
                at = len(text) - len(stray)
                raise rule_error(f"Unsupported token '{stray[0]}' at char {at}")
            if m.group("punct"):
                self.tokens.append(("punct", m.group("punct"), m.start("punct")))
            elif m.group("quoted") is not None:
                value = re.sub(r"\\(.)", r"\1", m.group("quoted"))
                self.tokens.append(("quoted", value, m.start("q")))
            else:
                self.tokens.append(("word", m.group("word"), m.start("word")))
            pos = m.end()
        self.i = 0
        self.refs: list[str] = []
        self.elements = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def fail(self, expected: str | None = None) -> AwsError:
        token = self.peek()
        if token is None:
            detail = "Unexpected end of AlarmRule"
        else:
            shown = self.text[token[2]] if token[0] == "punct" else token[1]
            if token[0] == "quoted":
                shown = f'"{token[1]}"'
            detail = f"Unsupported token '{shown}' at char {token[2]}"
        if expected is not None:
            detail += f", must be: {expected}"
        return rule_error(detail)

    def take_punct(self, char: str) -> None:
        token = self.peek()
        if token is None or token[0] != "punct" or token[1] != char:
            raise self.fail(f"'{char}'")
        self.i += 1

    def at_word(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1] == word

    def parse(self) -> Node:
        node = self.disjunction(0)
        if self.peek() is not None:
            raise self.fail()
        return node

    def disjunction(self, depth: int) -> Node:
        parts = [self.conjunction(depth)]
        while self.at_word("OR"):
            self.i += 1
            parts.append(self.conjunction(depth))
        return parts[0] if len(parts) == 1 else ("or", tuple(parts))

    def conjunction(self, depth: int) -> Node:
        parts = [self.unary(depth)]
        while self.at_word("AND"):
            self.i += 1
            parts.append(self.unary(depth))
        return parts[0] if len(parts) == 1 else ("and", tuple(parts))

    def unary(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise rule_error(f"AlarmRule nests deeper than {MAX_DEPTH} levels")
        token = self.peek()
        if token is None:
            raise self.fail()
        kind, text, _ = token
        if kind == "punct" and text == "(":
            self.i += 1
            self.elements += 1
            node = self.disjunction(depth + 1)
            self.take_punct(")")
            return node
        if kind != "word":
            raise self.fail()
        if text == "NOT":
            self.i += 1
            return ("not", self.unary(depth + 1))
        if text in ("TRUE", "FALSE"):
            self.i += 1
            self.elements += 1
            return ("const", text == "TRUE")
        if text in STATE_WORDS:
            self.i += 1
            self.take_punct("(")
            name = self.ref()
            self.take_punct(")")
            return ("state", text, name)
        if text == "AT_LEAST":
            self.i += 1
            return self.at_least()
        raise self.fail()

    def ref(self) -> str:
        token = self.peek()
        if token is None or token[0] == "punct":
            raise self.fail()
        self.i += 1
        self.elements += 1
        self.refs.append(token[1])
        return alarm_name_of(token[1])

    def at_least(self) -> Node:
        self.take_punct("(")
        token = self.peek()
        m = re.fullmatch(r"(\d{1,9})(%?)", token[1]) if token and token[0] == "word" else None
        if token is None or m is None:
            raise self.fail()
        threshold, percent = int(m.group(1)), bool(m.group(2))
        self.i += 1
        self.take_punct(",")
        negate = self.at_word("NOT")
        if negate:
            self.i += 1
        token = self.peek()
        if token is None or token[0] != "word" or token[1] not in STATE_WORDS:
            raise self.fail()
        state = token[1]
        self.i += 1
        self.take_punct(",")
        self.take_punct("(")
        names = [self.ref()]
        while (t := self.peek()) is not None and t[0] == "punct" and t[1] == ",":
            self.i += 1
            names.append(self.ref())
        self.take_punct(")")
        self.take_punct(")")
        if (
            threshold < 1
            or (percent and threshold > 100)
            or (not percent and threshold > len(names))
        ):
            shown = f"{threshold}{'%' if percent else ''}"
            raise rule_error(
                f"AT_LEAST threshold {shown} must be between 1 and "
                + ("100%" if percent else f"the number of listed alarms ({len(names)})")
            )
        return ("atleast", threshold, percent, negate, state, tuple(names))


@lru_cache(maxsize=4096)
def parse_rule(text: str) -> Rule:
    """Parse an AlarmRule (cached); raise AwsError ValidationError with AWS's message."""
    if text != text.strip():
        raise validation_error(
            "AlarmRule must not contain leading or trailing whitespace or be null"
        )
    parser = _Parser(text)
    if not parser.tokens:
        raise validation_error(
            "AlarmRule must not contain leading or trailing whitespace or be null"
        )
    root = parser.parse()
    return Rule(text, root, tuple(dict.fromkeys(parser.refs)), parser.elements)

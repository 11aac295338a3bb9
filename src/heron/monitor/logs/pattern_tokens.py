"""The tokenizer shared by JSON ``{...}`` and space-delimited ``[...]`` filter patterns."""

from __future__ import annotations

import re
from dataclasses import dataclass

from heron.monitor.logs.pattern_values import PatternError

_SELECTOR = re.compile(r"\$(?:\.[A-Za-z0-9_\-@:]+|\[\d+\])*")
_WORD = re.compile(r"[^\s()=!<>&|,\"%\[\]{}]+")
_OPS = ("!=", "<=", ">=", "=", "<", ">")


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is a punctuation string, op, string, regex, word, selector or ellipsis."""

    kind: str
    text: str


def tokenize(body: str) -> list[Token]:
    """Split the inside of a ``{...}`` or ``[...]`` pattern into tokens, or raise PatternError."""
    tokens: list[Token] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c.isspace():
            i += 1
            continue
        two = body[i : i + 2]
        if two in ("&&", "||"):
            tokens.append(Token(two, two))
            i += 2
        elif body.startswith("...", i):
            tokens.append(Token("ellipsis", "..."))
            i += 3
        elif c in "(),":
            tokens.append(Token(c, c))
            i += 1
        elif op := next((o for o in _OPS if body.startswith(o, i)), None):
            tokens.append(Token("op", op))
            i += len(op)
        elif c == '"':
            text, i = read_quoted(body, i)
            tokens.append(Token("string", text))
        elif c == "%":
            end = body.find("%", i + 1)
            if end < 0:
                raise PatternError("Invalid filter pattern")
            tokens.append(Token("regex", body[i + 1 : end]))
            i = end + 1
        elif c == "$" and (m := _SELECTOR.match(body, i)) and m.end() > i + 1:
            tokens.append(Token("selector", m.group()))
            i = m.end()
        elif m := _WORD.match(body, i):
            tokens.append(Token("word", m.group()))
            i = m.end()
        else:
            raise PatternError(f"Invalid character(s) in term '{c}'")
    return tokens


def read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read a double-quoted string starting at ``start``; returns (content, index after it)."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif c == '"':
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise PatternError("Invalid filter pattern")


class TokenStream:
    """A cursor over tokens for the recursive-descent parsers."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Token | None:
        """The next token without consuming it."""
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> Token:
        """Consume and return the next token (PatternError at the end)."""
        token = self.peek()
        if token is None:
            raise PatternError("Invalid filter pattern")
        self.pos += 1
        return token

    def accept(self, kind: str) -> bool:
        """Consume the next token if it is of ``kind``."""
        token = self.peek()
        if token is not None and token.kind == kind:
            self.pos += 1
            return True
        return False

    def expect(self, kind: str) -> Token:
        """Consume a token of ``kind`` or raise PatternError."""
        token = self.next()
        if token.kind != kind:
            raise PatternError("Invalid filter pattern")
        return token

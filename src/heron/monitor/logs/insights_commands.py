"""Logs Insights query text → the commands ``run_query`` executes (expressions: insights_parser)."""

from __future__ import annotations

import re

from heron.monitor.logs.insights_parser import (
    Command,
    QueryError,
    _Parser,
    expr_text,
    split_commands,
)

#: The aggregate functions ``stats`` accepts.
_AGGREGATES = {
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "pct",
    "stddev",
    "count_distinct",
    "earliest",
    "latest",
}


def parse_query(query: str) -> list[Command]:
    """Parse query text into commands (QueryError when malformed)."""
    commands = []
    for part in split_commands(query):
        word, _, rest = part.partition(" ")
        name = word.strip().lower()
        p = _Parser(rest)
        cmd = Command(name)
        if name in ("fields", "display"):
            while not p.at_end():
                start = p.pos
                e = p.expr()
                label = expr_text(p, start)
                if p.eat("as"):
                    _, label = p.token()
                cmd.items.append((label.strip("`"), e))
                p.eat(",")
        elif name == "filter":
            cmd.predicate = p.expr()
        elif name == "stats":
            _parse_stats(p, cmd)
        elif name == "sort":
            while not p.at_end():
                e = p.expr()
                desc = p.eat("desc")
                if not desc:
                    p.eat("asc")
                cmd.sort_keys.append((e, desc))
                p.eat(",")
        elif name == "limit":
            try:
                cmd.limit = int(rest.strip())
            except ValueError as exc:
                raise QueryError("limit needs a number") from exc
            p.pos = len(p.text)
        elif name == "parse":
            _parse_parse(p, cmd)
        else:
            raise QueryError(f"unsupported command {name!r}")
        if not p.at_end():
            raise QueryError(f"unexpected text in {name}: {p.text[p.pos :]!r}")
        commands.append(cmd)
    if not commands:
        raise QueryError("empty query")
    return commands


def _parse_stats(p: _Parser, cmd: Command) -> None:
    while True:
        start = p.pos
        m = re.compile(r"\s*([A-Za-z_]+)\s*\(").match(p.text, p.pos)
        if not m or m.group(1).lower() not in _AGGREGATES:
            raise QueryError("stats needs an aggregate function such as count(*)")
        fn = m.group(1).lower()
        p.pos = m.end()
        arg = None
        pct = 0.0
        if not p.eat("*"):
            arg = p.expr()
        if p.eat(","):
            pct = float(p.additive()({}))
        if not p.eat(")"):
            raise QueryError("missing ) in stats")
        label = expr_text(p, start)
        if p.eat("as"):
            _, label = p.token()
        cmd.aggregates.append((label, fn, arg, pct))
        if not p.eat(","):
            break
    if p.eat("by"):
        while not p.at_end():
            start = p.pos
            e = p.expr()
            label = expr_text(p, start)
            is_bin = label.lower().startswith("bin(")
            if p.eat("as"):
                _, label = p.token()
            cmd.group_by.append((label, e, 1 if is_bin else 0))
            p.eat(",")


def _parse_parse(p: _Parser, cmd: Command) -> None:
    cmd.parse_source = p.primary()
    p._skip()
    if p.text.startswith("/", p.pos):
        cmd.parse_regex = p.regex()
        cmd.parse_names = list(cmd.parse_regex.groupindex)
        return
    _, glob = p.token()
    glob = glob[1:-1]
    pieces = [re.escape(x) for x in glob.split("*")]
    # Lazy groups, except a trailing ``*`` which takes the rest of the text.
    last = len(pieces) - 2 if pieces[-1] == "" else -1
    body = "".join(p + ("(.*)" if i == last else "(.*?)") for i, p in enumerate(pieces[:-1]))
    cmd.parse_regex = re.compile(body + pieces[-1], re.DOTALL)
    if not p.eat("as"):
        raise QueryError("parse with a glob needs 'as' names")
    while not p.at_end():
        _, name = p.token()
        cmd.parse_names.append(name)
        p.eat(",")
    if len(cmd.parse_names) != glob.count("*"):
        raise QueryError("parse: the number of names must equal the number of * in the pattern")

"""A Logs Insights subset: parse a query, run it over stored events, serve StartQuery results.

Records carry ``@timestamp``, ``@message``, ``@logStream``, ``@log``, ``@ingestionTime`` and,
for JSON messages, every field in dot notation (``a.b``, arrays as ``a.0``). Queries run when
their results are first asked for (Scheduled → Complete); StopQuery before that cancels them.
"""

from __future__ import annotations

import itertools
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from heron.monitor.logs.insights_parser import (
    Command,
    Expr,
    QueryError,
    Record,
    _Parser,
    expr_text,
    split_commands,
)
from heron.monitor.logs.store import LogStore
from heron.types import Clock

__all__ = ["QueryError", "QueryManager", "parse_query", "run_query"]

DEFAULT_LIMIT = 10_000
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
_TIME_FIELDS = {"@timestamp", "@ingestionTime"}


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


def record_of(group: str, stream: str, ts: int, ingest: int, message: str) -> Record:
    """The fields Insights sees for one event (JSON messages are flattened)."""
    record: Record = {
        "@timestamp": ts,
        "@message": message,
        "@logStream": stream,
        "@log": f"000000000000:{group}",
        "@ingestionTime": ingest,
    }
    if message.startswith("{"):
        try:
            doc = orjson.loads(message)
        except orjson.JSONDecodeError:
            return record
        if isinstance(doc, dict):
            _flatten(doc, "", record)
    return record


def _flatten(node: Any, prefix: str, out: Record) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _flatten(v, f"{prefix}{k}.", out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _flatten(v, f"{prefix}{i}.", out)
    else:
        out.setdefault(prefix[:-1], node)


def run_query(
    commands: list[Command], records: Iterable[Record], limit: int
) -> tuple[list[list[dict[str, str]]], dict[str, float]]:
    """Run parsed commands; returns result rows and the statistics structure."""
    stats = {"recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0}
    rows: Iterable[Record] = _counted(records, stats)
    columns: list[str] | None = None
    aggregated = any(c.name == "stats" for c in commands)
    if not aggregated and not any(c.name == "sort" for c in commands):
        # Without a sort, results come newest first (before any limit applies).
        rows = sorted(rows, key=lambda r: r.get("@timestamp") or 0, reverse=True)
    for cmd in commands:
        # Each stage binds its own command now: the generators run after the loop moves on.
        if cmd.name == "filter":
            assert cmd.predicate is not None
            rows = filter(cmd.predicate, rows)
        elif cmd.name == "parse":
            rows = map(lambda r, c=cmd: _apply_parse(c, r), rows)  # type: ignore[misc]
        elif cmd.name in ("fields", "display"):
            rows = map(lambda r, c=cmd: _apply_fields(c, r), rows)  # type: ignore[misc]
            columns = [label for label, _ in cmd.items]
        elif cmd.name == "stats":
            rows = _apply_stats(cmd, list(rows))
            columns = [g[0] for g in cmd.group_by] + [a[0] for a in cmd.aggregates]
        elif cmd.name == "sort":
            materialized = list(rows)
            for key, desc in reversed(cmd.sort_keys):
                materialized.sort(key=_sorter(key), reverse=desc)
            rows = materialized
        elif cmd.name == "limit":
            rows = itertools.islice(rows, cmd.limit)
    result_rows = list(itertools.islice(rows, limit))
    if not aggregated:
        stats["recordsMatched"] = float(len(result_rows))
    else:
        stats["recordsMatched"] = stats["recordsScanned"]
    names = columns or ["@timestamp", "@message"]
    out = []
    for r in result_rows:
        cells = [{"field": n, "value": _format(n, r.get(n))} for n in names if r.get(n) is not None]
        if not aggregated and "@ptr" in r:
            cells.append({"field": "@ptr", "value": str(r["@ptr"])})
        out.append(cells)
    return out, stats


def _counted(records: Iterable[Record], stats: dict[str, float]) -> Iterable[Record]:
    for r in records:
        stats["recordsScanned"] += 1
        stats["bytesScanned"] += len(r["@message"])
        yield r


def _apply_parse(cmd: Command, r: Record) -> Record:
    assert cmd.parse_source is not None and cmd.parse_regex is not None
    source = cmd.parse_source(r)
    if source is None:
        return r
    m = cmd.parse_regex.search(str(source))
    if m:
        r = dict(r)
        groups = (
            m.groupdict()
            if cmd.parse_regex.groupindex
            else dict(zip(cmd.parse_names, m.groups(), strict=False))
        )
        r.update({k: v for k, v in groups.items() if v is not None})
    return r


def _apply_fields(cmd: Command, r: Record) -> Record:
    out = dict(r)
    for label, e in cmd.items:
        out[label] = e(r)
    return out


def _apply_stats(cmd: Command, records: list[Record]) -> list[Record]:
    groups: dict[tuple[Any, ...], list[Record]] = {}
    for r in records:
        key = tuple(e(r) for _, e, _ in cmd.group_by)
        groups.setdefault(key, []).append(r)
    out = []
    for key, members in sorted(groups.items(), key=lambda kv: tuple(_sort_key(k) for k in kv[0])):
        row: Record = {}
        for (label, _, is_bin), value in zip(cmd.group_by, key, strict=True):
            row[label] = _BinTime(value) if is_bin else value
        for label, fn, arg, pct in cmd.aggregates:
            row[label] = _aggregate(fn, arg, pct, members)
        out.append(row)
    return out


class _BinTime(int):
    """A bin() bucket start: formatted as a timestamp in results."""


def _aggregate(fn: str, arg: Any, pct: float, members: list[Record]) -> Any:
    if fn == "count" and arg is None:
        return len(members)
    values = [v for v in (arg(r) for r in members) if v is not None]
    if fn == "count":
        return len(values)
    if fn == "count_distinct":
        return len(set(map(str, values)))
    if fn in ("earliest", "latest"):
        pairs = [(r["@timestamp"], arg(r)) for r in members if arg(r) is not None]
        if not pairs:
            return None
        return (min if fn == "earliest" else max)(pairs, key=lambda p: p[0])[1]
    nums = sorted(float(v) for v in values if _is_number(v))
    if not nums:
        return None
    if fn == "sum":
        return sum(nums)
    if fn == "avg":
        return sum(nums) / len(nums)
    if fn == "min":
        return nums[0]
    if fn == "max":
        return nums[-1]
    if fn == "stddev":
        mean = sum(nums) / len(nums)
        return (sum((x - mean) ** 2 for x in nums) / max(1, len(nums) - 1)) ** 0.5
    rank = max(1, -(-int(pct * len(nums)) // 100)) if pct else 1  # nearest rank
    return nums[min(len(nums), rank) - 1]


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return not isinstance(v, bool)


def _sorter(key: Expr) -> Callable[[Record], tuple[int, Any]]:
    return lambda r: _sort_key(key(r))


def _sort_key(v: Any) -> tuple[int, Any]:
    if v is None:
        return (0, 0)
    if isinstance(v, int | float) and not isinstance(v, bool):
        return (1, v)
    return (2, str(v))


def _format(name: str, v: Any) -> str:
    if isinstance(v, _BinTime) or (name in _TIME_FIELDS and isinstance(v, int)):
        return datetime.fromtimestamp(int(v) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


class QueryManager:
    """StartQuery / GetQueryResults / StopQuery state: queries run lazily on first read."""

    def __init__(self, store: LogStore, *, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        self._queries: dict[str, dict[str, Any]] = {}

    def start(
        self, groups: list[str], query: str, start_s: int, end_s: int, limit: int | None
    ) -> str:
        """Parse and schedule a query; returns its id (QueryError when malformed)."""
        commands = parse_query(query)
        qid = str(uuid.uuid4())
        with self._lock:
            self._queries[qid] = {
                "groups": groups,
                "commands": commands,
                "start": start_s * 1000,
                "end": end_s * 1000 + 999,
                "limit": limit or DEFAULT_LIMIT,
                "status": "Scheduled",
            }
        return qid

    def results(self, qid: str) -> dict[str, Any] | None:
        """GetQueryResults' answer, running the query if it has not run yet; None if unknown."""
        with self._lock:
            q = self._queries.get(qid)
            if q is None:
                return None
            if q["status"] == "Scheduled":
                q["status"] = "Running"
                records = (
                    record_of(*row)
                    for row in self.store.scan_events(q["groups"], q["start"], q["end"])
                )
                try:
                    q["rows"], q["stats"] = run_query(q["commands"], records, q["limit"])
                    q["status"] = "Complete"
                except Exception:
                    q["rows"], q["stats"], q["status"] = [], _empty_stats(), "Failed"
            return {
                "status": q["status"],
                "results": q.get("rows", []),
                "statistics": q.get("stats", _empty_stats()),
            }

    def stop(self, qid: str) -> bool | None:
        """Cancel a query that has not completed; None if unknown, False if already done."""
        with self._lock:
            q = self._queries.get(qid)
            if q is None:
                return None
            if q["status"] in ("Scheduled", "Running"):
                q["status"] = "Cancelled"
                return True
            return False


def _empty_stats() -> dict[str, float]:
    return {"recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0}

"""Running parsed Logs Insights commands over records: filter, parse, fields, stats, sort, limit."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from heron.monitor.logs.insights_parser import Command, Expr, Record

_TIME_FIELDS = {"@timestamp", "@ingestionTime"}


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

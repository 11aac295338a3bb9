"""The Logs Insights subset: commands, expressions, parse, stats by bin, and bad queries."""

from __future__ import annotations

import pytest

from heron.monitor.logs.insights import record_of
from heron.monitor.logs.insights_commands import parse_query
from heron.monitor.logs.insights_parser import QueryError
from heron.monitor.logs.insights_run import run_query

BASE = 1_800_000_000_000


def records() -> list[dict[str, object]]:
    out = []
    for i in range(12):
        level = "ERROR" if i % 3 == 0 else "INFO"
        msg = f'{{"level":"{level}","ms":{i * 10},"req":{{"route":"/r{i % 2}"}},"tags":["a","b"]}}'
        out.append(record_of("/aws/lambda/f", f"s{i % 2}", BASE + i * 60_000, BASE, msg))
    out.append(
        record_of("/aws/lambda/f", "s0", BASE + 30, BASE, "REPORT RequestId: abc Duration: 12.5 ms")
    )
    return out


def rows(query: str, limit: int = 1000) -> list[dict[str, str]]:
    result, _ = run_query(parse_query(query), records(), limit)
    return [{c["field"]: c["value"] for c in row} for row in result]


def test_json_fields_are_discovered_in_dot_notation() -> None:
    r = records()[0]
    assert r["req.route"] == "/r0" and r["tags.1"] == "b" and r["ms"] == 0


def test_fields_filter_sort_limit() -> None:
    got = rows(
        'fields @timestamp, level, ms | filter level = "ERROR" and ms >= 30 | sort ms desc | limit 2'
    )
    assert got == [
        {"@timestamp": "2027-01-15 08:09:00.000", "level": "ERROR", "ms": "90"},
        {"@timestamp": "2027-01-15 08:06:00.000", "level": "ERROR", "ms": "60"},
    ]


def test_default_order_is_newest_first() -> None:
    got = rows("filter ispresent(ms) | fields ms | limit 2")
    assert [g["ms"] for g in got] == ["110", "100"]


def test_in_like_regex_and_not() -> None:
    assert len(rows('filter req.route in ["/r1"]')) == 6
    assert len(rows('filter @message like "REPORT"')) == 1
    assert len(rows("filter @message like /(?i)report/")) == 1
    assert len(rows("filter @message =~ /Duration: \\d+/")) == 1
    assert len(rows('filter level not in ["ERROR"] and not @message like /REPORT/')) == 8


def test_stats_by_bin_and_field() -> None:
    got = rows(
        "stats count(*) as n, sum(ms) as total, avg(ms), min(ms), max(ms), pct(ms, 50) by bin(5m)"
    )
    assert got[0] == {
        "bin(5m)": "2027-01-15 08:00:00.000",
        "n": "6",
        "total": "100",
        "avg(ms)": "20",
        "min(ms)": "0",
        "max(ms)": "40",
        "pct(ms, 50)": "20",
    }
    by_level = rows("stats count(*) by level")
    assert by_level == [
        {"count(*)": "1"},
        {"level": "ERROR", "count(*)": "4"},
        {"level": "INFO", "count(*)": "8"},
    ]


def test_parse_glob_and_regex() -> None:
    assert rows('parse @message "Duration: * ms" as d | filter ispresent(d) | fields d') == [
        {"d": "12.5"}
    ]
    got = rows("parse @message /Duration: (?<dur>[0-9.]+)/ | stats max(dur) as m")
    assert got == [{"m": "12.5"}]


def test_arithmetic_and_functions() -> None:
    got = rows("filter ms = 20 | fields ms * 2 + 1 as x, toupper(level) as u, strlen(level) as n")
    assert got == [{"x": "41", "u": "INFO", "n": "4"}]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "frobnicate x",
        "stats",
        "stats foo(x)",
        "limit x",
        "parse @message 'a*b*' as one",
        "filter (a = 1",
        "fields bin(x)",
    ],
)
def test_malformed_queries(query: str) -> None:
    with pytest.raises(QueryError):
        parse_query(query)

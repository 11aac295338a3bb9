"""Metric filters: values from fields, dimensions, default values, TestMetricFilter."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heron.monitor.logs.metric_filters import (
    FilterDefinitionError,
    apply_filters,
    build_metric_filter,
    match_test_messages,
)
from heron.monitor.logs.pattern_values import parse_number
from heron.monitor.logs.patterns import PatternError, compile_pattern
from heron.monitor.logs.samples import SampleBatch

T = 1_800_000_000_000


def run(
    pattern: str, transformation: dict[str, object], *messages: str
) -> list[tuple[object, ...]]:
    mf = build_metric_filter("f", pattern, [transformation], 0)
    batch = SampleBatch()
    apply_filters([mf], [(T + i * 1000, m) for i, m in enumerate(messages)], batch)
    return sorted(
        (s.name, s.dimensions, s.timestamp_ms - T, s.values, s.unit) for s in batch.samples()
    )


def test_counting_filter_emits_one_per_match() -> None:
    got = run(
        "ERROR",
        {"metricName": "Errors", "metricNamespace": "App", "metricValue": "1"},
        "ERROR a",
        "ok",
        "ERROR b",
    )
    assert got == [("Errors", (), 0, (1.0,), "None"), ("Errors", (), 2000, (1.0,), "None")]


def test_json_value_and_dimensions() -> None:
    t = {
        "metricName": "Latency",
        "metricNamespace": "App",
        "metricValue": "$.latency",
        "dimensions": {"Route": "$.route"},
        "unit": "Milliseconds",
    }
    got = run(
        "{ $.latency = * }",
        t,
        '{"latency": 12, "route": "/a"}',
        '{"latency": "fast", "route": "/a"}',
        '{"latency": 7}',
        '{"latency": 30.5, "route": "/b"}',
    )
    assert got == [
        ("Latency", (("Route", "/a"),), 0, (12.0,), "Milliseconds"),
        ("Latency", (("Route", "/b"),), 3000, (30.5,), "Milliseconds"),
    ]


def test_space_delimited_value_and_dimension() -> None:
    t = {
        "metricName": "Bytes",
        "metricNamespace": "Web",
        "metricValue": "$size",
        "dimensions": {"Status": "$status"},
    }
    got = run("[ip, status, size]", t, "1.1.1.1 200 512", "1.1.1.1 404 -", "2.2.2.2 500 9")
    assert got == [
        ("Bytes", (("Status", "200"),), 0, (512.0,), "None"),
        ("Bytes", (("Status", "500"),), 2000, (9.0,), "None"),
    ]


def test_default_value_for_every_non_matching_event() -> None:
    t = {"metricName": "Errors", "metricNamespace": "App", "metricValue": "1", "defaultValue": 0}
    got = run("ERROR", t, "ok", "ERROR", "ok")
    assert [g[3] for g in got] == [(0.0,), (1.0,), (0.0,)]
    # A batch in which no line can match still gives every event its default.
    got = run("ERROR", t, "ok", "fine", "ok")
    assert [(g[2], g[3]) for g in got] == [(0, (0.0,)), (1000, (0.0,)), (2000, (0.0,))]


@pytest.mark.parametrize(
    ("pattern", "transformation", "message"),
    [
        (
            "ERROR",
            {
                "metricName": "m",
                "metricNamespace": "n",
                "metricValue": "1",
                "dimensions": {"a": "$.a"},
            },
            "The specified filter pattern does not support dimensions",
        ),
        (
            "{ $.a = 1 }",
            {
                "metricName": "m",
                "metricNamespace": "n",
                "metricValue": "1",
                "defaultValue": 0,
                "dimensions": {"a": "$.a"},
            },
            "Metric filters with dimensions cannot have a default value",
        ),
        (
            "{ $.a = 1 }",
            {
                "metricName": "m",
                "metricNamespace": "n",
                "metricValue": "1",
                "dimensions": {"a": "$.a", "b": "$.b", "c": "$.c", "d": "$.d"},
            },
            "The maximum number of dimensions allowed is 3",
        ),
        (
            "ERROR",
            {"metricName": "m", "metricNamespace": "n", "metricValue": "$.a"},
            "Invalid metric value: $.a requires a JSON filter pattern",
        ),
        (
            "{ $.a = 1 }",
            {"metricName": "m", "metricNamespace": "n", "metricValue": "abc"},
            "Invalid metric value: abc",
        ),
        (
            "{ $.a = 1 }",
            {"metricName": "m", "metricNamespace": "n", "metricValue": "1", "unit": "Parsecs"},
            "Invalid unit: Parsecs",
        ),
    ],
)
def test_invalid_definitions(pattern: str, transformation: dict[str, object], message: str) -> None:
    with pytest.raises(
        FilterDefinitionError, match="^" + message.replace("$", r"\$").replace(".", r"\.") + "$"
    ):
        build_metric_filter("f", pattern, [transformation], 0)


def test_invalid_pattern_uses_metric_filter_message() -> None:
    with pytest.raises(PatternError, match=r"^Invalid metric filter pattern$"):
        build_metric_filter(
            "f", "{ $.a = ", [{"metricName": "m", "metricNamespace": "n", "metricValue": "1"}], 0
        )


def test_test_metric_filter_reports_numbers_and_extracted_values() -> None:
    got = match_test_messages(
        "[ip, status=4*, size]", ["1.1.1.1 404 10", "1.1.1.1 200 10", "9.9.9.9 403 1"]
    )
    assert got == [
        {
            "eventNumber": 1,
            "eventMessage": "1.1.1.1 404 10",
            "extractedValues": {"$ip": "1.1.1.1", "$status": "404", "$size": "10"},
        },
        {
            "eventNumber": 3,
            "eventMessage": "9.9.9.9 403 1",
            "extractedValues": {"$ip": "9.9.9.9", "$status": "403", "$size": "1"},
        },
    ]


#: Patterns where a ``$name`` is read from a fixed field, and ones where it must not be: a
#: repeated name (the last one wins), a digits-only name an ellipsis position may also take,
#: a name an ``after`` element repeats.
FIELD_PATTERNS = [
    ("[a, b, c]", "$b"),
    ('[a="x", b, ...]', "$b"),
    ("[a, b, a]", "$a"),
    ("[3, b, ...]", "$3"),
    ("[b, 3, ...]", "$3"),
    ("[a, ..., a]", "$a"),
    ("[a, ..., b]", "$b"),
]
FIELD_WORDS = ["x", "1", "2", "3.5", "-", '"4 "', "[5]", "y", "1e3"]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(FIELD_PATTERNS),
    st.lists(st.lists(st.sampled_from(FIELD_WORDS), max_size=5), min_size=1, max_size=4),
)
def test_a_field_value_is_what_the_extracted_values_say(
    pattern_and_field: tuple[str, str], lines: list[list[str]]
) -> None:
    pattern, field = pattern_and_field
    messages = [" ".join(words) for words in lines]
    t = {"metricName": "V", "metricNamespace": "App", "metricValue": field}
    expected = []
    for i, message in enumerate(messages):
        m = compile_pattern(pattern).match(message)
        text = None if m is None else m.extracted.get(field)
        value = None if text is None else parse_number(text.strip())
        if value is not None:
            expected.append(("V", (), i * 1000, (value,), "None"))
    assert run(pattern, t, *messages) == sorted(expected)

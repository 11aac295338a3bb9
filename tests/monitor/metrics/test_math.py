"""Metric math: parsing, errors, alignment, and every function by example (AWS's own tables)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heron.awsapi.errors import AwsError
from heron.monitor.metrics.math import (
    EvalContext,
    Series,
    Value,
    evaluate_expression,
    parse_expression,
    referenced_ids,
    uses_metrics,
)

MIN = 60_000
NaN = float("nan")


def series(values: list[float], label: str = "", period_s: int = 60, start: int = 0) -> Series:
    """A series at one-minute slots from ``start``; NaN marks a missing point."""
    ts = [start + i * period_s * 1000 for i, v in enumerate(values) if not math.isnan(v)]
    vals = [v for v in values if not math.isnan(v)]
    return Series.of(ts, vals, label, period_s)


def context(
    env: Mapping[str, Value], start: int = 0, end: int = 5 * MIN, period_s: int = 60
) -> EvalContext:
    metrics = [(k, v) for k, v in env.items() if isinstance(v, Series)]
    return EvalContext("e1", start, end, period_s, dict(env).__getitem__, metrics)


def run(text: str, env: Mapping[str, Value], **kw: int) -> list[Series]:
    return evaluate_expression(text, context(env, **kw))


def points(s: Series) -> list[tuple[int, float]]:
    return [(int(t) // MIN, float(v)) for t, v in zip(s.timestamps, s.values, strict=True)]


def one(text: str, env: Mapping[str, Value], **kw: int) -> list[tuple[int, float]]:
    result = run(text, env, **kw)
    assert len(result) == 1
    return points(result[0])


def error(text: str, env: Mapping[str, Value] | None = None) -> str:
    with pytest.raises(AwsError) as caught:
        run(text, env or {"m1": series([1.0, 2.0])})
    assert caught.value.query_code == "ValidationError"
    return caught.value.message


# --- the AWS user guide's own examples -----------------------------------------------------------

# metric1 = [30, 20, 0, 0], metric2 = [20, -, 20, -]
GUIDE = {"metric1": series([30, 20, 0, 0]), "metric2": series([20, NaN, 20, NaN])}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(metric1 < metric2)", [0, 0, 1, 0]),
        ("(metric1 >= 30)", [1, 0, 0, 0]),
        ("(metric1 > 15 AND metric2 > 15)", [1, 0, 0, 0]),
        ("metric1 > 15 && metric2 > 15", [1, 0, 0, 0]),
        ("metric1 > 25 OR metric2 > 15", [1, 0, 1, 0]),
        ("metric1 > 25 || metric2 > 15", [1, 0, 1, 0]),
        ("NOT metric1", [0, 0, 1, 1]),
        ("metric1 == 0", [0, 0, 1, 1]),
        ("metric1 != 0", [1, 1, 0, 0]),
        ("metric1 <= 20", [0, 1, 1, 1]),
    ],
)
def test_comparisons_and_logic_match_the_user_guide(text: str, expected: list[float]) -> None:
    assert [v for _, v in one(text, GUIDE)] == expected


# IF tables: metric1 = [1, 1, 0, 0, -], metric2 = [30, -, 0, 0, 30], metric3 = [0, 0, 20, -, 20]
IF_ENV = {
    "metric1": series([1, 1, 0, 0, NaN]),
    "metric2": series([30, NaN, 0, 0, 30]),
    "metric3": series([0, 0, 20, NaN, 20]),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IF(metric1, metric2, metric3)", [(0, 30), (1, 0), (2, 20)]),
        ("IF(metric1, 5, metric3)", [(0, 5), (1, 5), (2, 20)]),
        ("IF(metric1, metric2, 5)", [(0, 30), (1, 0), (2, 5), (3, 5)]),
        ("IF(metric1, metric2)", [(0, 30), (1, 0)]),
        ("IF(metric2 > 10, 1, 0)", [(0, 1), (2, 0), (3, 0), (4, 1)]),
        ("IF(metric2 < 10, metric2)", [(2, 0), (3, 0)]),
        ("IF(1, metric3, metric2)", [(0, 0), (1, 0), (2, 20), (4, 20)]),
        ("IF(0, metric3, metric2)", [(0, 30), (2, 0), (3, 0), (4, 30)]),
        ("IF(0, metric3)", []),
    ],
)
def test_if_matches_the_user_guide(text: str, expected: list[tuple[int, float]]) -> None:
    assert one(text, IF_ENV) == expected


def test_if_with_scalar_condition_and_scalar_branches_is_a_scalar_inside_a_series() -> None:
    assert one("metric1 * IF(1, 2, 3)", IF_ENV) == [(0, 2), (1, 2), (2, 0), (3, 0)]


# --- arithmetic and alignment -------------------------------------------------------------------


def test_series_arithmetic_aligns_on_the_union_reading_missing_as_zero() -> None:
    env = {"a": series([1, 2, NaN, 4]), "b": series([10, NaN, 30, 40])}
    assert one("a + b", env) == [(0, 11), (1, 2), (2, 30), (3, 44)]
    assert one("a - b", env) == [(0, -9), (1, 2), (2, -30), (3, -36)]
    assert one("a * b", env) == [(0, 10), (1, 0), (2, 0), (3, 160)]


def test_division_by_zero_drops_the_point() -> None:
    env = {"a": series([1, 2, 3, 0]), "b": series([2, 0, NaN, 0])}
    assert one("a / b", env) == [(0, 0.5)]
    assert one("a / 0", env) == []
    assert one("b / a", env) == [(0, 2), (1, 0), (2, 0)]  # 0/3 is 0; 0/0 drops


def test_scalar_arithmetic_precedence_and_power() -> None:
    env = {"m1": series([1, 2])}
    assert one("m1 * 0 + 2 + 3 * 4", env) == [(0, 14), (1, 14)]
    assert one("m1 * 0 + -2 ^ 2", env) == [(0, -4), (1, -4)]
    assert one("m1 * 0 + 2 ^ 3 ^ 2", env) == [(0, 512), (1, 512)]
    assert one("(m1 + 1) * 2", env) == [(0, 4), (1, 6)]
    assert one("m1 - -m1", env) == [(0, 2), (1, 4)]
    assert one("PERIOD(m1) / 60 * m1", env) == [(0, 1), (1, 2)]
    assert one("m1 * 1e3 + .5", env) == [(0, 1000.5), (1, 2000.5)]


def test_nan_and_infinity_never_leave_a_series() -> None:
    env = {"m1": series([-1, 0, 1, 1e308])}
    assert one("LOG(m1)", env) == [(2, 0.0), (3, pytest.approx(math.log(1e308)))]
    assert one("m1 * 10", env) == [(0, -10), (1, 0), (2, 10)]
    assert one("m1 ^ 0.5", env) == [(1, 0), (2, 1), (3, pytest.approx(1e154))]
    assert one("SQRT(m1)", env) == [(1, 0), (2, 1), (3, pytest.approx(1e154))]


def test_arrays_broadcast_against_scalars_and_series() -> None:
    env = {"m1": series([1, 2], "one"), "m2": series([10, 20], "two"), "m3": series([2, 2])}
    result = run("METRICS() / 100", {"m1": env["m1"], "m2": env["m2"]})
    assert [points(s) for s in result] == [[(0, 0.01), (1, 0.02)], [(0, 0.1), (1, 0.2)]]
    assert [s.label for s in result] == ["one", "two"]
    assert one("SUM(100 / [m1, m2])", env) == [(0, 110), (1, 55)]
    assert one("AVG([m1, m2] / m3)", env) == [(0, 2.75), (1, 5.5)]
    assert one("SUM(-[m1, m2])", env) == [(0, -11), (1, -22)]


# --- reducers -------------------------------------------------------------------------------


def test_reducers_over_one_series_give_scalars() -> None:
    env = {"m1": series([1, 2, 3, 6])}
    assert one("m1 - AVG(m1)", env) == [(0, -2), (1, -1), (2, 0), (3, 3)]
    assert one("m1 * 0 + SUM(m1)", env)[0] == (0, 12)
    assert one("m1 * 0 + MIN(m1) + MAX(m1)", env)[0] == (0, 7)
    assert one("m1 * 0 + STDDEV(m1)", env)[0][1] == pytest.approx(float(np.std([1, 2, 3, 6])))
    assert one("SUM(m1) / DATAPOINT_COUNT(m1) + 0 * m1", env)[0] == (0, 3)


def test_reducers_over_arrays_give_one_series() -> None:
    env = {"a": series([1, 5, NaN]), "b": series([3, NaN, 9])}
    assert one("SUM([a, b])", env) == [(0, 4), (1, 5), (2, 9)]
    assert one("AVG([a, b])", env) == [(0, 2), (1, 2.5), (2, 4.5)]  # missing counts as 0
    assert one("MIN([a, b])", env) == [(0, 1), (1, 5), (2, 9)]
    assert one("MAX([a, b])", env) == [(0, 3), (1, 5), (2, 9)]
    assert one("STDDEV([a, b])", env) == [(0, 1), (1, 0), (2, 0)]
    assert one("DATAPOINT_COUNT([a, b])", env) == [(0, 2), (1, 1), (2, 1)]
    assert one("SUM(METRICS())", env) == [(0, 4), (1, 5), (2, 9)]


def test_reducer_of_an_empty_series_drops_what_it_touches() -> None:
    env = {"m1": series([1, 2]), "empty": series([])}
    assert one("m1 + AVG(empty)", env) == []


def test_metrics_filters_by_id_substring_and_arrays_flatten() -> None:
    env = {
        "errors_4xx": series([1], "4xx"),
        "errors_5xx": series([2], "5xx"),
        "requests": series([10], "req"),
    }
    assert [s.label for s in run("METRICS()", env)] == ["4xx", "5xx", "req"]
    assert [s.label for s in run('METRICS("errors")', env)] == ["4xx", "5xx"]
    assert one('SUM(METRICS("errors")) / SUM(METRICS("requests")) * 100', env) == [(0, 30)]
    assert one("SUM([METRICS(\u201c4xx\u201d), METRICS(\u201c5xx\u201d)])", env) == [(0, 3)]
    assert run('METRICS("nothing")', env) == []
    assert one('METRIC_COUNT(METRICS("errors")) + 0 * requests', env) == [(0, 2)]


# --- sequential functions ---------------------------------------------------------------------


def test_rate_diff_diff_time_and_running_sum() -> None:
    env = {"m1": series([10, 70, NaN, 190])}
    assert one("RATE(m1)", env) == [(1, 1.0), (3, 1.0)]
    assert one("DIFF(m1)", env) == [(1, 60), (3, 120)]
    assert one("DIFF_TIME(m1)", env) == [(1, 60), (3, 120)]
    assert one("RUNNING_SUM(m1)", env) == [(0, 10), (1, 80), (3, 270)]
    assert [points(s) for s in run("RATE([m1, m1 * 2])", env)] == [
        [(1, 1.0), (3, 1.0)],
        [(1, 2.0), (3, 2.0)],
    ]


@pytest.mark.parametrize("name", ["ABS", "CEIL", "FLOOR", "LOG10"])
def test_pointwise_functions(name: str) -> None:
    env = {"m1": series([-1.5, 2.5, 100])}
    fns: dict[str, Callable[[float], float]] = {
        "ABS": abs,
        "CEIL": math.ceil,
        "FLOOR": math.floor,
        "LOG10": math.log10,
    }
    fn = fns[name]
    expected = []
    for i, v in enumerate([-1.5, 2.5, 100]):
        try:
            expected.append((i, float(fn(v))))
        except ValueError:
            continue
    assert one(f"{name}(m1)", env) == expected


# --- FILL and TIME_SERIES -----------------------------------------------------------------------


def test_fill_with_a_value_covers_the_whole_range() -> None:
    env = {"m1": series([NaN, 5, NaN, NaN, 8])}
    assert one("FILL(m1, 0)", env) == [(0, 0), (1, 5), (2, 0), (3, 0), (4, 8)]
    assert one("FILL(m1, 0)", env, end=7 * MIN) == [
        (0, 0), (1, 5), (2, 0), (3, 0), (4, 8), (5, 0), (6, 0)
    ]  # fmt: skip


def test_fill_repeat_and_linear() -> None:
    env = {"m1": series([NaN, 5, NaN, NaN, 8])}
    assert one("FILL(m1, REPEAT)", env) == [(1, 5), (2, 5), (3, 5), (4, 8)]
    assert one("FILL(m1, LINEAR)", env) == [(1, 5), (2, 6), (3, 7), (4, 8)]


def test_fill_with_a_series_or_a_scalar_expression() -> None:
    env = {"m1": series([1, NaN, NaN, 4, NaN]), "m2": series([9, 9, NaN, 9, 9])}
    assert one("FILL(m1, m2)", env) == [(0, 1), (1, 9), (3, 4), (4, 9)]
    assert one("FILL(m1, MIN(m1))", env) == [(0, 1), (1, 1), (2, 1), (3, 4), (4, 1)]
    filled = run("FILL(METRICS(), 0)", env)
    assert [len(s) for s in filled] == [5, 5]


def test_fill_of_a_series_without_data_uses_the_query_grid() -> None:
    env = {"errors": series([]), "invocations": series([10, 20, 40])}
    assert one("100 * FILL(errors, 0) / invocations", env) == [(0, 0), (1, 0), (2, 0)]
    assert one("FILL(errors, 1)", env, start=0, end=3 * MIN) == [(0, 1), (1, 1), (2, 1)]
    assert one("FILL(errors, REPEAT)", env) == []


def test_fill_respects_the_series_own_period() -> None:
    env = {"m5": series([1, NaN, 3], period_s=300)}
    got = one("FILL(m5, 0)", env, end=15 * MIN)
    assert got == [(0, 1), (5, 0), (10, 3)]


def test_time_series_and_calendar_functions() -> None:
    env = {"m1": series([1, 2])}
    assert one("TIME_SERIES(7)", env, end=3 * MIN) == [(0, 7), (1, 7), (2, 7)]
    assert one("TIME_SERIES(MAX(m1) * 2)", env, end=2 * MIN) == [(0, 4), (1, 4)]
    # 2024-02-29 13:45 UTC was a Thursday
    start = 1_709_214_300_000
    env = {"m1": Series.of([start], [1.0], "", 60)}
    ctx = dict(start=start, end=start + MIN)
    assert one("MINUTE(m1)", env, **ctx)[0][1] == 45
    assert one("HOUR(m1)", env, **ctx)[0][1] == 13
    assert one("DAY(m1)", env, **ctx)[0][1] == 4
    assert one("DATE(m1)", env, **ctx)[0][1] == 29
    assert one("MONTH(m1)", env, **ctx)[0][1] == 2
    assert one("YEAR(m1)", env, **ctx)[0][1] == 2024
    assert one("EPOCH(m1)", env, **ctx)[0][1] == start // 1000
    assert one("IF(DAY(m1) < 6, m1)", env, **ctx) == [(start // MIN, 1)]


# --- arrays --------------------------------------------------------------------------------------


def test_sort_slice_first_last_remove_empty() -> None:
    env = {
        "m1": series([1, 1], "low"),
        "m2": series([5, 5], "high"),
        "m3": series([3, 3], "mid"),
        "m4": series([], "none"),
    }

    def labels(text: str) -> list[str]:
        return [s.label for s in run(text, env)]

    assert labels("SORT(METRICS(), AVG, DESC)") == ["high", "mid", "low", "none"]
    assert labels("SORT(METRICS(), MAX, ASC)") == ["low", "mid", "high", "none"]
    assert labels("SORT(METRICS(), SUM, DESC, 2)") == ["high", "mid"]
    assert labels("SLICE(SORT(METRICS(), SUM, DESC), 1, 3)") == ["mid", "low"]
    assert labels("SLICE(METRICS(), 2)") == ["mid", "none"]
    assert labels("FIRST(SORT(METRICS(), AVG, DESC))") == ["high"]
    assert labels("LAST(SORT(METRICS(), AVG, DESC))") == ["none"]
    assert labels("REMOVE_EMPTY(METRICS())") == ["low", "high", "mid"]
    assert one("IF(FIRST(SORT(METRICS(), AVG, DESC)) > 4, 1, 0)", env) == [(0, 1), (1, 1)]


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("FOO(m1)", "Unrecognized function: FOO"),
        ("avg(m1)", "Unrecognized function: avg"),
        ("m1 +", "Invalid syntax"),
        ("(m1", "Invalid syntax"),
        ("m1)", "Invalid syntax"),
        ("m1 = 2", "Invalid syntax"),
        ("", "Invalid syntax"),
        ("m1 $ 2", "Invalid syntax"),
        ("SUM(m1,)", "Invalid syntax"),
        ("BOGUS", "Unrecognized keyword: BOGUS"),
        ("m9", "Unrecognized metric identifier: m9"),
        ("AVG(m1)", "The expression evaluates to a scalar"),
        ("5", "The expression evaluates to a scalar"),
        ("FILL(m1)", "Invalid number of arguments for function FILL"),
        ("RATE(5)", "RATE expects a time series"),
        ("m1 + REPEAT", "Operator + cannot be applied to REPEAT"),
        ("[m1, 3]", "An array can hold only time series"),
        ("SEARCH('{AWS/EC2} CPU', 'Average')", "Invalid syntax"),
        ('SEARCH("{AWS/EC2} CPU", "Average", 300)', "Unsupported function: SEARCH"),
        ("METRICS() + METRICS()", "cannot combine two arrays"),
        ("SORT(METRICS(), P99, DESC)", "Unrecognized keyword: P99"),
        ("SORT(METRICS(), AVG, UP)", "Unrecognized keyword: UP"),
        ("SORT(METRICS(), ASC, AVG)", "SORT expects AVG, MIN, MAX, SUM or STDDEV"),
        ("SLICE(METRICS(), 1 / 0)", "SLICE expects a finite number"),
        ("(" * 70 + "m1" + ")" * 70, "nested too deeply"),
        ("+".join(["m1"] * 300), "nested too deeply"),
    ],
)
def test_bad_expressions_get_aws_style_errors(text: str, detail: str) -> None:
    message = error(text)
    assert message.startswith("Error in expression 'e1': ")
    assert detail in message


def test_parser_reports_references_and_metrics_use() -> None:
    node = parse_expression("SUM([m1, e2]) / FILL(errorCount, 0) + METRICS()")
    assert referenced_ids(node) == {"m1", "e2", "errorCount"}
    assert uses_metrics(node)
    assert not uses_metrics(parse_expression("m1 + 1"))


# --- properties ---------------------------------------------------------------------------------

slots = st.lists(
    st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)), min_size=0, max_size=30
)


def _series_of(values: list[float | None]) -> Series:
    return series([NaN if v is None else v for v in values])


@settings(max_examples=150, deadline=None)
@given(slots, slots)
def test_adding_then_subtracting_returns_the_original_points(
    a: list[float | None], b: list[float | None]
) -> None:
    env = {"a": _series_of(a), "b": _series_of(b)}
    got = dict(one("a + b - b", env, end=40 * MIN))
    for t, v in points(env["a"]):
        assert got[t] == pytest.approx(v, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(slots, slots, slots)
def test_sum_of_an_array_is_the_pointwise_sum(
    a: list[float | None], b: list[float | None], c: list[float | None]
) -> None:
    env = {"a": _series_of(a), "b": _series_of(b), "c": _series_of(c)}
    expected: dict[int, float] = {}
    for s in env.values():
        for t, v in points(s):
            expected[t] = expected.get(t, 0.0) + v
    got = dict(one("SUM([a, b, c])", env, end=40 * MIN))
    assert got.keys() == expected.keys()
    for t, v in expected.items():
        assert got[t] == pytest.approx(v, abs=1e-6)


OPERANDS = ["a", "b", "1", "0", "2.5", "METRICS()", "REPEAT", '"x"', "[a, b]"]
FUNCTIONS = ["SUM", "AVG", "RATE", "FILL", "IF", "ABS", "LOG", "SORT", "FIRST", "TIME_SERIES"]


def expressions() -> st.SearchStrategy[str]:
    leaf = st.sampled_from(OPERANDS)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^", "<", "AND"]), inner)
        call = st.tuples(st.sampled_from(FUNCTIONS), st.lists(inner, min_size=0, max_size=3))
        return st.one_of(
            binary.map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            call.map(lambda t: f"{t[0]}({', '.join(t[1])})"),
            inner.map(lambda e: f"-({e})"),
            inner.map(lambda e: f"NOT {e}"),
        )

    return st.recursive(leaf, extend, max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(expressions(), slots, slots)
def test_random_expressions_only_ever_raise_aws_errors(
    text: str, a: list[float | None], b: list[float | None]
) -> None:
    env = {"a": _series_of(a), "b": _series_of(b)}
    try:
        result = run(text, env, end=40 * MIN)
    except AwsError as exc:
        assert exc.message.startswith("Error in expression 'e1': ")
        return
    for s in result:
        assert bool(np.all(np.isfinite(s.values)))
        assert bool(np.all(np.diff(s.timestamps) > 0))

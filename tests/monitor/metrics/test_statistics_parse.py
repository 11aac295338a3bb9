"""Parsing CloudWatch statistic names."""

from __future__ import annotations

import pytest

from heron.monitor.metrics.statistics import (
    Statistic,
    StatisticError,
    is_percentile,
    parse_statistic,
)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Sum", Statistic("Sum", "Sum")),
        ("p99", Statistic("p99", "p", None, 99.0, True)),
        ("p99.95", Statistic("p99.95", "p", None, 99.95, True)),
        ("p0", Statistic("p0", "p", None, 0.0, True)),
        ("p100", Statistic("p100", "p", None, 100.0, True)),
        ("tm99", Statistic("tm99", "TM", None, 99.0, True)),
        ("wm90.5", Statistic("wm90.5", "WM", None, 90.5, True)),
        ("tc50", Statistic("tc50", "TC", None, 50.0, True)),
        ("ts10", Statistic("ts10", "TS", None, 10.0, True)),
        ("IQM", Statistic("IQM", "TM", 25.0, 75.0, True)),
        ("TM(10%:90%)", Statistic("TM(10%:90%)", "TM", 10.0, 90.0, True)),
        ("TM(:95%)", Statistic("TM(:95%)", "TM", None, 95.0, True)),
        ("TC(150:1000)", Statistic("TC(150:1000)", "TC", 150.0, 1000.0, False)),
        ("PR(:300)", Statistic("PR(:300)", "PR", None, 300.0, False)),
        ("TS(0.5:)", Statistic("TS(0.5:)", "TS", 0.5, None, False)),
        ("WM(-5:5)", Statistic("WM(-5:5)", "WM", -5.0, 5.0, False)),
    ],
)
def test_valid_statistics(text: str, want: Statistic) -> None:
    assert parse_statistic(text) == want


@pytest.mark.parametrize(
    "text",
    ["sum", "p101", "p", "p-1", "P99", "tm", "tm101", "TM()", "TM(:)", "tm(10%:90%)", "TM(10%:90)",
     "TM(90%:10%)", "TM(10%:120%)", "XX(1:2)", "IQM(1:2)", "TM(a:b)", "TM(1:2", ""],
)  # fmt: skip
def test_invalid_statistics(text: str) -> None:
    with pytest.raises(StatisticError):
        parse_statistic(text)


def test_only_percentiles_count_for_get_metric_statistics() -> None:
    assert is_percentile("p99.9")
    assert not is_percentile("tm99")
    assert not is_percentile("Sum")

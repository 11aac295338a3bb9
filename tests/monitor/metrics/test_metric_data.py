"""GetMetricData: validation, evaluation order, labels, ordering, paging, and the store adapter."""

from __future__ import annotations

import base64
import copy
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from store_helpers import FakeClock, open_store, sample

from heron.awsapi.errors import AwsError
from heron.monitor.contracts import MetricId
from heron.monitor.metrics.metric_data import (
    QueryResult,
    effective_start,
    encode_token,
    get_metric_data,
)
from heron.monitor.metrics.metric_queries import is_valid_statistic
from heron.monitor.metrics.result_cache import ResultCache
from heron.monitor.metrics.store_fetch import store_fetch, store_fetch_many

MIN = 60_000
MINUTE_BOUNDARY = 1_750_000_020_000
NOW = MINUTE_BOUNDARY + 20_000
START = MINUTE_BOUNDARY - 10 * MIN


class FakeStore:
    """Series by (metric name, stat, period); answers like the store: [start, end), ascending."""

    def __init__(self, data: dict[tuple[str, str, int], dict[int, float]]) -> None:
        self.data = data
        self.calls: list[tuple[str, int, int]] = []

    def fetch(
        self, metric_stat: Mapping[str, Any], start_ms: int, end_ms: int
    ) -> tuple[list[int], list[float]]:
        name = metric_stat["Metric"]["MetricName"]
        self.calls.append((name, start_ms, end_ms))
        points = self.data.get((name, metric_stat["Stat"], metric_stat["Period"]), {})
        ts = sorted(t for t in points if start_ms <= t < end_ms)
        return ts, [points[t] for t in ts]


def minutes(*values: float | None) -> dict[int, float]:
    """Points at START, START+1min, ...; None leaves a slot empty."""
    return {START + i * MIN: v for i, v in enumerate(values) if v is not None}


def stat_query(
    qid: str, name: str, stat: str = "Sum", period: int = 60, **extra: Any
) -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": "Heron",
                "MetricName": name,
                "Dimensions": [{"Name": "FunctionName", "Value": "send"}],
            },
            "Period": period,
            "Stat": stat,
        },
        **extra,
    }


def request(*queries: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "MetricDataQueries": list(queries),
        "StartTime": START / 1000,
        "EndTime": (START + 10 * MIN) / 1000,
        **extra,
    }


STORE = FakeStore(
    {
        ("Errors", "Sum", 60): minutes(1, None, 3, 0),
        ("Invocations", "Sum", 60): minutes(10, 20, 30, 40),
        ("Invocations", "Average", 60): minutes(1, 2, 3, 4),
        ("Invocations", "Sum", 300): {START: 100.0, START + 5 * MIN: 50.0},
    }
)


def call(req: dict[str, Any], store: FakeStore = STORE) -> dict[str, Any]:
    return get_metric_data(req, store.fetch, NOW)


def by_id(response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["Id"]: r for r in response["MetricDataResults"]}


def secs(*offsets_min: int) -> list[float]:
    return [(START + m * MIN) / 1000 for m in offsets_min]


# --- evaluation ---------------------------------------------------------------------------------


def test_error_rate_expression_with_hidden_inputs() -> None:
    response = call(
        request(
            {"Id": "rate", "Expression": "100 * FILL(errors, 0) / invocations", "Label": "Rate"},
            stat_query("errors", "Errors", ReturnData=False),
            stat_query("invocations", "Invocations", ReturnData=False),
        )
    )
    assert response["Messages"] == []
    assert "NextToken" not in response
    [result] = response["MetricDataResults"]
    assert result == {
        "Id": "rate",
        "Label": "Rate",
        "Timestamps": secs(3, 2, 1, 0),  # TimestampDescending is the default
        "Values": [0.0, 10.0, 0.0, 10.0],
        "StatusCode": "Complete",
        "Messages": [],
    }


def test_results_follow_request_order_and_scan_by_ascending() -> None:
    response = call(
        request(
            stat_query("inv", "Invocations"),
            {"Id": "double", "Expression": "inv * 2"},
            stat_query("err", "Errors"),
            ScanBy="TimestampAscending",
        )
    )
    results = response["MetricDataResults"]
    assert [r["Id"] for r in results] == ["inv", "double", "err"]
    assert results[0]["Timestamps"] == secs(0, 1, 2, 3)
    assert results[1]["Values"] == [20.0, 40.0, 60.0, 80.0]
    assert results[2]["Timestamps"] == secs(0, 2, 3)


def test_expressions_may_reference_later_queries_and_each_other() -> None:
    response = call(
        request(
            {"Id": "e2", "Expression": "e1 + 1"},
            {"Id": "e1", "Expression": "inv - errors", "ReturnData": False},
            stat_query("inv", "Invocations", ReturnData=False),
            stat_query("errors", "Errors", ReturnData=False),
            ScanBy="TimestampAscending",
        )
    )
    assert by_id(response)["e2"]["Values"] == [10.0, 21.0, 28.0, 41.0]


def test_a_hidden_scalar_expression_may_feed_another() -> None:
    response = call(
        request(
            {"Id": "avg", "Expression": "AVG(inv)", "ReturnData": False},
            {"Id": "dev", "Expression": "inv - avg"},
            stat_query("inv", "Invocations", ReturnData=False),
            ScanBy="TimestampAscending",
        )
    )
    assert by_id(response)["dev"]["Values"] == [-15.0, -5.0, 5.0, 15.0]


def test_metrics_function_sees_metric_stats_only() -> None:
    response = call(
        request(
            stat_query("m1", "Invocations", ReturnData=False),
            stat_query("m2", "Errors", ReturnData=False),
            {"Id": "e1", "Expression": "m1 * 0 + 1", "ReturnData": False},
            {"Id": "total", "Expression": "SUM(METRICS())"},
            ScanBy="TimestampAscending",
        )
    )
    assert by_id(response)["total"]["Values"] == [11.0, 20.0, 33.0, 40.0]


# --- labels ---------------------------------------------------------------------------------------


def labels(*queries: dict[str, Any]) -> list[str]:
    return [r["Label"] for r in call(request(*queries))["MetricDataResults"]]


def test_default_label_is_the_metric_name_when_stat_and_period_agree() -> None:
    assert labels(stat_query("a", "Invocations"), stat_query("b", "Errors")) == [
        "Invocations",
        "Errors",
    ]


def test_default_labels_add_stat_and_period_when_they_differ() -> None:
    assert labels(stat_query("a", "Invocations"), stat_query("b", "Invocations", "Average")) == [
        "Invocations Sum",
        "Invocations Average",
    ]
    assert labels(stat_query("a", "Invocations"), stat_query("b", "Invocations", period=300)) == [
        "Invocations 60",
        "Invocations 300",
    ]
    assert labels(
        stat_query("a", "Invocations"), stat_query("b", "Invocations", "Average", period=300)
    ) == ["Invocations Sum 60", "Invocations Average 300"]


def test_given_labels_win_and_expressions_default_to_their_id() -> None:
    assert labels(
        stat_query("a", "Invocations", Label="Calls"),
        {"Id": "e1", "Expression": "a * 2"},
        {"Id": "e2", "Expression": "a * 3", "Label": "Triple"},
    ) == ["Calls", "e1", "Triple"]


def test_array_results_are_captioned_with_expression_and_metric_labels() -> None:
    response = call(
        request(
            stat_query("m1", "Errors", ReturnData=False),
            stat_query("m2", "Invocations", ReturnData=False),
            {"Id": "filled", "Expression": "FILL(METRICS(), 0)", "Label": "Filled With 0:"},
            {"Id": "plain", "Expression": "METRICS()"},
        )
    )
    results = response["MetricDataResults"]
    assert [(r["Id"], r["Label"]) for r in results] == [
        ("filled", "Filled With 0: Errors"),
        ("filled", "Filled With 0: Invocations"),
        ("plain", "Errors"),
        ("plain", "Invocations"),
    ]
    assert len(results[0]["Values"]) == 10  # FILL covers the whole ten-minute range


# --- time range --------------------------------------------------------------------------------


def test_start_is_rounded_down_and_end_is_exclusive() -> None:
    store = FakeStore({("Invocations", "Sum", 60): minutes(1, 2, 3)})
    req = request(stat_query("a", "Invocations"), ScanBy="TimestampAscending")
    req["StartTime"] = (START + 30_000) / 1000  # half a minute in: rounds down to START
    req["EndTime"] = (START + 2 * MIN) / 1000
    response = call(req, store)
    assert store.calls == [("Invocations", START, START + 2 * MIN)]
    assert response["MetricDataResults"][0]["Values"] == [1.0, 2.0]


def test_effective_start_follows_the_retention_schedule() -> None:
    day = 24 * 60 * MIN
    at = NOW - 2 * day + 12_345
    assert effective_start(at, NOW, 60) == at - at % MIN
    assert effective_start(NOW - 7_000, NOW, 10) == (NOW - 7_000) // 10_000 * 10_000
    assert effective_start(NOW - 4 * 60 * MIN, NOW, 10) is None  # high resolution is kept 3 h
    assert effective_start(NOW - 20 * day, NOW, 60) is None  # 15-63 days need multiples of 300
    assert effective_start(NOW - 20 * day, NOW, 300) == (NOW - 20 * day) // 300_000 * 300_000
    assert effective_start(NOW - 70 * day, NOW, 300) is None
    assert effective_start(NOW - 70 * day, NOW, 3600) == (NOW - 70 * day) // 3_600_000 * 3_600_000


def test_expired_resolution_returns_an_empty_result_without_fetching() -> None:
    store = FakeStore({})
    req = request(stat_query("a", "Invocations", period=10))
    req["StartTime"] = (NOW - 5 * 60 * MIN) / 1000
    req["EndTime"] = NOW / 1000
    result = call(req, store)["MetricDataResults"][0]
    assert store.calls == []
    assert (result["Timestamps"], result["Values"], result["StatusCode"]) == ([], [], "Complete")


# --- paging --------------------------------------------------------------------------------------


def test_max_datapoints_pages_through_the_results() -> None:
    req = request(
        stat_query("inv", "Invocations"),
        stat_query("err", "Errors"),
        MaxDatapoints=3,
        ScanBy="TimestampAscending",
    )
    first = call(req)
    assert [(r["Id"], r["Values"], r["StatusCode"]) for r in first["MetricDataResults"]] == [
        ("inv", [10.0, 20.0, 30.0], "PartialData")
    ]
    second = call({**req, "NextToken": first["NextToken"]})
    assert [(r["Id"], r["Values"], r["StatusCode"]) for r in second["MetricDataResults"]] == [
        ("inv", [40.0], "Complete"),
        ("err", [1.0, 3.0], "PartialData"),
    ]
    third = call({**req, "NextToken": second["NextToken"]})
    assert [(r["Id"], r["Values"], r["StatusCode"]) for r in third["MetricDataResults"]] == [
        ("err", [0.0], "Complete")
    ]
    assert "NextToken" not in third


def test_an_empty_result_is_reported_once() -> None:
    req = request(stat_query("none", "Nothing"), stat_query("inv", "Invocations"), MaxDatapoints=2)
    first = call(req)
    assert [(r["Id"], len(r["Values"])) for r in first["MetricDataResults"]] == [
        ("none", 0),
        ("inv", 2),
    ]
    second = call({**req, "NextToken": first["NextToken"]})
    assert [r["Id"] for r in second["MetricDataResults"]] == ["inv"]


@pytest.mark.parametrize("token", ["garbage!", "eyJvIjogMX0", ""])
def test_a_bad_next_token_is_refused(token: str) -> None:
    req = request(stat_query("inv", "Invocations"), MaxDatapoints=1)
    if token == "":
        # a token minted for another request does not resume this one
        token = call(request(stat_query("err", "Errors"), MaxDatapoints=1))["NextToken"]
    with pytest.raises(AwsError) as caught:
        call({**req, "NextToken": token})
    assert (caught.value.code, caught.value.status) == ("InvalidNextToken", 400)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.sampled_from(["TimestampAscending", "TimestampDescending"]))
def test_pages_concatenate_to_the_unpaged_answer(limit: int, scan_by: str) -> None:
    queries = [
        stat_query("inv", "Invocations"),
        stat_query("none", "Nothing"),
        stat_query("err", "Errors"),
        {"Id": "e1", "Expression": "FILL(err, 0)"},
    ]
    whole = call(request(*queries, ScanBy=scan_by))
    merged: dict[str, tuple[list[float], list[float]]] = {}
    token = None
    for _ in range(50):
        extra: dict[str, Any] = {"ScanBy": scan_by, "MaxDatapoints": limit}
        if token:
            extra["NextToken"] = token
        page = call(request(*queries, **extra))
        count = sum(len(r["Values"]) for r in page["MetricDataResults"])
        assert count <= limit
        for r in page["MetricDataResults"]:
            ts, vals = merged.setdefault(r["Id"], ([], []))
            ts.extend(r["Timestamps"])
            vals.extend(r["Values"])
        token = page.get("NextToken")
        if not token:
            break
    assert merged == {r["Id"]: (r["Timestamps"], r["Values"]) for r in whole["MetricDataResults"]}


# --- paging from the result cache ----------------------------------------------------------------

PAGED = [
    stat_query("inv", "Invocations"),
    stat_query("none", "Nothing"),
    stat_query("err", "Errors"),
    {"Id": "e1", "Expression": "FILL(err, 0)"},
]


def all_pages(
    req: dict[str, Any],
    store: FakeStore,
    cache: ResultCache[QueryResult] | None,
    between: Callable[[int], None] = lambda _: None,
) -> list[dict[str, Any]]:
    """Every page of ``req``, following NextToken; ``between(n)`` runs before page n (n >= 1)."""
    pages = [get_metric_data(req, store.fetch, NOW, cache=cache)]
    while "NextToken" in pages[-1]:
        between(len(pages))
        token = pages[-1]["NextToken"]
        pages.append(get_metric_data({**req, "NextToken": token}, store.fetch, NOW, cache=cache))
        assert len(pages) < 50
    return pages


def payload(pages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The pages' results without the tokens (snapshot ids differ from run to run)."""
    return [page["MetricDataResults"] for page in pages]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.sampled_from(["TimestampAscending", "TimestampDescending"]))
def test_cached_pages_equal_recomputed_pages(limit: int, scan_by: str) -> None:
    req = request(*PAGED, MaxDatapoints=limit, ScanBy=scan_by)
    recomputing, caching = FakeStore(STORE.data), FakeStore(STORE.data)
    cache: ResultCache[QueryResult] = ResultCache()
    expected = all_pages(req, recomputing, None)
    got = all_pages(req, caching, cache)
    assert payload(got) == payload(expected)
    # three MetricStats: evaluated once in all, not once per page
    assert len(caching.calls) == 3
    assert len(recomputing.calls) == 3 * len(expected)
    assert len(cache) == 0 and cache.points == 0  # the last page let the snapshot go


def test_later_pages_come_from_the_first_pages_snapshot() -> None:
    store = FakeStore({k: dict(v) for k, v in STORE.data.items()})
    req = request(stat_query("inv", "Invocations"), MaxDatapoints=2, ScanBy="TimestampAscending")

    def add_point(_: int) -> None:
        # a datapoint arriving between pages must not shift the offsets of the later pages
        store.data[("Invocations", "Sum", 60)][START - MIN] = 5.0

    pages = all_pages(req, store, ResultCache(), add_point)
    assert [r["Values"] for p in payload(pages) for r in p] == [[10.0, 20.0], [30.0, 40.0]]


@pytest.mark.parametrize("lose", ["cleared", "expired", "crowded out"])
def test_a_page_whose_snapshot_is_gone_is_recomputed(lose: str) -> None:
    req = request(*PAGED, MaxDatapoints=2, ScanBy="TimestampAscending")
    expected = all_pages(req, FakeStore(STORE.data), None)
    store = FakeStore(STORE.data)
    cache: ResultCache[QueryResult] = ResultCache(max_points=20, max_age_ms=60_000)
    first = get_metric_data(req, store.fetch, NOW, cache=cache)
    assert len(cache) == 1 and len(store.calls) == 3
    now = NOW
    if lose == "cleared":
        cache.clear()
    elif lose == "expired":
        now = NOW + 60_001
    else:
        # another request's results that only fit if the least recently used one goes
        assert cache.put("other", [], 20 - cache.points + 1, NOW) is not None
        assert len(cache) == 1
    second = get_metric_data(
        {**req, "NextToken": first["NextToken"]}, store.fetch, now, cache=cache
    )
    assert second["MetricDataResults"] == expected[1]["MetricDataResults"]
    calls = len(store.calls)
    assert calls == 3 + 3
    # the recomputed results are cached again for the pages after it
    third = get_metric_data(
        {**req, "NextToken": second["NextToken"]}, store.fetch, now, cache=cache
    )
    assert third["MetricDataResults"] == expected[2]["MetricDataResults"]
    assert len(store.calls) == calls


def test_a_result_larger_than_the_cache_is_paged_by_recomputing() -> None:
    req = request(*PAGED, MaxDatapoints=3)
    store = FakeStore(STORE.data)
    cache: ResultCache[QueryResult] = ResultCache(max_points=5)
    pages = all_pages(req, store, cache)
    assert payload(pages) == payload(all_pages(req, FakeStore(STORE.data), None))
    assert len(store.calls) == 3 * len(pages) and len(cache) == 0


def test_a_snapshot_serves_only_its_own_request_and_source() -> None:
    cache: ResultCache[QueryResult] = ResultCache()
    req = request(stat_query("inv", "Invocations"), MaxDatapoints=1)
    a, b = FakeStore(STORE.data), FakeStore({("Invocations", "Sum", 60): minutes(7, 8)})
    token = get_metric_data(req, a.fetch, NOW, cache=cache)["NextToken"]
    # the same token on another store's server evaluates there instead of serving a's data
    page = get_metric_data({**req, "NextToken": token}, b.fetch, NOW, cache=cache)
    assert page["MetricDataResults"][0]["Values"] == [7.0]
    assert len(b.calls) == 1


def test_a_token_without_a_snapshot_still_resumes() -> None:
    # tokens minted before the cache carried only the offset and the request digest
    req = request(stat_query("inv", "Invocations"), MaxDatapoints=3, ScanBy="TimestampAscending")
    key = json.loads(base64.urlsafe_b64decode(call(req)["NextToken"] + "=="))["k"]
    page = call({**req, "NextToken": encode_token(3, key)})
    assert page["MetricDataResults"][0]["Values"] == [40.0]


@pytest.mark.parametrize("snapshot", [7, ["x"], {"s": 1}])
def test_a_token_with_a_malformed_snapshot_is_refused(snapshot: Any) -> None:
    req = request(stat_query("inv", "Invocations"), MaxDatapoints=3)
    key = json.loads(base64.urlsafe_b64decode(call(req)["NextToken"] + "=="))["k"]
    raw = json.dumps({"o": 3, "k": key, "s": snapshot}).encode()
    with pytest.raises(AwsError) as caught:
        call({**req, "NextToken": base64.urlsafe_b64encode(raw).decode()})
    assert caught.value.code == "InvalidNextToken"


# --- validation -----------------------------------------------------------------------------------

BASE = request(stat_query("m1", "Invocations"), {"Id": "e1", "Expression": "m1 * 2"})


def edit(path: str, value: Any) -> dict[str, Any]:
    """BASE with one member set (dotted path, list indexes as numbers); value None deletes it."""
    req = copy.deepcopy(BASE)
    node: Any = req
    keys: Sequence[str] = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node[key]
    last = keys[-1]
    if value is None:
        del node[int(last) if last.isdigit() else last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return req


Q2 = "MetricDataQueries.member.2"

VALIDATION_CASES = [
    (
        edit("MetricDataQueries.0.Id", "M1"),
        "ValidationError",
        "The value M1 for parameter MetricDataQueries.member.1.Id is not matching the expected "
        "pattern ^[a-z][a-zA-Z0-9_]*$.",
    ),
    (
        edit("MetricDataQueries.0.Id", "m-1"),
        "ValidationError",
        "The value m-1 for parameter MetricDataQueries.member.1.Id is not matching the expected "
        "pattern ^[a-z][a-zA-Z0-9_]*$.",
    ),
    (
        edit("MetricDataQueries.1", {"Id": "e1"}),
        "ValidationError",
        f"The parameter {Q2}.MetricStat is required.\n",
    ),
    (
        edit("MetricDataQueries.1.MetricStat", BASE["MetricDataQueries"][0]["MetricStat"]),
        "InvalidParameterCombination",
        f"The parameters {Q2}.MetricStat and {Q2}.Expression are mutually exclusive and you "
        "have specified both.",
    ),
    (
        edit("MetricDataQueries.1.Id", "m1"),
        "ValidationError",
        f"The value m1 for parameter {Q2}.Id is already used by another query.",
    ),
    (
        edit("MetricDataQueries.1.Expression", "m1 + m7"),
        "ValidationError",
        "Error in expression 'e1': Unrecognized metric identifier: m7",
    ),
    (
        edit("MetricDataQueries.1.Expression", "FOO(m1)"),
        "ValidationError",
        "Error in expression 'e1': Unrecognized function: FOO",
    ),
    (
        edit("MetricDataQueries.1.Expression", "m1 +* 2"),
        "ValidationError",
        "Error in expression 'e1': Invalid syntax",
    ),
    (
        edit("MetricDataQueries.1.Expression", "e1 + 1"),
        "ValidationError",
        "Error in expression 'e1': Circular dependency detected involving expression 'e1'",
    ),
    (
        edit("MetricDataQueries.1.Expression", "AVG(m1)"),
        "ValidationError",
        "Error in expression 'e1': The expression evaluates to a scalar; it must produce a time "
        "series or an array of time series",
    ),
    (
        edit("MetricDataQueries.0.MetricStat.Stat", "Median"),
        "ValidationError",
        "The value for parameter MetricDataQueries.member.1.MetricStat.Stat is not a valid "
        "statistic.",
    ),
    (
        edit("MetricDataQueries.0.MetricStat.Period", 45),
        "InvalidParameterValue",
        "The parameter MetricDataQueries.member.1.MetricStat.Period must be 1, 5, 10, 20, 30, "
        "or a multiple of 60.",
    ),
    (
        edit("MetricDataQueries.1.Period", 7),
        "InvalidParameterValue",
        f"The parameter {Q2}.Period must be 1, 5, 10, 20, 30, or a multiple of 60.",
    ),
    (
        edit("MetricDataQueries.0.MetricStat.Metric.MetricName", None),
        "MissingParameter",
        "The parameter MetricDataQueries.member.1.MetricStat.Metric.MetricName is required.",
    ),
    (
        edit(
            "MetricDataQueries.0.MetricStat.Metric.Dimensions",
            [{"Name": "A", "Value": "1"}, {"Name": "A", "Value": "2"}],
        ),
        "InvalidParameterValue",
        "The parameter MetricDataQueries.member.1.MetricStat.Metric.Dimensions contains "
        "duplicate dimension name A.",
    ),
    (
        edit(
            "MetricDataQueries.0.MetricStat.Metric.Dimensions",
            [{"Name": f"d{i}", "Value": "v"} for i in range(31)],
        ),
        "ValidationError",
        "1 validation error detected: Value at "
        "'metricDataQueries.1.member.metricStat.metric.dimensions' failed to satisfy constraint: "
        "Member must have length less than or equal to 30",
    ),
    (
        edit("StartTime", (START + 10 * MIN) / 1000),
        "InvalidParameterValue",
        "The parameter StartTime must be less than the parameter EndTime.",
    ),
    (
        edit("MetricDataQueries", [stat_query(f"m{i}", "X") for i in range(501)]),
        "InvalidParameterValue",
        "The collection MetricDataQueries must not have a size greater than 500.",
    ),
    (
        edit("MetricDataQueries", []),
        "MissingParameter",
        "The parameter MetricDataQueries is required.",
    ),
    (
        edit("MetricDataQueries.1.ReturnData", False)
        | {"MetricDataQueries": [stat_query("m1", "X", ReturnData=False)]},
        "ValidationError",
        "At least one query must have ReturnData set to true.",
    ),
    (
        edit("ScanBy", "Sideways"),
        "ValidationError",
        "1 validation error detected: Value 'Sideways' at 'scanBy' failed to satisfy constraint: "
        "Member must satisfy enum value set: [TimestampDescending, TimestampAscending]",
    ),
    (
        edit("MetricDataQueries.1.Expression", "x" * 2049),
        "ValidationError",
        "1 validation error detected: Value '" + "x" * 2049 + "' at "
        "'metricDataQueries.2.member.expression' failed to satisfy constraint: Member must have "
        "length less than or equal to 2048",
    ),
    (
        edit("MaxDatapoints", 0),
        "InvalidParameterValue",
        "The parameter MaxDatapoints must be greater than 0.",
    ),
    (
        edit("LabelOptions", {"Timezone": "CET"}),
        "InvalidParameterValue",
        "The value CET for parameter LabelOptions.Timezone is invalid.",
    ),
]


@pytest.mark.parametrize(("req", "query_code", "message"), VALIDATION_CASES)
def test_validation_errors_match_aws(req: dict[str, Any], query_code: str, message: str) -> None:
    store = FakeStore({})
    with pytest.raises(AwsError) as caught:
        call(req, store)
    assert (caught.value.query_code, caught.value.message) == (query_code, message)
    assert caught.value.status == 400 and caught.value.sender


def test_cycles_through_several_expressions_are_found() -> None:
    req = request(
        stat_query("m1", "Invocations"),
        {"Id": "a", "Expression": "b + m1"},
        {"Id": "b", "Expression": "c * 2"},
        {"Id": "c", "Expression": "a - 1"},
    )
    with pytest.raises(AwsError, match="Circular dependency"):
        call(req)


def test_the_label_timezone_option_is_accepted() -> None:
    response = call({**BASE, "LabelOptions": {"Timezone": "+0130"}})
    assert len(response["MetricDataResults"]) == 2


@pytest.mark.parametrize(
    "stat",
    ["Sum", "SampleCount", "p99", "p99.9", "p100", "tm90", "wm99", "tc5", "ts80", "IQM",
     "TM(10%:90%)", "TM(:95%)", "TC(0.005:0.030)", "PR(:300)", "WM(2:)"],
)  # fmt: skip
def test_valid_statistics(stat: str) -> None:
    assert is_valid_statistic(stat)


@pytest.mark.parametrize(
    "stat", ["sum", "Median", "p101", "p", "tm", "TM()", "TM(:)", "tm(10%:90%)", "p99 "]
)
def test_invalid_statistics(stat: str) -> None:
    assert not is_valid_statistic(stat)


# --- the store adapter -----------------------------------------------------------------------------


class RecordingQueries:
    """A MetricQueries fake that records what it is asked."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def series(
        self,
        metric: MetricId,
        *,
        start_ms: int,
        end_ms: int,
        period_s: int,
        statistic: str,
        unit: str | None = None,
    ) -> tuple[list[int], list[float]]:
        self.asked.append(
            {"metric": metric, "range": (start_ms, end_ms), "period": period_s, "stat": statistic,
             "unit": unit}
        )  # fmt: skip
        return [start_ms], [7.0]

    def statistics(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        raise AssertionError("not used")

    def list_metrics(self, *args: Any, **kwargs: Any) -> list[MetricId]:
        raise AssertionError("not used")


def test_store_fetch_asks_the_store_for_the_exact_metric() -> None:
    queries = RecordingQueries()
    q = stat_query("m1", "Invocations", "p99")
    q["MetricStat"]["Unit"] = "Milliseconds"
    q["MetricStat"]["Metric"]["Dimensions"] = [
        {"Name": "Zone", "Value": "a"},
        {"Name": "FunctionName", "Value": "send"},
    ]
    response = get_metric_data(request(q), store_fetch(queries), NOW)
    assert queries.asked == [
        {
            "metric": MetricId("Heron", "Invocations", (("FunctionName", "send"), ("Zone", "a"))),
            "range": (START, START + 10 * MIN),
            "period": 60,
            "stat": "p99",
            "unit": "Milliseconds",
        }
    ]
    assert response["MetricDataResults"][0]["Values"] == [7.0]


def test_store_fetch_many_needs_a_store_with_series_many() -> None:
    assert store_fetch_many(RecordingQueries()) is None


# --- batched reads ---------------------------------------------------------------------------------


class BatchStore(FakeStore):
    """A FakeStore that also answers many reads at once, recording each batch."""

    def __init__(self, data: dict[tuple[str, str, int], dict[int, float]]) -> None:
        super().__init__(data)
        self.batches: list[list[tuple[str, int, int]]] = []

    def fetch_many(
        self, reads: Sequence[tuple[Mapping[str, Any], int, int]]
    ) -> list[tuple[list[int], list[float]]]:
        self.batches.append([(r[0]["Metric"]["MetricName"], r[1], r[2]) for r in reads])
        # answer from a plain FakeStore so single-read ``calls`` keep counting only those
        return [FakeStore(self.data).fetch(*read) for read in reads]


def test_fetch_many_reads_every_metric_stat_in_one_call_and_skips_expired_ones() -> None:
    store = BatchStore(STORE.data)
    req = request(
        stat_query("e", "Errors"),
        stat_query("fine", "Invocations", period=10),  # 1-s..59-s data is gone after 3 hours
        stat_query("i", "Invocations"),
        {"Id": "rate", "Expression": "e / i"},
    )
    req["StartTime"] = (NOW - 4 * 60 * MIN) / 1000
    batched = get_metric_data(req, store.fetch, NOW, cache=None, fetch_many=store.fetch_many)
    start = effective_start(round(req["StartTime"] * 1000), NOW, 60)
    assert start is not None
    assert store.batches == [
        [("Errors", start, START + 10 * MIN), ("Invocations", start, START + 10 * MIN)]
    ]
    assert store.calls == []
    assert batched == get_metric_data(req, STORE.fetch, NOW, cache=None)


_HERON = [
    MetricId("Heron", name, (("FunctionName", fn),))
    for name in ("Invocations", "Duration")
    for fn in ("send", "read")
]


def _metric_stat_query(
    qid: str, m: int, stat: str, period: int, unit: str | None
) -> dict[str, Any]:
    metric = _HERON[m]
    stat_body: dict[str, Any] = {
        "Metric": {
            "Namespace": metric.namespace,
            "MetricName": metric.name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in metric.dimensions],
        },
        "Period": period,
        "Stat": stat,
    }
    if unit is not None:
        stat_body["Unit"] = unit
    return {"Id": qid, "MetricStat": stat_body}


_store_samples = st.lists(
    st.tuples(
        st.integers(0, len(_HERON) - 1),
        st.integers(0, 4 * 3600 - 1),  # age in seconds
        st.lists(st.floats(-5, 100, allow_nan=False), min_size=1, max_size=3),
        st.sampled_from(["Count", "Milliseconds"]),
        st.sampled_from([1, 60]),
    ),
    max_size=40,
)
_stat_queries = st.lists(
    st.tuples(
        st.integers(0, len(_HERON) - 1),
        st.sampled_from(["Sum", "Average", "SampleCount", "Maximum", "p50", "p99", "TM(10%:90%)"]),
        st.sampled_from([1, 10, 60, 300]),
        st.sampled_from([None, None, "Count", "Milliseconds"]),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=40, deadline=None)
@given(
    _store_samples,
    st.integers(0, 40),
    _stat_queries,
    st.integers(0, 4 * 3600),
    st.integers(60, 4 * 3600),
    st.booleans(),
)
def test_batched_and_per_query_reads_give_the_same_response(
    samples: list[tuple[int, int, list[float], str, int]],
    flushed: int,
    queries: list[tuple[int, str, int, str | None]],
    start_age_s: int,
    length_s: int,
    with_math: bool,
) -> None:
    clock = FakeClock(NOW / 1000)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp), clock)
        written = [
            sample(values, NOW - age * 1000, metric=_HERON[m], unit=unit, resolution=res)
            for m, age, values, unit, res in samples
        ]
        # some cells flushed to SQLite, the rest still in memory: both read paths are exercised
        store.put_samples(written[:flushed])
        store.flush()
        store.put_samples(written[flushed:])
        counted = _CountingStore(store)
        try:
            body = [_metric_stat_query(f"m{i}", *q) for i, q in enumerate(queries)]
            if with_math:
                body.append({"Id": "total", "Expression": "SUM(METRICS())", "Label": "all"})
            start_ms = NOW - start_age_s * 1000
            req = {
                "MetricDataQueries": body,
                "StartTime": start_ms / 1000,
                "EndTime": (start_ms + length_s * 1000) / 1000,
                "ScanBy": "TimestampAscending",
            }
            fetch_many = store_fetch_many(counted)
            assert fetch_many is not None
            one_by_one = get_metric_data(req, store_fetch(counted), NOW, cache=None)
            per_query_reads = counted.series_calls
            batched = get_metric_data(
                req, store_fetch(counted), NOW, cache=None, fetch_many=fetch_many
            )
        finally:
            store.close()
    # NaN never equals itself, so compare the serialized responses
    assert json.dumps(batched) == json.dumps(one_by_one)
    assert counted.series_calls == per_query_reads  # the batched path made no single reads
    assert counted.many_calls == 1


class _CountingStore:
    """A real MetricStore seen through a wrapper that counts single and batched reads."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.series_calls = 0
        self.many_calls = 0

    def series(self, metric: MetricId, **kwargs: Any) -> tuple[list[int], list[float]]:
        self.series_calls += 1
        result: tuple[list[int], list[float]] = self.store.series(metric, **kwargs)
        return result

    def series_many(self, reads: Sequence[Any]) -> list[tuple[list[int], list[float]]]:
        self.many_calls += 1
        result: list[tuple[list[int], list[float]]] = self.store.series_many(reads)
        return result

    def statistics(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        raise AssertionError("not used")

    def list_metrics(self, *args: Any, **kwargs: Any) -> list[MetricId]:
        raise AssertionError("not used")


def test_a_later_page_from_a_cached_snapshot_still_checks_what_the_token_does_not_bind() -> None:
    cache: ResultCache[Any] = ResultCache()
    req = request(stat_query("inv", "Invocations"), MaxDatapoints=2)
    first = get_metric_data(req, STORE.fetch, NOW, cache=cache)
    later = {**req, "NextToken": first["NextToken"]}
    with pytest.raises(AwsError, match="MaxDatapoints must be greater than 0"):
        get_metric_data({**later, "MaxDatapoints": 0}, STORE.fetch, NOW, cache=cache)
    with pytest.raises(AwsError, match="Timezone"):
        get_metric_data(
            {**later, "LabelOptions": {"Timezone": "+25:00"}}, STORE.fetch, NOW, cache=cache
        )
    # The queries themselves are bound by the token: changing one is refused, not re-planned.
    changed = {**later, "MetricDataQueries": [stat_query("inv", "Invocations", "Average")]}
    with pytest.raises(AwsError) as caught:
        get_metric_data(changed, STORE.fetch, NOW, cache=cache)
    assert caught.value.code == "InvalidNextToken"
    page = get_metric_data(later, STORE.fetch, NOW, cache=cache)
    assert [r["Values"] for r in page["MetricDataResults"]] == [[20.0, 10.0]]


def test_an_integer_beyond_64_bits_is_a_validation_error_not_a_crash() -> None:
    with pytest.raises(AwsError) as caught:
        call(request(stat_query("inv", "Invocations", period=2**70)))
    assert caught.value.status == 400

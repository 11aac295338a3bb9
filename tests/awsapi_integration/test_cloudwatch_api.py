"""CloudWatch's metric operations through boto3 over JSON 1.0, Query and Smithy RPC v2 CBOR.

Every test runs once per protocol against one live Monitor; each uses its own namespace so the
protocols' data never meet. Expected values are computed from what the test put.
"""

from __future__ import annotations

import gzip
import math
import threading
import time
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from awsapi_integration.live_monitor import PROTOCOLS, LiveMonitor

MINUTE = 60


@pytest.fixture(params=PROTOCOLS)
def protocol(request: pytest.FixtureRequest) -> str:
    """The wire protocol the test's CloudWatch client speaks."""
    return str(request.param)


@pytest.fixture
def cw(live: LiveMonitor, protocol: str) -> Any:
    """A CloudWatch client forced to ``protocol``."""
    return live.client("cloudwatch", protocol)


def namespace(request: pytest.FixtureRequest, protocol: str) -> str:
    """A namespace of the test's own (per test function and protocol)."""
    return f"IT/{request.function.__name__}/{protocol}"


def minute_start(ago_minutes: int) -> int:
    """Epoch seconds of the start of the minute ``ago_minutes`` minutes ago."""
    now = int(time.time())
    return now - now % MINUTE - ago_minutes * MINUTE


def epoch(dt: Any) -> float:
    """A timestamp boto3 returned, as epoch seconds."""
    return float(dt.timestamp())


def by_time(datapoints: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GetMetricStatistics' datapoints (unordered, as AWS returns them) in time order."""
    return sorted(datapoints, key=lambda p: p["Timestamp"])


def test_value_values_counts_and_statistic_sets_aggregate_per_period(
    cw: Any, protocol: str, request: pytest.FixtureRequest
) -> None:
    ns = namespace(request, protocol)
    t0 = minute_start(20)
    dims = [{"Name": "Route", "Value": "/send"}, {"Name": "Api", "Value": "chat"}]
    other = [{"Name": "Route", "Value": "/read"}, {"Name": "Api", "Value": "chat"}]
    ms = "Milliseconds"
    cw.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t0 + 1, "Value": 10.0,
             "Unit": ms},
            {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t0 + 2,
             "Values": [1.0, 2.0, 3.0], "Counts": [1.0, 1.0, 2.0], "Unit": ms},
            {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t0 + 3, "Unit": ms,
             "StatisticValues": {"SampleCount": 4, "Sum": 20, "Minimum": 2, "Maximum": 8}},
            {"MetricName": "Latency", "Dimensions": other, "Timestamp": t0 + 4, "Value": 1000.0,
             "Unit": ms},
            {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t0 + MINUTE + 5,
             "Value": 5.0, "Unit": ms},
        ],
    )  # fmt: skip
    stats = ["SampleCount", "Sum", "Average", "Minimum", "Maximum"]
    got = cw.get_metric_statistics(
        Namespace=ns,
        MetricName="Latency",
        # The other order than put: a metric's dimensions are a set.
        Dimensions=list(reversed(dims)),
        StartTime=t0,
        EndTime=t0 + 2 * MINUTE,
        Period=MINUTE,
        Statistics=stats,
    )
    assert got["Label"] == "Latency"
    points = by_time(got["Datapoints"])
    assert [epoch(p["Timestamp"]) for p in points] == [t0, t0 + MINUTE]
    first, second = points
    # 10 once; 1, 2, 3, 3 (Counts); a set of 4 samples summing to 20 within [2, 8]
    assert first["SampleCount"] == 9
    assert first["Sum"] == pytest.approx(39.0)
    assert first["Average"] == pytest.approx(39.0 / 9)
    assert first["Minimum"] == 1.0
    assert first["Maximum"] == 10.0
    assert first["Unit"] == ms
    assert {k: second[k] for k in stats} == {
        "SampleCount": 1, "Sum": 5.0, "Average": 5.0, "Minimum": 5.0, "Maximum": 5.0,
    }  # fmt: skip

    # No aggregation across dimension sets; another unit selects nothing.
    partial = cw.get_metric_statistics(
        Namespace=ns, MetricName="Latency", Dimensions=dims[:1], StartTime=t0,
        EndTime=t0 + 2 * MINUTE, Period=MINUTE, Statistics=["Sum"],
    )  # fmt: skip
    assert partial["Datapoints"] == []
    seconds = cw.get_metric_statistics(
        Namespace=ns, MetricName="Latency", Dimensions=dims, StartTime=t0,
        EndTime=t0 + 2 * MINUTE, Period=MINUTE, Statistics=["Sum"], Unit="Seconds",
    )  # fmt: skip
    assert seconds["Datapoints"] == []
    read = cw.get_metric_statistics(
        Namespace=ns, MetricName="Latency", Dimensions=other, StartTime=t0,
        EndTime=t0 + 2 * MINUTE, Period=3 * MINUTE, Statistics=["Maximum"], Unit=ms,
    )  # fmt: skip
    assert [p["Maximum"] for p in read["Datapoints"]] == [1000.0]


def test_high_resolution_datapoints_are_kept_per_second(
    cw: Any, protocol: str, request: pytest.FixtureRequest
) -> None:
    ns = namespace(request, protocol)
    t0 = minute_start(10) + 10
    cw.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Fast", "Timestamp": t0 + i, "Value": float(i + 1),
             "StorageResolution": 1}
            for i in range(5)
        ],
    )  # fmt: skip
    per_second = cw.get_metric_statistics(
        Namespace=ns, MetricName="Fast", StartTime=t0, EndTime=t0 + 5, Period=1,
        Statistics=["Sum"],
    )  # fmt: skip
    points = by_time(per_second["Datapoints"])
    assert [(epoch(p["Timestamp"]), p["Sum"]) for p in points] == [
        (t0 + i, float(i + 1)) for i in range(5)
    ]
    ten = cw.get_metric_statistics(
        Namespace=ns, MetricName="Fast", StartTime=t0, EndTime=t0 + 10, Period=10,
        Statistics=["Sum", "SampleCount"],
    )  # fmt: skip
    assert [(p["Sum"], p["SampleCount"]) for p in ten["Datapoints"]] == [(15.0, 5.0)]


def test_large_request_is_gzip_compressed_by_boto3_and_fully_stored(
    cw: Any, protocol: str, request: pytest.FixtureRequest
) -> None:
    ns = namespace(request, protocol)
    t0 = minute_start(5)
    sent: dict[str, Any] = {}

    def capture(request: Any, **_: Any) -> None:
        sent["encoding"] = request.headers.get("Content-Encoding")
        sent["body"] = request.body

    event = "before-send.cloudwatch.PutMetricData"
    cw.meta.events.register(event, capture)
    datums = [
        {
            "MetricName": "Bulk",
            "Dimensions": [{"Name": "Shard", "Value": f"shard-{i % 10}"},
                           {"Name": "Padding", "Value": "p" * 200}],
            "Timestamp": t0 + i % 50,
            "Values": [float(i), float(i) + 0.5],
            "Unit": "Count",
        }
        for i in range(1000)
    ]  # fmt: skip
    try:
        cw.put_metric_data(Namespace=ns, MetricData=datums)
    finally:
        cw.meta.events.unregister(event, capture)
    encoding = sent["encoding"]
    assert (encoding.decode() if isinstance(encoding, bytes) else encoding) == "gzip"
    inflated = gzip.decompress(sent["body"])
    assert len(inflated) > 300_000 > len(sent["body"]) * 5

    got = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": f"s{shard}",
                "MetricStat": {
                    "Metric": {"Namespace": ns, "MetricName": "Bulk", "Dimensions": [
                        {"Name": "Shard", "Value": f"shard-{shard}"},
                        {"Name": "Padding", "Value": "p" * 200}]},
                    "Period": MINUTE,
                    "Stat": "Sum",
                },
            }
            for shard in range(10)
        ],
        StartTime=t0,
        EndTime=t0 + MINUTE,
    )  # fmt: skip
    sums = {r["Id"]: r["Values"] for r in got["MetricDataResults"]}
    assert sums == {
        f"s{shard}": [sum(2 * i + 0.5 for i in range(shard, 1000, 10))] for shard in range(10)
    }


def test_large_plain_request_is_stored_alike_whoever_decodes_it(
    cw: Any, protocol: str, live: LiveMonitor, request: pytest.FixtureRequest
) -> None:
    """A plain 1,000-datum JSON request is decoded by a decode worker process; Query and CBOR
    requests by the generic path; the stored statistics are the same and exact."""
    pool = live.monitor.decode_pool
    assert pool is not None
    ns = namespace(request, protocol)
    t0 = minute_start(5)
    datums = [
        {
            "MetricName": "Plain",
            "Dimensions": [{"Name": "Shard", "Value": f"shard-{i % 10}"}],
            "Timestamp": t0 + i % 50,
            "Value": float(i),
            "Unit": "Count",
        }
        for i in range(1000)
    ]
    if protocol == "json":
        deadline = time.monotonic() + 30
        while pool.answered == 0 and time.monotonic() < deadline:  # the first starts a worker
            cw.put_metric_data(Namespace=f"{ns}/warm-up", MetricData=datums)
            time.sleep(0.05)
    before = pool.answered
    cw.put_metric_data(Namespace=ns, MetricData=datums)
    assert pool.answered == before + (1 if protocol == "json" else 0)

    got = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": f"{stat.lower()}{shard}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": ns,
                        "MetricName": "Plain",
                        "Dimensions": [{"Name": "Shard", "Value": f"shard-{shard}"}],
                    },
                    "Period": MINUTE,
                    "Stat": stat,
                    "Unit": "Count",
                },
            }
            for shard in (0, 7)
            for stat in ("Sum", "SampleCount", "Maximum")
        ],
        StartTime=t0,
        EndTime=t0 + MINUTE,
    )
    values = {r["Id"]: r["Values"] for r in got["MetricDataResults"]}
    assert values == {
        "sum0": [float(sum(range(0, 1000, 10)))],
        "samplecount0": [100.0],
        "maximum0": [990.0],
        "sum7": [float(sum(range(7, 1000, 10)))],
        "samplecount7": [100.0],
        "maximum7": [997.0],
    }


def test_extended_statistics_percentile_and_trimmed_mean(
    cw: Any, protocol: str, request: pytest.FixtureRequest
) -> None:
    ns = namespace(request, protocol)
    t0 = minute_start(15)
    rng = np.random.default_rng(7)
    raw = rng.lognormal(mean=3.0, sigma=1.0, size=600).round(3)
    cw.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Duration", "Timestamp": t0 + 7 + k, "Values": chunk.tolist()}
            for k, chunk in enumerate(np.split(raw, 6))
        ],
    )
    got = cw.get_metric_statistics(
        Namespace=ns, MetricName="Duration", StartTime=t0, EndTime=t0 + MINUTE, Period=MINUTE,
        ExtendedStatistics=["p99", "p50", "p100"],
    )  # fmt: skip
    (point,) = got["Datapoints"]
    ext = point["ExtendedStatistics"]
    ordered = np.sort(raw)
    for p in (99, 50):
        exact = float(np.percentile(raw, p, method="inverted_cdf"))
        assert ext[f"p{p}"] == pytest.approx(exact, rel=0.01)  # the sketch's documented bound
    assert ext["p100"] == float(ordered[-1])  # clamped to the exact maximum

    # GetMetricStatistics takes percentiles only ("Specify values between p0.0 and p100", API
    # reference); the other extended statistics are asked for through GetMetricData.
    metric = {"Namespace": ns, "MetricName": "Duration"}
    stats = ["TM(10%:90%)", "p99", "IQM", "TC(10%:90%)"]
    data = cw.get_metric_data(
        MetricDataQueries=[
            {"Id": f"q{i}", "MetricStat": {"Metric": metric, "Period": MINUTE, "Stat": stat}}
            for i, stat in enumerate(stats)
        ],
        StartTime=t0,
        EndTime=t0 + MINUTE,
    )
    tm, p99, iqm, tc = ([*r["Values"]] for r in data["MetricDataResults"])
    # TM(10%:90%): the mean of the samples ranked above the 10th and up to the 90th percentile
    kept = ordered[int(0.1 * raw.size) : int(0.9 * raw.size)]
    assert tm == [pytest.approx(float(kept.mean()), rel=0.01)]
    assert tc == [float(kept.size)]  # counts are exact
    assert p99 == [ext["p99"]]
    middle = ordered[int(0.25 * raw.size) : int(0.75 * raw.size)]
    assert iqm == [pytest.approx(float(middle.mean()), rel=0.01)]
    with pytest.raises(ClientError) as refused:
        cw.get_metric_statistics(
            Namespace=ns, MetricName="Duration", StartTime=t0, EndTime=t0 + MINUTE,
            Period=MINUTE, ExtendedStatistics=["TM(10%:90%)"],
        )  # fmt: skip
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"


def _math_fixture(cw: Any, ns: str) -> int:
    """A (Sum 1..5 per minute) and B (10x, with no datapoint in minute 2), from t0."""
    t0 = minute_start(30)
    data = []
    for k in range(5):
        data.append({"MetricName": "A", "Timestamp": t0 + k * MINUTE + 3, "Value": k + 1.0})
        if k != 2:
            data.append(
                {"MetricName": "B", "Timestamp": t0 + k * MINUTE + 9, "Value": 10.0 * (k + 1)}
            )
    cw.put_metric_data(Namespace=ns, MetricData=data)
    return t0


def _stat(ns: str, name: str, stat: str = "Sum") -> dict[str, Any]:
    return {"Metric": {"Namespace": ns, "MetricName": name}, "Period": MINUTE, "Stat": stat}


def test_get_metric_data_metric_stats_and_expressions(
    cw: Any, protocol: str, request: pytest.FixtureRequest
) -> None:
    ns = namespace(request, protocol)
    t0 = _math_fixture(cw, ns)
    queries = [
        {"Id": "a", "MetricStat": _stat(ns, "A")},
        {"Id": "b", "MetricStat": _stat(ns, "B")},
        {"Id": "doubled", "Expression": "a * 2", "Label": "A twice"},
        {"Id": "total", "Expression": "SUM(METRICS())"},
        {"Id": "rate", "Expression": "RATE(a)"},
        {"Id": "filled", "Expression": "FILL(b, 0)"},
        {"Id": "big", "Expression": "IF(a > 2, a, 0)"},
        {"Id": "ratio", "Expression": "100 * FILL(b, 0) / (a + FILL(b, 0))", "Label": "share"},
    ]
    got = cw.get_metric_data(
        MetricDataQueries=queries,
        StartTime=t0,
        EndTime=t0 + 5 * MINUTE,
        ScanBy="TimestampAscending",
    )
    results = {r["Id"]: r for r in got["MetricDataResults"]}
    assert [r["Id"] for r in got["MetricDataResults"]] == [q["Id"] for q in queries]
    grid = [float(t0 + k * MINUTE) for k in range(5)]
    for r in results.values():
        assert r["StatusCode"] == "Complete"
        assert all(epoch(t) in grid for t in r["Timestamps"])

    def series(qid: str) -> list[tuple[float, float]]:
        r = results[qid]
        return [(epoch(t), v) for t, v in zip(r["Timestamps"], r["Values"], strict=True)]

    a = [1.0, 2.0, 3.0, 4.0, 5.0]
    b = [10.0, 20.0, 0.0, 40.0, 50.0]
    assert series("a") == list(zip(grid, a, strict=True))
    assert series("b") == [(grid[k], b[k]) for k in (0, 1, 3, 4)]
    assert series("doubled") == [(t, 2 * v) for t, v in zip(grid, a, strict=True)]
    # SUM over an array reads a missing point as 0 (AWS's documented rule).
    assert series("total") == [(t, x + y) for t, x, y in zip(grid, a, b, strict=True)]
    assert series("rate") == [(t, pytest.approx(1 / MINUTE)) for t in grid[1:]]
    assert series("filled") == list(zip(grid, b, strict=True))
    assert series("big") == [(t, v if v > 2 else 0.0) for t, v in zip(grid, a, strict=True)]
    assert series("ratio") == [
        (t, pytest.approx(100 * y / (x + y))) for t, x, y in zip(grid, a, b, strict=True)
    ]
    # Labels: the MetricName (same Stat and Period everywhere), else the Label or the Id.
    labels = {qid: r["Label"] for qid, r in results.items()}
    assert labels == {
        "a": "A", "b": "B", "doubled": "A twice", "total": "total", "rate": "rate",
        "filled": "filled", "big": "big", "ratio": "share",
    }  # fmt: skip

    # The default scan order is newest first.
    descending = cw.get_metric_data(
        MetricDataQueries=queries[:1], StartTime=t0, EndTime=t0 + 5 * MINUTE
    )["MetricDataResults"][0]
    assert [epoch(t) for t in descending["Timestamps"]] == grid[::-1]
    assert descending["Values"] == a[::-1]


def test_get_metric_data_labels_name_the_stat_when_stats_differ(
    cw: Any, protocol: str, request: pytest.FixtureRequest
) -> None:
    ns = namespace(request, protocol)
    t0 = _math_fixture(cw, ns)
    got = cw.get_metric_data(
        MetricDataQueries=[
            {"Id": "s", "MetricStat": _stat(ns, "A", "Sum")},
            {"Id": "m", "MetricStat": _stat(ns, "A", "Maximum")},
            {"Id": "hidden", "MetricStat": _stat(ns, "B"), "ReturnData": False},
            {"Id": "e", "Expression": "hidden - m"},
        ],
        StartTime=t0,
        EndTime=t0 + 5 * MINUTE,
    )
    assert [(r["Id"], r["Label"]) for r in got["MetricDataResults"]] == [
        ("s", "A Sum"), ("m", "A Maximum"), ("e", "e"),
    ]  # fmt: skip


def test_get_metric_data_pages_with_max_datapoints_and_next_token(
    cw: Any, protocol: str, request: pytest.FixtureRequest
) -> None:
    ns = namespace(request, protocol)
    t0 = _math_fixture(cw, ns)
    queries = [
        {"Id": "a", "MetricStat": _stat(ns, "A")},
        {"Id": "b", "MetricStat": _stat(ns, "B")},
        {"Id": "total", "Expression": "SUM(METRICS())"},
    ]
    window = {"StartTime": t0, "EndTime": t0 + 5 * MINUTE}
    whole = cw.get_metric_data(MetricDataQueries=queries, **window)
    assert "NextToken" not in whole
    expected = {r["Id"]: (r["Timestamps"], r["Values"]) for r in whole["MetricDataResults"]}
    assert sum(len(v) for _, v in expected.values()) == 14

    gathered: dict[str, tuple[list[Any], list[float]]] = {}
    pages = 0
    token = None
    while True:
        extra = {"NextToken": token} if token else {}
        page = cw.get_metric_data(MetricDataQueries=queries, MaxDatapoints=4, **window, **extra)
        pages += 1
        assert sum(len(r["Values"]) for r in page["MetricDataResults"]) <= 4
        for r in page["MetricDataResults"]:
            ts, vs = gathered.setdefault(r["Id"], ([], []))
            ts += r["Timestamps"]
            vs += r["Values"]
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 4  # 14 datapoints, 4 per page
    assert gathered == expected


def test_list_metrics_filters_and_pages_past_500(
    live: LiveMonitor, cw: Any, protocol: str, request: pytest.FixtureRequest
) -> None:
    ns = namespace(request, protocol)
    cw.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": f"M{i:03d}", "Dimensions": [{"Name": "Shard", "Value": str(i % 2)}],
             "Value": 1.0}
            for i in range(520)
        ] + [{"MetricName": "M000", "Value": 2.0},
             {"MetricName": "M000", "Dimensions": [{"Name": "Zone", "Value": "a"},
                                                   {"Name": "Shard", "Value": "0"}],
              "Value": 3.0}],
    )  # fmt: skip
    first = cw.list_metrics(Namespace=ns)
    assert len(first["Metrics"]) == 500
    second = cw.list_metrics(Namespace=ns, NextToken=first["NextToken"])
    assert "NextToken" not in second
    listed = first["Metrics"] + second["Metrics"]
    keys = {
        (m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])))
        for m in listed
    }
    assert len(listed) == len(keys) == 522
    assert all(m["Namespace"] == ns for m in listed)

    by_name = cw.list_metrics(Namespace=ns, MetricName="M000")["Metrics"]
    assert sorted(len(m["Dimensions"]) for m in by_name) == [0, 1, 2]
    odd = cw.list_metrics(Namespace=ns, Dimensions=[{"Name": "Shard", "Value": "1"}])
    assert len(odd["Metrics"]) == 260
    assert all(int(m["MetricName"][1:]) % 2 == 1 for m in odd["Metrics"])
    zoned = cw.list_metrics(Namespace=ns, Dimensions=[{"Name": "Zone"}, {"Name": "Shard"}])
    assert [(m["MetricName"], len(m["Dimensions"])) for m in zoned["Metrics"]] == [("M000", 2)]

    # A metric last written four hours ago is listed, but not as recently active.
    live.clock.offset = -4 * 3600
    try:
        cw.put_metric_data(
            Namespace=ns,
            MetricData=[{"MetricName": "Old", "Value": 1.0, "Timestamp": time.time() - 4 * 3600}],
        )
    finally:
        live.clock.offset = 0.0
    names = {m["MetricName"] for m in cw.list_metrics(Namespace=ns, MetricName="Old")["Metrics"]}
    assert names == {"Old"}
    active = cw.list_metrics(Namespace=ns, RecentlyActive="PT3H")
    active_names = {m["MetricName"] for m in active["Metrics"]}
    if "NextToken" in active:
        more = cw.list_metrics(Namespace=ns, RecentlyActive="PT3H", NextToken=active["NextToken"])
        active_names |= {m["MetricName"] for m in more["Metrics"]}
    assert "Old" not in active_names
    assert len(active_names) == 520


def test_float_values_survive_the_wire_exactly(
    cw: Any, protocol: str, request: pytest.FixtureRequest
) -> None:
    ns = namespace(request, protocol)
    t0 = minute_start(8)
    values = [0.1, 1e-300, 2.0**300, -7.25, 123456789.123456]
    cw.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": f"V{i}", "Timestamp": t0 + 1, "Value": v} for i, v in enumerate(values)
        ],
    )
    got = cw.get_metric_data(
        MetricDataQueries=[
            {"Id": f"v{i}", "MetricStat": _stat(ns, f"V{i}", "Maximum")} for i in range(len(values))
        ],
        StartTime=t0,
        EndTime=t0 + MINUTE,
    )
    assert [r["Values"] for r in got["MetricDataResults"]] == [[v] for v in values]
    assert not any(math.isnan(v) for r in got["MetricDataResults"] for v in r["Values"])


def test_protocols_share_one_store_under_concurrent_puts(live: LiveMonitor) -> None:
    ns = "IT/concurrent"
    t0 = minute_start(12)
    clients = [live.client("cloudwatch", p) for p in PROTOCOLS]
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        cw = clients[worker % len(clients)]
        try:
            for i in range(25):
                cw.put_metric_data(
                    Namespace=ns,
                    MetricData=[
                        {"MetricName": "Hits", "Timestamp": t0 + worker, "Value": float(i)},
                        {"MetricName": f"W{worker}", "Timestamp": t0 + 1, "Value": 1.0},
                    ],
                )
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    for cw in clients:  # each protocol reads what all of them wrote
        got = cw.get_metric_statistics(
            Namespace=ns, MetricName="Hits", StartTime=t0, EndTime=t0 + MINUTE, Period=MINUTE,
            Statistics=["SampleCount", "Sum", "Maximum"],
        )["Datapoints"]  # fmt: skip
        assert [(p["SampleCount"], p["Sum"], p["Maximum"]) for p in got] == [
            (9 * 25.0, 9 * sum(range(25)) * 1.0, 24.0)
        ]
        listed = cw.list_metrics(Namespace=ns)["Metrics"]
        assert sorted(m["MetricName"] for m in listed) == sorted(
            ["Hits", *(f"W{w}" for w in range(9))]
        )

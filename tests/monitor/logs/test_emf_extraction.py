"""EMF extraction: the spec's examples, generated valid documents, and invalid ones counted."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from heron.monitor.contracts import Sample
from heron.monitor.logs.emf import MAX_FUTURE_MS, MAX_PAST_MS, EmfExtractor

NOW = 1_800_000_000_000


def extract(*lines: str, event_ts: int = NOW) -> tuple[list[Sample], EmfExtractor]:
    ex = EmfExtractor()
    ex.extract([(event_ts, line) for line in lines], now_ms=NOW)
    return ex.batch.flush(None), ex


def doc(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "_aws": {
            "Timestamp": NOW - 5,
            "CloudWatchMetrics": [
                {
                    "Namespace": "lambda-function-metrics",
                    "Dimensions": [["functionVersion"]],
                    "Metrics": [{"Name": "time", "Unit": "Milliseconds", "StorageResolution": 60}],
                }
            ],
        },
        "functionVersion": "$LATEST",
        "time": 100,
        "requestId": "989ffbf8-9ace-4817-a57c-e4dd734019ee",
    }
    base.update(extra)
    return base


def test_spec_example_produces_one_sample() -> None:
    samples, ex = extract(json.dumps(doc()))
    assert samples == [
        Sample(
            "lambda-function-metrics",
            "time",
            (("functionVersion", "$LATEST"),),
            NOW - 5 - (NOW - 5) % 1000,
            (100,),
            unit="Milliseconds",
        )
    ]
    assert ex.stats.documents == 1 and ex.stats.datapoints == 1


def test_lambda_prefix_is_accepted() -> None:
    line = "2024-01-01T00:00:00.000Z\tabc-123\tINFO\t" + json.dumps(doc())
    samples, _ = extract(line)
    assert len(samples) == 1


def test_every_dimension_set_times_every_metric() -> None:
    d = doc(Route="r1", count=3, sizes=[1, 2, 3.5])
    d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = [
        ["functionVersion"],
        ["functionVersion", "Route"],
        [],
    ]
    d["_aws"]["CloudWatchMetrics"][0]["Metrics"] = [
        {"Name": "count", "Unit": "Count"},
        {"Name": "sizes", "Unit": "Bytes", "StorageResolution": 1},
    ]
    samples, ex = extract(json.dumps(d))
    by_key = {(s.name, s.dimensions): s for s in samples}
    assert len(by_key) == 6
    assert by_key[("sizes", ())].values == (1, 2, 3.5)
    assert by_key[("sizes", ())].storage_resolution == 1
    assert by_key[("count", (("Route", "r1"), ("functionVersion", "$LATEST")))].values == (3,)
    assert ex.stats.datapoints == 3 * (1 + 3)


def test_missing_timestamp_falls_back_to_event_time() -> None:
    d = doc()
    del d["_aws"]["Timestamp"]
    samples, _ = extract(json.dumps(d), event_ts=NOW - 61_000)
    assert samples[0].timestamp_ms == NOW - 61_000


def test_same_series_same_second_is_one_sample() -> None:
    samples, _ = extract(*(json.dumps(doc(time=i)) for i in range(10)))
    assert len(samples) == 1 and samples[0].values == tuple(range(10))


INVALID = [
    '{not json at all, but mentions "_aws"',
    json.dumps({"_aws": "nope"}),
    json.dumps({"_aws": {"Timestamp": NOW, "CloudWatchMetrics": {}}}),
    json.dumps(doc(_aws={"Timestamp": "yesterday", "CloudWatchMetrics": []})),
]


def test_invalid_documents_are_counted_not_raised() -> None:
    samples, ex = extract(*INVALID)
    assert samples == []
    assert ex.stats.parsing_errors == 1
    assert ex.stats.validation_errors == 3


def _directive_variant(change: str) -> dict[str, Any]:
    d = doc()
    directive = d["_aws"]["CloudWatchMetrics"][0]
    if change == "namespace":
        directive["Namespace"] = "AWS/Lambda"
    elif change == "too_many_dims":
        keys = [f"k{i}" for i in range(31)]
        d.update({k: "v" for k in keys})
        directive["Dimensions"] = [keys]
    elif change == "dim_missing":
        directive["Dimensions"] = [["nope"]]
    elif change == "dim_not_string":
        d["functionVersion"] = 5
    elif change == "unit":
        directive["Metrics"][0]["Unit"] = "Furlongs"
    elif change == "resolution":
        directive["Metrics"][0]["StorageResolution"] = 30
    elif change == "value":
        d["time"] = "fast"
    elif change == "array":
        d["time"] = list(range(101))
    elif change == "metrics":
        directive["Metrics"] = [{"Name": f"m{i}"} for i in range(101)]
    return d


def test_each_rule_rejects_only_its_directive() -> None:
    changes = [
        "namespace",
        "too_many_dims",
        "dim_missing",
        "dim_not_string",
        "unit",
        "resolution",
        "value",
        "array",
        "metrics",
    ]
    for change in changes:
        d = _directive_variant(change)
        good = {"Namespace": "Good", "Dimensions": [[]], "Metrics": [{"Name": "requestCount"}]}
        d["_aws"]["CloudWatchMetrics"].append(good)
        d["requestCount"] = 1
        samples, ex = extract(json.dumps(d))
        assert [s.namespace for s in samples] == ["Good"], change
        assert ex.stats.validation_errors == 1, change


def test_out_of_window_timestamps_are_dropped() -> None:
    old = doc()
    old["_aws"]["Timestamp"] = NOW - 15 * 86_400_000
    samples, ex = extract(json.dumps(old))
    assert samples == [] and ex.stats.out_of_window == 1


_names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(
    namespace=_names,
    dims=st.dictionaries(_names.map(lambda s: "d" + s), _names, max_size=4),
    metrics=st.dictionaries(
        _names.map(lambda s: "m" + s),
        st.one_of(
            st.floats(-1e9, 1e9), st.lists(st.integers(-1000, 1000), min_size=1, max_size=100)
        ),
        min_size=1,
        max_size=5,
    ),
    unit=st.sampled_from(["Count", "Milliseconds", "None", "Bytes/Second"]),
)
def test_generated_valid_documents_round_trip(
    namespace: str, dims: dict[str, str], metrics: dict[str, Any], unit: str
) -> None:
    d: dict[str, Any] = {
        "_aws": {
            "Timestamp": NOW,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [sorted(dims)],
                    "Metrics": [{"Name": m, "Unit": unit} for m in metrics],
                }
            ],
        },
        **dims,
        **metrics,
    }
    samples, ex = extract(json.dumps(d))
    got = {s.name: s for s in samples}
    assert set(got) == set(metrics)
    for name, value in metrics.items():
        s = got[name]
        assert s.namespace == namespace and s.unit == unit and s.timestamp_ms == NOW
        assert s.dimensions == tuple(sorted(dims.items()))
        assert list(s.values) == (value if isinstance(value, list) else [value])
    assert ex.stats.validation_errors == 0


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.one_of(
            st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5)
        ),
        lambda c: st.one_of(
            st.lists(c, max_size=4),
            st.dictionaries(
                st.sampled_from(
                    [
                        "_aws",
                        "Timestamp",
                        "CloudWatchMetrics",
                        "Namespace",
                        "Dimensions",
                        "Metrics",
                        "Name",
                        "Unit",
                        "x",
                    ]
                ),
                c,
                max_size=4,
            ),
        ),
        max_leaves=25,
    )
)
def test_arbitrary_documents_never_raise(aws: Any) -> None:
    line = json.dumps({"_aws": aws, "x": 1, "Name": "y"})
    _samples, ex = extract(line, line[:-3])
    assert ex.stats.documents + ex.stats.parsing_errors >= 1


# Mostly what the fast path takes (finite numbers, good dimension values, an int Timestamp),
# often something it must hand to the general path.
_number = st.one_of(st.floats(-1e9, 1e9), st.integers(-(2**70), 2**70))
_member = st.one_of(
    _number,
    _number,
    _number,
    st.booleans(),
    st.none(),
    st.just("7"),
    st.lists(st.floats(-5, 5), max_size=3),
)
_dimension = st.one_of(
    st.sampled_from(["a", "b", "a", "b", "", "x" * 1025]), st.integers(0, 3), st.none()
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.fixed_dictionaries({"Latency": _member, "Sent": _member}),
            st.fixed_dictionaries({"Fn": _dimension, "Route": _dimension}),
            st.sampled_from([NOW - 5, NOW - 5, NOW - 5, NOW - 5.0, NOW - 0.5, "now", None]),
        ),
        min_size=1,
        max_size=20,
    )
)
@example([({"Latency": 1, "Sent": 2}, {"Fn": "a", "Route": r}, NOW - 5) for r in ("a", "")])
def test_the_batch_fast_path_matches_the_line_by_line_path(
    lines: list[tuple[dict[str, Any], dict[str, Any], Any]],
) -> None:
    directive = {
        "Namespace": "App",
        "Dimensions": [["Fn", "Route"], ["Fn"]],
        "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}, {"Name": "Sent"}],
    }
    messages = []
    for members, dims, ts in lines:
        aws: dict[str, Any] = {"CloudWatchMetrics": [directive]}
        if ts is not None:
            aws["Timestamp"] = ts
        present = {k: v for k, v in {**members, **dims}.items() if v is not None}
        messages.append(json.dumps({"_aws": aws, **present}))
    events = [(NOW, m) for m in messages]
    fast, slow = EmfExtractor(), EmfExtractor()
    fast.extract(events, now_ms=NOW)
    lo, hi = NOW - MAX_PAST_MS, NOW + MAX_FUTURE_MS
    for ts, message in events:
        slow.extract_line(message, ts, slow.batch, lo, hi)
    assert fast.batch.flush(None) == slow.batch.flush(None)
    assert fast.stats == slow.stats


def test_a_directive_too_deep_to_serialize_costs_only_its_own_line() -> None:
    good = json.dumps(doc())
    nested = "[" * 300 + "]" * 300  # orjson reads 1,024 levels but writes only 255
    deep = f'{{"_aws":{{"Timestamp":{NOW - 5},"CloudWatchMetrics":[{nested}]}}}}'
    ex = EmfExtractor()
    ex.extract([(NOW, good), (NOW, deep), (NOW, good)], now_ms=NOW)
    samples = ex.batch.flush(None)
    assert sum(len(s.values) for s in samples) == 2 * len(extract(good)[0][0].values)
    assert ex.stats.validation_errors == 1 and ex.stats.documents == 3

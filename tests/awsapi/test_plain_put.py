"""The plain PutMetricData path stores exactly what the generic path stores, or declines."""

from __future__ import annotations

import copy
import gzip
from typing import Any

import orjson
from hypothesis import example, given, settings
from hypothesis import strategies as st

from heron.awsapi.decode_pool import KeysReceived
from heron.awsapi.errors import AwsError
from heron.awsapi.fast_decode import decode_put_metric_data
from heron.awsapi.models import service_spec
from heron.awsapi.plain_put import (
    FUTURE_MS,
    PAST_MS,
    IdentityMemo,
    PlainPut,
    encode_put,
    plain_body,
    plain_put,
)
from heron.awsapi.put_metric_data import MetricWriter
from heron.awsapi.shapes import ShapeError
from heron.monitor.metrics.ingest import SampleBatch
from heron.monitor.metrics.key_index import KeysSent

from .metric_ids import Registry

SHAPE = service_spec("cloudwatch").operation("PutMetricData").input_shape
NOW_MS = 1_764_000_000_000  # a whole second, so the writer's clock gives exactly this
NOW_S = NOW_MS / 1000


class RecordingStore:
    """Keeps the batch a writer stores."""

    def __init__(self) -> None:
        self.batch: SampleBatch | None = None

    def put_batch(self, batch: SampleBatch) -> None:
        self.batch = batch


class GenericWriter(MetricWriter):
    """A writer that validates every datum member by member (no plain shortcut), as reference."""

    def _fast_datum(self, batch: SampleBatch, ns: str, d: Any, now_ms: int) -> bool:
        return False


def generic_columns(document: Any) -> Any:
    """What the generic path (shape decoder, then member checks) stores, or "error"."""
    try:
        request = decode_put_metric_data(SHAPE, copy.deepcopy(document), "json")
        store = RecordingStore()
        GenericWriter(store, lambda: NOW_S).put_metric_data(request)  # type: ignore[arg-type]
    except (ShapeError, AwsError):
        return "error"
    b = store.batch
    assert b is not None
    return (b.keys, b.units, b.times_ms, b.levels, b.lengths, b.values, b.counts)


def plain_columns(document: Any) -> Any:
    put = plain_put(copy.deepcopy(document), NOW_MS, IdentityMemo())
    if put is None:
        return None
    n = len(put.keys)
    return (put.keys, put.units, put.times_ms, [1] * n, [1] * n, put.values, [1.0] * n)


_edges = [NOW_S - PAST_MS / 1000, NOW_S + FUTURE_MS / 1000]
_timestamps = st.one_of(
    st.floats(_edges[0] - 1, _edges[1] + 1),
    st.integers(int(_edges[0]) - 1, int(_edges[1]) + 1),
    st.sampled_from(
        [_edges[0], _edges[1], _edges[0] - 0.0004, _edges[1] + 0.0006, _edges[0] - 0.001]
    ),
    st.sampled_from([float("nan"), float("inf"), 2**60, -(2**70), True, None, "1764000000"]),
)
_names = st.one_of(
    st.sampled_from(["Latency", "Errors", "a" * 255, "a" * 256, "", ":x", "x\x00y"]),
    st.text(max_size=4),
)
_dimension = st.one_of(
    st.fixed_dictionaries({"Name": _names, "Value": _names}),
    st.fixed_dictionaries({"Name": _names}),
    st.fixed_dictionaries({"Name": _names, "Value": _names, "X": st.just(1)}),
    st.just("FunctionName"),
)
_values = st.one_of(
    st.floats(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([2.0**360, -(2.0**360), 2.0**361, 0, -0.0, True]),
)
_ordinary = st.fixed_dictionaries(
    {"MetricName": st.sampled_from(["Latency", "Errors"]), "Value": st.floats(-1e6, 1e6)},
    optional={
        "Unit": st.sampled_from(["Count", "Milliseconds", "None"]),
        "Timestamp": st.one_of(
            st.floats(_edges[0], _edges[1]),
            st.sampled_from([*_edges, _edges[0] - 0.001, _edges[1] + 0.001]),
        ),
        "Dimensions": st.lists(
            st.fixed_dictionaries(
                {
                    "Name": st.sampled_from(["a", "b", "c", ":c", "é"]),
                    "Value": st.sampled_from(["1", "2", "", "v" * 1025]),
                }
            ),
            max_size=3,
        ),
    },
)
_wild = st.fixed_dictionaries(
    {"MetricName": _names, "Value": _values},
    optional={
        "Unit": st.sampled_from(["Count", "Milliseconds", "None", "Bogus", None, 3]),
        "Timestamp": _timestamps,
        "Dimensions": st.one_of(st.lists(_dimension, max_size=4), st.none(), st.just({})),
        "StorageResolution": st.sampled_from([1, 60]),
        "Values": st.just([1.0]),
    },
)
_datum = st.one_of(_ordinary, _ordinary, _wild)
_document = st.one_of(
    st.fixed_dictionaries(
        {
            "Namespace": st.sampled_from(["App", "App", "AWS/Lambda", "", ":ns", "Ünï"]),
            "MetricData": st.lists(_datum, max_size=5),
        }
    ),
    st.fixed_dictionaries(
        {"Namespace": st.just("App"), "MetricData": st.lists(_datum, max_size=2)},
        optional={"StrictEntityValidation": st.booleans()},
    ),
)
PLAIN = {
    "Namespace": "App",
    "MetricData": [
        {"MetricName": "Latency", "Value": 3, "Unit": "Milliseconds", "Timestamp": NOW_S},
        {
            "MetricName": "Errors",
            "Value": 1.5,
            "Dimensions": [{"Name": "b", "Value": "2"}, {"Name": "a", "Value": "1"}],
            "Timestamp": int(NOW_S) - 60,
        },
        {"MetricName": "Errors", "Value": 0.0},
    ],
}


@settings(max_examples=600, deadline=None)
@given(_document)
@example(PLAIN)
@example({"Namespace": "App", "MetricData": [{"MetricName": "m", "Value": 1, "Timestamp": 2**60}]})
def test_plain_path_stores_what_the_generic_path_stores_or_declines(document: Any) -> None:
    plain = plain_columns(document)
    if plain is not None:
        assert plain == generic_columns(document)


def test_an_ordinary_request_is_plain_and_sorted_into_store_keys() -> None:
    put = plain_put(copy.deepcopy(PLAIN), NOW_MS, IdentityMemo())
    assert put is not None
    assert put.keys[1] == "App\x00Errors\x00a\x011\x00b\x012"
    assert put.times_ms == [NOW_MS, NOW_MS - 60_000, NOW_MS]
    assert put.values == [3.0, 1.5, 0.0] and all(type(v) is float for v in put.values)
    assert plain_columns(PLAIN) == generic_columns(PLAIN)


def test_a_remembered_identity_gives_the_same_key() -> None:
    memo = IdentityMemo()
    first = plain_put(copy.deepcopy(PLAIN), NOW_MS, memo)
    second = plain_put(copy.deepcopy(PLAIN), NOW_MS, memo)
    assert first is not None and first == second and len(memo.known) == 3


def test_raw_bodies_plain_gzipped_or_broken() -> None:
    raw = orjson.dumps(PLAIN)
    expected = plain_put(copy.deepcopy(PLAIN), NOW_MS, IdentityMemo())
    assert plain_body(raw, False, 1 << 20, NOW_MS, IdentityMemo()) == expected
    assert plain_body(gzip.compress(raw), True, 1 << 20, NOW_MS, IdentityMemo()) == expected
    # Anything the generic path must answer (with its error) is declined.
    assert plain_body(gzip.compress(raw), True, len(raw) - 1, NOW_MS, IdentityMemo()) is None
    assert plain_body(gzip.compress(raw)[:-9], True, 1 << 20, NOW_MS, IdentityMemo()) is None
    assert plain_body(raw, True, 1 << 20, NOW_MS, IdentityMemo()) is None
    assert plain_body(raw[:-1], False, 1 << 20, NOW_MS, IdentityMemo()) is None
    assert plain_body(b"[]", False, 1 << 20, NOW_MS, IdentityMemo()) is None


def test_rows_cross_the_pipe_packed_with_each_key_sent_once() -> None:
    sent, receiving, ids = KeysSent(), KeysReceived(), Registry()
    first = plain_put(copy.deepcopy(PLAIN), NOW_MS, IdentityMemo())
    assert first is not None
    encoded = encode_put(sent, first)
    assert encoded[2] == list(dict.fromkeys(first.keys))  # new keys, once each
    assert ids.put(receiving.decode(encoded, ids)) == first
    again = encode_put(sent, first)
    assert again[2] == [] and ids.put(receiving.decode(again, ids)) == first
    shuffled = first._replace(keys=first.keys[::-1], values=[-1.5, 2.0**300, 0.1])
    assert ids.put(receiving.decode(encode_put(sent, shuffled), ids)) == shuffled


def test_both_sides_start_over_when_the_key_table_is_full() -> None:
    sent, receiving, ids = KeysSent(), KeysReceived(), Registry()
    sent.MAX = 4
    puts = [
        PlainPut("App", [f"k{i}", f"k{i + 1}", "k0"], [0, 1, 2], [NOW_MS] * 3, [1.0, 2.0, 3.0])
        for i in range(0, 12, 2)
    ]
    for put in puts:
        assert ids.put(receiving.decode(encode_put(sent, put), ids)) == put
    assert len(receiving._keys) <= 4

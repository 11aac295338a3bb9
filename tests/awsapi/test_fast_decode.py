"""The PutMetricData fast decoder gives exactly what the generic shape decoder gives."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from heron.awsapi.fast_decode import decode_put_log_events, decode_put_metric_data
from heron.awsapi.models import service_spec
from heron.awsapi.shapes import ShapeError, decode_input

SHAPE = service_spec("cloudwatch").operation("PutMetricData").input_shape

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.sampled_from(["2026-11-28T00:00:00Z", "NaN", "1700000000"]),
)
_dimension = st.one_of(
    st.fixed_dictionaries({"Name": st.text(max_size=4), "Value": st.text(max_size=4)}),
    st.dictionaries(st.sampled_from(["Name", "Value", "Other"]), _scalars, max_size=3),
    _scalars,
)
_datum = st.one_of(
    st.fixed_dictionaries(
        {"MetricName": st.text(max_size=5), "Value": st.floats(-1e6, 1e6)},
        optional={
            "Unit": st.sampled_from(["Count", "Milliseconds", "Bogus"]),
            "Timestamp": st.one_of(st.integers(0, 2**33), st.floats(0, 2e9)),
            "Dimensions": st.lists(_dimension, max_size=3),
            "StorageResolution": st.sampled_from([1, 60, 2**40, True]),
        },
    ),
    st.dictionaries(
        st.sampled_from(
            ["MetricName", "Value", "Unit", "Timestamp", "Dimensions", "Values", "Counts", "X"]
        ),
        st.one_of(_scalars, st.lists(_scalars, max_size=2)),
        max_size=5,
    ),
    _scalars,
)
_document = st.one_of(
    st.fixed_dictionaries(
        {"Namespace": st.text(max_size=5), "MetricData": st.lists(_datum, max_size=4)}
    ),
    st.dictionaries(
        st.sampled_from(["Namespace", "MetricData", "StrictEntityValidation"]),
        st.one_of(_scalars, st.lists(_datum, max_size=2)),
        max_size=3,
    ),
)


def _outcome(decoder: Any, document: Any) -> Any:
    try:
        return ("ok", decoder(SHAPE, copy.deepcopy(document), "json"))
    except ShapeError as exc:
        return ("error", str(exc))


@settings(max_examples=400, deadline=None)
@given(_document)
@example({"Namespace": "", "MetricData": [{"Dimensions": None}]})  # found by hypothesis in CI
@example({"Namespace": "N", "MetricData": [{"MetricName": "m", "Value": 1.0, "Unit": None}]})
def test_fast_decoder_matches_generic_decoder(document: Any) -> None:
    assert _outcome(decode_put_metric_data, document) == _outcome(decode_input, document)


def test_plain_datums_are_normalised_in_place() -> None:
    document = {
        "Namespace": "App",
        "MetricData": [
            {"MetricName": "Latency", "Value": 3, "Timestamp": 1700000000, "Dimensions": []}
        ],
    }
    decoded = decode_put_metric_data(SHAPE, document, "json")
    datum = decoded["MetricData"][0]
    assert type(datum["Value"]) is float and type(datum["Timestamp"]) is float


def test_a_bad_datum_reports_its_position() -> None:
    document = {"Namespace": "App", "MetricData": [{"MetricName": "A", "Value": 1}, "oops"]}
    with pytest.raises(ShapeError, match=r"MetricData\.2"):
        decode_put_metric_data(SHAPE, document, "json")


LOGS_SHAPE = service_spec("logs").operation("PutLogEvents").input_shape
_log_event = st.one_of(
    st.fixed_dictionaries(
        {
            "timestamp": st.one_of(
                st.integers(-(2**64), 2**64), st.sampled_from([2**63 - 1, -(2**63), 2**63])
            ),
            "message": st.text(max_size=5),
        }
    ),
    st.dictionaries(st.sampled_from(["timestamp", "message", "x"]), _scalars, max_size=3),
    _scalars,
)
_log_document = st.one_of(
    st.fixed_dictionaries(
        {"logGroupName": st.text(max_size=3), "logStreamName": st.text(max_size=3)},
        optional={
            "logEvents": st.lists(_log_event, max_size=4),
            "sequenceToken": st.one_of(st.text(max_size=3), st.none()),
        },
    ),
    st.dictionaries(
        st.sampled_from(["logGroupName", "logEvents", "entity", "other"]),
        st.one_of(_scalars, st.lists(_log_event, max_size=2)),
        max_size=3,
    ),
    _scalars,
)


def _logs_outcome(decoder: Any, document: Any) -> Any:
    try:
        return ("ok", decoder(LOGS_SHAPE, copy.deepcopy(document), "json"))
    except ShapeError as exc:
        return ("error", str(exc))


@settings(max_examples=400, deadline=None)
@given(_log_document)
@example(
    {"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": True, "message": "m"}]}
)
@example({"logGroupName": "g", "logEvents": [{"timestamp": 2**63, "message": "m"}]})
@example({"logGroupName": "g", "logEvents": [{"timestamp": -(2**63) - 1, "message": "m"}]})
@example({"logGroupName": "g", "logEvents": [{"timestamp": 1, "message": "m", "x": None}]})
@example({"logGroupName": "g", "logEvents": [{"timestamp": 1, "message": None}]})
@example({"logGroupName": "g", "sequenceToken": None})
def test_put_log_events_fast_decoder_matches_generic_decoder(document: Any) -> None:
    assert _logs_outcome(decode_put_log_events, document) == _logs_outcome(decode_input, document)


def test_a_plain_log_request_is_returned_as_parsed() -> None:
    document = {
        "logGroupName": "g",
        "logStreamName": "s",
        "logEvents": [{"timestamp": 1, "message": "a"}, {"message": "b", "timestamp": 2}],
    }
    assert decode_put_log_events(LOGS_SHAPE, document, "json") is document

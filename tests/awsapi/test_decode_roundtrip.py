"""Random valid inputs serialized by botocore's own json / query / CBOR serializers decode alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from botocore.serialize import create_serializer
from hypothesis import given, settings
from hypothesis import strategies as st

from heron.awsapi import query, wire
from heron.awsapi.models import service_spec

SPEC = service_spec("cloudwatch")
text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
doubles = st.floats(allow_nan=False, allow_infinity=False, width=64)
moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
dimensions = st.lists(st.fixed_dictionaries({"Name": text, "Value": text}), max_size=3)
datum = st.fixed_dictionaries(
    {"MetricName": text},
    optional={
        "Dimensions": dimensions,
        "Timestamp": moments,
        "Value": doubles,
        "Values": st.lists(doubles, max_size=4),
        "Counts": st.lists(doubles, max_size=4),
        "StatisticValues": st.fixed_dictionaries(
            {"SampleCount": doubles, "Sum": doubles, "Minimum": doubles, "Maximum": doubles}
        ),
        "Unit": st.sampled_from(["Seconds", "Count", "None"]),
        "StorageResolution": st.integers(-(2**31), 2**31 - 1),
    },
)
put_metric_data = st.fixed_dictionaries(
    {"Namespace": text, "MetricData": st.lists(datum, max_size=4)},
    optional={
        "StrictEntityValidation": st.booleans(),
        "EntityMetricData": st.lists(
            st.fixed_dictionaries(
                {
                    # Query cannot carry an empty structure or map, so these are never empty.
                    "Entity": st.fixed_dictionaries(
                        {"KeyAttributes": st.dictionaries(text, text, min_size=1, max_size=3)},
                        optional={
                            "Attributes": st.dictionaries(text, text, min_size=1, max_size=3)
                        },
                    ),
                    "MetricData": st.lists(datum, max_size=2),
                }
            ),
            max_size=2,
        ),
    },
)
get_metric_data = st.fixed_dictionaries(
    {
        "MetricDataQueries": st.lists(
            st.fixed_dictionaries(
                {"Id": text},
                optional={
                    "Expression": text,
                    "Label": text,
                    "ReturnData": st.booleans(),
                    "Period": st.integers(1, 86400),
                    "MetricStat": st.fixed_dictionaries(
                        {
                            "Metric": st.fixed_dictionaries(
                                {"Namespace": text, "MetricName": text, "Dimensions": dimensions}
                            ),
                            "Period": st.integers(1, 86400),
                            "Stat": text,
                        }
                    ),
                },
            ),
            max_size=3,
        ),
        "StartTime": moments,
        "EndTime": moments,
    },
    optional={"NextToken": text, "ScanBy": text, "MaxDatapoints": st.integers(0, 100_800)},
)


def _expected(value: Any) -> Any:
    """The request dict an operation should see: datetimes become epoch seconds."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: _expected(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expected(v) for v in value]
    return value


def _decode_all(operation_name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    operation = SPEC.operation(operation_name)
    decoded = []
    for protocol in ("json", "smithy-rpc-v2-cbor", "query"):
        serialized = create_serializer(protocol, include_validation=False).serialize_to_request(
            params, operation
        )
        if protocol == "query":
            pairs = query.parse_form(urlencode(serialized["body"]).encode())
            assert dict(pairs)["Action"] == operation_name
            decoded.append(query.decode_query(operation.input_shape, pairs))
        else:
            kind = "json" if protocol == "json" else "cbor"
            document = wire.decode_body(kind, serialized["body"])
            decoded.append(wire.decode_request(kind, operation, document))
    return decoded


@settings(max_examples=60, deadline=None)
@given(put_metric_data)
def test_put_metric_data_decodes_the_same_over_every_protocol(params: dict[str, Any]) -> None:
    expected = _expected(params)
    for decoded in _decode_all("PutMetricData", params):
        assert decoded == expected


@settings(max_examples=60, deadline=None)
@given(get_metric_data)
def test_get_metric_data_decodes_the_same_over_every_protocol(params: dict[str, Any]) -> None:
    expected = _expected(params)
    for decoded in _decode_all("GetMetricData", params):
        assert decoded == expected

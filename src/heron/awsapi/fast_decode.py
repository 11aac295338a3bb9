"""Input decoders specialised for hot operations, equivalent to the generic shape decoder.

PutLogEvents' common request (strings and plain events) is returned as parsed.

``PutMetricData`` carries up to 1,000 datums per request and the generic decoder walks botocore's
shape for every datum and dimension (about a third of the request's cost). The common datum —
name, value, unit, timestamp, dimensions — is checked and normalised in place here instead;
anything unusual (statistic sets, value arrays, wrong types) goes through the generic decoder,
so results and error messages are exactly the generic ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from heron.awsapi.shapes import Shape, Wire, decode_input, decode_value

#: Datum members the fast path understands; any other member takes the generic path.
_PLAIN_DATUM_MEMBERS = frozenset(
    ("MetricName", "Value", "Unit", "Timestamp", "Dimensions", "StorageResolution")
)
_INT32 = 2**31
#: Integers this large still convert to a float.
_BIG = 2**1023


def _plain_number(value: Any) -> bool:
    kind = type(value)
    # A CBOR bignum beyond a double's range goes to the generic decoder, which refuses it.
    return (kind is float and math.isfinite(value)) or (kind is int and -_BIG <= value <= _BIG)


def _normalise_plain_datum(datum: Any) -> bool:
    """Normalise a well-formed plain datum in place as the generic decoder would; False if the
    datum needs the generic decoder (it is left untouched then)."""
    if type(datum) is not dict or not _PLAIN_DATUM_MEMBERS.issuperset(datum):
        return False
    if type(datum.get("MetricName", "")) is not str or type(datum.get("Unit", "")) is not str:
        return False
    value = datum.get("Value", 0.0)
    stamp = datum.get("Timestamp", 0.0)
    resolution = datum.get("StorageResolution", 0)
    if not (_plain_number(value) and _plain_number(stamp)):
        return False
    if type(resolution) is not int or not -_INT32 <= resolution < _INT32:
        return False
    dimensions = datum.get("Dimensions")
    if dimensions is None:
        if "Dimensions" in datum:  # an explicit null: the generic decoder drops the member
            return False
    else:
        if type(dimensions) is not list:
            return False
        for dim in dimensions:
            if (
                type(dim) is not dict
                or len(dim) != 2
                or type(dim.get("Name")) is not str
                or type(dim.get("Value")) is not str
            ):
                return False
    # Only now mutate, so a refused datum reaches the generic decoder as sent.
    if "Value" in datum:
        datum["Value"] = float(value)
    if "Timestamp" in datum:
        datum["Timestamp"] = float(stamp)
    return True


def decode_put_metric_data(shape: Shape, document: Any, wire: Wire) -> dict[str, Any]:
    """The PutMetricData request dict, plain datums normalised in place, others decoded."""
    if (
        type(document) is not dict
        or set(document) - {"Namespace", "MetricData"}
        or type(document.get("Namespace", "")) is not str
        or type(document.get("MetricData", [])) is not list
    ):
        return decode_input(shape, document, wire)
    datums: list[Any] = document.get("MetricData", [])
    member = shape.members["MetricData"].member
    for i, datum in enumerate(datums):
        if not _normalise_plain_datum(datum):
            datums[i] = decode_value(member, datum, f"MetricData.{i + 1}", wire)
    return document


#: PutLogEvents members that are plain strings.
_LOG_STRINGS = frozenset(("logGroupName", "logStreamName", "sequenceToken"))
_LONG = 2**63


def decode_put_log_events(shape: Shape, document: Any, wire: Wire) -> dict[str, Any]:
    """The PutLogEvents request dict: a document of strings and ``{timestamp, message}`` events
    is already what the generic decoder would return (walking it costs ~1 µs an event);
    anything else is decoded by it."""
    if type(document) is dict and _plain_log_request(document):
        return document
    return decode_input(shape, document, wire)


def _plain_log_request(document: dict[str, Any]) -> bool:
    events: list[Any] = []
    for name, value in document.items():
        if name == "logEvents":
            if type(value) is not list:
                return False
            events = value
        elif name not in _LOG_STRINGS or type(value) is not str:
            return False
    for event in events:
        if type(event) is not dict or len(event) != 2:
            return False
        ts = event.get("timestamp")
        if type(ts) is not int or not -_LONG <= ts < _LONG or type(event.get("message")) is not str:
            return False
    return True


FAST_DECODERS: dict[str, Callable[[Shape, Any, Wire], dict[str, Any]]] = {
    "PutMetricData": decode_put_metric_data,
    "PutLogEvents": decode_put_log_events,
}

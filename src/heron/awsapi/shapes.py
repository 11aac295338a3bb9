"""Typed decoding of JSON/CBOR request documents and encoding of responses, per botocore shape.

Operations receive well-typed dicts (timestamps as float epoch seconds, blobs as bytes) and return
dicts of the same kind; this module converts between those and the JSON and CBOR wire forms.
``validate_against_shape`` offers AWS-style constraint messages to operations that want them.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import UTC, datetime
from typing import Any, Literal

import cbor2

Shape = Any  # botocore.model.Shape (botocore ships no type information)
Wire = Literal["json", "cbor"]

_INT_BOUNDS = {"integer": 2**31, "long": 2**63}
#: Python types a timestamp list may hold that JSON sends as they are (epoch seconds).
_EPOCH_TYPES: set[type] = {int, float}
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_TYPE_NAMES = {
    "integer": "an Integer",
    "long": "a Long",
    "double": "a Double",
    "float": "a Float",
    "boolean": "a Boolean",
    "string": "a String",
    "blob": "a Blob",
    "timestamp": "a Timestamp",
    "list": "a List",
    "map": "a Map",
    "structure": "a Structure",
}


class ShapeError(Exception):
    """A request document member has the wrong type for its shape; the message names it."""


def decode_input(shape: Shape | None, document: Any, wire: Wire) -> dict[str, Any]:
    """The operation request dict for a parsed JSON/CBOR ``document`` (``{}`` for no input)."""
    if shape is None:
        return {}
    if document is None:
        document = {}
    decoded = _decode(shape, document, "", wire)
    assert isinstance(decoded, dict)
    return decoded


def decode_value(shape: Shape, value: Any, path: str, wire: Wire) -> Any:
    """Decode one value against ``shape``; ``path`` names it in a ShapeError."""
    return _decode(shape, value, path, wire)


def _decode(shape: Shape, value: Any, path: str, wire: Wire) -> Any:
    """Decode one value against ``shape`` (raises ShapeError naming ``path``)."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise _mismatch(value, kind, path)
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            wire_name = member.serialization.get("name", name)
            item = value.get(wire_name)
            if item is not None:
                out[name] = _decode(member, item, _join(path, name), wire)
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise _mismatch(value, kind, path)
        member = shape.member
        return [_decode(member, item, f"{path}.{i}", wire) for i, item in enumerate(value, 1)]
    if kind == "map":
        if not isinstance(value, dict):
            raise _mismatch(value, kind, path)
        return {
            _decode(shape.key, k, path, wire): _decode(shape.value, v, f"{path}.{k}", wire)
            for k, v in value.items()
            if v is not None
        }
    return decode_scalar(kind, value, path, wire)


def decode_scalar(kind: str, value: Any, path: str, wire: Wire) -> Any:
    """Decode a leaf value of botocore type ``kind`` (strings are allowed where JSON needs them)."""
    if kind == "string":
        if isinstance(value, str):
            return value
    elif kind in _INT_BOUNDS:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            bound = _INT_BOUNDS[kind]
            if -bound <= value < bound:
                return value
            raise ShapeError(
                f"Numeric value ({value}) out of range of {_TYPE_NAMES[kind]}{_at(path)}"
            )
    elif kind in ("double", "float"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _as_float(value, kind, path)
        if isinstance(value, str) and value in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[value]
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
    elif kind == "timestamp":
        return _decode_timestamp(value, path)
    elif kind == "blob":
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        if isinstance(value, str) and wire == "json":
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise ShapeError(f"Invalid base64 blob{_at(path)}") from None
    else:
        raise ShapeError(f"Unsupported shape type {kind}{_at(path)}")
    raise _mismatch(value, kind, path)


def _as_float(value: int | float, kind: str, path: str) -> float:
    """``value`` as a float; an integer beyond a double's range (a CBOR bignum) is refused."""
    try:
        return float(value)
    except OverflowError:
        raise ShapeError(
            f"Numeric value ({value}) out of range of {_TYPE_NAMES.get(kind, kind)}{_at(path)}"
        ) from None


def _decode_timestamp(value: Any, path: str) -> float:
    """Epoch seconds from a number, a datetime, or an ISO-8601 / numeric string."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = _as_float(value, "timestamp", path)
        if math.isfinite(number):
            return number
    elif isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    elif isinstance(value, str):
        parsed = parse_timestamp_text(value)
        if parsed is not None:
            return parsed
    raise ShapeError(f"{_kind_name(value)} can not be converted to a Timestamp{_at(path)}")


_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")


def parse_timestamp_text(text: str) -> float | None:
    """Epoch seconds from ISO-8601 (``Z`` or offset; date-only allowed) or a numeric string."""
    text = text.strip()
    if _NUMERIC.match(text):
        return float(text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def encode_output(shape: Shape | None, value: dict[str, Any] | None, wire: Wire) -> dict[str, Any]:
    """The JSON- or CBOR-ready document for an operation's result dict."""
    if shape is None or not value:
        return {}
    encoded = _encode(shape, value, wire)
    assert isinstance(encoded, dict)
    return encoded


def _encode(shape: Shape, value: Any, wire: Wire) -> Any:
    """Encode one value of ``shape``; members that are None or not in the shape are left out."""
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            item = value.get(name)
            if item is not None:
                out[member.serialization.get("name", name)] = _encode(member, item, wire)
        return out
    if kind == "list":
        member = shape.member
        member_kind = member.type_name
        # Fast paths: GetMetricData can return ~100k values and timestamps per call.
        if member_kind in ("double", "float"):
            doubles = list(map(float, value))
            if wire == "json" and not all(map(math.isfinite, doubles)):
                return [_encode_double(v, wire) for v in doubles]
            return doubles  # finite (or CBOR): already what goes on the wire
        if member_kind == "timestamp":
            if wire == "json" and set(map(type, value)) <= _EPOCH_TYPES:
                return list(map(float, value))  # epoch seconds, the common case
            return [_encode_timestamp(v, wire) for v in value]
        if member_kind == "string":
            return list(value)
        return [_encode(member, item, wire) for item in value]
    if kind == "map":
        return {k: _encode(shape.value, v, wire) for k, v in value.items() if v is not None}
    if kind in ("double", "float"):
        return _encode_double(float(value), wire)
    if kind == "timestamp":
        return _encode_timestamp(value, wire)
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return raw if wire == "cbor" else base64.b64encode(raw).decode("ascii")
    if kind in _INT_BOUNDS:
        return int(value)
    return value


def _encode_double(value: float, wire: Wire) -> Any:
    """JSON spells non-finite doubles as strings; CBOR carries them natively."""
    if wire == "json" and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _encode_timestamp(value: Any, wire: Wire) -> Any:
    """Epoch seconds: a JSON number, or CBOR tag 1 around a float."""
    seconds = timestamp_seconds(value)
    return cbor2.CBORTag(1, seconds) if wire == "cbor" else seconds


def timestamp_seconds(value: Any) -> float:
    """Epoch seconds from what an operation may return (float seconds, or a datetime)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float(value)


def validate_against_shape(shape: Shape, value: Any, path: str = "") -> list[str]:
    """AWS-style constraint failures (required, length, range, enum, pattern) of a decoded value.

    Each entry reads like AWS's ``Value '...' at 'metricData.1.member.metricName' failed to
    satisfy constraint: Member must ...``; operations join them into a ValidationException.
    """
    problems: list[str] = []
    _validate(shape, value, path, problems)
    return problems


def _validate(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        for name in shape.required_members:
            if value.get(name) is None:
                problems.append(
                    f"Value null at '{_camel_join(path, name)}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        for name, member in shape.members.items():
            if value.get(name) is not None:
                _validate(member, value[name], _camel_join(path, name), problems)
        return
    if kind in ("list", "map", "string", "blob"):
        size = len(value)
        if "min" in meta and size < meta["min"]:
            problems.append(
                f"{_shown(value, path)} failed to satisfy constraint: Member must have length "
                f"greater than or equal to {meta['min']}"
            )
        if "max" in meta and size > meta["max"]:
            problems.append(
                f"{_shown(value, path)} failed to satisfy constraint: Member must have length "
                f"less than or equal to {meta['max']}"
            )
    if kind == "string":
        enum = meta.get("enum")
        if enum and value not in enum:
            problems.append(
                f"{_shown(value, path)} failed to satisfy constraint: Member must satisfy enum "
                f"value set: [{', '.join(enum)}]"
            )
        pattern = meta.get("pattern")
        if pattern and re.fullmatch(pattern, value) is None:
            problems.append(
                f"{_shown(value, path)} failed to satisfy constraint: Member must satisfy "
                f"regular expression pattern: {pattern}"
            )
    elif kind in ("integer", "long", "double", "float"):
        if "min" in meta and value < meta["min"]:
            problems.append(
                f"{_shown(value, path)} failed to satisfy constraint: Member must have value "
                f"greater than or equal to {meta['min']}"
            )
        if "max" in meta and value > meta["max"]:
            problems.append(
                f"{_shown(value, path)} failed to satisfy constraint: Member must have value "
                f"less than or equal to {meta['max']}"
            )
    elif kind == "list":
        for i, item in enumerate(value, 1):
            _validate(shape.member, item, f"{path}.{i}.member", problems)
    elif kind == "map":
        for key, item in value.items():
            _validate(shape.key, key, f"{path}.{key}.key", problems)
            _validate(shape.value, item, f"{path}.{key}.value", problems)


def _shown(value: Any, path: str) -> str:
    if isinstance(value, (list, dict)):
        return f"Value at '{path}'"
    return f"Value '{value}' at '{path}'"


def _camel_join(path: str, name: str) -> str:
    camel = name[:1].lower() + name[1:]
    return f"{path}.{camel}" if path else camel


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _at(path: str) -> str:
    return f" at '{path}'" if path else ""


def _kind_name(value: Any) -> str:
    """Coral's names for JSON token kinds, as its SerializationException messages use them."""
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, str):
        return "STRING_VALUE"
    if isinstance(value, int):
        return "VALUE_NUMBER_INT"
    if isinstance(value, float):
        return "VALUE_NUMBER_FLOAT"
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, (bytes, bytearray)):
        return "BYTE_STRING"
    return type(value).__name__.upper()


def _mismatch(value: Any, kind: str, path: str) -> ShapeError:
    target = _TYPE_NAMES.get(kind, kind)
    return ShapeError(f"{_kind_name(value)} can not be converted to {target}{_at(path)}")

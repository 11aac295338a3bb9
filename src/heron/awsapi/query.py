"""The AWS Query protocol: form-encoded requests in, XML responses out, per botocore shape.

Requests flatten nested input into dotted keys (``MetricData.member.1.Dimensions.member.2.Name``,
``Tags.entry.1.key``); responses wrap the output in ``<{Op}Response><{Op}Result>`` with lists as
``<member>`` elements, the shape old botocore and the aws CLI v1 parse.
"""

from __future__ import annotations

import base64
import math
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from heron.awsapi.errors import AwsError
from heron.awsapi.shapes import Shape, ShapeError, decode_scalar, parse_timestamp_text

#: Form fields the protocol itself uses, not operation input.
RESERVED = frozenset({"Action", "Version"})
_MAX_FIELDS = 200_000


def parse_form(body: bytes, query_string: str = "") -> list[tuple[str, str]]:
    """The key/value pairs of a Query request (query string first, then the form body)."""
    try:
        pairs = parse_qsl(query_string, keep_blank_values=True, max_num_fields=_MAX_FIELDS)
        if body:
            pairs += parse_qsl(
                body.decode("utf-8"),
                keep_blank_values=True,
                strict_parsing=False,
                max_num_fields=_MAX_FIELDS,
            )
    except (UnicodeDecodeError, ValueError) as exc:
        raise malformed(f"The request body could not be parsed as a form: {exc}") from None
    return [(k, v) for k, v in pairs if not k.startswith("X-Amz-")]


def decode_query(shape: Shape | None, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """The operation request dict for flattened Query ``pairs`` (Action/Version ignored)."""
    if shape is None:
        return {}
    tree: dict[str, Any] = {}
    for key, value in pairs:
        if key in RESERVED:
            continue
        _insert(tree, key, value)
    try:
        decoded = _decode(shape, tree, "")
    except ShapeError as exc:
        raise AwsError(
            "InvalidParameterValue", str(exc), query_code="InvalidParameterValue"
        ) from None
    assert isinstance(decoded, dict)
    return decoded


def _insert(tree: dict[str, Any], key: str, value: str) -> None:
    """Place ``value`` at dotted ``key``; a key that is both a value and a prefix is refused."""
    parts = key.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            if child != "":
                raise malformed(f"Parameter {key} conflicts with another parameter.")
            child = node[part] = {}
        node = child
    last = parts[-1]
    if isinstance(node.get(last), dict):
        if value == "":
            return  # an empty-list marker next to members; the members win
        raise malformed(f"Parameter {key} conflicts with another parameter.")
    node[last] = value


def _decode(shape: Shape, node: Any, path: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if node == "":
            return {}
        if not isinstance(node, dict):
            raise ShapeError(
                f"Value ({node}) for parameter {path} is invalid. Expected a structure."
            )
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            wire_name = member.serialization.get("name", name)
            if wire_name in node:
                out[name] = _decode(member, node[wire_name], _join(path, wire_name))
        return out
    if kind == "list":
        wrapper = shape.member.serialization.get("name", "member")
        items = _indexed(node, wrapper, path)
        return [_decode(shape.member, item, f"{path}.{wrapper}.{i}") for i, item in items]
    if kind == "map":
        out_map: dict[str, Any] = {}
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        for i, entry in _indexed(node, "entry", path):
            entry_path = f"{path}.entry.{i}"
            if not isinstance(entry, dict) or key_name not in entry:
                raise ShapeError(f"The parameter {entry_path}.{key_name} is required.")
            key = _decode(shape.key, entry[key_name], f"{entry_path}.{key_name}")
            if value_name in entry:
                out_map[key] = _decode(shape.value, entry[value_name], f"{entry_path}.{value_name}")
        return out_map
    if isinstance(node, dict):
        raise ShapeError(f"Value for parameter {path} is invalid. Expected a single value.")
    return _leaf(kind, node, path)


def _indexed(node: Any, wrapper: str, path: str) -> list[tuple[int, Any]]:
    """The ``.member.N`` (or ``.entry.N``) children of a list or map node, in index order."""
    if node == "":
        return []
    if not isinstance(node, dict) or not isinstance(node.get(wrapper), dict):
        raise ShapeError(
            f"Value for parameter {path} is invalid. Expected {path}.{wrapper}.N entries."
        )
    items: list[tuple[int, Any]] = []
    for index, item in node[wrapper].items():
        if not index.isdigit() or int(index) < 1:
            raise ShapeError(f"Parameter {path}.{wrapper}.{index} has an invalid index.")
        items.append((int(index), item))
    items.sort(key=lambda pair: pair[0])
    return items


def _leaf(kind: str, text: str, path: str) -> Any:
    """A scalar from its Query text form."""
    invalid = ShapeError(f"Value ({text}) for parameter {path} is invalid.")
    if kind in ("integer", "long"):
        try:
            value: Any = int(text)
        except ValueError:
            raise invalid from None
    elif kind in ("double", "float"):
        try:
            value = float(text)
        except ValueError:
            raise invalid from None
    elif kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise invalid
        value = text.lower() == "true"
    elif kind == "timestamp":
        seconds = parse_timestamp_text(text)
        if seconds is None:
            raise invalid
        value = seconds
    elif kind == "blob":
        value = text  # base64 text; decode_scalar checks it
        return decode_scalar("blob", value, path, "json")
    else:
        value = text
    return decode_scalar(kind, value, path, "cbor")


def render_result(
    operation: Any, namespace: str, value: dict[str, Any] | None, request_id: str
) -> bytes:
    """The ``<{Op}Response>`` XML document for an operation's result dict."""
    name = operation.name
    parts = [f'<{name}Response xmlns="{namespace}">']
    shape = operation.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
        parts.append(f"<{wrapper}>")
        _xml_members(shape, value or {}, parts)
        parts.append(f"</{wrapper}>")
    parts.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>")
    parts.append(f"</{name}Response>")
    return "".join(parts).encode("utf-8")


def render_error(error: AwsError, namespace: str, request_id: str) -> bytes:
    """The ``<ErrorResponse>`` XML document for an error (the Query code, Sender/Receiver)."""
    kind = "Sender" if error.sender else "Receiver"
    code = error.query_code or error.code
    return (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(error.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()


def _xml_members(shape: Shape, value: dict[str, Any], parts: list[str]) -> None:
    for name, member in shape.members.items():
        item = value.get(name)
        if item is not None:
            tag = member.serialization.get("name", name)
            parts.append(f"<{tag}>")
            _xml_value(member, item, parts)
            parts.append(f"</{tag}>")


def _xml_value(shape: Shape, value: Any, parts: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        _xml_members(shape, value, parts)
    elif kind == "list":
        tag = shape.member.serialization.get("name", "member")
        for item in value:
            parts.append(f"<{tag}>")
            _xml_value(shape.member, item, parts)
            parts.append(f"</{tag}>")
    elif kind == "map":
        for key, item in value.items():
            parts.append("<entry><key>")
            _xml_value(shape.key, key, parts)
            parts.append("</key><value>")
            _xml_value(shape.value, item, parts)
            parts.append("</value></entry>")
    else:
        parts.append(xml_scalar(kind, value))


def xml_scalar(kind: str, value: Any) -> str:
    """The XML text of a scalar: ISO-8601 timestamps, ``true``/``false``, repr'd doubles."""
    if kind == "timestamp":
        return iso8601(value)
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("double", "float"):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "Infinity" if number > 0 else "-Infinity"
        return repr(number)
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode("ascii")
    return escape(str(value))


def iso8601(value: Any) -> str:
    """``2024-01-02T03:04:05.678Z`` for epoch seconds (or a datetime), millisecond precision."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        moment = datetime.fromtimestamp(float(value), UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def malformed(message: str) -> AwsError:
    """The error for a Query request that cannot be read at all."""
    return AwsError("InvalidQueryParameter", message, query_code="InvalidQueryParameter")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name

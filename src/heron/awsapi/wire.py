"""Which protocol a request speaks, how its body decodes, and how results and errors render.

Three wire forms reach the same operations: AWS JSON 1.0/1.1 (``X-Amz-Target``), Smithy RPC v2
CBOR (``/service/<prefix>/operation/<Op>``) and AWS Query (form ``Action=...``). Errors carry both
the modelled exception name and, for awsQueryCompatible services, the Query code in
``x-amzn-query-error`` so botocore reports the same ``Code`` whichever protocol it used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import cbor2
import orjson

from heron.awsapi import query
from heron.awsapi.errors import AwsError
from heron.awsapi.fast_decode import FAST_DECODERS
from heron.awsapi.models import ServiceSpec
from heron.awsapi.shapes import ShapeError, decode_input, encode_output
from heron.awsapi.sigv4 import AuthFailure

Protocol = Literal["json", "cbor", "query"]
Response = tuple[int, list[tuple[bytes, bytes]], bytes]

_CBOR_PREFIX = "/service/"
_MAX_CBOR_DEPTH = 64

# (JSON-protocol code, Query code) per SigV4 failure kind, as AWS's JSON and Query services answer.
_AUTH_CODES: dict[str, tuple[str, str]] = {
    "missing": ("MissingAuthenticationTokenException", "MissingAuthenticationToken"),
    "incomplete": ("IncompleteSignatureException", "IncompleteSignature"),
    "unknown_key": ("UnrecognizedClientException", "InvalidClientTokenId"),
    "signature": ("InvalidSignatureException", "SignatureDoesNotMatch"),
    "expired": ("InvalidSignatureException", "SignatureDoesNotMatch"),
}


@dataclass(frozen=True, slots=True)
class Route:
    """What the request line and headers say: protocol, target prefix (if any), operation."""

    protocol: Protocol
    target_prefix: str | None
    operation: str | None


def detect(path: str, headers: dict[str, list[str]]) -> Route:
    """Classify a request by its path and headers alone (the body is not read yet)."""
    if path.startswith(_CBOR_PREFIX):
        parts = path.split("/")
        # ['', 'service', prefix, 'operation', op]
        if len(parts) == 5 and parts[3] == "operation" and parts[2] and parts[4]:
            return Route("cbor", parts[2], parts[4])
        return Route("cbor", None, None)
    target = headers.get("x-amz-target")
    if target:
        prefix, _, operation = target[0].strip().rpartition(".")
        return Route("json", prefix or None, operation or None)
    return Route("query", None, None)


def auth_error(failure: AuthFailure, protocol: Protocol) -> AwsError:
    """The AwsError a client of ``protocol`` sees for a refused signature (HTTP 403)."""
    json_code, query_code = _AUTH_CODES[failure.kind]
    message = failure.message
    if failure.kind == "missing" and protocol != "query":
        message = "Missing Authentication Token"
    return AwsError(json_code, message, status=403, query_code=query_code)


def unknown_operation(protocol: Protocol, name: str | None, spec: ServiceSpec | None) -> AwsError:
    """The error for an operation the service does not have."""
    if protocol == "query":
        version = spec.api_version if spec else ""
        return AwsError(
            "InvalidAction",
            f"Could not find operation {name or ''} for version {version}",
            query_code="InvalidAction",
        )
    return AwsError("UnknownOperationException", "", query_code="UnknownOperation")


def not_implemented(name: str) -> AwsError:
    """A modelled operation Heron does not serve."""
    return AwsError(
        "NotImplemented",
        f"The operation {name} is not implemented by Heron.",
        status=501,
        sender=False,
        query_code="NotImplemented",
    )


def malformed(protocol: Protocol, message: str) -> AwsError:
    """The error for a body that cannot be parsed or a member of the wrong type."""
    if protocol == "query":
        return query.malformed(message)
    return AwsError("SerializationException", message, query_code="SerializationException")


def decode_body(protocol: Protocol, body: bytes) -> Any:
    """The parsed JSON or CBOR document (an empty body is an empty input)."""
    if not body.strip():
        return {}
    try:
        if protocol == "json":
            return orjson.loads(body)
        return cbor2.loads(
            body,
            semantic_decoders={1: _epoch_tag},
            max_depth=_MAX_CBOR_DEPTH,
            strict_hashable_types=True,
        )
    except (orjson.JSONDecodeError, cbor2.CBORDecodeError, ValueError, TypeError) as exc:
        kind = "JSON" if protocol == "json" else "CBOR"
        raise malformed(protocol, f"The request body is not valid {kind}: {exc}") from None


def _epoch_tag(value: Any, _immutable: bool) -> Any:
    """Keep CBOR tag 1 (epoch seconds) as a number; the shape decoder checks it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ValueError("tag 1 must wrap a number")


def decode_request(protocol: Protocol, operation: Any, document: Any) -> dict[str, Any]:
    """The well-typed request dict for ``operation`` from a JSON/CBOR document."""
    wire: Literal["json", "cbor"] = "cbor" if protocol == "cbor" else "json"
    try:
        fast = FAST_DECODERS.get(operation.name)
        if fast is not None:
            return fast(operation.input_shape, document, wire)
        return decode_input(operation.input_shape, document, wire)
    except ShapeError as exc:
        raise malformed(protocol, str(exc)) from None


def render_result(
    protocol: Protocol,
    spec: ServiceSpec,
    operation: Any,
    result: dict[str, Any] | None,
    request_id: str,
) -> Response:
    """The 200 response carrying an operation's result."""
    if protocol == "query":
        body = query.render_result(operation, spec.xml_namespace, result, request_id)
        return 200, _headers(request_id, b"text/xml"), body
    if protocol == "cbor":
        document = encode_output(operation.output_shape, result, "cbor")
        return 200, _cbor_headers(request_id), cbor2.dumps(document)
    document = encode_output(operation.output_shape, result, "json")
    return 200, _headers(request_id, _json_type(spec)), orjson.dumps(document)


def render_error(
    protocol: Protocol, spec: ServiceSpec | None, error: AwsError, request_id: str
) -> Response:
    """The error response in ``protocol``'s form (with ``x-amzn-query-error`` where it applies)."""
    if protocol == "query":
        namespace = spec.xml_namespace if spec else ""
        body = query.render_error(error, namespace, request_id)
        return error.status, _headers(request_id, b"text/xml"), body
    document = {"__type": error.code, "message": error.message}
    if protocol == "cbor":
        headers = _cbor_headers(request_id)
        payload = cbor2.dumps(document)
    else:
        headers = _headers(request_id, _json_type(spec))
        payload = orjson.dumps(document)
    if spec is None or spec.query_compatible:
        query_code = error.query_code or (spec.query_code(error.code) if spec else error.code)
        fault = "Sender" if error.sender else "Receiver"
        headers.append((b"x-amzn-query-error", f"{query_code};{fault}".encode()))
    return error.status, headers, payload


def _json_type(spec: ServiceSpec | None) -> bytes:
    version = spec.json_version if spec else "1.0"
    return f"application/x-amz-json-{version}".encode()


def _headers(request_id: str, content_type: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", content_type), (b"x-amzn-requestid", request_id.encode())]


def _cbor_headers(request_id: str) -> list[tuple[bytes, bytes]]:
    headers = _headers(request_id, b"application/cbor")
    headers.append((b"smithy-protocol", b"rpc-v2-cbor"))
    return headers

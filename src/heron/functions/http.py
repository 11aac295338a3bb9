"""Reading API Gateway events and writing JSON responses: bodies, parameters, callers, errors.

Errors are exceptions a handler raises (``raise NotFound("No such user", field="userId")``); the
``instrumented`` wrapper turns them into ``{"statusCode": 404, "body": {"error": "NotFound",
"message": ..., "field": ...}}``. The same shape works as a WebSocket route response, whose body
API Gateway sends back to the client as a frame.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from heron.types import Event

#: Largest request body a handler accepts; every Heron request is small, so anything bigger is
#: refused before it is parsed.
MAX_BODY_BYTES = 256 * 1024
JSON_HEADERS = {"content-type": "application/json"}


class HttpError(Exception):
    """A refusal a client caused: carries the status, error code, message and offending field."""

    status = 400
    code = "BadRequest"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def body(self) -> dict[str, Any]:
        """The JSON error document: ``error``, ``message`` and, when known, ``field``."""
        document: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field is not None:
            document["field"] = self.field
        return document


class BadRequest(HttpError):
    """400: the request is malformed or a field is invalid."""

    status = 400
    code = "ValidationError"


class Unauthorized(HttpError):
    """401: no valid credentials."""

    status = 401
    code = "Unauthorized"


class Forbidden(HttpError):
    """403: valid credentials, but not for this resource."""

    status = 403
    code = "Forbidden"


class NotFound(HttpError):
    """404: the resource does not exist (or is not the caller's to see)."""

    status = 404
    code = "NotFound"


class Conflict(HttpError):
    """409: the request conflicts with the resource's current state."""

    status = 409
    code = "Conflict"


class PreconditionFailed(HttpError):
    """412: an ``If-Match`` precondition did not hold."""

    status = 412
    code = "PreconditionFailed"


class PayloadTooLarge(HttpError):
    """413: the body is larger than ``MAX_BODY_BYTES``."""

    status = 413
    code = "PayloadTooLarge"


def json_response(
    status: int, body: Any = None, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Return a payload-2.0 response with a JSON body (no body at all when ``body`` is None)."""
    if body is None:
        return {"statusCode": status, "headers": dict(headers or {})}
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_json_default),
    }


def _json_default(value: Any) -> Any:
    # DynamoDB-backed tables hand numbers back as Decimal; clients expect plain JSON numbers.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def error_response(error: HttpError) -> dict[str, Any]:
    """Return the JSON error response for ``error``."""
    return json_response(error.status, error.body())


def request_context(event: Event) -> dict[str, Any]:
    """The event's ``requestContext`` (an empty dict when absent or malformed)."""
    context = event.get("requestContext")
    return context if isinstance(context, dict) else {}


def header(event: Event, name: str) -> str | None:
    """The value of header ``name`` (case-insensitive; API Gateway lower-cases names)."""
    headers = event.get("headers")
    if not isinstance(headers, dict):
        return None
    wanted = name.lower()
    value = headers.get(wanted)  # API Gateway's own events: no scan needed
    if isinstance(value, str):
        return value
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted and isinstance(value, str):
            return value
    return None


def query_param(event: Event, name: str) -> str | None:
    """The value of query-string parameter ``name`` (duplicates arrive comma-joined)."""
    params = event.get("queryStringParameters")
    if not isinstance(params, dict):
        return None
    value = params.get(name)
    return value if isinstance(value, str) else None


def path_param(event: Event, name: str) -> str:
    """The value of path parameter ``name``; a missing one is a routing bug, reported as 400."""
    params = event.get("pathParameters")
    value = params.get(name) if isinstance(params, dict) else None
    if not isinstance(value, str) or not value:
        raise BadRequest(f"Missing path parameter {name}", field=name)
    return value


def raw_body(event: Event) -> bytes:
    """The request body as bytes, decoding base64 when ``isBase64Encoded`` says so."""
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise BadRequest("Body must be a string")
    # Base64 inflates by 4/3; checking the encoded length first avoids decoding a huge body.
    if len(body) > MAX_BODY_BYTES * 4 // 3 + 4:
        raise PayloadTooLarge(f"Body is larger than {MAX_BODY_BYTES} bytes")
    if event.get("isBase64Encoded") is True:
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("Body is not valid base64", code="InvalidBody") from None
    else:
        data = body.encode("utf-8", "surrogatepass")
    if len(data) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"Body is larger than {MAX_BODY_BYTES} bytes")
    return data


def json_body(event: Event) -> dict[str, Any]:
    """The request body parsed as a JSON object; anything else is a 400."""
    data = raw_body(event)
    if not data.strip():
        raise BadRequest("Request body is required", code="InvalidJson")
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("Request body is not valid JSON", code="InvalidJson") from None
    if not isinstance(parsed, dict):
        raise BadRequest("Request body must be a JSON object", code="InvalidJson")
    return parsed


def reject_unknown_fields(body: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """Refuse a body carrying a field the endpoint does not know (a typo would be lost silently)."""
    for name in body:
        if name not in allowed:
            raise BadRequest(f"Unknown field {name}", field=str(name))


def caller_id(event: Event) -> str:
    """The userId the Lambda authorizer put in ``requestContext.authorizer.lambda``; else 401."""
    authorizer = request_context(event).get("authorizer")
    principal = authorizer.get("lambda") if isinstance(authorizer, dict) else None
    user_id = principal.get("userId") if isinstance(principal, dict) else None
    if not isinstance(user_id, str) or not user_id:
        raise Unauthorized("Missing or invalid credentials")
    return user_id


def received_at_ms(event: Event) -> int | None:
    """When API Gateway received the request, in epoch ms (HTTP ``timeEpoch``, WS ``requestTimeEpoch``)."""
    context = request_context(event)
    for key in ("timeEpoch", "requestTimeEpoch"):
        value = context.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None

"""Turn what a Lambda function returned into the HTTP response API Gateway would send.

Payload format 2.0 rules: a dict with ``statusCode`` is a full response (``headers``, ``body``,
``isBase64Encoded``, ``cookies``); any other valid JSON value is *inferred* to be a 200
``application/json`` body. Anything API Gateway cannot map becomes a 500 ``Internal Server
Error`` — the gateway never passes a malformed response through.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson

JSON_CONTENT_TYPE = b"application/json"


class MalformedResponseError(ValueError):
    """The function's return value is not a valid payload format 2.0 response."""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete HTTP response: status, raw header pairs and body bytes."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


def gateway_error(status: int, message: str) -> HttpResponse:
    """A response API Gateway generates itself: ``{"message": ...}`` as JSON."""
    body = orjson.dumps({"message": message})
    return HttpResponse(status, ((b"content-type", JSON_CONTENT_TYPE),), body)


NOT_FOUND = gateway_error(404, "Not Found")
UNAUTHORIZED = gateway_error(401, "Unauthorized")
FORBIDDEN = gateway_error(403, "Forbidden")
TOO_LARGE = gateway_error(413, "Request Entity Too Large")
TOO_MANY_REQUESTS = gateway_error(429, "Too Many Requests")
HEADERS_TOO_LARGE = gateway_error(431, "Request Header Fields Too Large")
INTERNAL_ERROR = gateway_error(500, "Internal Server Error")
SERVICE_UNAVAILABLE = gateway_error(503, "Service Unavailable")


def map_lambda_response(payload: Any) -> HttpResponse:
    """Map a handler's return value to an HTTP response; raise MalformedResponseError if AWS would."""
    if isinstance(payload, dict) and "statusCode" in payload:
        return _full_response(payload)
    if isinstance(payload, str):
        # A bare string is used as the body verbatim (it is already JSON-serialised text on AWS).
        return HttpResponse(200, ((b"content-type", JSON_CONTENT_TYPE),), payload.encode())
    try:
        body = orjson.dumps(payload)
    except TypeError as exc:
        raise MalformedResponseError(f"return value is not JSON-serialisable: {exc}") from None
    return HttpResponse(200, ((b"content-type", JSON_CONTENT_TYPE),), body)


def _full_response(payload: dict[str, Any]) -> HttpResponse:
    status = payload["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedResponseError(f"statusCode must be an integer 100-599, got {status!r}")
    headers: list[tuple[bytes, bytes]] = []
    raw_headers = payload.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise MalformedResponseError("headers must be an object of strings")
    has_content_type = False
    for name, value in raw_headers.items():
        if not isinstance(name, str) or not name or isinstance(value, dict | list):
            raise MalformedResponseError(f"bad header {name!r}")
        text = _scalar_text(value)
        if any(c in name + text for c in "\r\n\0"):
            raise MalformedResponseError(f"header {name!r} contains a control character")
        has_content_type = has_content_type or name.lower() == "content-type"
        headers.append((name.lower().encode("latin-1"), text.encode("latin-1", "replace")))
    if not has_content_type:
        headers.append((b"content-type", JSON_CONTENT_TYPE))
    cookies = payload.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise MalformedResponseError("cookies must be a list of strings")
    for cookie in cookies:
        if any(c in cookie for c in "\r\n\0"):
            raise MalformedResponseError("a cookie contains a control character")
        headers.append((b"set-cookie", cookie.encode("latin-1", "replace")))
    return HttpResponse(status, tuple(headers), _body(payload))


def _body(payload: dict[str, Any]) -> bytes:
    body = payload.get("body")
    if body is None:
        return b""
    if isinstance(body, dict | list):
        raise MalformedResponseError("body must be a string (serialise JSON bodies yourself)")
    text = _scalar_text(body)
    if payload.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedResponseError("isBase64Encoded is true but body is not base64") from None
    return text.encode("utf-8")


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)

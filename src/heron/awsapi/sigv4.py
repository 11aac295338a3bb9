"""AWS Signature Version 4 verification, for the Authorization header and presigned query forms.

Pure: the request's parts, the one known key pair and the current time go in; the verified
credential scope comes out, or ``AuthFailure`` naming what was wrong. Which error code a client
sees for each failure depends on the wire protocol, so the protocol layer renders it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal
from urllib.parse import quote, unquote

from heron.awsapi.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_S = 15 * 60
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_UNSIGNED = "UNSIGNED-PAYLOAD"

FailureKind = Literal["missing", "incomplete", "unknown_key", "signature", "expired"]


class AuthFailure(Exception):
    """Why a request's signature was refused: ``kind`` picks the error code, ``message`` is AWS's."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """The parts of an HTTP request SigV4 covers; ``headers`` keys are lower-case."""

    method: str
    raw_path: str
    query_string: str
    headers: Mapping[str, list[str]]
    body: bytes


@dataclass(frozen=True, slots=True)
class Scope:
    """A credential scope: who signed, for which day, region and service."""

    access_key_id: str
    date: str
    region: str
    service: str


@dataclass(frozen=True, slots=True)
class _Auth:
    """The signature parameters, from the Authorization header or the query string."""

    credential: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    expires_s: int | None  # presigned only


def peek_scope(request: SignedRequest) -> Scope | None:
    """The credential scope the request claims, unverified (for routing); None if unreadable."""
    try:
        return _scope(_parse_auth(request).credential)
    except AuthFailure:
        return None


def verify(
    request: SignedRequest,
    credentials: Credentials,
    *,
    now: float,
    services: Collection[str],
    region: str,
) -> Scope:
    """Check ``request``'s SigV4 signature against ``credentials``; the verified scope or raise."""
    auth = _parse_auth(request)
    scope = _scope(auth.credential)
    _check_time(auth, now)
    if scope.access_key_id != credentials.access_key_id:
        raise AuthFailure("unknown_key", "The security token included in the request is invalid.")
    if scope.date != auth.amz_date[:8]:
        raise AuthFailure(
            "signature",
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
            f"HTTP: '{scope.date}' != '{auth.amz_date[:8]}', from '{auth.amz_date}'.",
        )
    if scope.region != region:
        raise AuthFailure(
            "signature", f"Credential should be scoped to a valid region, not '{scope.region}'. "
        )
    if scope.service not in services:
        wanted = sorted(services)[0] if services else ""
        raise AuthFailure(
            "signature", f"Credential should be scoped to correct service: '{wanted}'. "
        )
    if "host" not in auth.signed_headers:
        raise AuthFailure(
            "signature", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )
    canonical = canonical_request(request, auth)
    to_sign = string_to_sign(auth.amz_date, scope, canonical)
    key = signing_key(credentials.secret_access_key, scope.date, scope.region, scope.service)
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, auth.signature.lower()):
        raise AuthFailure(
            "signature",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.",
        )
    return scope


def canonical_request(request: SignedRequest, auth: _Auth) -> str:
    """SigV4's canonical request (method, URI, query, signed headers, payload hash)."""
    header_lines = []
    for name in auth.signed_headers:
        values = request.headers.get(name, [])
        header_lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}\n")
    return "\n".join(
        [
            request.method.upper(),
            canonical_uri(request.raw_path),
            canonical_query(request.query_string, presigned=auth.expires_s is not None),
            "".join(header_lines),
            ";".join(auth.signed_headers),
            _payload_hash(request),
        ]
    )


def string_to_sign(amz_date: str, scope: Scope, canonical: str) -> str:
    """SigV4's string to sign for a canonical request."""
    scope_text = f"{scope.date}/{scope.region}/{scope.service}/aws4_request"
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope_text}\n{digest}"


@lru_cache(maxsize=64)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The derived signing key (cached: it changes once a day per region and service)."""
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def canonical_uri(raw_path: str) -> str:
    """The path with dot segments removed, percent-encoded once (non-S3 services)."""
    path = unquote(raw_path or "/")
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if out:
                out.pop()
        elif segment not in (".", ""):
            out.append(segment)
    normalized = "/" + "/".join(out)
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    return quote(normalized, safe="/~")


def canonical_query(query_string: str, *, presigned: bool = False) -> str:
    """Query parameters re-encoded the SigV4 way and sorted (minus X-Amz-Signature if presigned)."""
    pairs = []
    for part in query_string.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        key, value = unquote(key), unquote(value)
        if presigned and key == "X-Amz-Signature":
            continue
        pairs.append((quote(key, safe="-_.~"), quote(value, safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _payload_hash(request: SignedRequest) -> str:
    """The body's SHA-256, or the client's x-amz-content-sha256 when it names the same thing."""
    computed = hashlib.sha256(request.body).hexdigest()
    claimed = request.headers.get("x-amz-content-sha256")
    if claimed:
        value = claimed[0].strip()
        if value == _UNSIGNED:
            return value
        if value.lower() != computed:
            raise AuthFailure(
                "signature",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
    return computed


def _parse_auth(request: SignedRequest) -> _Auth:
    """Signature parameters from the Authorization header or, failing that, the query string."""
    header = request.headers.get("authorization")
    if header:
        return _parse_header(header[0], request)
    params = _query_params(request.query_string)
    if "X-Amz-Algorithm" in params or "X-Amz-Signature" in params:
        return _parse_presigned(params)
    raise AuthFailure("missing", "Request is missing Authentication Token")


def _parse_header(value: str, request: SignedRequest) -> _Auth:
    """Parse ``AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...``."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise AuthFailure("incomplete", f"Unsupported AWS 'algorithm': '{algorithm}'")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, val = part.strip().partition("=")
        if sep:
            fields[name.strip()] = val.strip()
    amz_date = _first(request.headers, "x-amz-date") or _date_header(request.headers)
    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not fields.get(name)
    ]
    if not amz_date:
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if problems or not amz_date:
        raise AuthFailure("incomplete", " ".join(problems) + f" Authorization={value}")
    return _Auth(
        credential=fields["Credential"],
        signed_headers=tuple(fields["SignedHeaders"].lower().split(";")),
        signature=fields["Signature"],
        amz_date=amz_date,
        expires_s=None,
    )


def _parse_presigned(params: Mapping[str, str]) -> _Auth:
    """Parse the X-Amz-* query parameters of a presigned request."""
    required = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders")
    missing = [name for name in (*required, "X-Amz-Date") if not params.get(name)]
    if missing:
        raise AuthFailure(
            "incomplete",
            " ".join(f"AWS query-string parameters must include '{name}'." for name in missing),
        )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise AuthFailure("incomplete", f"X-Amz-Algorithm only supports '{ALGORITHM}'")
    try:
        expires = int(params.get("X-Amz-Expires", "900"))
    except ValueError:
        raise AuthFailure("incomplete", "X-Amz-Expires should be a number") from None
    return _Auth(
        credential=params["X-Amz-Credential"],
        signed_headers=tuple(params["X-Amz-SignedHeaders"].lower().split(";")),
        signature=params["X-Amz-Signature"],
        amz_date=params["X-Amz-Date"],
        expires_s=expires,
    )


def _scope(credential: str) -> Scope:
    """Split ``AKID/date/region/service/aws4_request``."""
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise AuthFailure(
            "incomplete",
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            f"keyid/date/region/service/term, got '{credential}'",
        )
    return Scope(parts[0], parts[1], parts[2], parts[3])


def _check_time(auth: _Auth, now: float) -> None:
    """Refuse dates that do not parse, are too old (or past their expiry), or too far ahead."""
    try:
        signed_at = datetime.strptime(auth.amz_date, _AMZ_DATE).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise AuthFailure(
            "incomplete",
            f"Date must be in ISO-8601 'basic format'. Got '{auth.amz_date}'. See "
            "http://en.wikipedia.org/wiki/ISO_8601",
        ) from None
    window = MAX_SKEW_S if auth.expires_s is None else auth.expires_s
    label = "15 min." if auth.expires_s is None else f"{auth.expires_s} sec."
    if signed_at < now - window:
        raise AuthFailure(
            "expired",
            f"Signature expired: {auth.amz_date} is now earlier than {_fmt(now - window)} "
            f"({_fmt(now)} - {label})",
        )
    if signed_at > now + MAX_SKEW_S:
        raise AuthFailure(
            "expired",
            f"Signature not yet current: {auth.amz_date} is still later than "
            f"{_fmt(now + MAX_SKEW_S)} ({_fmt(now)} + 15 min.)",
        )


def _date_header(headers: Mapping[str, list[str]]) -> str | None:
    """The RFC 1123 ``Date`` header in SigV4's basic ISO-8601 form, if present and valid."""
    raw = _first(headers, "date")
    if not raw:
        return None
    try:
        parsed = datetime.strptime(raw.strip(), "%a, %d %b %Y %H:%M:%S GMT")
    except ValueError:
        return None
    return parsed.strftime(_AMZ_DATE)


def _first(headers: Mapping[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _query_params(query_string: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in query_string.split("&"):
        key, _, value = part.partition("=")
        if key:
            params.setdefault(unquote(key), unquote(value))
    return params


def _fmt(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime(_AMZ_DATE)

"""The dashboard's HTTP plumbing: the session guard, CSRF checks, cookies, safe responses, query parsing.

Every dashboard endpoint goes through ``guard``: without a valid session a page request is
redirected to the sign-in page (saying so when the session expired) and anything else gets a
401 JSON error; a POST must also carry the session's CSRF token (form field ``csrf_token`` or
header ``X-CSRF-Token``). Unexpected errors become a JSON 500 without any trace detail.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from heron.dashboard.sessions import MAX_LIFETIME_S, Lookup, Session, SessionStore, tokens_match
from heron.types import Clock, MetricDatum

log = logging.getLogger(__name__)

PREFIX = "/dashboard"
SESSION_COOKIE = "heron_session"
LOGIN_CSRF_COOKIE = "heron_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
#: Largest form body accepted (sign-in and sign-out forms are tiny).
MAX_FORM_BYTES = 8192

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

Handler = Callable[[Request, Session], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def json_error(status: int, code: str, message: str, *, field: str | None = None) -> JSONResponse:
    """A 4xx/5xx JSON body ``{"error": code, "message": message}`` (and the ``field`` at fault)."""
    body = {"error": code, "message": message}
    if field is not None:
        body["field"] = field
    return JSONResponse(body, status_code=status)


def secure(response: Response, *, cache: bool = False) -> Response:
    """Add the security headers (keeping an asset's own caching when ``cache``)."""
    for key, value in SECURITY_HEADERS.items():
        if cache and key == "Cache-Control":
            continue
        response.headers.setdefault(key, value)
    return response


def is_https(request: Request) -> bool:
    """Whether the browser reached us over TLS (cookies are then marked Secure)."""
    return request.url.scheme in ("https", "wss")


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None
) -> None:
    """Set an HttpOnly, SameSite=Strict cookie scoped to the dashboard (Secure over https)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    """Delete a dashboard cookie."""
    response.delete_cookie(
        name, path=PREFIX, httponly=True, samesite="strict", secure=is_https(request)
    )


def session_cookie(response: Response, request: Request, session: Session) -> None:
    """Hand the browser its session id."""
    set_cookie(response, request, SESSION_COOKIE, session.id, int(MAX_LIFETIME_S))


async def read_form(request: Request) -> dict[str, str] | None:
    """An urlencoded form's fields (first value each), or None for anything else or too large."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0] for k, v in fields.items()}


def guard(sessions: SessionStore, clock: Clock, kind: str) -> Callable[[Handler], Endpoint]:
    """Wrap a handler: ``kind`` ``page`` redirects to sign-in, ``api`` answers 401 JSON."""

    def wrap(handler: Handler) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            state, session = sessions.lookup(request.cookies.get(SESSION_COOKIE), float(clock()))
            if session is None:
                return secure(_unauthenticated(request, kind, state))
            if request.method == "POST":
                form = await read_form(request)
                given = request.headers.get(CSRF_HEADER) or (form or {}).get(CSRF_FIELD)
                if not tokens_match(session.csrf, given):
                    log.warning("dashboard: POST %s refused: bad CSRF token", request.url.path)
                    return secure(json_error(403, "BadCsrfToken", "missing or wrong CSRF token"))
                request.state.form = form or {}
            try:
                response = await handler(request, session)
            except Exception:  # never leak a trace to the page; the log has it
                log.exception("dashboard: %s %s failed", request.method, request.url.path)
                response = json_error(500, "InternalError", "the dashboard hit an internal error")
            return secure(response)

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return wrap


def _unauthenticated(request: Request, kind: str, state: Lookup) -> Response:
    expired = state is Lookup.EXPIRED
    if kind == "page" and request.method == "GET":
        target = f"{PREFIX}/login" + ("?expired=1" if expired else "")
        response: Response = RedirectResponse(target, status_code=303)
    else:
        message = "your session has expired; sign in again" if expired else "sign in first"
        response = json_error(401, "SessionExpired" if expired else "NotSignedIn", message)
    if expired:
        clear_cookie(response, request, SESSION_COOKIE)
    return response


def now_ms(clock: Clock) -> int:
    """The clock's time in epoch milliseconds."""
    return int(float(clock()) * 1000)


def query_int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    """An integer query parameter within [lo, hi]; ValueError naming the parameter otherwise."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number") from None
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}")
    return value


def parse_dimensions(text: str) -> tuple[tuple[str, str], ...]:
    """``K=V,K=V`` as canonical dimensions; ValueError naming ``dimensions`` for anything malformed."""
    if not text:
        return ()
    pairs: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key or not value:
            raise ValueError(f"dimensions: {part!r} is not Name=Value")
        pairs[key] = value
    if len(pairs) > 30:
        raise ValueError("dimensions: at most 30")
    return MetricDatum.dims(pairs)

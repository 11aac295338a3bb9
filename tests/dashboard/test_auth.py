"""Sign-in, sessions and CSRF: nothing under /dashboard without a session but the sign-in page."""

from __future__ import annotations

import logging

import httpx
import pytest

from heron.dashboard.sessions import IDLE_TIMEOUT_S, FailureThrottle, SessionStore

from .helpers import CREDS, Setup, form_token, sign_in


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/api/layout",
        "/dashboard/api/charts?range=1h",
        "/dashboard/api/logs?group=x",
        "/dashboard/events",
        "/dashboard/logs/tail?group=x",
        "/dashboard/static/overview.js",
        "/dashboard/static/dashboard.css",
        "/dashboard/api/nothing",
    ],
)
async def test_everything_but_the_sign_in_page_needs_a_session(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 401
    assert response.json()["error"] == "NotSignedIn"


async def test_pages_redirect_to_sign_in_and_its_css_is_public(client: httpx.AsyncClient) -> None:
    for path in ("/dashboard", "/dashboard/logs"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/dashboard/login"
    assert (await client.get("/dashboard/static/login.css")).status_code == 200
    login = await client.get("/dashboard/login")
    assert login.status_code == 200 and "Sign in" in login.text
    assert "default-src 'self'" in login.headers["content-security-policy"]


async def test_sign_in_sets_a_strict_http_only_session_cookie(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await sign_in(client)
    cookie = next(c for c in client.cookies.jar if c.name == "heron_session")
    assert len(cookie.value) >= 40
    assert cookie.path == "/dashboard"
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert str(cookie.get_nonstandard_attr("SameSite")).lower() == "strict"
    assert not cookie.secure  # served over plain http here
    assert (await client.get("/dashboard/api/layout")).status_code == 200
    assert CREDS.secret_access_key not in caplog.text


async def test_wrong_credentials_are_refused_without_logging_them(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    page = await client.get("/dashboard/login")
    response = await client.post(
        "/dashboard/login",
        data={
            "csrf_token": form_token(page.text),
            "username": CREDS.access_key_id,
            "password": "guessed-password-123",
        },
    )
    assert response.status_code == 401
    assert "Wrong access key" in response.text
    assert "guessed-password-123" not in caplog.text
    assert (await client.get("/dashboard/api/layout")).status_code == 401


async def test_a_forged_sign_in_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/dashboard/login")
    response = await client.post(
        "/dashboard/login",
        data={
            "csrf_token": "forged",
            "username": CREDS.access_key_id,
            "password": CREDS.secret_access_key,
        },
    )
    assert response.status_code == 403
    assert (await client.get("/dashboard/api/layout")).status_code == 401


async def test_sign_out_needs_the_session_csrf_token(client: httpx.AsyncClient) -> None:
    token = await sign_in(client)
    forged = await client.post("/dashboard/logout", data={"csrf_token": "nope"})
    assert forged.status_code == 403
    assert forged.json()["error"] == "BadCsrfToken"
    missing = await client.post("/dashboard/logout")
    assert missing.status_code == 403
    assert (await client.get("/dashboard/api/layout")).status_code == 200  # still signed in
    out = await client.post("/dashboard/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert out.headers["location"] == "/dashboard/login?signedout=1"
    assert (await client.get("/dashboard/api/layout")).status_code == 401


async def test_expired_session_goes_back_to_sign_in_with_a_message(
    client: httpx.AsyncClient, setup: Setup
) -> None:
    await sign_in(client)
    setup.clock.now += IDLE_TIMEOUT_S + 1
    response = await client.get("/dashboard")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login?expired=1"
    page = await client.get(response.headers["location"])
    assert "Your session has expired" in page.text


async def test_expired_session_gives_api_calls_a_401_that_says_so(
    client: httpx.AsyncClient, setup: Setup
) -> None:
    await sign_in(client)
    setup.clock.now += IDLE_TIMEOUT_S + 1
    response = await client.get("/dashboard/api/layout")
    assert response.status_code == 401
    assert response.json()["error"] == "SessionExpired"


def test_sessions_renew_on_use_but_not_past_their_lifetime() -> None:
    store = SessionStore(idle_timeout_s=100)
    session = store.create(0.0)
    for t in range(50, 43_200, 50):
        state, found = store.lookup(session.id, float(t))
        assert found is not None, t
    state, found = store.lookup(session.id, 43_250.0)
    assert found is None and state == "expired"
    assert store.lookup("made-up", 0.0)[0] == "unknown"


def test_failure_throttle_blocks_after_ten_failures_a_minute() -> None:
    throttle = FailureThrottle()
    for i in range(10):
        assert throttle.blocked(float(i)) == 0
        throttle.failed(float(i))
    assert throttle.blocked(10.0) > 0
    assert throttle.blocked(61.0) == 0

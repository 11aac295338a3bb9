"""Pure decisions: the operation mix, response classification and WebSocket frame matching."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from heron.load.chat import frame_keys, is_error_frame, ws_url_for
from heron.load.client import BAD_REQUESTS, HTTP_MIX, choose_operation, classify, make_username


def test_mix_follows_the_error_rate_and_ws_fraction() -> None:
    rng = random.Random(42)
    picks = Counter(
        choose_operation(rng, ws_fraction=0.5, error_rate=0.1, ws_available=True)
        for _ in range(20_000)
    )
    bad = sum(picks[name] for name in BAD_REQUESTS)
    assert bad / 20_000 == pytest.approx(0.1, abs=0.01)
    assert picks["ws_send"] / 20_000 == pytest.approx(0.9 * 0.5, abs=0.015)
    assert set(picks) <= {*BAD_REQUESTS, "ws_send", *HTTP_MIX}
    assert set(HTTP_MIX) <= set(picks)  # every HTTP operation shows up


def test_no_websocket_operations_without_pairs_and_no_bad_requests_at_zero_rate() -> None:
    rng = random.Random(1)
    picks = {
        choose_operation(rng, ws_fraction=1.0, error_rate=0.0, ws_available=False)
        for _ in range(2000)
    }
    assert picks <= set(HTTP_MIX)


@pytest.mark.parametrize(
    ("status", "deliberate", "kind"),
    [
        (200, False, None),
        (201, False, None),
        (404, False, "http_404"),
        (429, False, "http_429"),
        (502, False, "http_502"),
        (400, True, "expected"),
        (401, True, "expected"),
        (200, True, "bad_request_accepted"),
        (500, True, "http_500"),
    ],
)
def test_classify(status: int, deliberate: bool, kind: str | None) -> None:
    assert classify(status, deliberate=deliberate) == kind


def test_usernames_are_unique_and_plain() -> None:
    names = {make_username("a1b2c3", n) for n in range(500)}
    assert len(names) == 500
    assert all(name.isalnum() and name.islower() for name in names)


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ({"text": "hi", "clientMessageId": "c1"}, ("c1", ["hi"])),
        ({"type": "message", "message": {"text": "hi", "clientMessageId": "c1"}}, ("c1", ["hi"])),
        ({"data": [{"messageId": "m", "text": "hi"}]}, (None, ["hi"])),
        ({"action": "message", "message": "hi"}, (None, ["hi"])),
        ([1, 2], (None, [])),
        ("just a string", (None, [])),
    ],
)
def test_frame_keys_finds_id_and_text_wherever_they_sit(
    frame: object, expected: tuple[str | None, list[str]]
) -> None:
    assert frame_keys(frame) == expected


def test_error_frames_are_recognised() -> None:
    gateway_error = {"message": "Internal server error", "connectionId": "x", "requestId": "y"}
    assert is_error_frame(gateway_error)
    assert not is_error_frame({"message": {"text": "an error occurred"}})
    assert not is_error_frame({"message": "hello", "text": "hello"})
    assert not is_error_frame(["error"])


def test_ws_url_is_on_the_app_port() -> None:
    assert ws_url_for("http://127.0.0.1:8080/", "t0k") == "ws://127.0.0.1:8080/ws?token=t0k"
    assert ws_url_for("https://h:443", "t") == "wss://h:443/ws?token=t"

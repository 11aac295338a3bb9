"""The structured logger: the seed's INFO and ERROR shapes, exact keys, timestamps, redaction."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heron.telemetry.logger import (
    _SECRET_PATTERNS,
    ERROR_KEYS,
    INFO_KEYS,
    REDACTED,
    StructuredLogger,
    format_timestamp,
    redact,
)

NOW = 1_710_417_600.25  # 2024-03-14T12:00:00.250Z


def logger() -> tuple[StructuredLogger, io.StringIO]:
    out = io.StringIO()
    return StructuredLogger("sendMessage", stream=out, clock=lambda: NOW), out


def only_line(out: io.StringIO) -> dict[str, Any]:
    (line,) = out.getvalue().splitlines()
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def test_info_record_has_exactly_the_seed_keys_in_order() -> None:
    log, out = logger()
    log.info(
        request_id="123e4567-e89b-12d3-a456-426614174000",
        user_id="user123",
        action="message_sent",
        duration_ms=150.004,
        status="success",
    )
    record = only_line(out)
    assert tuple(record) == INFO_KEYS
    assert record == {
        "level": "INFO",
        "timestamp": "2024-03-14T12:00:00.250Z",
        "function": "sendMessage",
        "requestId": "123e4567-e89b-12d3-a456-426614174000",
        "userId": "user123",
        "action": "message_sent",
        "duration": 150.0,
        "status": "success",
    }


def test_error_record_has_exactly_the_seed_keys_and_a_stack() -> None:
    log, out = logger()
    try:
        raise RuntimeError("Failed to write message")
    except RuntimeError as exc:
        log.error(request_id="r1", exc=exc, context={"userId": "user123", "messageId": "msg123"})
    record = only_line(out)
    assert tuple(record) == ERROR_KEYS
    assert record["level"] == "ERROR"
    assert record["error"]["name"] == "RuntimeError"
    assert record["error"]["message"] == "Failed to write message"
    assert record["error"]["stack"].startswith("Traceback")
    assert "test_error_record_has_exactly_the_seed_keys" in record["error"]["stack"]
    assert record["context"] == {"userId": "user123", "messageId": "msg123"}


def test_an_unknown_status_is_refused() -> None:
    log, out = logger()
    with pytest.raises(ValueError, match="status"):
        log.info(request_id="r", user_id=None, action="a", duration_ms=1, status="ok")
    assert out.getvalue() == ""


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [(0, "1970-01-01T00:00:00.000Z"), (1_793_873_702.999, "2026-11-05T10:15:02.999Z")],
)
def test_timestamps_are_iso_utc_with_milliseconds_and_z(epoch: float, expected: str) -> None:
    assert format_timestamp(epoch) == expected


def test_known_secrets_are_redacted_everywhere_in_the_record() -> None:
    secret = "s3cr3t-token-value-XYZ"
    log, out = logger()
    try:
        raise ValueError(f"could not use {secret}")
    except ValueError as exc:
        log.error(request_id="r", exc=exc, context={"note": [secret]}, secrets=[secret])
    text = out.getvalue()
    assert secret not in text
    assert REDACTED in text


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abcdefghijklmnop",
        "url was /ws?token=abcdefghijklmnop&x=1",
        '{"token": "abcdefghijklmnop"}',
        "x-heron-management-key=abcdefghijklmnop",
    ],
)
def test_credential_shaped_substrings_are_redacted_without_being_named(text: str) -> None:
    cleaned = redact(text)
    assert "abcdefghijklmnop" not in cleaned and REDACTED in cleaned


def test_ordinary_text_is_left_alone() -> None:
    assert redact("tokenHash is stored; the user has 3 tokens", ["ab"]) == (
        "tokenHash is stored; the user has 3 tokens"
    )


def test_records_go_to_the_current_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    StructuredLogger("f").info(
        request_id="r", user_id=None, action="a", duration_ms=1, status="denied"
    )
    assert json.loads(capsys.readouterr().out)["status"] == "denied"


def _reference_timestamp(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.floats(0, 4_102_444_800, allow_nan=False),
        # just below a second or a millisecond, where rounding to microseconds carries over
        st.integers(0, 4_102_444_800).map(lambda s: s + 0.9999996),
        st.integers(0, 4_102_444_800).map(lambda s: s + 0.9995),
        st.integers(0, 4_102_444_800).map(lambda s: s + 0.0004999),
    )
)
def test_timestamps_agree_with_datetime_even_where_microseconds_round_over(epoch: float) -> None:
    # format_timestamp caches each second's text: both before and after it was cached
    assert format_timestamp(epoch) == _reference_timestamp(epoch)
    assert format_timestamp(epoch) == _reference_timestamp(epoch)


def _reference_redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


_WORDS = ["bearer", "BEARER", "Token", "tOkEn", "authorization", "X-Heron-Management-Key",
          "to", "en", "\u212a", "author\u0131zation", "author\u0130zation", "\u017f", "tokens",
          "=", ":", " ", '"', "'", "abcdefgh", "é"]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=10).map("".join))
def test_redaction_skips_the_patterns_only_where_they_cannot_match(text: str) -> None:
    # The ASCII prefilter must not let a credential-shaped substring through: whatever the
    # patterns would replace is still replaced.
    assert redact(text) == _reference_redact(text)

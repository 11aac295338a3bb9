"""The structured logger: the seed's INFO and ERROR shapes, exact keys, timestamps, redaction."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from heron.telemetry.logger import (
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

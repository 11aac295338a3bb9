"""Structured JSON log records in the seed's two shapes, one line each on stdout.

INFO (one per successful or client-refused invocation)::

    {"level": "INFO", "timestamp": "2024-03-14T12:00:00.000Z", "function": "sendMessage",
     "requestId": "123e4567-...", "userId": "user123", "action": "message_sent",
     "duration": 150.0, "status": "success"}

ERROR (one per failed invocation)::

    {"level": "ERROR", "timestamp": "...", "function": "sendMessage", "requestId": "...",
     "error": {"name": "ThrottledError", "message": "...", "stack": "..."},
     "context": {"userId": "user123", "messageId": "msg123"}}

Secrets never reach a log line: every string is passed through ``redact`` with the invocation's
known secrets (its bearer token, its ``?token=``) plus patterns that look like credentials.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
import traceback
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from heron.types import Clock

#: The exact keys of an INFO record, in order.
INFO_KEYS = (
    "level",
    "timestamp",
    "function",
    "requestId",
    "userId",
    "action",
    "duration",
    "status",
)
#: The exact keys of an ERROR record, in order.
ERROR_KEYS = ("level", "timestamp", "function", "requestId", "error", "context")
#: The ``status`` values of INFO records.
STATUSES = ("success", "client_error", "denied")
#: Longest stack trace kept in an ERROR record; CloudWatch caps events, and the top of a trace
#: (where it was raised) is what readers need.
MAX_STACK_CHARS = 8_000
REDACTED = "[REDACTED]"

# Credential-shaped substrings redacted even when the caller did not name them as secrets.
_SECRET_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"),
    re.compile(
        r"(?i)((?:token|authorization|x-heron-management-key)[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,;}]+"
    ),
)


#: Lower-case words each credential pattern needs; ASCII text without any of them is left alone
#: without running the patterns (their case-insensitive matching is plain ASCII folding there).
_SECRET_WORDS = ("bearer", "token", "authorization", "x-heron-management-key")

#: The last second formatted by ``format_timestamp`` and its text up to the milliseconds.
_second_cache: tuple[int, str] = (0, "1970-01-01T00:00:00.")


def format_timestamp(epoch_seconds: float) -> str:
    """Format seconds since the epoch as ISO-8601 UTC with milliseconds and a ``Z``."""
    global _second_cache
    # As datetime.fromtimestamp rounds: the fraction to whole microseconds, half to even
    # (an exact split: subtracting a float's floor loses nothing).
    second = math.floor(epoch_seconds)
    micros = round((epoch_seconds - second) * 1e6)
    if micros >= 1_000_000:
        second, micros = second + 1, micros - 1_000_000
    cached_second, prefix = _second_cache
    if second != cached_second:
        # Every record of the same second shares this text: format it once per second.
        prefix = datetime.fromtimestamp(second, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        _second_cache = (second, prefix)
    return f"{prefix}{micros // 1000:03d}Z"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace every known secret and every credential-shaped substring of ``text``."""
    for secret in secrets:
        # Very short "secrets" would shred ordinary text; real tokens are long.
        if secret and len(secret) >= 8:
            text = text.replace(secret, REDACTED)
    if text.isascii():
        lowered = text.lower()
        if (
            _SECRET_WORDS[0] not in lowered
            and _SECRET_WORDS[1] not in lowered
            and _SECRET_WORDS[2] not in lowered
            and _SECRET_WORDS[3] not in lowered
        ):
            return text  # (spelled out: a generator here costs more than the four tests)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


def _redact_value(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if value is None or isinstance(value, (int, float)):
        return value  # most values: no (slow) Mapping ABC check for them
    if isinstance(value, Mapping):
        return {str(k): _redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v, secrets) for v in value]
    return value


class StructuredLogger:
    """Writes the seed's INFO and ERROR records for one function as JSON lines."""

    def __init__(
        self,
        function: str,
        *,
        stream: TextIO | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.function = function
        self._stream = stream
        self._clock = clock

    def info(
        self,
        *,
        request_id: str,
        user_id: str | None,
        action: str,
        duration_ms: float,
        status: str,
        secrets: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Write (and return) an INFO record for a finished invocation."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        record: dict[str, Any] = {
            "level": "INFO",
            "timestamp": format_timestamp(self._clock()),
            "function": self.function,
            "requestId": request_id,
            "userId": user_id,
            "action": action,
            "duration": round(duration_ms, 2),
            "status": status,
        }
        return self._write(record, tuple(secrets))

    def error(
        self,
        *,
        request_id: str,
        exc: BaseException,
        context: Mapping[str, Any],
        secrets: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Write (and return) an ERROR record for an invocation that raised ``exc``."""
        stack = "".join(traceback.format_exception(exc))
        if len(stack) > MAX_STACK_CHARS:
            stack = "..." + stack[-MAX_STACK_CHARS:]
        record: dict[str, Any] = {
            "level": "ERROR",
            "timestamp": format_timestamp(self._clock()),
            "function": self.function,
            "requestId": request_id,
            "error": {"name": type(exc).__name__, "message": str(exc), "stack": stack},
            "context": dict(context),
        }
        return self._write(record, tuple(secrets))

    def _write(self, record: dict[str, Any], secrets: tuple[str, ...]) -> dict[str, Any]:
        clean: dict[str, Any] = _redact_value(record, secrets)
        line = json.dumps(clean, separators=(",", ":"), default=str)
        # Resolve stdout at write time so a runtime (or pytest) that swaps sys.stdout sees the line.
        stream = self._stream if self._stream is not None else sys.stdout
        stream.write(line + "\n")
        stream.flush()
        return clean

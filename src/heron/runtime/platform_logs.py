"""The lines Lambda itself writes to a function's log stream: INIT_START, START, END, REPORT, errors.

Pure functions of their arguments, spelled as AWS spells them (fields tab-separated, durations
with two decimals, memory in MB), so a Logs Insights-style parser reads ours like CloudWatch's.
"""

from __future__ import annotations

import hashlib
import math
import sys
import time
import uuid
from dataclasses import dataclass

#: The managed runtime identifier, e.g. ``python:3.11.v7`` for CPython 3.11.7.
RUNTIME_VERSION = (
    f"python:{sys.version_info.major}.{sys.version_info.minor}.v{sys.version_info.micro}"
)


def log_group_name(function_name: str) -> str:
    """The CloudWatch Logs group Lambda writes a function's logs to."""
    return f"/aws/lambda/{function_name}"


def log_stream_name(now: float, version: str = "$LATEST") -> str:
    """A fresh per-environment stream name: ``YYYY/MM/DD/[$LATEST]<32 hex>`` (UTC date)."""
    return time.strftime("%Y/%m/%d", time.gmtime(now)) + f"/[{version}]{uuid.uuid4().hex}"


def iso_timestamp(now: float) -> str:
    """``2026-11-05T10:16:40.123Z``: the timestamp format of Lambda's own log lines."""
    millis = int(now * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{millis:03d}Z"


def init_start_line(region: str) -> str:
    """The first line of a new environment's stream."""
    digest = hashlib.sha256(sys.version.encode()).hexdigest()
    return (
        f"INIT_START Runtime Version: {RUNTIME_VERSION}\t"
        f"Runtime Version ARN: arn:aws:lambda:{region}::runtime:{digest}"
    )


def init_report_line(init_ms: float, error_type: str, status: str = "error") -> str:
    """The line Lambda writes when INIT fails or times out."""
    return f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: init\tStatus: {status}" + (
        f"\tError Type: {error_type}" if status == "error" else ""
    )


def start_line(request_id: str, version: str = "$LATEST") -> str:
    """Written when an invocation starts."""
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    """Written when an invocation ends."""
    return f"END RequestId: {request_id}"


def timeout_line(request_id: str, now: float, timeout_s: float) -> str:
    """Written when the function timed out: ``<timestamp> <id> Task timed out after 3.00 seconds``."""
    return f"{iso_timestamp(now)} {request_id} Task timed out after {timeout_s:.2f} seconds"


def timeout_message(request_id: str, timeout_s: float) -> str:
    """The ``errorMessage`` of a ``Sandbox.Timedout`` invoke response."""
    return f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds"


def exit_message(request_id: str, reason: str) -> str:
    """The ``errorMessage`` when the runtime process died: ``... Runtime exited with error: ...``."""
    prefix = f"RequestId: {request_id} " if request_id else ""
    if reason == "exit status 0":
        return f"{prefix}Error: Runtime exited without providing a reason"
    return f"{prefix}Error: Runtime exited with error: {reason}"


def billed_duration_ms(duration_ms: float, init_ms: float | None) -> int:
    """Billed milliseconds: duration plus (since 1 Aug 2025) init, rounded up, at least 1."""
    # Drop float noise before rounding up, so a sum such as 147.00000000000003 bills 147 ms.
    total = duration_ms + (init_ms or 0.0)
    return max(1, math.ceil(round(total, 6)))


def memory_used_mb(max_rss_kb: int, memory_mb: int) -> int:
    """``Max Memory Used`` in MB: peak RSS rounded up, capped at the configured size."""
    return min(memory_mb, max(1, math.ceil(max_rss_kb / 1024)))


@dataclass(frozen=True, slots=True)
class Report:
    """The numbers on one REPORT line."""

    request_id: str
    duration_ms: float
    memory_mb: int
    max_memory_used_mb: int
    init_ms: float | None = None
    #: ``None`` for a normal end (including handler exceptions); ``"timeout"`` or ``"error"``
    #: when Lambda itself ended the invocation.
    status: str | None = None
    error_type: str | None = None

    @property
    def billed_ms(self) -> int:
        """Billed duration in milliseconds."""
        return billed_duration_ms(self.duration_ms, self.init_ms)

    def line(self) -> str:
        """The REPORT line, tab-separated as AWS writes it."""
        fields = [
            f"REPORT RequestId: {self.request_id}",
            f"Duration: {self.duration_ms:.2f} ms",
            f"Billed Duration: {self.billed_ms} ms",
            f"Memory Size: {self.memory_mb} MB",
            f"Max Memory Used: {self.max_memory_used_mb} MB",
        ]
        if self.init_ms is not None:
            fields.append(f"Init Duration: {self.init_ms:.2f} ms")
        if self.status is not None:
            fields.append(f"Status: {self.status}")
            if self.error_type is not None:
                fields.append(f"Error Type: {self.error_type}")
        return "\t".join(fields)


def split_captured(data: bytes) -> list[str]:
    """Handler output as log messages: one per line, ``\\r`` inside a line joining a multi-line record."""
    if not data:
        return []
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r").replace("\r", "\n") for line in lines]

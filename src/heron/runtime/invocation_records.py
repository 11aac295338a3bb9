"""What one invocation leaves behind: Lambda's log lines (END, REPORT, timeouts, INIT errors)
and the facts its ``AWS/Lambda`` metrics are computed from; pure functions of the outcome.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from heron.runtime import platform_logs, platform_metrics
from heron.runtime.environment import InitOutcome, Invocation
from heron.runtime.invoker import InvokeResult
from heron.types import FunctionSpec, LogEvent


@dataclass(slots=True)
class LogLines:
    """Log lines for one stream, stamped as they are added."""

    group: str
    stream: str
    events: list[LogEvent]

    def add(self, timestamp_ms: int, *messages: str) -> None:
        """Append ``messages`` at ``timestamp_ms``."""
        group, stream = self.group, self.stream
        self.events += [LogEvent(group, stream, timestamp_ms, m) for m in messages]


def ms(seconds: float) -> int:
    """Epoch seconds as whole milliseconds."""
    return int(seconds * 1000)


def trace_id(now: float) -> str:
    """An X-Ray trace header like Lambda sets in ``_X_AMZN_TRACE_ID`` (never sampled locally)."""
    ids = os.urandom(16).hex()
    return f"Root=1-{int(now):08x}-{ids[:24]};Parent={ids[16:32]};Sampled=0"


def invocation_lines_and_facts(
    spec: FunctionSpec,
    provisioned: bool,
    request_id: str,
    invocation: Invocation,
    init: InitOutcome | None,
    lines: LogLines,
    end_ms: int,
    started_at: float,
) -> platform_metrics.InvocationFacts:
    """Add the handler's output, END, REPORT (and a timeout line) to ``lines``; the facts."""
    init_ms = init.init_ms if init is not None else None
    memory_used = platform_logs.memory_used_mb(invocation.max_rss_kb, spec.memory_mb)
    status: str | None = None
    error_type: str | None = None
    if invocation.outcome == "timeout":
        status = "timeout"
    elif invocation.outcome in ("oom", "crash") and invocation.error is not None:
        status, error_type = "error", invocation.error.error_type
    report = platform_logs.Report(
        request_id=request_id,
        duration_ms=invocation.duration_ms,
        memory_mb=spec.memory_mb,
        max_memory_used_mb=memory_used,
        init_ms=init_ms,
        status=status,
        error_type=error_type,
    )
    lines.add(end_ms, *invocation.logs)
    lines.add(end_ms, platform_logs.end_line(request_id), report.line())
    if invocation.outcome == "timeout":
        lines.add(end_ms, platform_logs.timeout_line(request_id, end_ms / 1000.0, spec.timeout_s))
    return platform_metrics.InvocationFacts(
        function_name=spec.name,
        timestamp_ms=ms(started_at),
        duration_ms=invocation.duration_ms,
        memory_mb=spec.memory_mb,
        max_memory_used_mb=memory_used,
        error=invocation.error is not None,
        timeout=invocation.outcome == "timeout",
        cold_start=init is not None,
        init_ms=init_ms,
        provisioned=provisioned,
    )


def init_failure_lines_and_facts(
    spec: FunctionSpec,
    request_id: str,
    init: InitOutcome,
    max_rss_kb: int,
    lines: LogLines,
    now_ms: int,
    started_at: float,
) -> tuple[platform_metrics.InvocationFacts, InvokeResult]:
    """A cold start whose INIT failed: its lines added to ``lines``, its facts and result."""
    assert init.error is not None
    error_type = init.error.error_type
    memory_used = platform_logs.memory_used_mb(max_rss_kb, spec.memory_mb)
    report = platform_logs.Report(
        request_id=request_id,
        duration_ms=init.init_ms,
        memory_mb=spec.memory_mb,
        max_memory_used_mb=memory_used,
        status=init.status,
        error_type=error_type if init.status == "error" else None,
    )
    lines.add(
        now_ms,
        platform_logs.init_report_line(init.init_ms, error_type, init.status or "error"),
        platform_logs.start_line(request_id),
        platform_logs.end_line(request_id),
        report.line(),
    )
    facts = platform_metrics.InvocationFacts(
        function_name=spec.name,
        timestamp_ms=ms(started_at),
        duration_ms=init.init_ms,
        memory_mb=spec.memory_mb,
        max_memory_used_mb=memory_used,
        error=True,
        timeout=init.status == "timeout",
        cold_start=True,
        init_ms=init.init_ms,
    )
    result = InvokeResult(
        request_id=request_id,
        error=init.error,
        duration_ms=init.init_ms,
        init_duration_ms=init.init_ms,
    )
    return facts, result

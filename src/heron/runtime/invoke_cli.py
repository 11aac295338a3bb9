"""``heron invoke FUNCTION --event FILE``: one invocation in a fresh environment, like ``sam local invoke``.

The function's log lines (INIT_START, START, its output, END, REPORT) go to stderr; the JSON
result (or Lambda's error payload) goes to stdout. Exit status 0 means the handler returned,
1 means the invocation failed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

import orjson

from heron.runtime.invoker import InvokeResult
from heron.runtime.runtime import LambdaRuntime
from heron.types import Event, FunctionSpec, LogEvent, MetricDatum, Sample, TelemetrySink


class _Collector:
    """A TelemetrySink that keeps log events (to print) and forwards everything to ``inner``."""

    def __init__(self, inner: TelemetrySink | None) -> None:
        self.log_events: list[LogEvent] = []
        self._inner = inner

    def put_log_events(self, events: Sequence[LogEvent]) -> None:
        """Keep and forward log events."""
        self.log_events.extend(events)
        if self._inner is not None:
            self._inner.put_log_events(events)

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        """Forward datums (nothing is printed for them)."""
        if self._inner is not None:
            self._inner.put_metric_data(datums)

    def put_samples(self, samples: Sequence[Sample]) -> None:
        """Forward aggregated samples (nothing is printed for them)."""
        if self._inner is not None:
            self._inner.put_samples(samples)

    def flush(self) -> None:
        """Flush the inner sink."""
        if self._inner is not None:
            self._inner.flush()

    def close(self) -> None:
        """Close the inner sink."""
        if self._inner is not None:
            self._inner.close()


async def invoke_once(
    spec: FunctionSpec, event: Event, env: Mapping[str, str], sink: TelemetrySink
) -> InvokeResult:
    """Invoke ``spec`` once in a runtime of its own (no provisioned environments), then shut down."""
    # Provisioned concurrency is ignored here: a one-shot invoke should show the cold start.
    one_shot = FunctionSpec(
        name=spec.name,
        handler=spec.handler,
        memory_mb=spec.memory_mb,
        timeout_s=spec.timeout_s,
        environment=spec.environment,
    )
    runtime = LambdaRuntime([one_shot], sink, env=env)
    try:
        return await runtime.invoke(spec.name, event)
    finally:
        await runtime.close()


def run_invoke(
    spec: FunctionSpec,
    event: Event,
    env: Mapping[str, str],
    *,
    sink: TelemetrySink | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one invocation, print logs to stderr and the result to stdout; the exit status.

    ``sink``, when given, also receives the logs and metrics (e.g. the data directory's sink).
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    collector = _Collector(sink)
    result = asyncio.run(invoke_once(spec, event, env, collector))
    for log_event in collector.log_events:
        err.write(log_event.message + "\n")
    err.flush()
    body = result.error.as_payload() if result.error is not None else result.payload
    out.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
    out.flush()
    collector.flush()
    return 0 if result.ok else 1

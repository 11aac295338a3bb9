"""Heron time for demos and tests: one scaled clock, and the sink that moves telemetry onto it.

With ``time_scale`` N, one real second is N seconds of *Heron time*. Only the monitor lives in
Heron time: its stores, the alarm scheduler, history and published messages read
``ScaledClock``. The application side (gateway, runtime, handlers in their child processes)
keeps real time, so every duration it measures, every throttle bucket, idle timeout, cache TTL
and the ``MessageLatency`` handlers compute stays true. Telemetry crosses into Heron time at one
boundary, ``TimeScaledSink``: every log event, metric datum and sample timestamp, and the
``_aws.Timestamp`` of EMF documents inside log messages, is mapped with the same affine function
``anchor + (t - anchor) * N``. A 300-second alarm period then closes every 300/N real seconds
while the values inside it are real measurements.

At N = 1 nothing is wrapped and the clock is ``time.time`` itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import orjson

from heron.types import LogEvent, MetricDatum, Sample, TelemetrySink

_EMF_MARKER = '"_aws"'


class ScaledClock:
    """Epoch seconds that run ``scale`` times as fast as real time from ``anchor`` on."""

    def __init__(
        self, scale: float, *, anchor: float | None = None, real: Callable[[], float] = time.time
    ) -> None:
        if not scale > 0:
            raise ValueError(f"time scale must be positive, got {scale}")
        self.scale = float(scale)
        self._real = real
        self.anchor = real() if anchor is None else anchor

    def __call__(self) -> float:
        return self.anchor + (self._real() - self.anchor) * self.scale

    def to_heron(self, real_s: float) -> float:
        """The Heron instant of a real epoch instant."""
        return self.anchor + (real_s - self.anchor) * self.scale

    def to_heron_ms(self, real_ms: int) -> int:
        """``to_heron`` for epoch milliseconds."""
        anchor_ms = self.anchor * 1000.0
        return int(anchor_ms + (real_ms - anchor_ms) * self.scale)

    def real_delay(self, heron_s: float) -> float:
        """How many real seconds a wait of ``heron_s`` Heron seconds takes."""
        return heron_s / self.scale


def make_clock(scale: float) -> Callable[[], float]:
    """``time.time`` at scale 1, else a ``ScaledClock`` anchored now."""
    if scale == 1:
        return time.time
    return ScaledClock(scale)


def rescale_emf(message: str, clock: ScaledClock) -> str:
    """The message with an EMF document's ``_aws.Timestamp`` moved to Heron time (else as is)."""
    if _EMF_MARKER not in message or not message.startswith("{"):
        return message
    try:
        doc = orjson.loads(message)
    except orjson.JSONDecodeError:
        return message
    aws = doc.get("_aws") if isinstance(doc, dict) else None
    if not isinstance(aws, dict):
        return message
    stamp = aws.get("Timestamp")
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        return message
    aws["Timestamp"] = clock.to_heron_ms(stamp)
    return orjson.dumps(doc).decode()


class TimeScaledSink:
    """A TelemetrySink that maps every timestamp to Heron time and forwards to ``inner``."""

    def __init__(self, inner: TelemetrySink, clock: ScaledClock) -> None:
        self.inner = inner
        self.clock = clock

    def put_log_events(self, events: Sequence[LogEvent]) -> None:
        """Forward log events stamped (and EMF-stamped) in Heron time."""
        to_ms, clock = self.clock.to_heron_ms, self.clock
        self.inner.put_log_events(
            [
                LogEvent(e.group, e.stream, to_ms(e.timestamp_ms), rescale_emf(e.message, clock))
                for e in events
            ]
        )

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        """Forward datums stamped in Heron time."""
        to_ms = self.clock.to_heron_ms
        self.inner.put_metric_data([replace(d, timestamp_ms=to_ms(d.timestamp_ms)) for d in datums])

    def put_samples(self, samples: Sequence[Sample]) -> None:
        """Forward samples stamped in Heron time."""
        to_ms = self.clock.to_heron_ms
        self.inner.put_samples([replace(s, timestamp_ms=to_ms(s.timestamp_ms)) for s in samples])

    def flush(self) -> None:
        """Flush the inner sink."""
        self.inner.flush()

    def close(self) -> None:
        """Close the inner sink."""
        self.inner.close()

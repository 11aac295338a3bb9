"""Heron time: the scaled clock and the sink that moves telemetry onto it."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from heron.monitor.timescale import ScaledClock, TimeScaledSink, make_clock, rescale_emf
from heron.types import LogEvent, MetricDatum, Sample

ANCHOR = 1_700_000_000.0


class Real:
    def __init__(self) -> None:
        self.now = ANCHOR

    def __call__(self) -> float:
        return self.now


class Recording:
    def __init__(self) -> None:
        self.logs: list[LogEvent] = []
        self.datums: list[MetricDatum] = []
        self.samples: list[Sample] = []
        self.flushed = self.closed = False

    def put_log_events(self, events: Sequence[LogEvent]) -> None:
        self.logs.extend(events)

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        self.datums.extend(datums)

    def put_samples(self, samples: Sequence[Sample]) -> None:
        self.samples.extend(samples)

    def flush(self) -> None:
        self.flushed = True

    def close(self) -> None:
        self.closed = True


def test_heron_time_runs_scale_times_as_fast_from_the_anchor() -> None:
    real = Real()
    clock = ScaledClock(60, real=real)
    assert clock() == ANCHOR
    real.now += 5
    assert clock() == ANCHOR + 300  # five real seconds are one 300-second period
    assert clock.to_heron(ANCHOR + 1) == ANCHOR + 60
    assert clock.to_heron_ms(int((ANCHOR + 2) * 1000)) == int((ANCHOR + 120) * 1000)
    assert clock.real_delay(60) == 1.0


def test_scale_one_is_plain_real_time_and_nonpositive_scales_are_refused() -> None:
    import time

    assert make_clock(1) is time.time
    assert isinstance(make_clock(10), ScaledClock)
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(0)


def test_the_sink_rescales_every_timestamp_including_emf_inside_messages() -> None:
    real, inner = Real(), Recording()
    sink = TimeScaledSink(inner, ScaledClock(10, real=real))
    at_ms = int((ANCHOR + 3) * 1000)
    emf = json.dumps({"_aws": {"Timestamp": at_ms, "CloudWatchMetrics": []}, "X": 1})
    sink.put_log_events([LogEvent("g", "s", at_ms, "plain"), LogEvent("g", "s", at_ms, emf)])
    sink.put_metric_data([MetricDatum("N", "m", 1.0, timestamp_ms=at_ms)])
    sink.put_samples([Sample("N", "m", (), at_ms, (1.0,))])
    want = int((ANCHOR + 30) * 1000)
    assert [e.timestamp_ms for e in inner.logs] == [want, want]
    assert inner.logs[0].message == "plain"
    assert json.loads(inner.logs[1].message)["_aws"]["Timestamp"] == want
    assert inner.datums[0].timestamp_ms == want and inner.samples[0].timestamp_ms == want
    sink.flush()
    sink.close()
    assert inner.flushed and inner.closed


def test_messages_that_are_not_emf_pass_through_unchanged() -> None:
    clock = ScaledClock(10, real=Real())
    for message in ('{"_aws": "not an object"}', '{"_aws": {"Timestamp": "x"}}', "{broken _aws"):
        assert rescale_emf(message, clock) == message

"""The demo's incident timetable: an error burst, recovery, a 17-minute latency phase."""

from __future__ import annotations

import pytest

from heron.load.incidents import (
    ERRORS,
    FIRST_INCIDENT_AT_S,
    INJECT_ERROR_HEADER,
    INJECT_LATENCY_HEADER,
    LATENCY,
    MIN_INTERVAL_S,
    NORMAL,
    apply_phase,
    phase_at,
)
from heron.settings import MIN_INCIDENT_INTERVAL_S

INTERVAL = 1800.0


@pytest.mark.parametrize(
    ("elapsed", "phase"),
    [
        (0.0, NORMAL),
        (FIRST_INCIDENT_AT_S - 1, NORMAL),
        (FIRST_INCIDENT_AT_S, ERRORS),
        (FIRST_INCIDENT_AT_S + 59, ERRORS),
        (FIRST_INCIDENT_AT_S + 60, NORMAL),
        (FIRST_INCIDENT_AT_S + 420, LATENCY),
        (FIRST_INCIDENT_AT_S + 1439, LATENCY),
        (FIRST_INCIDENT_AT_S + 1440, NORMAL),
        (FIRST_INCIDENT_AT_S + INTERVAL, ERRORS),  # the next cycle
    ],
)
def test_the_timetable(elapsed: float, phase: object) -> None:
    assert phase_at(elapsed, INTERVAL) == phase


def test_latency_phase_covers_three_whole_periods_at_any_minute_alignment() -> None:
    start, end = 420.0, 1440.0
    # HighLatency needs three 300 s periods entirely inside the phase, ending on a minute boundary.
    assert end - start >= 3 * 300 + 60
    assert int(LATENCY.headers[INJECT_LATENCY_HEADER]) > 1000


def test_no_incidents_at_interval_zero_and_short_intervals_are_refused() -> None:
    assert phase_at(FIRST_INCIDENT_AT_S, 0) == NORMAL
    with pytest.raises(ValueError, match="at least 1500"):
        phase_at(FIRST_INCIDENT_AT_S, 600)
    assert MIN_INCIDENT_INTERVAL_S == MIN_INTERVAL_S


def test_apply_phase_swaps_the_headers() -> None:
    headers = {"user-agent": "x"}
    apply_phase(headers, ERRORS)
    assert headers[INJECT_ERROR_HEADER] == "1"
    apply_phase(headers, LATENCY)
    assert INJECT_ERROR_HEADER not in headers and INJECT_LATENCY_HEADER in headers
    apply_phase(headers, NORMAL)
    assert headers == {"user-agent": "x"}

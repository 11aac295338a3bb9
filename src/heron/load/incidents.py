"""The demo's staged incidents: when to inject handler errors and latency, as a pure timetable.

Every ``interval_s`` (Heron seconds, see ``time_scale``) the demo stages one incident cycle:

1. an **error burst** (60 s): every HTTP request carries ``x-heron-inject-error: 1``, so handlers
   raise, ``AWS/Lambda Errors`` counts them and the seed's ``LambdaErrors`` alarm (Sum over 300 s
   > 0) goes to ALARM; five minutes of normal traffic later it is back to OK;
2. a **latency phase** (17 min): every HTTP request carries ``x-heron-inject-latency-ms: 1500``,
   so the HTTP API's ``Latency`` averages about 1.5 s and ``HighLatency`` (Average over three
   300-second periods > 1000 ms) goes to ALARM once three whole periods lie inside the phase, and
   back to OK a few minutes after it ends.

The first cycle starts two minutes in, so the alarms have seen healthy traffic first.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field

INJECT_ERROR_HEADER = "x-heron-inject-error"
INJECT_LATENCY_HEADER = "x-heron-inject-latency-ms"
#: Heron seconds from the start of the demo to the first incident.
FIRST_INCIDENT_AT_S = 120.0
#: The error burst: [0, ERROR_BURST_S) of each cycle.
ERROR_BURST_S = 60.0
#: The latency phase: [LATENCY_START_S, LATENCY_END_S) of each cycle; 17 minutes cover three
#: whole 300-second periods wherever the minute boundaries fall, plus the data still in flight.
LATENCY_START_S = 420.0
LATENCY_END_S = LATENCY_START_S + 1020.0
#: Injected latency: comfortably above HighLatency's 1000 ms, well below the 10 s clamp.
INJECTED_LATENCY_MS = 1500
#: The shortest cycle: both phases plus time for HighLatency to return to OK.
MIN_INTERVAL_S = 1500.0


@dataclass(frozen=True, slots=True)
class Phase:
    """What the demo does now: ``normal``, ``errors`` or ``latency``, and the headers to send."""

    name: str
    headers: dict[str, str] = field(default_factory=dict)


NORMAL = Phase("normal")
ERRORS = Phase("errors", {INJECT_ERROR_HEADER: "1"})
LATENCY = Phase("latency", {INJECT_LATENCY_HEADER: str(INJECTED_LATENCY_MS)})


def phase_at(elapsed_s: float, interval_s: float) -> Phase:
    """The phase ``elapsed_s`` Heron seconds after the demo started (``interval_s`` 0: never)."""
    if interval_s <= 0 or elapsed_s < FIRST_INCIDENT_AT_S:
        return NORMAL
    if interval_s < MIN_INTERVAL_S:
        raise ValueError(
            f"incident interval must be at least {MIN_INTERVAL_S:g} s, got {interval_s:g}"
        )
    into = (elapsed_s - FIRST_INCIDENT_AT_S) % interval_s
    if into < ERROR_BURST_S:
        return ERRORS
    if LATENCY_START_S <= into < LATENCY_END_S:
        return LATENCY
    return NORMAL


#: What each phase makes happen, in words a newcomer can follow.
PHASE_STORY = {
    "errors": (
        f"handler errors for {ERROR_BURST_S:g} s: LambdaErrors goes to ALARM (critical, topic"
        " `alerts`, delivered at once) and back to OK about five minutes after the burst"
    ),
    "latency": (
        f"{INJECTED_LATENCY_MS} ms latency for {(LATENCY_END_S - LATENCY_START_S) / 60:g} min:"
        " HighLatency goes to ALARM (warning, topic `warnings`: outside business hours it waits"
        " for them)"
    ),
    "normal": "traffic is healthy again; the alarms return to OK (resolutions follow)",
}


def apply_phase(headers: MutableMapping[str, str], phase: Phase) -> None:
    """Set ``phase``'s injection headers in ``headers`` and remove the other phase's."""
    for name in (INJECT_ERROR_HEADER, INJECT_LATENCY_HEADER):
        if name in phase.headers:
            headers[name] = phase.headers[name]
        else:
            headers.pop(name, None)

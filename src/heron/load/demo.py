"""Gentle, never-ending demo traffic for ``heron up --demo``.

A handful of demo users sign up, pair up over WebSocket and chat, read profiles, history and
notifications, and now and then send a bad request so the error metrics are not flat. Operations
arrive as a Poisson process at ``rate`` per second. With ``incident_interval_s`` the demo also
stages incidents (``heron.load.incidents``: an error burst, then a latency phase) so the seed's
alarms have something to say. Nothing here may take the server down: every failure is logged and
retried with exponential backoff until ``stop`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import sys
import time
from collections.abc import Callable

import httpx

from heron.load.client import ApiClient
from heron.load.generator import REQUEST_TIMEOUT_S, connect_pairs, perform_one
from heron.load.incidents import (
    FIRST_INCIDENT_AT_S,
    NORMAL,
    PHASE_STORY,
    Phase,
    apply_phase,
    phase_at,
)
from heron.load.summary import Recorder
from heron.types import Clock

logger = logging.getLogger("heron.load.demo")

#: The demo cast; each run adds a short random suffix so names never collide with earlier runs.
DEMO_NAMES = ("ada", "grace", "alan", "barbara", "edsger", "margaret")
#: The demo mix: share of chat over WebSocket and share of deliberately bad requests.
DEMO_WS_FRACTION = 0.4
DEMO_ERROR_RATE = 0.03
#: Backoff between attempts while the server is not (or no longer) answering.
INITIAL_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
#: This many operations in a row failing to reach the server restarts the session.
MAX_CONSECUTIVE_FAILURES = 5
#: Demo operations in flight at once, so a stalled server cannot make tasks pile up.
MAX_IN_FLIGHT = 16
#: An instant inside the first incident cycle, used to check the interval up front.
FIRST_INCIDENT_CHECK_S = 1e9


class ServerUnavailable(Exception):
    """The server did not answer well enough for the demo session to go on."""


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))


async def run_demo(
    base_url: str,
    stop: asyncio.Event,
    *,
    rate: float = 5.0,
    users: int = 4,
    clock: Clock = time.monotonic,
    seed: int | None = None,
    incident_interval_s: float = 0.0,
    time_scale: float = 1.0,
    announce: Callable[[Phase], None] | None = None,
) -> None:
    """Send demo traffic to ``base_url`` until ``stop`` is set; never raises for server trouble.

    ``incident_interval_s`` (Heron seconds, 0 for none) stages an incident cycle that often;
    ``time_scale`` is Heron seconds per real second, so the timetable follows the monitor's clock.
    ``announce`` is told of every incident phase as it begins (``heron up`` prints it).
    """
    if rate <= 0 or users < 2:
        raise ValueError(f"demo needs rate > 0 and at least 2 users, got rate={rate} users={users}")
    if time_scale <= 0:
        raise ValueError(f"time scale must be above 0, got {time_scale}")
    phase_at(FIRST_INCIDENT_CHECK_S, incident_interval_s)  # a too-short interval fails here
    _quiet_request_logs()
    rng = random.Random(seed)
    backoff = INITIAL_BACKOFF_S
    begun = clock()

    def phase() -> Phase:
        return phase_at((clock() - begun) * time_scale, incident_interval_s)

    while not stop.is_set():
        started = clock()
        try:
            await _demo_session(
                base_url, stop, rate=rate, users=users, clock=clock, rng=rng, phase=phase,
                announce=announce,
            )  # fmt: skip
        except Exception as exc:
            # A session that ran a while before failing was healthy: start the backoff afresh.
            if clock() - started > MAX_BACKOFF_S:
                backoff = INITIAL_BACKOFF_S
            logger.warning(
                "demo traffic paused (%s: %s); retrying in %.1f s",
                type(exc).__name__,
                exc,
                backoff,
            )
            await _sleep_or_stop(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)


def demo_banner(incident_interval_s: float, time_scale: float) -> str:
    """The start-up lines that tell a newcomer what the demo does and where to watch it."""
    if incident_interval_s <= 0:
        return "heron: demo             traffic only (demo_incident_interval_s = 0: no incidents)"
    real = f"every {incident_interval_s / time_scale:g} real s, " if time_scale != 1 else ""
    return (
        f"heron: demo             an incident every {incident_interval_s:g} s ({real}the first"
        f" {FIRST_INCIDENT_AT_S:g} s in): errors, then latency\n"
        "heron:   watch it: heron alarms list; heron notify inbox; heron notify explain"
        " LambdaErrors"
    )


def announce_phase(phase: Phase) -> None:
    """Print the demo incident phase that just began (``heron up --demo``'s announcer)."""
    story = PHASE_STORY.get(phase.name, phase.name)
    print(f"heron: demo incident: {story}; see `heron notify inbox`", file=sys.stderr, flush=True)


def _quiet_request_logs() -> None:
    # httpx logs every request at INFO; a few demo requests a second would drown the server's own
    # log. Only a level nobody has set is changed, so an explicit choice still wins.
    http_logger = logging.getLogger("httpx")
    if http_logger.level == logging.NOTSET:
        http_logger.setLevel(logging.WARNING)


def _reach_failures(recorder: Recorder) -> int:
    return recorder.errors.get("connect", 0) + recorder.errors.get("transport", 0)


async def _demo_session(
    base_url: str,
    stop: asyncio.Event,
    *,
    rate: float,
    users: int,
    clock: Clock,
    rng: random.Random,
    phase: Callable[[], Phase] = lambda: NORMAL,
    announce: Callable[[Phase], None] | None = None,
) -> None:
    """One demo session: sign up, connect, and send traffic until stop or the server goes away."""
    recorder = Recorder(keep_samples=False)
    suffix = secrets.token_hex(2)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=REQUEST_TIMEOUT_S, headers={"user-agent": "heron-demo"}
    ) as http:
        api = ApiClient(http, recorder, clock)
        cast = [DEMO_NAMES[i % len(DEMO_NAMES)] for i in range(users)]
        signed = [
            await api.sign_up(f"demo{name}{suffix}{i}", f"{name.title()} (demo)")
            for i, name in enumerate(cast)
        ]
        sim_users = [u for u in signed if u is not None]
        if len(sim_users) < 2:
            kinds = ", ".join(f"{k} {n}" for k, n in recorder.errors.items()) or "sign-up refused"
            raise ServerUnavailable(f"could not sign up demo users at {base_url} ({kinds})")
        pairs = await connect_pairs(base_url, sim_users, recorder, clock)
        logger.info(
            "demo traffic running: %d users, %d WebSocket pairs, %.1f ops/s",
            len(sim_users),
            len(pairs),
            rate,
        )
        in_flight: set[asyncio.Task[None]] = set()
        consecutive = 0
        current = NORMAL

        async def one() -> None:
            nonlocal consecutive
            before = _reach_failures(recorder)
            await perform_one(
                api,
                rng,
                sim_users,
                pairs,
                ws_fraction=DEMO_WS_FRACTION,
                error_rate=DEMO_ERROR_RATE,
            )
            consecutive = consecutive + 1 if _reach_failures(recorder) > before else 0

        try:
            while not stop.is_set():
                if consecutive >= MAX_CONSECUTIVE_FAILURES:
                    raise ServerUnavailable(f"{consecutive} requests in a row got no answer")
                now_phase = phase()
                if now_phase is not current:
                    # The client's headers go on every request built from now on.
                    apply_phase(http.headers, now_phase)
                    logger.info("demo incident phase: %s", now_phase.name)
                    if announce is not None:
                        announce(now_phase)
                    current = now_phase
                if len(in_flight) < MAX_IN_FLIGHT:
                    task = asyncio.create_task(one())
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                await _sleep_or_stop(stop, rng.expovariate(rate))
        finally:
            for task in list(in_flight):
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
            for a, b in pairs:
                await a.close()
                await b.close()

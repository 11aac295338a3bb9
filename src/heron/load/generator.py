"""The open-loop load generator behind ``heron load``.

Simulated users sign up and WebSocket pairs connect; then operations of the mix run on an
open-loop schedule at the target rate (``heron.load.schedule``), bounded in count and time, and
the run stops by itself with a ``LoadSummary``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from heron.errors import HeronError
from heron.load.chat import DELIVERY_TIMEOUT_S, ChatConnection, send_chat_message
from heron.load.client import (
    INJECT_LATENCY_HEADER,
    ApiClient,
    SimUser,
    choose_operation,
    make_username,
)
from heron.load.progress import Progress
from heron.load.schedule import every, run_open_loop
from heron.load.summary import LoadSummary, Recorder
from heron.types import Clock

#: Per-request timeout; also bounds how long the run waits for stragglers after the last launch.
REQUEST_TIMEOUT_S = 10.0
#: Sign-ups and WebSocket connects run with at most this many at once.
SETUP_CONCURRENCY = 8


T = TypeVar("T")


class LoadError(HeronError):
    """A load run could not start: bad parameters or no user could sign up."""


def is_loopback_url(url: str) -> bool:
    """Whether a URL's host is this machine (localhost or a loopback address); no DNS lookup."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_parameters(
    base_url: str,
    *,
    users: int,
    rate: float,
    duration_s: float,
    ws_fraction: float,
    error_rate: float,
    latency_injection_ms: float,
    max_in_flight: int,
    error_injection_rate: float = 0.0,
) -> None:
    """Raise ``LoadError`` naming the first parameter that is out of range."""
    parts = urlsplit(base_url)
    checks = [
        (
            parts.scheme in ("http", "https") and bool(parts.hostname),
            f"url must be an http:// or https:// URL with a host, got {base_url!r}",
        ),
        (users >= 1, f"users must be at least 1, got {users}"),
        (math.isfinite(rate) and rate > 0, f"rate must be a positive number of ops/s, got {rate}"),
        (
            math.isfinite(duration_s) and duration_s > 0,
            f"duration must be a positive number of seconds, got {duration_s}",
        ),
        (0.0 <= ws_fraction <= 1.0, f"ws-fraction must be between 0 and 1, got {ws_fraction}"),
        (0.0 <= error_rate <= 1.0, f"error-rate must be between 0 and 1, got {error_rate}"),
        (
            latency_injection_ms >= 0,
            f"latency injection must be >= 0 ms, got {latency_injection_ms}",
        ),
        (max_in_flight >= 1, f"max in-flight must be at least 1, got {max_in_flight}"),
        (
            0.0 <= error_injection_rate <= 1.0,
            f"inject-error-rate must be between 0 and 1, got {error_injection_rate}",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise LoadError(message)


async def _bounded(limit: int, jobs: list[Awaitable[T]]) -> list[T | BaseException]:
    # Coroutines only start running when awaited, so the semaphore really bounds concurrency.
    semaphore = asyncio.Semaphore(limit)

    async def run(job: Awaitable[T]) -> T:
        async with semaphore:
            return await job

    return list(await asyncio.gather(*(run(job) for job in jobs), return_exceptions=True))


async def sign_up_users(api: ApiClient, prefix: str, count: int) -> list[SimUser]:
    """Sign up ``count`` users with unique names, a few at a time; returns those that succeeded."""
    results = await _bounded(
        SETUP_CONCURRENCY,
        [api.sign_up(make_username(prefix, n)) for n in range(count)],
    )
    return [user for user in results if isinstance(user, SimUser)]


async def connect_pairs(
    base_url: str, users: list[SimUser], recorder: Recorder, clock: Clock
) -> list[tuple[ChatConnection, ChatConnection]]:
    """Connect users two by two over WebSocket; a pair with a failed side is dropped (and closed)."""
    paired = users[: len(users) // 2 * 2]
    results = await _bounded(
        SETUP_CONCURRENCY,
        [ChatConnection.open(base_url, u, recorder, clock) for u in paired],
    )
    pairs = []
    for a, b in zip(results[0::2], results[1::2], strict=True):
        if isinstance(a, ChatConnection) and isinstance(b, ChatConnection):
            pairs.append((a, b))
            continue
        for side in (a, b):
            if isinstance(side, ChatConnection):
                await side.close()
            else:
                recorder.error("ws_connect_failed")
    return pairs


async def perform_one(
    api: ApiClient,
    rng: random.Random,
    users: list[SimUser],
    pairs: list[tuple[ChatConnection, ChatConnection]],
    *,
    ws_fraction: float,
    error_rate: float,
    delivery_timeout_s: float = DELIVERY_TIMEOUT_S,
) -> None:
    """Choose and run one operation of the mix; never raises (surprises are counted as errors)."""
    open_pairs = [p for p in pairs if not (p[0].closed or p[1].closed)]
    name = choose_operation(
        rng, ws_fraction=ws_fraction, error_rate=error_rate, ws_available=bool(open_pairs)
    )
    try:
        if name == "ws_send":
            a, b = rng.choice(open_pairs)
            sender, recipient = (a, b) if rng.random() < 0.5 else (b, a)
            await send_chat_message(
                sender, recipient, api.recorder, api.clock, timeout_s=delivery_timeout_s
            )
            return
        actor, peer = rng.sample(users, 2) if len(users) >= 2 else (users[0], users[0])
        await api.perform(name, actor, peer, rng)
    except Exception as exc:  # a client-side surprise (say, a non-JSON body) is data too
        api.recorder.error(f"client_{type(exc).__name__}")


async def run_load(
    base_url: str,
    *,
    users: int,
    rate: float,
    duration_s: float,
    ws_fraction: float,
    error_rate: float = 0.0,
    latency_injection_ms: float = 0.0,
    error_injection_rate: float = 0.0,
    progress: Callable[[Progress], None] | None = None,
    clock: Clock = time.monotonic,
    max_in_flight: int = 256,
    progress_interval_s: float = 1.0,
    seed: int | None = None,
    delivery_timeout_s: float = DELIVERY_TIMEOUT_S,
) -> LoadSummary:
    """Run one bounded load against the app port at ``base_url`` and return what it measured.

    ``rate`` is total operations per second; ``ws_fraction`` of the well-formed ones are WebSocket
    chat messages (when at least one pair connected) and ``error_rate`` of all of them are
    deliberately malformed requests that must be rejected with a 4xx. ``latency_injection_ms`` > 0
    sends the ``x-heron-inject-latency-ms`` header on every request, which a service may honour to
    add latency (Heron's demo-fault hook); it changes nothing on the client side.
    ``error_injection_rate`` of the well-formed requests carry ``x-heron-inject-error: 1``, which
    a service with fault injection on answers by failing the handler. ``clock`` must
    be monotonic seconds: it times the schedule and every latency sample. A WebSocket message not
    delivered within ``delivery_timeout_s`` counts as a ``ws_delivery_timeout`` error.
    """
    validate_parameters(
        base_url,
        users=users,
        rate=rate,
        duration_s=duration_s,
        ws_fraction=ws_fraction,
        error_rate=error_rate,
        latency_injection_ms=latency_injection_ms,
        max_in_flight=max_in_flight,
        error_injection_rate=error_injection_rate,
    )
    rng = random.Random(seed)
    recorder = Recorder()
    headers = {"user-agent": "heron-load"}
    if delivery_timeout_s <= 0:
        raise LoadError(f"delivery timeout must be positive, got {delivery_timeout_s}")
    if latency_injection_ms > 0:
        headers[INJECT_LATENCY_HEADER] = f"{latency_injection_ms:g}"
    limits = httpx.Limits(
        max_connections=min(max_in_flight, 100), max_keepalive_connections=min(max_in_flight, 100)
    )
    setup_start = clock()
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=REQUEST_TIMEOUT_S
    ) as http:
        api = ApiClient(
            http, recorder, clock, rng=random.Random(None if seed is None else seed + 1)
        )
        sim_users = await sign_up_users(api, secrets.token_hex(3), users)
        # Sign-up is setup, not load: errors are injected into the measured operations only.
        api.inject_error_rate = error_injection_rate
        if not sim_users:
            kinds = ", ".join(recorder.errors) or "no response"
            raise LoadError(
                f"no simulated user could sign up at {base_url} ({kinds}); is `heron up` running?"
            )
        pairs = []
        if ws_fraction > 0 and len(sim_users) >= 2:
            pairs = await connect_pairs(base_url, sim_users, recorder, clock)
        notes = []
        if len(sim_users) < users:
            notes.append(f"only {len(sim_users)} of {users} users signed up")
        if ws_fraction > 0 and not pairs:
            notes.append("no WebSocket pair connected; the mix ran HTTP operations only")
        setup_s = clock() - setup_start

        async def one_operation() -> None:
            await perform_one(
                api,
                rng,
                sim_users,
                pairs,
                ws_fraction=ws_fraction,
                error_rate=error_rate,
                delivery_timeout_s=delivery_timeout_s,
            )

        def report(final: bool = False) -> None:
            if progress is not None:
                elapsed = clock() - start
                progress(
                    Progress(
                        elapsed_s=elapsed,
                        duration_s=duration_s,
                        ops=recorder.completed,
                        ops_per_s=recorder.completed / elapsed if elapsed > 0 else 0.0,
                        p99_ms=recorder.recent_p99_ms(),
                        errors=recorder.error_count,
                        final=final,
                    )
                )

        start = clock()
        reporter = asyncio.create_task(every(progress_interval_s, report))
        try:
            result = await run_open_loop(
                one_operation,
                rate=rate,
                duration_s=duration_s,
                max_in_flight=max_in_flight,
                clock=clock,
                grace_s=REQUEST_TIMEOUT_S + 1.0,
            )
        finally:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
            for a, b in pairs:
                await a.close()
                await b.close()
        for _ in range(result.unfinished):
            recorder.error("unfinished")
        report(final=True)

    return recorder.summarize(
        base_url=base_url,
        users=len(sim_users),
        ws_pairs=len(pairs),
        target_rate=rate,
        duration_s=duration_s,
        elapsed_s=result.elapsed_s,
        setup_s=setup_s,
        scheduled=result.scheduled,
        skipped=result.skipped,
        notes=tuple(notes),
    )

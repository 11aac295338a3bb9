"""One function's execution environments: which are idle, which are busy, which are provisioned.

Bookkeeping only; spawning, invoking and killing happen in ``runtime``. Idle on-demand
environments are kept most-recently-used last, so reuse takes the warmest one and the idle reaper
finds the coldest ones first. Provisioned environments are used before on-demand ones and are
never reaped.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from heron.runtime.environment import ExecutionEnvironment
from heron.types import FunctionSpec


@dataclass(frozen=True, slots=True)
class EnvironmentInfo:
    """A read-only view of one environment, for tests, the CLI and the dashboard."""

    pid: int | None
    log_stream: str
    provisioned: bool
    busy: bool
    last_used: float
    max_rss_kb: int


class FunctionPool:
    """The environments of one function and its in-flight count."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self.in_flight = 0
        self._idle: list[ExecutionEnvironment] = []
        self._idle_provisioned: list[ExecutionEnvironment] = []
        self._busy: set[ExecutionEnvironment] = set()
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def alive(self) -> int:
        """Environments that exist, idle or busy."""
        return len(self._idle) + len(self._idle_provisioned) + len(self._busy)

    async def wait_for_release(self) -> None:
        """Wait until an environment is returned to the idle set or discarded."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return

    @property
    def provisioned_configured(self) -> int:
        """The function's configured provisioned concurrency."""
        return self.spec.provisioned_concurrency

    @property
    def provisioned_busy(self) -> int:
        """Provisioned environments currently running an invocation."""
        return sum(1 for env in self._busy if env.provisioned)

    @property
    def provisioned_alive(self) -> int:
        """Provisioned environments that exist (idle or busy)."""
        return len(self._idle_provisioned) + self.provisioned_busy

    def acquire_idle(self) -> ExecutionEnvironment | None:
        """Take a warm environment (provisioned first, then the most recently used), or None."""
        for stack in (self._idle_provisioned, self._idle):
            while stack:
                env = stack.pop()
                if env.alive:
                    self._busy.add(env)
                    return env
        return None

    def mark_busy(self, env: ExecutionEnvironment) -> None:
        """Record a freshly spawned environment as serving an invocation."""
        self._busy.add(env)

    def add_idle(self, env: ExecutionEnvironment, now: float) -> None:
        """Put a ready environment (new provisioned one, or one done with its work) in the idle set."""
        self._busy.discard(env)
        env.last_used = now
        (self._idle_provisioned if env.provisioned else self._idle).append(env)
        self._wake_one()

    def discard(self, env: ExecutionEnvironment) -> None:
        """Forget an environment that died or is being shut down."""
        self._busy.discard(env)
        for stack in (self._idle, self._idle_provisioned):
            if env in stack:
                stack.remove(env)
        self._wake_one()

    def take_expired(self, now: float, idle_timeout_s: float) -> list[ExecutionEnvironment]:
        """Remove and return on-demand environments idle for at least ``idle_timeout_s``."""
        expired = [env for env in self._idle if now - env.last_used >= idle_timeout_s]
        if expired:
            self._idle = [env for env in self._idle if env not in expired]
        return expired

    def take_all(self) -> list[ExecutionEnvironment]:
        """Remove and return every environment (for shutdown)."""
        everything = [*self._idle, *self._idle_provisioned, *self._busy]
        self._idle, self._idle_provisioned, self._busy = [], [], set()
        return everything

    def describe(self) -> list[EnvironmentInfo]:
        """A snapshot of every environment of this function."""
        return [
            EnvironmentInfo(
                pid=env.pid,
                log_stream=env.log_stream,
                provisioned=env.provisioned,
                busy=busy,
                last_used=env.last_used,
                max_rss_kb=env.max_rss_kb,
            )
            for envs, busy in (
                (self._idle_provisioned, False),
                (self._idle, False),
                (list(self._busy), True),
            )
            for env in envs
        ]

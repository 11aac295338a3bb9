"""``LambdaRuntime``: invokes functions by name in pooled execution environments, as Lambda does.

Per invocation it admits or throttles (account and reserved concurrency), reuses a warm
environment or cold-starts a new one, runs the handler under the function timeout, writes
Lambda's log lines (INIT_START, START, the handler's output, END, REPORT) to the function's log
group, and aggregates the ``AWS/Lambda`` platform metrics (and the handlers' ``AWS/DynamoDB``
table metrics) per series and second; ``start()`` runs a task that hands finished seconds to the
sink every ``metrics_interval_s``, ``flush_metrics()`` and ``close()`` hand over everything.
Provisioned environments are started by ``start()``; on-demand environments idle longer than
``idle_timeout_s`` are reaped so cold starts recur.

Wall-clock time for deadlines and durations is real time; ``clock`` stamps log events and
datums and drives idle reaping, so tests can move it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any

from heron.errors import FunctionNotFoundError, RuntimeLayerError, TooManyRequestsError
from heron.runtime import concurrency, outcall, platform_logs, platform_metrics
from heron.runtime.environment import (
    ExecutionEnvironment,
    InitializationType,
    InitOutcome,
    Invocation,
)
from heron.runtime.invocation_records import (
    LogLines,
    init_failure_lines_and_facts,
    invocation_lines_and_facts,
    ms,
    trace_id,
)
from heron.runtime.invoker import CallHandler, InvokeResult
from heron.runtime.pool import EnvironmentInfo, FunctionPool
from heron.telemetry.aggregator import MetricAggregator
from heron.types import Clock, Event, FunctionSpec, TelemetrySink
from heron.wakeups import IDLE_WAKE_S, Wakeable, sleep_on_grid

_log = logging.getLogger(__name__)


class LambdaRuntime:
    """The Lambda service for a set of functions; implements the ``Invoker`` protocol."""

    def __init__(
        self,
        functions: Sequence[FunctionSpec],
        sink: TelemetrySink,
        *,
        env: Mapping[str, str],
        account_concurrency: int = 1000,
        idle_timeout_s: float = 300,
        clock: Clock = time.time,
        reap_interval_s: float | None = None,
        account_id: str = "000000000000",
        max_environments: int = 0,
        metrics_interval_s: float = 1.0,
    ) -> None:
        self._limits = concurrency.validate_functions(functions, account_concurrency)
        if idle_timeout_s <= 0:
            raise RuntimeLayerError(f"idle_timeout_s must be positive, got {idle_timeout_s}")
        if metrics_interval_s <= 0:
            raise RuntimeLayerError(
                f"metrics_interval_s must be positive, got {metrics_interval_s}"
            )
        self._pools = {spec.name: FunctionPool(spec) for spec in functions}
        self._sink = sink
        self._env = dict(env)
        self._region = self._env.get("AWS_REGION", "us-east-1")
        self._account_id = account_id
        self._idle_timeout_s = idle_timeout_s
        # A local-only cap (0 = none, as on AWS): past it, invocations wait for a warm environment
        # instead of spawning more processes than this machine's cores can run.
        self._max_environments = max_environments
        self._reap_interval_s = reap_interval_s or min(60.0, idle_timeout_s / 2)
        self._clock = clock
        self._in_flight: dict[str, int] = {spec.name: 0 for spec in functions}
        self._any_provisioned = any(spec.provisioned_concurrency > 0 for spec in functions)
        self._aggregator = MetricAggregator(clock)
        self._metrics = {
            spec.name: platform_metrics.LambdaMetrics(
                self._aggregator, spec.name, provisioned_configured=spec.provisioned_concurrency > 0
            )
            for spec in functions
        }
        self._metrics_interval_s = metrics_interval_s
        self._invoked = Wakeable()
        self._background: set[asyncio.Task[None]] = set()
        #: Environments being killed and reaped (see ``_shutdown``).
        self._stopping: set[asyncio.Future[None]] = set()
        self._reaper: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._closed = False
        self._services: dict[str, CallHandler] = {}

    def serve_calls(self, service: str, handler: CallHandler) -> None:
        """Answer the handlers' out-calls to ``service`` (e.g. ``connections``) with ``handler``.

        Environments started earlier pick it up too: they all ask the runtime per call.
        """
        self._services[service] = handler

    async def _answer_call(self, call: dict[str, Any]) -> dict[str, Any]:
        handler = self._services.get(str(call.get("service")))
        if handler is None:
            return {"status": outcall.UNAVAILABLE}
        return await handler(call)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Pre-warm provisioned environments and start the idle reaper."""
        await asyncio.gather(
            *(
                self._provision(pool)
                for pool in self._pools.values()
                for _ in range(pool.provisioned_configured)
            )
        )
        if self._reaper is None:
            self._reaper = asyncio.create_task(self._reap_periodically(), name="heron-reaper")
        if self._flusher is None:
            self._flusher = asyncio.create_task(
                self._flush_periodically(), name="heron-runtime-metrics"
            )

    async def close(self) -> None:
        """Stop the reaper, kill every environment and hand all metrics to the sink; later
        invokes raise RuntimeLayerError."""
        self._closed = True
        tasks = [t for t in (self._reaper, self._flusher, *self._background) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        envs = [env for pool in self._pools.values() for env in pool.take_all()]
        await asyncio.gather(*(self._shutdown(env) for env in envs))
        if self._stopping:  # shutdowns begun by tasks cancelled above
            await asyncio.gather(*list(self._stopping), return_exceptions=True)
        self.flush_metrics()

    def flush_metrics(self, now: float | None = None) -> int:
        """Hand aggregated metrics to the sink: all of them, or with ``now`` only the seconds
        finished by then; how many samples. A failing sink is logged, never raised."""
        samples = self._aggregator.drain(now)
        if samples:
            try:
                self._sink.put_samples(samples)
            except Exception:  # telemetry must never fail an invocation or a shutdown
                _log.exception("the telemetry sink rejected %d samples", len(samples))
        return len(samples)

    async def reap_idle(self, now: float) -> int:
        """Shut down on-demand environments idle for ``idle_timeout_s`` at ``now``; how many."""
        expired = [
            env
            for pool in self._pools.values()
            for env in pool.take_expired(now, self._idle_timeout_s)
        ]
        await asyncio.gather(*(self._shutdown(env) for env in expired))
        return len(expired)

    def environments(self, function_name: str) -> list[EnvironmentInfo]:
        """A snapshot of a function's environments."""
        return self._pool(function_name).describe()

    # -- invoke ----------------------------------------------------------------------------

    async def invoke(self, function_name: str, event: Event) -> InvokeResult:
        """Invoke ``function_name`` synchronously; raises TooManyRequestsError when throttled."""
        pool = self._pool(function_name)
        if self._closed:
            raise RuntimeLayerError("the Lambda runtime is closed")
        started_at = self._clock()
        self._invoked.wake()  # the metric flusher may be in its idle sleep
        reason = concurrency.throttle_reason(function_name, self._in_flight, self._limits)
        if reason is not None:
            self._metrics[function_name].throttle(started_at)
            raise TooManyRequestsError(function_name, reason)
        # Admission and the in-flight increment happen without an await in between, so
        # concurrent invokes cannot both take the last unit of concurrency.
        self._in_flight[function_name] += 1
        pool.in_flight += 1
        try:
            return await self._run(pool, event, started_at)
        finally:
            self._in_flight[function_name] -= 1
            pool.in_flight -= 1

    async def _run(self, pool: FunctionPool, event: Event, started_at: float) -> InvokeResult:
        spec = pool.spec
        request_id = str(uuid.uuid4())
        group = platform_logs.log_group_name(spec.name)
        env = await self._acquire(pool)
        cold = env is None
        if env is None:
            env = self._new_environment(spec, "on-demand")
            pool.mark_busy(env)
        lines = LogLines(group, env.log_stream, [])
        init: InitOutcome | None = None
        try:
            if cold:
                lines.add(ms(self._clock()), platform_logs.init_start_line(self._region))
                init = await env.start(request_id=request_id)
                lines.add(ms(self._clock()), *init.logs)
            snapshot = self._snapshot(pool)
            if init is not None and not init.ok:
                pool.discard(env)
                env.close()
                return self._init_failed(pool, env, request_id, init, lines, snapshot, started_at)
            lines.add(ms(self._clock()), platform_logs.start_line(request_id))
            invocation = await env.invoke(request_id, event, trace_id=trace_id(started_at))
        except BaseException:
            # Cancelled or broken mid-invocation: the environment's state is unknown, so it goes.
            pool.discard(env)
            await self._shutdown(env)
            raise
        if self._closed:
            # ``close`` ran while this environment was still starting or busy: it may have
            # missed the process (spawned after its sweep), so this invocation ends it.
            pool.discard(env)
            await self._shutdown(env)
        else:
            self._settle(pool, env, invocation)
        self._record(pool, env, request_id, invocation, init, lines, snapshot, started_at)
        return InvokeResult(
            request_id=request_id,
            payload=invocation.payload,
            error=invocation.error,
            duration_ms=invocation.duration_ms,
            init_duration_ms=init.init_ms if init is not None else None,
        )

    async def _acquire(self, pool: FunctionPool) -> ExecutionEnvironment | None:
        """A warm environment, or None when a new one may be spawned (waits at the local cap)."""
        while True:
            env = pool.acquire_idle()
            if env is not None:
                return env
            if self._max_environments <= 0 or pool.alive < self._max_environments:
                return None
            await pool.wait_for_release()

    def _record(
        self,
        pool: FunctionPool,
        env: ExecutionEnvironment,
        request_id: str,
        invocation: Invocation,
        init: InitOutcome | None,
        lines: LogLines,
        snapshot: platform_metrics.ConcurrencySnapshot,
        started_at: float,
    ) -> None:
        """Write the invocation's log lines and publish its metrics."""
        end_ms = ms(self._clock())
        facts = invocation_lines_and_facts(
            pool.spec, env.provisioned, request_id, invocation, init, lines, end_ms, started_at
        )
        self._sink.put_log_events(lines.events)
        self._publish(pool, facts, snapshot, invocation.table_ops)

    def _init_failed(
        self,
        pool: FunctionPool,
        env: ExecutionEnvironment,
        request_id: str,
        init: InitOutcome,
        lines: LogLines,
        snapshot: platform_metrics.ConcurrencySnapshot,
        started_at: float,
    ) -> InvokeResult:
        """A cold start whose INIT failed: the invocation fails with the INIT error."""
        facts, result = init_failure_lines_and_facts(
            pool.spec, request_id, init, env.max_rss_kb, lines, ms(self._clock()), started_at
        )
        self._sink.put_log_events(lines.events)
        self._publish(pool, facts, snapshot, init.table_ops)
        return result

    # -- helpers ---------------------------------------------------------------------------

    def _pool(self, function_name: str) -> FunctionPool:
        pool = self._pools.get(function_name)
        if pool is None:
            raise FunctionNotFoundError(function_name)
        return pool

    def _new_environment(
        self, spec: FunctionSpec, initialization_type: InitializationType
    ) -> ExecutionEnvironment:
        return ExecutionEnvironment(
            spec,
            env=self._env,
            log_stream=platform_logs.log_stream_name(self._clock()),
            initialization_type=initialization_type,
            region=self._region,
            account_id=self._account_id,
            call_handler=self._answer_call,
        )

    def _settle(
        self, pool: FunctionPool, env: ExecutionEnvironment, invocation: Invocation
    ) -> None:
        """Return a healthy environment to the idle set; replace a dead provisioned one."""
        if env.alive and invocation.outcome in ("success", "error"):
            pool.add_idle(env, self._clock())
            return
        pool.discard(env)
        env.close()
        if env.provisioned and not self._closed:
            self._spawn_background(self._provision(pool))

    async def _provision(self, pool: FunctionPool) -> None:
        """Start one provisioned environment and add it to the idle set; log its INIT."""
        env = self._new_environment(pool.spec, "provisioned-concurrency")
        lines = LogLines(platform_logs.log_group_name(pool.spec.name), env.log_stream, [])
        lines.add(ms(self._clock()), platform_logs.init_start_line(self._region))
        try:
            init = await env.start()
        except asyncio.CancelledError:
            # ``close`` cancelled this start: no pool holds the environment yet, so its
            # process (already spawned, in INIT) would outlive the runtime.
            await self._shutdown(env)
            raise
        except Exception:  # could not even spawn: leave the slot empty, on-demand still works
            _log.exception("provisioning an environment for %s failed", pool.spec.name)
            await self._shutdown(env)
            return
        lines.add(ms(self._clock()), *init.logs)
        if not init.ok:
            assert init.error is not None
            lines.add(
                ms(self._clock()),
                platform_logs.init_report_line(
                    init.init_ms, init.error.error_type, init.status or "error"
                ),
            )
            env.close()
        elif self._closed:
            await self._shutdown(env)
        else:
            pool.add_idle(env, self._clock())
        self._sink.put_log_events(lines.events)
        platform_metrics.add_table_operations(self._aggregator, init.table_ops, self._clock())
        self._invoked.wake()  # those metrics are for the flusher, which may be asleep

    def _spawn_background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _shutdown(self, env: ExecutionEnvironment) -> None:
        """Kill and reap ``env``; this runs to the end even when the caller is cancelled (the
        reaper or an invocation, by ``close``), and ``close`` waits for it: a kill whose exit
        nobody awaited would be noticed only after the event loop is gone."""
        stopping = asyncio.ensure_future(self._terminate(env))
        self._stopping.add(stopping)
        stopping.add_done_callback(self._stopping.discard)
        await asyncio.shield(stopping)

    @staticmethod
    async def _terminate(env: ExecutionEnvironment) -> None:
        await env.terminate()
        env.close()

    async def _flush_periodically(self) -> None:
        while True:
            if self._aggregator.pending or any(self._in_flight.values()):
                await sleep_on_grid(self._metrics_interval_s)
            else:  # nothing to hand over until an invocation: sleep with the other idle tasks
                await self._invoked.sleep_on_grid(IDLE_WAKE_S)
            self.flush_metrics(self._clock())

    async def _reap_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._reap_interval_s)
            try:
                await self.reap_idle(self._clock())
            except Exception:  # the reaper must outlive a failed kill
                _log.exception("idle reaping failed")

    def _snapshot(self, pool: FunctionPool) -> platform_metrics.ConcurrencySnapshot:
        if not self._any_provisioned:  # the common case: skip the provisioned counting
            return platform_metrics.ConcurrencySnapshot(
                function=pool.in_flight,
                account=sum(self._in_flight.values()),
                unreserved=concurrency.unreserved_in_flight(self._in_flight, self._limits),
            )
        pools = self._pools.values()
        return platform_metrics.ConcurrencySnapshot(
            function=pool.in_flight,
            account=sum(self._in_flight.values()),
            unreserved=concurrency.unreserved_in_flight(self._in_flight, self._limits),
            provisioned_busy_function=pool.provisioned_busy,
            provisioned_configured_function=pool.provisioned_configured,
            provisioned_busy_account=sum(p.provisioned_busy for p in pools),
            provisioned_configured_account=sum(p.provisioned_configured for p in pools),
        )

    def _publish(
        self,
        pool: FunctionPool,
        facts: platform_metrics.InvocationFacts,
        snapshot: platform_metrics.ConcurrencySnapshot,
        table_ops: Sequence[Mapping[str, object]],
    ) -> None:
        self._metrics[pool.spec.name].invocation(facts, snapshot)
        if table_ops:
            platform_metrics.add_table_operations(self._aggregator, table_ops, self._clock())

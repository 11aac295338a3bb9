"""LambdaRuntime end to end with real environments: reuse, scaling, throttles, logs, metrics."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import types
from typing import Any

import psutil
import pytest
from runtime_fakes import FakeClock, FakeSink, RuntimeFactory

from heron.errors import FunctionNotFoundError, RuntimeLayerError, TooManyRequestsError
from heron.runtime import runtime as runtime_module
from heron.runtime.runtime import LambdaRuntime
from heron.types import FunctionSpec, MetricDatum

REPORT = re.compile(
    r"^REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms"
    r"\tMemory Size: \d+ MB\tMax Memory Used: \d+ MB(\tInit Duration: \d+\.\d{2} ms)?"
    r"(\tStatus: (timeout|error)(\tError Type: [\w.]+)?)?$"
)


def fn(name: str, handler: str, **kwargs: object) -> FunctionSpec:
    return FunctionSpec(name=name, handler=handler, **kwargs)  # type: ignore[arg-type]


async def in_flight() -> None:
    """Let freshly created invoke tasks run up to their first await (admission is synchronous)."""
    await asyncio.sleep(0)


def _live_workers() -> list[psutil.Process]:
    """This process's execution environments that are still running."""
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if "heron.runtime.worker" in " ".join(child.cmdline()) and child.status() != "zombie"
    ]


async def test_cold_start_then_warm_reuse(make_runtime: RuntimeFactory, sink: FakeSink) -> None:
    runtime = make_runtime([fn("echo", "handlers.basic.echo")])
    first = await runtime.invoke("echo", {"n": 1})
    second = await runtime.invoke("echo", {"n": 2})
    assert first.ok and second.ok
    assert first.payload["pid"] == second.payload["pid"]
    assert second.payload["calls"] == 2
    assert first.init_duration_ms is not None and first.init_duration_ms > 0
    assert second.init_duration_ms is None
    assert first.request_id != second.request_id

    lines = sink.messages("echo")
    assert lines[0].startswith("INIT_START Runtime Version: python:3.")
    assert lines[1] == "init: basic loaded"
    assert lines[2:4] == [f"START RequestId: {first.request_id} Version: $LATEST", "echo called 1"]
    assert lines[4] == f"END RequestId: {first.request_id}"
    assert REPORT.match(lines[5]) and "\tInit Duration: " in lines[5]
    assert lines[6:9] == [
        f"START RequestId: {second.request_id} Version: $LATEST",
        "echo called 2",
        f"END RequestId: {second.request_id}",
    ]
    assert REPORT.match(lines[9]) and "Init Duration" not in lines[9]
    streams = {e.stream for e in sink.log_events}
    assert len(streams) == 1
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", streams.pop())
    runtime.flush_metrics()  # metrics are aggregated; hand them over now
    assert sink.values("ColdStarts", "echo") == [1.0, 0.0]
    assert sink.values("Invocations") == [1.0, 1.0]
    assert len(sink.values("InitDuration", "echo")) == 1


async def test_parallel_invocations_scale_out_then_reuse(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime([fn("slow", "handlers.basic.sleep")])
    first = await asyncio.gather(*(runtime.invoke("slow", {"seconds": 0.3}) for _ in range(3)))
    pids = {r.payload["pid"] for r in first}
    assert len(pids) == 3
    assert all(r.init_duration_ms is not None for r in first)
    again = await asyncio.gather(*(runtime.invoke("slow", {"seconds": 0.1}) for _ in range(3)))
    assert {r.payload["pid"] for r in again} == pids
    assert all(r.init_duration_ms is None for r in again)
    assert len(runtime.environments("slow")) == 3


async def test_local_environment_cap_queues_instead_of_spawning(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime([fn("slow", "handlers.basic.sleep")], max_environments=2)
    results = await asyncio.gather(*(runtime.invoke("slow", {"seconds": 0.2}) for _ in range(5)))
    assert all(r.ok for r in results)
    assert len({r.payload["pid"] for r in results}) == 2
    assert sum(r.init_duration_ms is not None for r in results) == 2
    assert len(runtime.environments("slow")) == 2


async def test_reserved_concurrency_throttles_with_the_reserved_reason(
    make_runtime: RuntimeFactory, sink: FakeSink
) -> None:
    runtime = make_runtime([fn("one", "handlers.basic.sleep", reserved_concurrency=1)])
    busy = asyncio.create_task(runtime.invoke("one", {"seconds": 0.3}))
    await in_flight()
    with pytest.raises(TooManyRequestsError) as throttled:
        await runtime.invoke("one", {})
    assert throttled.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert throttled.value.function == "one"
    assert (await busy).ok
    runtime.flush_metrics()  # metrics are aggregated; hand them over now
    assert sink.values("Throttles", "one") == [1.0]
    assert sink.values("Invocations", "one") == [1.0]
    assert (await runtime.invoke("one", {"seconds": 0})).ok


async def test_account_concurrency_throttles_unreserved_functions(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime(
        [
            fn("shared", "handlers.basic.sleep"),
            fn("kept", "handlers.basic.sleep", reserved_concurrency=1),
        ],
        account_concurrency=2,
    )
    busy = asyncio.create_task(runtime.invoke("shared", {"seconds": 0.3}))
    await in_flight()
    with pytest.raises(TooManyRequestsError) as throttled:
        await runtime.invoke("shared", {})
    assert throttled.value.reason == "ConcurrentInvocationLimitExceeded"
    # The reserved function still has its own unit of concurrency.
    assert (await runtime.invoke("kept", {"seconds": 0})).ok
    await busy


async def test_unknown_function(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime([fn("echo", "handlers.basic.echo")])
    with pytest.raises(FunctionNotFoundError):
        await runtime.invoke("nope", {})


async def test_provisioned_environments_are_warm_before_the_first_call(
    make_runtime: RuntimeFactory, sink: FakeSink
) -> None:
    runtime = make_runtime([fn("pc", "handlers.basic.describe", provisioned_concurrency=1)])
    await runtime.start()
    [ready] = runtime.environments("pc")
    assert ready.provisioned and ready.pid is not None and not ready.busy
    assert sink.messages("pc")[1] == "init: basic loaded"

    result = await runtime.invoke("pc", {})
    assert result.init_duration_ms is None
    assert result.payload["pid"] == ready.pid
    assert result.payload["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] == "provisioned-concurrency"
    runtime.flush_metrics()  # metrics are aggregated; hand them over now
    assert sink.values("ProvisionedConcurrencyInvocations", "pc") == [1.0]
    assert sink.values("ProvisionedConcurrentExecutions", "pc") == [1.0]
    assert sink.values("ProvisionedConcurrencyUtilization", "pc") == [1.0]

    # Two at once: the second spills over to a cold on-demand environment.
    both = await asyncio.gather(runtime.invoke("pc", {}), runtime.invoke("pc", {}))
    kinds = sorted(r.payload["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] for r in both)
    assert kinds == ["on-demand", "provisioned-concurrency"]
    runtime.flush_metrics()
    # Within one second the aggregate keeps values, not their order: compare as multisets.
    spilled = sorted(sink.values("ProvisionedConcurrencySpilloverInvocations", "pc"))
    assert spilled == [0.0, 0.0, 1.0]


async def test_timeout_kills_and_replaces_the_environment(
    make_runtime: RuntimeFactory, sink: FakeSink
) -> None:
    runtime = make_runtime([fn("slow", "handlers.basic.sleep", timeout_s=0.3)])
    warm = await runtime.invoke("slow", {"seconds": 0})
    timed_out = await runtime.invoke("slow", {"seconds": 5})
    assert timed_out.error is not None
    assert timed_out.error.error_type == "Sandbox.Timedout"
    assert timed_out.error.message == (
        f"RequestId: {timed_out.request_id} Error: Task timed out after 0.30 seconds"
    )
    assert timed_out.duration_ms == 300.0
    lines = sink.messages("slow")
    report = next(
        line for line in lines if line.startswith(f"REPORT RequestId: {timed_out.request_id}")
    )
    assert REPORT.match(report) and report.endswith("\tStatus: timeout")
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
        + timed_out.request_id
        + r" Task timed out after 0\.30 seconds",
        lines[-1],
    )
    assert runtime.environments("slow") == []
    after = await runtime.invoke("slow", {"seconds": 0})
    assert after.init_duration_ms is not None
    assert after.payload["pid"] != warm.payload["pid"]
    runtime.flush_metrics()  # metrics are aggregated; hand them over now
    assert sink.values("Timeouts", "slow") == [0.0, 1.0, 0.0]
    assert sink.values("Errors", "slow") == [0.0, 1.0, 0.0]


async def test_handler_exception_result_and_logs(
    make_runtime: RuntimeFactory, sink: FakeSink
) -> None:
    runtime = make_runtime([fn("bad", "handlers.basic.fail")])
    result = await runtime.invoke("bad", {"message": "nope"})
    assert not result.ok and result.error is not None
    assert result.error.as_payload()["errorType"] == "ValueError"
    assert result.error.as_payload()["errorMessage"] == "nope"
    assert result.error.stack_trace
    lines = sink.messages("bad")
    assert any(line.startswith("[ERROR] ValueError: nope\nTraceback") for line in lines)
    assert REPORT.match(lines[-1]) and "Status" not in lines[-1]
    runtime.flush_metrics()  # metrics are aggregated; hand them over now
    assert sink.values("Errors", "bad") == [1.0]
    # A handler error does not cost the environment.
    assert len(runtime.environments("bad")) == 1


async def test_import_error_fails_the_invocation_and_leaves_no_environment(
    make_runtime: RuntimeFactory, sink: FakeSink
) -> None:
    runtime = make_runtime([fn("broken", "handlers.broken_import.handler")])
    result = await runtime.invoke("broken", {})
    assert result.error is not None
    assert result.error.error_type == "Runtime.ImportModuleError"
    assert result.init_duration_ms is not None
    lines = sink.messages("broken")
    assert lines[0].startswith("INIT_START")
    assert lines[1].startswith("[ERROR] Runtime.ImportModuleError: Unable to import module")
    assert lines[2].startswith("INIT_REPORT Init Duration: ")
    assert lines[2].endswith("\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError")
    assert lines[-1].endswith("\tStatus: error\tError Type: Runtime.ImportModuleError")
    assert runtime.environments("broken") == []
    runtime.flush_metrics()  # metrics are aggregated; hand them over now
    assert sink.values("Errors", "broken") == [1.0]


async def test_context_and_environment_seen_by_the_handler(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime(
        [
            fn(
                "ctx",
                "handlers.basic.describe",
                memory_mb=256,
                timeout_s=2.0,
                environment=(("GREETING", "hello"),),
            )
        ],
    )
    result = await runtime.invoke("ctx", {})
    seen = result.payload
    assert seen["function_name"] == "ctx"
    assert seen["function_version"] == "$LATEST"
    assert seen["invoked_function_arn"] == "arn:aws:lambda:us-east-1:000000000000:function:ctx"
    assert seen["memory_limit_in_mb"] == 256
    assert seen["aws_request_id"] == result.request_id
    assert seen["log_group_name"] == "/aws/lambda/ctx"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", seen["log_stream_name"])
    assert seen["identity"] is None and seen["client_context"] is None
    assert 1000 < seen["remaining_ms"] <= 2000
    env = seen["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "ctx"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == seen["log_stream_name"]
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_EXECUTION_ENV"].startswith("AWS_Lambda_python3.")
    assert env["_HANDLER"] == "handlers.basic.describe"
    assert env["TZ"] == "UTC"
    assert env["HERON_DATA_DIR"] == "/tmp/heron-test-data"
    assert env["GREETING"] == "hello"
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert seen["stdin_is_empty"]


async def test_the_metric_flusher_sleeps_while_idle_and_wakes_for_an_invocation(
    make_runtime: RuntimeFactory, sink: FakeSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime_module, "IDLE_WAKE_S", 3600.0)  # only a wake-up can end it
    runtime = make_runtime([fn("echo", "handlers.basic.echo")], metrics_interval_s=0.2)
    await runtime.start()
    await asyncio.sleep(0.5)  # nothing aggregated: the flusher is in its idle sleep
    await runtime.invoke("echo", {})
    async with asyncio.timeout(5):  # the flush interval, not the idle hour, hands them over
        while sink.values("Invocations") != [1.0]:
            await asyncio.sleep(0.05)
    await runtime.invoke("echo", {})  # and again after it went back to sleep
    async with asyncio.timeout(5):
        while sink.values("Invocations") != [1.0, 1.0]:
            await asyncio.sleep(0.05)


async def test_idle_environments_are_reaped_so_cold_starts_recur(
    make_runtime: RuntimeFactory, clock: FakeClock
) -> None:
    runtime = make_runtime(
        [
            fn("echo", "handlers.basic.echo"),
            fn("pc", "handlers.basic.echo", provisioned_concurrency=1),
        ],
        idle_timeout_s=300,
        clock=clock,
    )
    await runtime.start()
    first = await runtime.invoke("echo", {})
    clock.now += 299
    assert await runtime.reap_idle(clock.now) == 0
    clock.now += 1
    assert await runtime.reap_idle(clock.now) == 1
    assert runtime.environments("echo") == []
    assert len(runtime.environments("pc")) == 1, "provisioned environments are never reaped"
    again = await runtime.invoke("echo", {})
    assert again.init_duration_ms is not None
    assert again.payload["pid"] != first.payload["pid"]


async def test_most_recently_used_environment_is_reused_first(
    make_runtime: RuntimeFactory, clock: FakeClock
) -> None:
    runtime = make_runtime([fn("slow", "handlers.basic.sleep")], clock=clock)
    a, b = await asyncio.gather(
        runtime.invoke("slow", {"seconds": 0.05}), runtime.invoke("slow", {"seconds": 0.3})
    )
    # b finished last, so it is the warmest and serves the next call.
    nxt = await runtime.invoke("slow", {"seconds": 0})
    assert nxt.payload["pid"] == b.payload["pid"]
    infos = {i.pid: i for i in runtime.environments("slow")}
    assert set(infos) == {a.payload["pid"], b.payload["pid"]}


async def test_out_of_memory_discards_the_environment(
    make_runtime: RuntimeFactory, sink: FakeSink
) -> None:
    runtime = make_runtime([fn("hog", "handlers.basic.allocate", memory_mb=64)])
    ok = await runtime.invoke("hog", {"mb": 8})
    assert ok.ok
    result = await runtime.invoke("hog", {"mb": 96, "hold": 0.5})
    assert result.error is not None and result.error.error_type == "Runtime.OutOfMemory"
    report = next(
        m for m in sink.messages("hog") if m.startswith(f"REPORT RequestId: {result.request_id}")
    )
    assert "\tMemory Size: 64 MB\tMax Memory Used: 64 MB\t" in report
    assert report.endswith("\tStatus: error\tError Type: Runtime.OutOfMemory")
    assert runtime.environments("hog") == []
    runtime.flush_metrics()  # metrics are aggregated; hand them over now
    assert sink.values("MemoryUsed", "hog")[-1] == 100.0
    assert sink.values("MaxMemoryUsed", "hog")[-1] == 64.0


async def test_platform_datums_for_one_invocation(
    make_runtime: RuntimeFactory, sink: FakeSink, clock: FakeClock
) -> None:
    runtime = make_runtime([fn("echo", "handlers.basic.echo", memory_mb=128)], clock=clock)
    await runtime.invoke("echo", {})
    runtime.flush_metrics()  # metrics are aggregated; hand them over now
    points = sink.points()
    names = {(name, dims) for ns, name, dims, *_ in points if ns == "AWS/Lambda"}
    for name in (
        "Invocations",
        "Errors",
        "Duration",
        "ConcurrentExecutions",
        "MemoryUsed",
        "MaxMemoryUsed",
        "ColdStarts",
        "InitDuration",
        "Timeouts",
    ):
        assert (name, (("FunctionName", "echo"),)) in names, name
        assert (name, ()) in names, name
    assert ("UnreservedConcurrentExecutions", ()) in names
    assert sink.values("ConcurrentExecutions", "echo") == [1.0]
    assert {timestamp_ms for *_, timestamp_ms, _ in points} == {int(clock.now * 1000)}
    used = sink.values("MemoryUsed", "echo")[0]
    assert 0 < used < 100
    assert sink.values("MaxMemoryUsed", "echo")[0] == pytest.approx(used * 128 / 100)


async def test_close_kills_everything_and_refuses_new_work(
    sink: FakeSink, child_env: dict[str, str]
) -> None:
    runtime = LambdaRuntime(
        [fn("pc", "handlers.basic.echo", provisioned_concurrency=2)], sink, env=child_env
    )
    await runtime.start()
    pids = [i.pid for i in runtime.environments("pc")]
    assert len(pids) == 2
    await runtime.close()
    assert runtime.environments("pc") == []
    for pid in pids:
        assert pid is not None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(RuntimeLayerError):
        await runtime.invoke("pc", {})


async def test_cancelled_invocation_kills_its_environment(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime([fn("slow", "handlers.basic.sleep")])
    await runtime.invoke("slow", {"seconds": 0})
    task = asyncio.create_task(runtime.invoke("slow", {"seconds": 5}))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert runtime.environments("slow") == []
    assert (await runtime.invoke("slow", {"seconds": 0})).ok


async def test_dead_provisioned_environment_is_replaced(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime(
        [fn("pc", "handlers.basic.sleep", timeout_s=0.3, provisioned_concurrency=1)]
    )
    await runtime.start()
    [before] = runtime.environments("pc")
    result = await runtime.invoke("pc", {"seconds": 5})
    assert result.error is not None and result.error.error_type == "Sandbox.Timedout"
    for _ in range(100):
        envs = runtime.environments("pc")
        if envs and envs[0].pid != before.pid:
            break
        await asyncio.sleep(0.05)
    [after] = runtime.environments("pc")
    assert after.provisioned and after.pid != before.pid
    warm = await runtime.invoke("pc", {"seconds": 0})
    assert warm.init_duration_ms is None and warm.payload["pid"] == after.pid


def _stand_in_tables_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent half of the table-metrics contract: from_dict and operation_datums."""

    class Op:
        def __init__(self, data: dict[str, Any]) -> None:
            self.data = data

        @classmethod
        def from_dict(cls, data: dict[str, Any]) -> Op:
            return cls(data)

    def operation_datums(ops: list[Op], timestamp_ms: int) -> list[MetricDatum]:
        return [
            MetricDatum(
                "AWS/DynamoDB",
                "ConsumedWriteCapacityUnits",
                op.data["units"],
                "Count",
                (("TableName", op.data["table"]),),
                timestamp_ms,
            )
            for op in ops
        ]

    module = types.ModuleType("heron.tables.metrics")
    module.TableOperation = Op  # type: ignore[attr-defined]
    module.operation_datums = operation_datums  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "heron.tables.metrics", module)


async def test_table_operations_travel_from_the_child_to_the_sink(
    make_runtime: RuntimeFactory, sink: FakeSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stand_in_tables_metrics(monkeypatch)
    runtime = make_runtime([fn("writer", "handlers.tables_user.handler")])
    await runtime.invoke("writer", {"tables": ["Users", "Messages"]})
    await runtime.invoke("writer", {"tables": ["Users"]})
    runtime.flush_metrics()  # metrics are aggregated; hand them over now
    tables = [(dims, v) for ns, _, dims, _, _, v in sink.points() if ns == "AWS/DynamoDB"]
    # Aggregated per series and second, so compared as a multiset rather than in arrival order.
    assert sorted(tables) == sorted(
        [
            ((("TableName", "Users"),), 1.0),
            ((("TableName", "Messages"),), 1.0),
            ((("TableName", "Users"),), 1.0),
        ]
    )


async def test_the_runtime_reaps_idle_environments_on_its_own(
    make_runtime: RuntimeFactory, clock: FakeClock
) -> None:
    runtime = make_runtime(
        [fn("echo", "handlers.basic.echo")], idle_timeout_s=60, reap_interval_s=0.02, clock=clock
    )
    await runtime.start()
    await runtime.invoke("echo", {})
    clock.now += 61
    for _ in range(100):
        if not runtime.environments("echo"):
            break
        await asyncio.sleep(0.02)
    assert runtime.environments("echo") == []


async def test_close_during_a_cold_start_leaves_no_process_behind(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime([fn("echo", "handlers.basic.echo")])
    task = asyncio.create_task(runtime.invoke("echo", {"n": 1}))
    await in_flight()  # the environment exists but its process is still being spawned
    await runtime.close()
    await asyncio.gather(task, return_exceptions=True)  # succeeded or refused: either is fine
    await asyncio.sleep(0.2)
    assert _live_workers() == []


async def test_close_while_a_provisioned_replacement_starts_leaves_no_process_behind(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime(
        [fn("pc", "handlers.slow_init.handler", timeout_s=0.3, provisioned_concurrency=1)]
    )
    await runtime.start()
    [first] = runtime.environments("pc")
    result = await runtime.invoke("pc", {"seconds": 5})  # times out: a replacement starts
    assert result.error is not None and result.error.error_type == "Sandbox.Timedout"
    for _ in range(100):  # wait until the replacement's process exists (its INIT takes 1 s)
        if any(w.pid != first.pid for w in _live_workers()):
            break
        await asyncio.sleep(0.02)
    assert runtime.environments("pc") == []  # still in INIT: no pool holds it yet
    await runtime.close()
    await asyncio.sleep(0.2)
    assert _live_workers() == []

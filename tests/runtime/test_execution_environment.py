"""One execution environment as a real child process: init, invoke, output capture, failures."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest

from heron.runtime.environment import ExecutionEnvironment, exit_reason, lambda_environment
from heron.types import FunctionSpec

Starter = Callable[..., Coroutine[Any, Any, ExecutionEnvironment]]


@pytest.fixture
async def started(child_env: dict[str, str]) -> AsyncIterator[Starter]:
    envs: list[ExecutionEnvironment] = []

    async def start(handler: str, **spec_fields: Any) -> ExecutionEnvironment:
        spec = FunctionSpec(name="fn", handler=handler, **spec_fields)
        env = ExecutionEnvironment(spec, env=child_env, log_stream="2026/11/05/[$LATEST]ab")
        envs.append(env)
        outcome = await env.start()
        env.init_outcome = outcome  # type: ignore[attr-defined]
        return env

    yield start
    for env in envs:
        await env.terminate()
        env.close()


async def test_init_output_is_captured_and_the_environment_is_reused(started: Starter) -> None:
    env = await started("handlers.basic.echo")
    assert env.init_outcome.ok  # type: ignore[attr-defined]
    assert env.init_outcome.logs == ["init: basic loaded"]  # type: ignore[attr-defined]
    first = await env.invoke("req-1", {"n": 1})
    second = await env.invoke("req-2", {"n": 2})
    assert first.outcome == second.outcome == "success"
    assert first.payload == {"event": {"n": 1}, "pid": env.pid, "calls": 1}
    assert second.payload["calls"] == 2
    assert first.logs == ["echo called 1"]
    assert second.logs == ["echo called 2"]
    assert first.max_rss_kb > 1000


async def test_every_output_route_lands_in_the_log_in_order(started: Starter) -> None:
    env = await started("handlers.basic.output")
    result = await env.invoke("req-out", {})
    assert result.payload == "done"
    assert result.logs[:5] == ["line one", "line two", "to stderr", "raw fd one", "raw fd two"]
    assert result.logs[5].startswith("[WARNING]\t")
    assert result.logs[5].endswith("\treq-out\tcareful\nsecond line")
    assert result.logs[6] == "no newline at end"


async def test_handler_exception_becomes_a_function_error(started: Starter) -> None:
    env = await started("handlers.basic.fail")
    result = await env.invoke("req-3", {"message": "bad input"})
    assert result.outcome == "error"
    assert result.error is not None
    assert (result.error.error_type, result.error.message) == ("ValueError", "bad input")
    assert len(result.error.stack_trace) == 1
    assert "basic.py" in result.error.stack_trace[0]
    assert "raise ValueError" in result.error.stack_trace[0]
    assert result.logs[0] == "about to fail"
    assert result.logs[1].startswith(
        "[ERROR] ValueError: bad input\nTraceback (most recent call last):\n  File "
    )
    assert env.alive


async def test_unserializable_result_is_a_marshal_error(started: Starter) -> None:
    env = await started("handlers.basic.unserializable")
    result = await env.invoke("req", {})
    assert result.error is not None
    assert result.error.error_type == "Runtime.MarshalError"
    assert result.error.message == (
        "Unable to marshal response: Object of type set is not JSON serializable"
    )


async def test_output_larger_than_one_capture_read_is_kept_whole(started: Starter) -> None:
    env = await started("handlers.basic.loud")
    first = await env.invoke("req-1", {"lines": 300, "width": 1000})  # ~300 KB, several reads
    assert first.logs == [f"{n:06d}" + "x" * 1000 for n in range(300)]
    second = await env.invoke("req-2", {"lines": 2, "width": 3})  # the file was truncated
    assert second.logs == ["000000xxx", "000001xxx"]


async def test_large_payloads_cross_the_pipe(started: Starter) -> None:
    env = await started("handlers.basic.big")
    result = await env.invoke("req", {"size": 3 * 1024 * 1024})
    assert result.payload == "y" * (3 * 1024 * 1024)


async def test_timeout_kills_the_child_and_keeps_output_written_so_far(started: Starter) -> None:
    env = await started("handlers.basic.sleep", timeout_s=0.3)
    result = await env.invoke("req-t", {"seconds": 5})
    assert result.outcome == "timeout"
    assert result.error is not None
    assert result.error.error_type == "Sandbox.Timedout"
    assert result.error.message == "RequestId: req-t Error: Task timed out after 0.30 seconds"
    assert result.duration_ms == 300.0
    assert result.logs == ["going to sleep"]
    assert not env.alive


async def test_child_that_dies_is_a_runtime_exit_error(started: Starter) -> None:
    env = await started("handlers.basic.die")
    result = await env.invoke("req-d", {"how": "kill"})
    assert result.outcome == "crash"
    assert result.error is not None
    assert result.error.error_type == "Runtime.ExitError"
    assert (
        result.error.message == "RequestId: req-d Error: Runtime exited with error: signal: killed"
    )
    assert result.logs == [
        "dying",
        "RequestId: req-d Error: Runtime exited with error: signal: killed\nRuntime.ExitError",
    ]


async def test_exit_status_is_reported(started: Starter) -> None:
    env = await started("handlers.basic.die")
    result = await env.invoke("req-e", {"how": "exit", "status": 3})
    assert result.error is not None
    assert result.error.message.endswith("Runtime exited with error: exit status 3")


@pytest.mark.parametrize("hold", [0.0, 0.5])
async def test_exceeding_memory_is_runtime_out_of_memory(started: Starter, hold: float) -> None:
    # hold=0 is caught by the check after the handler returns, hold=0.5 by the watchdog.
    env = await started("handlers.basic.allocate", memory_mb=64)
    result = await env.invoke("req-m", {"mb": 96, "hold": hold})
    assert result.outcome == "oom"
    assert result.error is not None
    assert result.error.error_type == "Runtime.OutOfMemory"
    assert result.error.message == (
        "RequestId: req-m Error: Runtime exited with error: signal: killed"
    )
    assert not env.alive


async def test_the_watchdog_wakes_for_an_invocation_after_a_quiet_spell(started: Starter) -> None:
    # After a second without invocations the memory watch waits to be woken; the next
    # invocation must wake it, so a handler holding too much memory is stopped while it holds
    # it (the check after the handler returns would only come after the 20 s hold).
    env = await started("handlers.basic.allocate", memory_mb=64, timeout_s=30)
    assert (await env.invoke("req-a", {"mb": 1})).outcome == "success"
    await asyncio.sleep(1.5)  # longer than the watch's 40 samples of 25 ms
    began = time.monotonic()
    result = await env.invoke("req-b", {"mb": 96, "hold": 20})
    assert result.outcome == "oom"
    assert time.monotonic() - began < 10


async def test_memory_under_the_limit_is_fine(started: Starter) -> None:
    env = await started("handlers.basic.allocate", memory_mb=256)
    result = await env.invoke("req", {"mb": 32})
    assert result.outcome == "success"
    assert result.max_rss_kb > 32 * 1024


async def test_import_error_is_an_init_failure(started: Starter) -> None:
    env = await started("handlers.broken_import.handler")
    outcome = env.init_outcome  # type: ignore[attr-defined]
    assert not outcome.ok and outcome.status == "error"
    assert outcome.error.error_type == "Runtime.ImportModuleError"
    assert outcome.error.message == (
        "Unable to import module 'handlers.broken_import': "
        "No module named 'heron_module_that_does_not_exist'"
    )
    assert outcome.logs[0].startswith("[ERROR] Runtime.ImportModuleError: Unable to import")
    assert not env.alive


async def test_module_level_exception_is_reported_as_itself(started: Starter) -> None:
    env = await started("handlers.raises_at_init.handler")
    outcome = env.init_outcome  # type: ignore[attr-defined]
    assert outcome.error.error_type == "RuntimeError"
    assert outcome.error.message == "config missing at init"
    assert outcome.logs[0] == "starting init"


def test_reserved_variables_win_over_function_and_heron_settings() -> None:
    spec = FunctionSpec(
        name="f",
        handler="m.h",
        memory_mb=256,
        environment=(("GREETING", "hi"), ("AWS_REGION", "mars-1"), ("TZ", "CET")),
    )
    variables = lambda_environment(
        spec,
        base={"HERON_DATA_DIR": "/d", "GREETING": "base"},
        log_stream="s",
        initialization_type="on-demand",
        region="eu-west-1",
    )
    assert variables["GREETING"] == "hi"
    assert variables["HERON_DATA_DIR"] == "/d"
    assert variables["AWS_REGION"] == "eu-west-1"
    assert variables["TZ"] == "UTC"
    assert variables["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert variables["_HANDLER"] == "m.h"


def test_exit_reasons_are_spelled_like_lambda() -> None:
    assert exit_reason(-9) == "signal: killed"
    assert exit_reason(-11) == "signal: segmentation fault"
    assert exit_reason(1) == "exit status 1"


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="SCHED_BATCH is Linux's")
async def test_environments_run_as_batch_tasks_so_they_never_preempt_the_gateway(
    started: Starter,
) -> None:
    env = await started("handlers.basic.echo")
    assert env.pid is not None
    assert os.sched_getscheduler(env.pid) == os.SCHED_BATCH
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the parent keeps its policy
    assert (await env.invoke("req-1", {"n": 1})).outcome == "success"

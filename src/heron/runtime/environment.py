"""The parent's handle on one execution environment: a worker child process it spawns and drives.

An environment runs one invocation at a time. It enforces the function timeout (SIGKILL, then
``Sandbox.Timedout``), notices a dead child (``Runtime.ExitError``) and the memory limit
(``Runtime.OutOfMemory``), and collects the handler's output from a capture file it shares with
the child, so output written before a timeout or crash is not lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from heron.runtime import outcall, platform_logs, protocol
from heron.runtime.child_process import (
    TRANSPORT_VARIABLE,
    InitializationType,
    capture_file,
    exit_reason,
    lambda_environment,
    process_peak_rss_kb,
)
from heron.runtime.invoker import CallHandler, FunctionError
from heron.types import Event, FunctionSpec

__all__ = [
    "TRANSPORT_VARIABLE",
    "ExecutionEnvironment",
    "InitOutcome",
    "InitializationType",
    "Invocation",
    "exit_reason",
    "lambda_environment",
    "process_peak_rss_kb",
]

#: How much of the capture file one read takes.
_CAPTURE_CHUNK = 1 << 16
#: How long INIT may take before Lambda gives up on it (AWS: 10 s for on-demand environments).
INIT_TIMEOUT_S = 10.0
_STREAM_LIMIT = 1 << 20
_log = logging.getLogger(__name__)

Outcome = Literal["success", "error", "timeout", "oom", "crash"]


@dataclass(frozen=True, slots=True)
class InitOutcome:
    """How INIT went: its duration, the output it wrote, and the error if it failed."""

    init_ms: float
    logs: list[str]
    error: FunctionError | None = None
    #: ``"error"`` or ``"timeout"`` when INIT failed.
    status: str | None = None
    table_ops: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the handler was loaded and the environment is ready."""
        return self.error is None


@dataclass(frozen=True, slots=True)
class Invocation:
    """One invocation as the environment saw it; the runtime turns it into logs and metrics."""

    outcome: Outcome
    duration_ms: float
    logs: list[str]
    max_rss_kb: int
    payload: Any = None
    error: FunctionError | None = None
    table_ops: list[dict[str, Any]] = field(default_factory=list)


class ExecutionEnvironment:
    """One Lambda execution environment backed by a ``heron.runtime.worker`` child process."""

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        env: Mapping[str, str],
        log_stream: str,
        initialization_type: InitializationType = "on-demand",
        region: str = "us-east-1",
        account_id: str = "000000000000",
        python: str = sys.executable,
        call_handler: CallHandler | None = None,
    ) -> None:
        self.spec = spec
        self.log_stream = log_stream
        self.initialization_type = initialization_type
        self.region = region
        self._account_id = account_id
        self._python = python
        self._variables = lambda_environment(
            spec,
            base=env,
            log_stream=log_stream,
            initialization_type=initialization_type,
            region=region,
        )
        #: Serves the handler's out-calls; without one they are answered "unavailable".
        self.call_handler = call_handler
        self._proc: asyncio.subprocess.Process | None = None
        self._capture_fd = -1
        self._busy = False
        self.max_rss_kb = 0
        #: Clock reading when the environment last finished work; the pool uses it for reaping.
        self.last_used = 0.0

    @property
    def pid(self) -> int | None:
        """The child's process id once spawned."""
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> bool:
        """True while the child process is running and usable."""
        return self._proc is not None and self._proc.returncode is None

    @property
    def provisioned(self) -> bool:
        """True for environments pre-initialised by provisioned concurrency."""
        return self.initialization_type == "provisioned-concurrency"

    async def start(
        self, *, request_id: str | None = None, init_timeout_s: float = INIT_TIMEOUT_S
    ) -> InitOutcome:
        """Spawn the child and run INIT (import the handler); never raises for user-code errors.

        ``request_id`` names the invocation that caused this cold start, for error messages.
        """
        started = time.perf_counter()
        self._capture_fd = capture_file()
        self._proc = await asyncio.create_subprocess_exec(
            self._python,
            "-m",
            "heron.runtime.worker",
            "--capture-fd",
            str(self._capture_fd),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=self._variables,
            pass_fds=(self._capture_fd,),
            limit=_STREAM_LIMIT,
            # A terminal's Ctrl-C must reach Heron, not kill environments mid-invocation; if
            # Heron itself dies, the worker sees end of file on its stdin and exits.
            start_new_session=True,
        )
        init = {
            "type": "init",
            "handler": self.spec.handler,
            "function_name": self.spec.name,
            "memory_mb": self.spec.memory_mb,
            "region": self.region,
            "account_id": self._account_id,
            "log_group_name": platform_logs.log_group_name(self.spec.name),
            "log_stream_name": self.log_stream,
        }
        try:
            await self._send(init)
            reply = await asyncio.wait_for(self._result(), init_timeout_s)
        except TimeoutError:
            await self.terminate()
            message = (
                platform_logs.timeout_message(request_id, init_timeout_s)
                if request_id
                else f"Error: INIT phase timed out after {init_timeout_s:.2f} seconds"
            )
            return InitOutcome(
                init_ms=init_timeout_s * 1000.0,
                logs=self._drain_capture(),
                error=FunctionError("Sandbox.Timedout", message),
                status="timeout",
            )
        init_ms = (time.perf_counter() - started) * 1000.0
        if reply is not None and reply["type"] == "ready":
            self._note_rss(reply)
            return InitOutcome(init_ms, self._drain_capture(), table_ops=reply["table_ops"])
        return await self._failed_init(reply, init_ms, request_id or "")

    async def _failed_init(
        self, reply: dict[str, Any] | None, init_ms: float, request_id: str
    ) -> InitOutcome:
        if reply is not None and reply["type"] == "init_error":
            error = reply["error"]
            failure = FunctionError(
                error["errorType"], error["errorMessage"], tuple(error["stackTrace"])
            )
        elif reply is not None and reply["type"] == "oom":
            message = platform_logs.exit_message(request_id, "signal: killed")
            failure = FunctionError("Runtime.OutOfMemory", message)
        else:
            reason = exit_reason(await self._wait_exit())
            failure = FunctionError(
                "Runtime.ExitError", platform_logs.exit_message(request_id, reason)
            )
        await self.terminate()
        return InitOutcome(init_ms, self._drain_capture(), error=failure, status="error")

    async def invoke(self, request_id: str, event: Event, *, trace_id: str = "") -> Invocation:
        """Run one invocation under the function timeout; the environment may die doing so."""
        if self._busy or not self.alive:
            raise RuntimeError("environment is busy or not running")
        self._busy = True
        try:
            return await self._invoke(request_id, event, trace_id)
        finally:
            self._busy = False

    async def _invoke(self, request_id: str, event: Event, trace_id: str) -> Invocation:
        timeout_s = self.spec.timeout_s
        frame = {
            "type": "invoke",
            "request_id": request_id,
            "event": event,
            "deadline_ms": int((time.time() + timeout_s) * 1000),
            "trace_id": trace_id,
        }
        started = time.perf_counter()
        try:
            await self._send(frame)
            # ``asyncio.timeout`` rather than ``wait_for``: no extra task per invocation.
            async with asyncio.timeout(timeout_s):
                reply = await self._result()
        except TimeoutError:
            peak = process_peak_rss_kb(self.pid or 0)
            if peak is not None:
                self.max_rss_kb = max(self.max_rss_kb, peak)
            await self.terminate()
            return Invocation(
                outcome="timeout",
                duration_ms=timeout_s * 1000.0,
                logs=self._drain_capture(),
                max_rss_kb=self.max_rss_kb,
                error=FunctionError(
                    "Sandbox.Timedout", platform_logs.timeout_message(request_id, timeout_s)
                ),
            )
        if reply is None:
            returncode = await self._wait_exit()
            elapsed = (time.perf_counter() - started) * 1000.0
            return self._died(request_id, "Runtime.ExitError", exit_reason(returncode), elapsed)
        self._note_rss(reply)
        if reply["type"] == "oom":
            await self.terminate()
            self.max_rss_kb = max(self.max_rss_kb, self.spec.memory_mb * 1024)
            elapsed = (time.perf_counter() - started) * 1000.0
            return self._died(request_id, "Runtime.OutOfMemory", "signal: killed", elapsed)
        logs = self._drain_capture()
        if reply["type"] == "result":
            return Invocation(
                outcome="success",
                duration_ms=reply["duration_ms"],
                logs=logs,
                max_rss_kb=self.max_rss_kb,
                payload=reply["payload"],
                table_ops=reply["table_ops"],
            )
        error = reply["error"]
        return Invocation(
            outcome="error",
            duration_ms=reply["duration_ms"],
            logs=logs,
            max_rss_kb=self.max_rss_kb,
            error=FunctionError(
                error["errorType"], error["errorMessage"], tuple(error["stackTrace"])
            ),
            table_ops=reply["table_ops"],
        )

    def _died(self, request_id: str, error_type: str, reason: str, elapsed_ms: float) -> Invocation:
        message = platform_logs.exit_message(request_id, reason)
        return Invocation(
            outcome="oom" if error_type == "Runtime.OutOfMemory" else "crash",
            duration_ms=elapsed_ms,
            logs=[*self._drain_capture(), f"{message}\n{error_type}"],
            max_rss_kb=self.max_rss_kb,
            error=FunctionError(error_type, message),
        )

    async def terminate(self) -> None:
        """Kill the child (SIGKILL, as Lambda's SHUTDOWN does after its grace period) and reap it."""
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        if proc is not None:
            # asyncio's Process has no public close: without this its two pipes stay open
            # until garbage collection, which warns once the event loop is gone.
            transport: asyncio.BaseTransport | None = getattr(proc, "_transport", None)
            if transport is not None:
                transport.close()

    def close(self) -> None:
        """Release the capture file; call after ``terminate``."""
        if self._capture_fd >= 0:
            os.close(self._capture_fd)
            self._capture_fd = -1

    async def _send(self, message: dict[str, Any]) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(protocol.encode(message))
        # If the child died, the read that follows sees end of file and reports it.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await self._proc.stdin.drain()

    async def _result(self) -> dict[str, Any] | None:
        """The next frame that is not an out-call, answering out-calls on the way."""
        while True:
            reply = await self._receive()
            if reply is None or reply["type"] != outcall.CALL:
                return reply
            await self._answer(reply)

    async def _answer(self, call: dict[str, Any]) -> None:
        handler = self.call_handler
        if handler is None:
            result: dict[str, Any] = {"status": outcall.UNAVAILABLE}
        else:
            try:
                result = await handler(call)
            except Exception:  # the handler sees a 500, as from a failing service
                _log.exception("answering an out-call from %s failed", self.spec.name)
                result = {"status": 500, "body": "Internal error"}
        assert self._proc is not None and self._proc.stdin is not None
        # No drain: the child reads this reply at once, and the invocation's own read follows.
        self._proc.stdin.write(protocol.encode({**result, "type": outcall.CALL_RESULT}))

    async def _receive(self) -> dict[str, Any] | None:
        assert self._proc is not None and self._proc.stdout is not None
        reader = self._proc.stdout
        try:
            header = await reader.readexactly(4)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise protocol.ProtocolError("pipe closed in the middle of a frame") from exc
            return None
        try:
            body = await reader.readexactly(protocol.decode_length(header))
        except asyncio.IncompleteReadError:
            return None
        return protocol.decode_body(body)

    async def _wait_exit(self) -> int:
        assert self._proc is not None
        return await self._proc.wait()

    def _note_rss(self, reply: dict[str, Any]) -> None:
        self.max_rss_kb = max(self.max_rss_kb, int(reply.get("max_rss_kb", 0)))

    def _drain_capture(self) -> list[str]:
        fd = self._capture_fd
        if fd < 0:
            return []
        # Read without asking for the size first: one system call fewer per invocation on the
        # event loop. Chunks stay below malloc's mmap threshold.
        chunks: list[bytes] = []
        offset = 0
        while True:
            chunk = os.pread(fd, _CAPTURE_CHUNK, offset)
            if chunk:
                chunks.append(chunk)
                offset += len(chunk)
            if len(chunk) < _CAPTURE_CHUNK:
                break
        if not chunks:
            return []
        os.ftruncate(fd, 0)
        return platform_logs.split_captured(b"".join(chunks))

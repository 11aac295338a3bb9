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
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from heron.runtime import outcall, platform_logs, protocol
from heron.runtime.invoker import CallHandler, FunctionError
from heron.types import Event, FunctionSpec

#: How long INIT may take before Lambda gives up on it (AWS: 10 s for on-demand environments).
INIT_TIMEOUT_S = 10.0
#: Environment variables taken from Heron's own process so the child can start Python at all.
PASSTHROUGH_VARIABLES = (
    "PATH",
    "HOME",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "TMPDIR",
    "SYSTEMROOT",
    "LD_LIBRARY_PATH",
)
#: Go-style signal names, as Lambda's ``Runtime exited with error: signal: ...`` messages spell them.
_SIGNAL_NAMES = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
    signal.SIGINT: "interrupt",
}
_STREAM_LIMIT = 1 << 20
_log = logging.getLogger(__name__)
#: The directory holding the ``heron`` package this process runs.
_HERON_ROOT = str(Path(__file__).resolve().parents[2])

#: Tells the worker's clients that out-calls reach a parent that serves them.
TRANSPORT_VARIABLE = "HERON_CONNECTIONS_TRANSPORT"

Outcome = Literal["success", "error", "timeout", "oom", "crash"]
InitializationType = Literal["on-demand", "provisioned-concurrency"]


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


def exit_reason(returncode: int) -> str:
    """``signal: killed`` or ``exit status 1``, as Lambda describes a runtime that exited."""
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
        except ValueError:
            return f"signal: {-returncode}"
        return "signal: " + _SIGNAL_NAMES.get(sig, sig.name.lower().removeprefix("sig"))
    return f"exit status {returncode}"


def lambda_environment(
    spec: FunctionSpec,
    *,
    base: Mapping[str, str],
    log_stream: str,
    initialization_type: InitializationType,
    region: str,
) -> dict[str, str]:
    """The child's environment: passthrough, Heron's contract, the function's own, then Lambda's.

    Lambda's reserved variables come last because AWS does not let a function override them.
    """
    variables = {name: os.environ[name] for name in PASSTHROUGH_VARIABLES if name in os.environ}
    variables.update(base)
    # Before the function's own variables, so a function can still choose plain HTTP.
    variables[TRANSPORT_VARIABLE] = "pipe"
    variables.update(dict(spec.environment))
    # The worker must import the same ``heron`` the parent runs, installed or not.
    paths = [p for p in variables.get("PYTHONPATH", "").split(os.pathsep) if p]
    if _HERON_ROOT not in paths:
        variables["PYTHONPATH"] = os.pathsep.join([*paths, _HERON_ROOT])
    variables.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": platform_logs.log_group_name(spec.name),
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "_HANDLER": spec.handler,
            "TZ": "UTC",
            "LANG": "en_US.UTF-8",
        }
    )
    return variables


def process_peak_rss_kb(pid: int) -> int | None:
    """Another live process's peak RSS in KiB (``VmHWM``), or None if it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _capture_file() -> int:
    """An anonymous append-only file both processes share for the handler's output."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("heron-capture", os.MFD_CLOEXEC)
    else:  # pragma: no cover - non-Linux fallback
        import tempfile

        with tempfile.TemporaryFile() as handle:
            fd = os.dup(handle.fileno())
    # O_APPEND lives on the shared open file description: after the parent truncates the file,
    # the child's next write lands at offset 0 instead of leaving a hole.
    import fcntl

    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
    return fd


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
        self._capture_fd = _capture_file()
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
            reply = await asyncio.wait_for(self._result(), timeout_s)
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
        if self._capture_fd < 0:
            return []
        size = os.fstat(self._capture_fd).st_size
        if size == 0:
            return []
        data = os.pread(self._capture_fd, size, 0)
        os.ftruncate(self._capture_fd, 0)
        return platform_logs.split_captured(data)

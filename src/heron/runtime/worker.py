"""The execution environment's main program: ``python -m heron.runtime.worker --capture-fd N``.

It plays the part of AWS's Python runtime inside one environment: it imports the handler once
(INIT), then runs one invocation at a time as the parent asks, over length-prefixed orjson frames
on its original stdin/stdout (see ``protocol``). The handler's own stdout and stderr (Python-level
and file descriptors 1 and 2, so subprocesses too) go to the capture file the parent passed in,
which the parent reads after each invocation; the frames never mix with handler output.

Kept deliberately light: every import here is paid on each cold start.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson

from heron.runtime import outcall, protocol
from heron.runtime.context import LambdaContext, function_arn

Handler = Callable[[Any, LambdaContext], Any]

#: How often the memory watchdog samples resident memory during an invocation.
MEMORY_SAMPLE_INTERVAL_S = 0.025

_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4


class InitFailure(Exception):
    """The handler could not be loaded; carries Lambda's error type, message and stack."""

    def __init__(self, error_type: str, message: str, stack: list[str]) -> None:
        super().__init__(message)
        self.error = {"errorType": error_type, "errorMessage": message, "stackTrace": stack}


class _ProcSelfFile:
    """A ``/proc/self`` file kept open and re-read from its start: reading it after every
    invocation costs a path lookup and two more system calls when opened each time."""

    def __init__(self, name: str) -> None:
        self._path = f"/proc/self/{name}"
        self._fd: int | None = None
        self._pid = 0
        self._opening = threading.Lock()  # the memory watch thread reads these files too

    def read(self) -> bytes:
        """The file's current text (OSError if it cannot be read)."""
        if self._fd is not None and self._pid == os.getpid():
            try:
                return os.pread(self._fd, 8192, 0)
            except OSError:
                pass  # closed behind our back (a handler's os.closerange): open it again
        with self._opening:
            if self._fd is not None and self._pid != os.getpid():
                # A forked child's inherited copy ("self" was resolved when the parent opened
                # it); after an OSError the number may be somebody else's file by now.
                with contextlib.suppress(OSError):
                    os.close(self._fd)
            fd = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
            self._fd, self._pid = fd, os.getpid()
        return os.pread(fd, 8192, 0)


_STATUS = _ProcSelfFile("status")
_STATM = _ProcSelfFile("statm")


def peak_rss_kb() -> int:
    """This process's peak resident set size in KiB (Linux ``VmHWM``).

    ``getrusage(RUSAGE_SELF).ru_maxrss`` is not used on Linux: it survives ``execve``, so a child
    spawned by a large parent would report the parent's peak as its own.
    """
    try:
        data = _STATUS.read()
        start = data.index(b"VmHWM:") + 6
        return int(data[start : data.index(b"kB", start)])
    except (OSError, ValueError):
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def current_rss_kb() -> int:
    """This process's resident set size right now, in KiB."""
    try:
        return int(_STATM.read().split()[1]) * _PAGE_KB
    except (OSError, ValueError, IndexError):
        return peak_rss_kb()


def load_handler(spec: str) -> Handler:
    """Import ``pkg.module.func`` (or ``pkg.module:func``) the way AWS's runtime does, or fail."""
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
    else:
        module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        raise InitFailure(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)",
            [],
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise InitFailure(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}", []
        ) from exc
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {(exc.text or "").strip()}\n']
        raise InitFailure(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", trace
        ) from exc
    except Exception as exc:  # module-level code raised: AWS reports the exception itself
        raise InitFailure(type(exc).__name__, str(exc), stack_of(exc)) from exc
    handler = getattr(module, attr, None)
    if handler is None:
        raise InitFailure(
            "Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module_name}'", []
        )
    return handler  # type: ignore[no-any-return]


def stack_of(exc: BaseException) -> list[str]:
    """The traceback entries of ``exc`` as AWS's ``stackTrace``, without this module's frames."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    return traceback.format_list(frames)


def log_error(error: dict[str, Any]) -> None:
    """Write the ``[ERROR] Type: message`` record AWS's runtime logs for an unhandled error.

    Lines are joined with ``\\r`` so the parent keeps them together as one log event, as
    CloudWatch shows them.
    """
    head = "[ERROR] " + error["errorType"]
    if error["errorMessage"]:
        head += ": " + error["errorMessage"]
    lines = [head, "Traceback (most recent call last):"]
    for element in error["stackTrace"]:
        lines.extend(element.splitlines())
    sys.stdout.write("\r".join(lines) + "\n")


def marshal_error(exc: TypeError) -> dict[str, Any]:
    """Lambda's ``Runtime.MarshalError`` for a return value that is not JSON-serialisable."""
    text = str(exc)
    prefix = "Type is not JSON serializable: "
    if text.startswith(prefix):
        text = f"Object of type {text[len(prefix) :].rsplit('.', 1)[-1]} is not JSON serializable"
    return {
        "errorType": "Runtime.MarshalError",
        "errorMessage": f"Unable to marshal response: {text}",
        "stackTrace": [],
    }


def drain_table_ops() -> list[dict[str, Any]]:
    """Table operations recorded since the last call, if the handler uses Heron's tables."""
    # Only look if the handler imported the tables layer itself: importing it here would
    # make every cold start pay for it.
    metrics = sys.modules.get("heron.tables.metrics")
    if metrics is None:
        return []
    try:
        return [op.as_dict() for op in metrics.RECORDER.drain()]
    except Exception:  # a broken recorder must not fail the invocation
        return []


class Channel:
    """The frame pipe back to the parent; thread-safe, and silent once an OOM was reported."""

    def __init__(self, out_fd: int) -> None:
        self._fd = out_fd
        self._lock = threading.Lock()
        self.oom_reported = False

    def send(self, message: dict[str, Any]) -> None:
        """Send a reply unless the memory watchdog already reported this environment dead."""
        with self._lock:
            if not self.oom_reported:
                protocol.write_frame(self._fd, message)

    def report_oom(self, rss_kb: int) -> None:
        """Tell the parent the memory limit was exceeded; it will kill this process."""
        with self._lock:
            if not self.oom_reported:
                self.oom_reported = True
                protocol.write_frame(self._fd, {"type": "oom", "max_rss_kb": rss_kb})


class MemoryWatch(threading.Thread):
    """Samples resident memory while a handler runs and reports the first time it passes the limit."""

    #: Samples in a row without an invocation after which the thread waits to be woken instead.
    PARK_AFTER_SAMPLES = 40

    def __init__(self, channel: Channel, limit_kb: int) -> None:
        super().__init__(name="heron-memory-watch", daemon=True)
        self._channel = channel
        self._limit_kb = limit_kb
        # A plain flag, not an Event: arm and disarm run around every invocation, and an
        # Event's lock and notify cost more than the handler of a simple read.
        self.armed = False
        self._parked = False
        self._wake = threading.Event()

    def arm(self) -> None:
        """Start sampling (an invocation began)."""
        self.armed = True
        if self._parked:  # idle for a while: the thread waits for this
            self._wake.set()

    def disarm(self) -> None:
        """Stop sampling (the invocation ended)."""
        self.armed = False

    def run(self) -> None:
        """Sample every interval while invocations come; between bursts, wait to be woken."""
        idle = 0
        while True:
            time.sleep(MEMORY_SAMPLE_INTERVAL_S)
            if self.armed:
                idle = 0
                if current_rss_kb() > self._limit_kb:
                    self._channel.report_oom(peak_rss_kb())
                continue
            idle += 1
            if idle >= self.PARK_AFTER_SAMPLES:
                # Either arm() sees _parked and sets the event, or this sees armed: the GIL
                # orders the two threads' steps, so no invocation is missed.
                self._parked = True
                self._wake.clear()
                if not self.armed:
                    self._wake.wait()
                self._parked = False
                idle = 0


class Worker:
    """One execution environment's runtime loop: INIT once, then invocations."""

    def __init__(self, in_fd: int, channel: Channel) -> None:
        self._in_fd = in_fd
        self._channel = channel
        self._handler: Handler | None = None
        self._init: dict[str, Any] = {}
        self._limit_kb = 0
        self._watch: MemoryWatch | None = None
        self.request_id = ""

    def serve(self) -> int:
        """Answer frames until the parent closes the pipe; the process exit code."""
        while True:
            message = protocol.read_frame(self._in_fd)
            if message is None:
                return 0
            kind = message["type"]
            if kind == "init":
                self._initialise(message)
            elif kind == "invoke":
                self._invoke(message)
            else:
                raise protocol.ProtocolError(f"unexpected frame type {kind!r}")

    def _initialise(self, message: dict[str, Any]) -> None:
        self._init = message
        self._limit_kb = int(message["memory_mb"]) * 1024
        started = time.perf_counter()
        try:
            self._handler = load_handler(message["handler"])
        except InitFailure as failure:
            log_error(failure.error)
            self._reply(
                {"type": "init_error", "error": failure.error},
                started,
            )
            return
        self._watch = MemoryWatch(self._channel, self._limit_kb)
        self._watch.start()
        self._reply({"type": "ready", "table_ops": drain_table_ops()}, started)

    def _invoke(self, message: dict[str, Any]) -> None:
        if self._handler is None:
            raise protocol.ProtocolError("invoke before a successful init")
        init = self._init
        self.request_id = message["request_id"]
        context = LambdaContext(
            aws_request_id=self.request_id,
            deadline_ms=int(message["deadline_ms"]),
            function_name=init["function_name"],
            invoked_function_arn=function_arn(
                init["region"], init["account_id"], init["function_name"]
            ),
            memory_limit_in_mb=int(init["memory_mb"]),
            log_group_name=init["log_group_name"],
            log_stream_name=init["log_stream_name"],
        )
        os.environ["_X_AMZN_TRACE_ID"] = message.get("trace_id", "")
        assert self._watch is not None
        self._watch.arm()
        started = time.perf_counter()
        try:
            result = self._handler(message["event"], context)
        except Exception as exc:
            duration = time.perf_counter() - started
            self._watch.disarm()
            error: dict[str, Any] = {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": stack_of(exc),
            }
            log_error(error)
            self._reply({"type": "error", "error": error}, started, duration)
            return
        duration = time.perf_counter() - started
        self._watch.disarm()
        try:
            payload = orjson.dumps(result, option=protocol.DUMPS_OPTIONS)
        except TypeError as exc:
            error = marshal_error(exc)
            log_error(error)
            self._reply({"type": "error", "error": error}, started, duration)
            return
        self._reply({"type": "result", "payload": orjson.Fragment(payload)}, started, duration)

    def _reply(
        self, message: dict[str, Any], started: float, duration: float | None = None
    ) -> None:
        # Flush first: the parent reads the capture file as soon as the reply arrives.
        sys.stdout.flush()
        sys.stderr.flush()
        elapsed = time.perf_counter() - started if duration is None else duration
        peak = peak_rss_kb()
        message["duration_ms"] = elapsed * 1000.0
        message["max_rss_kb"] = peak
        if "table_ops" not in message:
            message["table_ops"] = drain_table_ops()
        if self._limit_kb and peak > self._limit_kb:
            self._channel.report_oom(peak)
        else:
            self._channel.send(message)


def install_log_handler(worker: Worker) -> None:
    """Give the root logger the handler AWS's Python runtime installs (level stays WARNING)."""
    import logging

    class LambdaLogHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            record.aws_request_id = worker.request_id
            text = self.format(record).replace("\n", "\r")
            sys.stdout.write(text + "\n")

    handler = LambdaLogHandler()
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logging.getLogger().addHandler(handler)


def redirect_output(capture_fd: int) -> tuple[int, int]:
    """Move the protocol off fds 0/1 and point fds 1/2 at the capture file; the protocol fds."""
    in_fd = os.dup(0)
    out_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(capture_fd, 1)
    os.dup2(capture_fd, 2)
    if capture_fd not in (1, 2):
        os.close(capture_fd)
    # AWS's runtime makes stdout and stderr unbuffered; line buffering keeps print order with
    # stderr and still lets a partial line be flushed at the end of the invocation.
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    return in_fd, out_fd


def yield_to_the_gateway() -> None:
    """Run this environment under ``SCHED_BATCH`` where the OS has it (Linux).

    Every request passes through the gateway's one event loop, so that loop is what limits
    throughput. When the gateway writes an event to this environment's pipe, Linux would let
    the woken environment preempt the gateway on its core; a batch task waits for its turn
    instead, and the gateway keeps serving (GET /users/{id}: 2,700 -> 3,700 requests/s on 2
    cores). An idle core still runs the environment at once, so a lone request is not slowed.
    """
    batch = getattr(os, "SCHED_BATCH", None)
    if batch is not None:
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, batch, os.sched_param(0))


def main(argv: list[str] | None = None) -> int:
    """Run the worker; ``argv`` is ``["--capture-fd", N]``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "--capture-fd":
        sys.stderr.write("usage: python -m heron.runtime.worker --capture-fd N\n")
        return 2
    yield_to_the_gateway()
    in_fd, out_fd = redirect_output(int(args[1]))
    channel = Channel(out_fd)
    worker = Worker(in_fd, channel)
    outcall.install(channel.send, in_fd)
    install_log_handler(worker)
    return worker.serve()


if __name__ == "__main__":
    sys.exit(main())

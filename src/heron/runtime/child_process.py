"""What an execution environment's child process is started with, and how its end is described.

The child's environment variables (Heron's contract, the function's own, then Lambda's reserved
ones), the capture file both processes share for the handler's output, a child's peak memory as
the parent reads it, and Lambda's wording for a runtime that exited.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from heron.runtime import platform_logs
from heron.types import FunctionSpec

InitializationType = Literal["on-demand", "provisioned-concurrency"]

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

#: The directory holding the ``heron`` package this process runs.
_HERON_ROOT = str(Path(__file__).resolve().parents[2])

#: Tells the worker's clients that out-calls reach a parent that serves them.
TRANSPORT_VARIABLE = "HERON_CONNECTIONS_TRANSPORT"


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


def capture_file() -> int:
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

"""Handlers exercising the runtime: echo, failures, sleeps, memory, crashes, output capture."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from typing import Any

print("init: basic loaded")
INIT_PID = os.getpid()
_calls = 0


def echo(event: Any, context: Any) -> dict[str, Any]:
    """Return the event, the process id and how many times this environment was invoked."""
    global _calls
    _calls += 1
    print(f"echo called {_calls}")
    return {"event": event, "pid": os.getpid(), "calls": _calls}


def describe(event: Any, context: Any) -> dict[str, Any]:
    """Return the context's fields and the Lambda environment variables."""
    names = [
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_EXECUTION_ENV",
        "AWS_REGION",
        "_HANDLER",
        "TZ",
        "HERON_DATA_DIR",
        "GREETING",
        "_X_AMZN_TRACE_ID",
    ]
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": context.identity,
        "client_context": context.client_context,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "env": {name: os.environ.get(name) for name in names},
        "pid": os.getpid(),
        "stdin_is_empty": sys.stdin.read() == "",
    }


def fail(event: Any, context: Any) -> None:
    """Raise a ValueError with the event's message."""
    print("about to fail")
    raise ValueError(event.get("message", "boom"))


def sleep(event: Any, context: Any) -> dict[str, Any]:
    """Print, then sleep ``seconds``."""
    print("going to sleep", flush=True)
    time.sleep(float(event.get("seconds", 0)))
    return {"slept": event.get("seconds", 0), "pid": os.getpid()}


def output(event: Any, context: Any) -> str:
    """Write through every route a handler might use: print, stderr, raw fds, logging, \\r."""
    print("line one")
    print("line two")
    sys.stderr.write("to stderr\n")
    os.write(1, b"raw fd one\n")
    os.write(2, b"raw fd two\n")
    logging.getLogger().warning("careful\nsecond line")
    print("no newline at end", end="")
    return "done"


def allocate(event: Any, context: Any) -> dict[str, Any]:
    """Hold ``mb`` megabytes (touched), optionally for ``hold`` seconds."""
    block = b"x" * (int(event["mb"]) * 1024 * 1024)
    time.sleep(float(event.get("hold", 0)))
    return {"held": len(block)}


def die(event: Any, context: Any) -> None:
    """End the process the way ``event['how']`` says."""
    print("dying", flush=True)
    if event.get("how") == "exit":
        os._exit(int(event.get("status", 3)))
    os.kill(os.getpid(), signal.SIGKILL)


def unserializable(event: Any, context: Any) -> Any:
    """Return something JSON cannot carry."""
    return {"value": {1, 2}}


def big(event: Any, context: Any) -> str:
    """Return a string of ``size`` bytes."""
    return "y" * int(event["size"])


def loud(event: Any, context: Any) -> int:
    """Print ``event["lines"]`` lines of ``event["width"]`` characters (output bigger than one
    read of the capture file)."""
    for n in range(event["lines"]):
        print(f"{n:06d}" + "x" * event["width"])
    return event["lines"]

"""An in-process ``Invoker``: the real handlers in worker threads, run the way the runtime runs them.

Mirrors ``heron.runtime.worker``: the event reaches the handler as decoded JSON, the context is a
real ``LambdaContext``, the function timeout applies (``Sandbox.Timedout``), an exception is
reported as a ``FunctionError`` with its stack (the gateway answers 500), and a result that is not
JSON-serialisable is a ``Runtime.MarshalError``. No child processes, so a fuzz example costs
milliseconds.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from heron.errors import FunctionNotFoundError
from heron.functions.specs import load_handler
from heron.runtime.context import LambdaContext, function_arn
from heron.runtime.invoker import FunctionError, InvokeResult
from heron.runtime.platform_logs import timeout_message
from heron.runtime.protocol import DUMPS_OPTIONS
from heron.runtime.worker import marshal_error, stack_of
from heron.types import Event, FunctionSpec

#: CPython's default recursion limit, which every execution environment (a fresh ``python -m
#: heron.runtime.worker`` process) runs handlers under.
RUNTIME_RECURSION_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Invocation:
    """One finished invocation: which function, the event it got, and what came back."""

    function: str
    event: Event
    result: InvokeResult


class RuntimeRecursionLimit:
    """While any handler runs, the recursion limit is the runtime's, not Hypothesis's.

    Hypothesis raises the (process-wide) limit by ~2,000 frames while a test runs, which would
    hide a handler's RecursionError on nested input; the real worker process never has that
    headroom. Nested holders share one saved value, restored when the last one leaves, so the
    limit Hypothesis set is back in place before it checks it.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._holders = 0
        self._saved = 0

    def __enter__(self) -> None:
        with self._lock:
            if self._holders == 0:
                self._saved = sys.getrecursionlimit()
                sys.setrecursionlimit(self.limit)
            self._holders += 1

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0:
                sys.setrecursionlimit(self._saved)


_RECURSION_LIMIT = RuntimeRecursionLimit(RUNTIME_RECURSION_LIMIT)


def _run_handler(handler: Callable[[Event, Any], Any], event: Event, context: Any) -> Any:
    with _RECURSION_LIMIT:
        return handler(event, context)


class InProcessInvoker:
    """The ``Invoker`` protocol over handlers run in worker threads, the way the runtime runs them.

    As in ``heron.runtime.worker``: the event reaches the handler as decoded JSON, the context is
    a real ``LambdaContext``, the function timeout applies (``Sandbox.Timedout``), an exception is
    reported as a ``FunctionError`` with its stack, and a result that is not JSON-serialisable is
    a ``Runtime.MarshalError``.
    """

    def __init__(
        self,
        functions: Sequence[FunctionSpec],
        *,
        region: str = "us-east-1",
        account_id: str = "000000000000",
        on_invoke: Callable[[asyncio.AbstractEventLoop], None] | None = None,
    ) -> None:
        self.specs = {spec.name: spec for spec in functions}
        self.region = region
        self.account_id = account_id
        self.on_invoke = on_invoke
        self.in_flight = 0
        self.history: list[Invocation] = []
        self._handlers: dict[str, Callable[[Event, Any], Any]] = {}

    @property
    def errors(self) -> list[Invocation]:
        """Invocations since the last ``history.clear()`` that ended in a function error."""
        return [call for call in self.history if call.result.error is not None]

    async def invoke(self, function_name: str, event: Event) -> InvokeResult:
        """Run ``function_name``'s handler on ``event``; FunctionNotFoundError if undeclared."""
        spec = self.specs.get(function_name)
        if spec is None:
            raise FunctionNotFoundError(function_name)
        if self.on_invoke is not None:
            self.on_invoke(asyncio.get_running_loop())
        handler = self._handlers.get(spec.name)
        if handler is None:
            handler = self._handlers[spec.name] = load_handler(spec.handler)
        request_id = str(uuid.uuid4())
        # The runtime ships the event to its child process as JSON; so do we.
        wire_event = orjson.loads(orjson.dumps(event, option=DUMPS_OPTIONS))
        context = LambdaContext(
            aws_request_id=request_id,
            deadline_ms=int((time.time() + spec.timeout_s) * 1000),
            function_name=spec.name,
            invoked_function_arn=function_arn(self.region, self.account_id, spec.name),
            memory_limit_in_mb=spec.memory_mb,
            log_group_name=f"/aws/lambda/{spec.name}",
            log_stream_name=f"fuzz/[$LATEST]{request_id.replace('-', '')}",
        )
        self.in_flight += 1
        started = time.perf_counter()
        try:
            result = self._finish(
                request_id, started, await self._run(handler, wire_event, context, spec)
            )
        finally:
            self.in_flight -= 1
        self.history.append(Invocation(spec.name, wire_event, result))
        return result

    async def _run(
        self, handler: Callable[[Event, Any], Any], event: Event, context: Any, spec: FunctionSpec
    ) -> tuple[Any, FunctionError | None]:
        try:
            async with asyncio.timeout(spec.timeout_s):
                return await asyncio.to_thread(_run_handler, handler, event, context), None
        except TimeoutError:
            message = timeout_message(context.aws_request_id, spec.timeout_s)
            return None, FunctionError("Sandbox.Timedout", message)
        except Exception as exc:
            return None, FunctionError(type(exc).__name__, str(exc), tuple(stack_of(exc)))

    @staticmethod
    def _finish(
        request_id: str, started: float, outcome: tuple[Any, FunctionError | None]
    ) -> InvokeResult:
        value, error = outcome
        duration_ms = (time.perf_counter() - started) * 1000.0
        if error is None:
            try:
                # The runtime's reply to the gateway is JSON too.
                value = orjson.loads(orjson.dumps(value, option=DUMPS_OPTIONS))
            except TypeError as exc:
                raw = marshal_error(exc)
                error = FunctionError(raw["errorType"], raw["errorMessage"])
        if error is not None:
            return InvokeResult(request_id, error=error, duration_ms=duration_ms)
        return InvokeResult(request_id, payload=value, duration_ms=duration_ms)

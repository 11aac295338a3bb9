"""What the gateway (and ``heron invoke``) needs from the runtime: invoke a function by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from heron.types import Event


@dataclass(frozen=True, slots=True)
class FunctionError:
    """A failed invocation as Lambda reports it (errorType, errorMessage, stackTrace)."""

    error_type: str
    message: str
    stack_trace: tuple[str, ...] = ()

    def as_payload(self) -> dict[str, Any]:
        """The JSON body Lambda returns for a failed invocation."""
        return {
            "errorMessage": self.message,
            "errorType": self.error_type,
            "stackTrace": list(self.stack_trace),
        }


@dataclass(frozen=True, slots=True)
class InvokeResult:
    """The outcome of one invocation: the handler's return value, or an error."""

    request_id: str
    payload: Any = None
    error: FunctionError | None = None
    duration_ms: float = 0.0
    init_duration_ms: float | None = None

    @property
    def ok(self) -> bool:
        """True when the handler returned normally."""
        return self.error is None


class Invoker(Protocol):
    """Runs functions by name; raises TooManyRequestsError when throttled."""

    async def invoke(self, function_name: str, event: Event) -> InvokeResult:
        """Invoke ``function_name`` with ``event`` synchronously (RequestResponse)."""


#: Answers a handler's out-call (see ``heron.runtime.outcall``): the ``call`` frame in, the
#: result's fields out (at least ``status``).
CallHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


@runtime_checkable
class CallServer(Protocol):
    """An invoker whose handlers can call services of the process hosting it, over their pipe."""

    def serve_calls(self, service: str, handler: CallHandler) -> None:
        """Answer the handlers' out-calls to ``service`` with ``handler``."""

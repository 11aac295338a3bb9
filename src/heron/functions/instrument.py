"""The wrapper every handler wears: time it, log one record, turn refusals into responses, flush EMF.

    @instrumented("message_sent")
    def send_message(event, context): ...

Per invocation it writes exactly one INFO record (``status`` "success", "client_error" for a 4xx
response or "denied" for a refused authorization) or one ERROR record (then re-raises, so Lambda
counts an error and API Gateway answers 500), and prints the EMF document once, in ``finally``.
Inside the handler, ``metrics()`` is the invocation's EMF buffer and ``bind(...)`` adds context
(``userId``, ``messageId``...) to the log records.
"""

from __future__ import annotations

import contextvars
import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from heron.functions import deps
from heron.functions.http import HttpError, error_response, header, query_param, request_context
from heron.telemetry.emf import HERON_NAMESPACE, MetricsWriter
from heron.telemetry.logger import StructuredLogger
from heron.types import Event

Handler = Callable[[Event, Any], Any]

# Lambda runs one invocation per process at a time, but a contextvar keeps this honest anywhere.
_CURRENT: contextvars.ContextVar[Invocation] = contextvars.ContextVar("heron_invocation")
_cold = True


@dataclass
class Invocation:
    """What the wrapper knows about the running invocation."""

    function: str
    request_id: str
    action: str
    metrics: MetricsWriter
    user_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)


def current() -> Invocation:
    """The running invocation; only valid inside an ``instrumented`` handler."""
    try:
        return _CURRENT.get()
    except LookupError:
        raise RuntimeError("not inside an instrumented handler") from None


def metrics() -> MetricsWriter:
    """The running invocation's EMF buffer (namespace Heron, dimension FunctionName)."""
    return current().metrics


def bind(*, user_id: str | None = None, action: str | None = None, **context: Any) -> None:
    """Attach the caller, a more specific action name, or extra ERROR-record context."""
    invocation = current()
    if user_id is not None:
        invocation.user_id = user_id
    if action is not None:
        invocation.action = action
    invocation.context.update({k: v for k, v in context.items() if v is not None})


def add_secret(secret: str) -> None:
    """Name a string that must never appear in this invocation's log lines (e.g. a new token)."""
    current().secrets.append(secret)


def _function_name(context: Any) -> str:
    name = getattr(context, "function_name", None)
    if isinstance(name, str) and name:
        return name
    return os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "unknown")


def _request_id(event: Event, context: Any) -> str:
    request_id = getattr(context, "aws_request_id", None)
    if isinstance(request_id, str) and request_id:
        return request_id
    fallback = request_context(event).get("requestId")
    return fallback if isinstance(fallback, str) else ""


def _event_secrets(event: Event) -> list[str]:
    """The credentials an event carries, so they can be scrubbed from anything logged."""
    found: list[str] = []
    authorization = header(event, "authorization")
    if authorization:
        found.append(authorization)
        found.append(authorization.split(" ", 1)[-1])
    token = query_param(event, "token")
    if token:
        found.append(token)
    for source in event.get("identitySource") or []:
        if isinstance(source, str) and source:
            found.append(source)
            found.append(source.split(" ", 1)[-1])
    return found


def _caller(event: Event) -> str | None:
    authorizer = request_context(event).get("authorizer")
    principal = authorizer.get("lambda") if isinstance(authorizer, dict) else None
    user_id = principal.get("userId") if isinstance(principal, dict) else None
    return user_id if isinstance(user_id, str) else None


def outcome(result: Any) -> str:
    """Classify a handler's return value as an INFO ``status``."""
    if isinstance(result, dict):
        if result.get("isAuthorized") is False:
            return "denied"
        status = result.get("statusCode")
        if isinstance(status, int) and 400 <= status < 500:
            return "client_error"
    return "success"


#: The request header ``heron load --inject-error-rate`` and the demo send to make a handler fail.
INJECT_ERROR_HEADER = "x-heron-inject-error"


class InjectedFault(RuntimeError):
    """A failure asked for with ``x-heron-inject-error`` while fault injection is on."""


def raise_injected_fault(event: Event) -> None:
    """Fail like a crashing handler when fault injection is on and the request asks for it.

    Only with ``HERON_FAULT_INJECTION=1`` in the environment (``heron up --demo`` sets it), so a
    deployed function never honours the header.
    """
    if os.environ.get("HERON_FAULT_INJECTION") != "1":
        return
    if header(event, INJECT_ERROR_HEADER) not in (None, "", "0"):
        raise InjectedFault("Injected fault (x-heron-inject-error)")


def instrumented(action: str) -> Callable[[Handler], Handler]:
    """Wrap a handler with logging, refusal-to-response mapping and one EMF flush."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapper(event: Event, context: Any) -> Any:
            global _cold
            function = _function_name(context)
            clock = deps.clock()
            writer = MetricsWriter(
                HERON_NAMESPACE, dimensions={"FunctionName": function}, clock=clock
            )
            invocation = Invocation(
                function=function,
                request_id=_request_id(event, context),
                action=action,
                metrics=writer,
                user_id=_caller(event),
                secrets=_event_secrets(event),
            )
            if _cold:
                _cold = False
                writer.add_metric("ColdStart", "Count", 1)
            logger = StructuredLogger(function, clock=clock)
            token = _CURRENT.set(invocation)
            started = time.perf_counter()
            try:
                try:
                    raise_injected_fault(event)
                    result = handler(event, context)
                except HttpError as refusal:
                    result = error_response(refusal)
                logger.info(
                    request_id=invocation.request_id,
                    user_id=invocation.user_id,
                    action=invocation.action,
                    duration_ms=(time.perf_counter() - started) * 1000,
                    status=outcome(result),
                    secrets=invocation.secrets,
                )
                return result
            except Exception as exc:
                logger.error(
                    request_id=invocation.request_id,
                    exc=exc,
                    context={"userId": invocation.user_id, **invocation.context},
                    secrets=invocation.secrets,
                )
                raise
            finally:
                writer.flush()
                _CURRENT.reset(token)

        return wrapper

    return decorate

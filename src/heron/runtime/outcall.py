"""Calls from a running handler back to the parent over the environment's own frame pipe.

A local stand-in for services Lambda code reaches over the network (today: the @connections
API). The worker installs its pipe here at start-up; a client asks ``call`` for a round trip: it
writes one ``call`` frame on the reply pipe, and the parent, which is waiting for the
invocation's result on that pipe anyway, answers with one ``call_result`` frame on the request
pipe before the result arrives. No socket, no HTTP parsing on either side, and the parent's
event loop handles one pipe read and one write instead of a whole HTTP exchange.

Only the child imports this module, so it must stay light. Outside a worker (a handler run
directly, or on AWS) ``available()`` is False and clients use their network transport.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from heron.runtime import protocol

#: The frame a handler sends, and the one the parent answers with.
CALL = "call"
CALL_RESULT = "call_result"
#: The ``status`` of a ``call_result`` when the parent has nothing serving that service.
UNAVAILABLE = 0

_SendFrame = Callable[[dict[str, Any]], None]


class OutcallError(Exception):
    """The pipe to the parent broke or carried something other than the call's result."""


class _Pipe:
    """The installed pipe: how to send a frame, and the descriptor replies arrive on."""

    __slots__ = ("in_fd", "lock", "send")

    def __init__(self, send: _SendFrame, in_fd: int) -> None:
        self.send = send
        self.in_fd = in_fd
        # One call at a time: a frame written and its reply read must not interleave with a
        # call from another thread of the handler.
        self.lock = threading.Lock()


_PIPE: _Pipe | None = None


def install(send: _SendFrame, in_fd: int) -> None:
    """Make out-calls possible in this process (the worker calls this once, before INIT)."""
    global _PIPE
    _PIPE = _Pipe(send, in_fd)


def uninstall() -> None:
    """Forget the pipe (tests; a process that stops being a worker)."""
    global _PIPE
    _PIPE = None


def available() -> bool:
    """True inside a Heron execution environment whose parent can answer out-calls."""
    return _PIPE is not None


def call(service: str, request: dict[str, Any]) -> dict[str, Any]:
    """Send ``request`` to ``service`` in the parent and return its ``call_result`` frame.

    Only valid while an invocation runs (the parent reads the pipe only then); raises
    OutcallError when no pipe is installed or the parent answered with something else.
    """
    pipe = _PIPE
    if pipe is None:
        raise OutcallError("not running in a Heron execution environment")
    with pipe.lock:
        pipe.send({**request, "type": CALL, "service": service})
        try:
            reply = protocol.read_frame(pipe.in_fd)
        except protocol.ProtocolError as exc:
            raise OutcallError(str(exc)) from exc
    if reply is None:
        raise OutcallError("the parent closed the pipe")
    if reply.get("type") != CALL_RESULT:
        raise OutcallError(f"expected a call_result frame, got {reply.get('type')!r}")
    return reply

"""A decode worker's main program: ``python -m heron.awsapi.decode_worker --idle-s N``.

It reads requests from stdin and answers on stdout, one at a time, as length-prefixed pickles
(the parent is the only peer: it started this process and holds both pipes). A request is a
raw PutMetricData JSON body, answered with its ``PlainPut`` (packed, ``KeysSent``) or None when the
request is not plain (the parent then takes the generic path); or EMF log lines, answered with
their datapoints and statistics (``heron.monitor.logs.emf_offload``). The first frame written
is ``b"ready"`` once the imports are done.

The worker leaves by itself after ``--idle-s`` seconds without a request, so an idle ``heron up``
keeps no decode processes; it also leaves when stdin closes (its parent ended).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import select
import signal
import struct
import sys
from typing import Any

from heron.awsapi.plain_put import IdentityMemo, encode_put, plain_body
from heron.monitor.metrics.key_index import KeysSent

HEADER = struct.Struct(">I")
#: Largest frame either side accepts (a 40 MiB inflated body limit fits well inside).
MAX_FRAME_BYTES = 64 * 1024 * 1024


#: Pipe capacity asked for: a whole answer (~72 KiB for 1,000 datums) or request fits, so
#: neither side blocks mid-frame waiting for the other to be scheduled (Linux's default is
#: 64 KiB; the call is Linux-only and best effort).
PIPE_BYTES = 1024 * 1024


def widen_pipe(fd: int) -> None:
    """Raise a pipe's capacity to ``PIPE_BYTES`` where the system allows it (Linux)."""
    try:
        import fcntl
    except ImportError:
        return
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, set_size, PIPE_BYTES)


#: Request kinds: ``(PMD, body, gzipped, limit, now_ms)`` -> a ``PlainPut`` encoded by
#: ``KeysSent`` or None;
#: ``(EMF, packed chunks, part, parts, now_ms)`` -> an ``EmfAnswer`` tuple for that share of the
#: chunks' events (``monitor.logs.emf_offload``).
PMD = "pmd"
EMF = "emf"


class WorkerGone(Exception):
    """The peer closed its pipe or sent something that is not a frame."""


def read_frame(fd: int, timeout_s: float | None = None) -> Any:
    """The next frame's unpickled object; raises WorkerGone on EOF, TimeoutError after
    ``timeout_s`` without the start of a frame."""
    if timeout_s is not None:
        # poll, not select: select refuses descriptors past 1,023, which a busy server has.
        waiting = select.poll()
        waiting.register(fd, select.POLLIN)
        if not waiting.poll(timeout_s * 1000):
            raise TimeoutError
    # One read usually brings the whole frame (the writer wrote it at once into a pipe large
    # enough): each read gives up the GIL and must take it back, at a cost when it is busy.
    data = os.read(fd, PIPE_BYTES)
    if len(data) < HEADER.size:
        data += _read_exactly(fd, HEADER.size - len(data))
    (size,) = HEADER.unpack_from(data)
    if size > MAX_FRAME_BYTES:
        raise WorkerGone(f"frame of {size} bytes")
    missing = HEADER.size + size - len(data)
    if missing < 0:
        raise WorkerGone("more than one frame at once")
    if missing:
        data += _read_exactly(fd, missing)
    return pickle.loads(memoryview(data)[HEADER.size :])


def write_frame(fd: int, message: Any) -> None:
    """Write one frame holding ``message``."""
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    data = memoryview(HEADER.pack(len(body)) + body)
    while data:
        data = data[os.write(fd, data) :]


def _read_exactly(fd: int, size: int) -> bytes:
    parts: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise WorkerGone("pipe closed")
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


class _Answers:
    """What a worker remembers between requests: validated identities, an EMF extractor."""

    def __init__(self) -> None:
        self.memo = IdentityMemo()
        self.keys = KeysSent()
        self.extractor: Any = None  # made on the first EMF request (it imports numpy)

    def answer(self, request: tuple[Any, ...]) -> Any:
        kind = request[0]
        if kind == PMD:
            _, body, gzipped, limit, now_ms = request
            put = plain_body(body, gzipped, limit, now_ms, self.memo)
            return None if put is None else encode_put(self.keys, put)
        if kind == EMF:
            from heron.monitor.logs.emf import EmfExtractor
            from heron.monitor.logs.emf_offload import events_part, extract_answer

            _, chunks, part, parts, now_ms = request
            if self.extractor is None:
                self.extractor = EmfExtractor()
            events = events_part(chunks, part, parts)
            return extract_answer(self.extractor, events, now_ms, self.keys)
        raise WorkerGone(f"unknown request {kind!r}")


def serve(read_fd: int, write_fd: int, idle_s: float) -> None:
    """Answer requests until stdin closes or ``idle_s`` pass without one."""
    answers = _Answers()
    write_frame(write_fd, b"ready")
    while True:
        try:
            request = read_frame(read_fd, idle_s)
        except (TimeoutError, WorkerGone):
            return
        write_frame(write_fd, answers.answer(request))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the worker process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-s", type=float, default=30.0)
    args = parser.parse_args(argv)
    # Ctrl-C in a terminal reaches the whole process group: the parent shuts down and this
    # worker leaves when its stdin closes, without a KeyboardInterrupt traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(sys.stdin.fileno(), sys.stdout.fileno(), args.idle_s)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

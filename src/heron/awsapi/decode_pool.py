"""Decode workers for large PutMetricData requests and EMF writes, run beside the gateway.

``heron up`` serves the application and the monitor from one process, and Python runs one
thread of it at a time. Decoding a 1,000-datum PutMetricData (gzip, JSON, checking every datum)
is most of its cost, and pure: a child process can do it on another core and send back the
rows, while this process only checks the signature and commits. On 2 cores that nearly doubles
PutMetricData's throughput (bench/README.md, figure 9). Likewise a large write's EMF lines are
extracted by a worker while this process commits the events (``monitor.logs.emf_offload``).

Workers start on first need (the request that finds none is decoded here meanwhile), serve one
request at a time, and leave after ``idle_s`` without work. A worker that dies, or answers
nonsense, is dropped and its request decoded here: the pool never decides a result, so losing it
costs only speed. Calls block (pipes), so callers run them in a thread; the pipe reads and
writes release the GIL.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from heron.awsapi.decode_worker import (
    EMF,
    PMD,
    WorkerGone,
    read_frame,
    widen_pipe,
    write_frame,
)
from heron.monitor.logs.emf_offload import EmfAnswer, PackedEvents, merge_answers, resolve_answer

log = logging.getLogger(__name__)
T = TypeVar("T")

#: How long a worker may take to start (imports) before it is given up on.
START_TIMEOUT_S = 30.0
#: How long a worker may take to answer before it is killed and the work done in process
#: (an answer takes milliseconds; this only catches a stopped or wedged worker).
ANSWER_TIMEOUT_S = 60.0
#: After a worker failed to start, requests are decoded in process this long before another try.
RETRY_AFTER_S = 5.0


#: A worker that stopped, hung or broke its pipe; and one whose answer makes no sense.
_GONE = (WorkerGone, OSError, pickle.UnpicklingError, EOFError, TimeoutError)
_NONSENSE = (TypeError, ValueError, IndexError)

#: Maps store keys to metric ids (``MetricStore.metric_ids``).
MetricIds = Callable[[list[str]], npt.NDArray[np.int64]]
I64 = npt.NDArray[np.int64]


class ResolvedRows(NamedTuple):
    """A plain PutMetricData's rows with their metric ids, as arrays (see ``KeysReceived``)."""

    mids: npt.NDArray[np.int64]
    units: npt.NDArray[np.uint8]
    times_ms: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


class KeysReceived:
    """The parent's side of ``key_index.KeysSent``, one per worker: its keys by index, and
    each key's metric id once looked up, so a request's rows map to ids with one array index.
    The ids are remembered, so every call must pass the same store's ``metric_ids``."""

    def __init__(self) -> None:
        self._keys: list[str] = []
        self._mids: npt.NDArray[np.int64] = np.empty(0, np.int64)

    def mids(self, reset: bool, new: list[str], rows: bytes, metric_ids: MetricIds) -> I64:
        """The metric ids of rows indexed by ``key_index.KeysSent.index``; ``metric_ids``
        resolves keys new to us."""
        if reset:
            self._keys.clear()
            self._mids = np.empty(0, np.int64)
        if new:
            self._keys.extend(new)
            self._mids = np.concatenate([self._mids, metric_ids(new)])
        indexes = np.frombuffer(rows, np.uint32)
        if len(indexes) and int(indexes.max()) >= len(self._mids):
            raise ValueError("a key index beyond the keys received")
        return self._mids[indexes]

    def decode(self, answer: tuple[Any, ...], metric_ids: MetricIds) -> ResolvedRows:
        """The rows of a ``plain_put.encode_put`` answer."""
        _namespace, reset, new, rows, units, times, values = answer
        return ResolvedRows(
            self.mids(reset, new, rows, metric_ids),
            np.frombuffer(units, np.uint8),
            np.frombuffer(times, np.int64),
            np.frombuffer(values, np.float64),
        )

    def keys(self, rows: ResolvedRows) -> list[str]:
        """The store keys of resolved rows (for tests and logs; the hot path needs ids only)."""
        by_mid = dict(zip(self._mids.tolist(), self._keys, strict=True))
        return [by_mid[m] for m in rows.mids.tolist()]


class Unavailable:
    """No worker could take the request; decode it in process."""


UNAVAILABLE = Unavailable()


class _Worker:
    """One decode process and its two pipes (blocking, used by one caller at a time)."""

    def __init__(self, idle_s: float) -> None:
        self.process = subprocess.Popen(
            # -P: the working directory is not put on sys.path (a heron/ or orjson.py there
            # must not shadow the installed modules, as it does not for the parent).
            [sys.executable, "-P", "-m", "heron.awsapi.decode_worker", "--idle-s", str(idle_s)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.keys = KeysReceived()
        self._to = self.process.stdin.fileno()
        self._from = self.process.stdout.fileno()
        for fd in (self._to, self._from):
            widen_pipe(fd)
        try:
            if read_frame(self._from, START_TIMEOUT_S) != b"ready":
                raise WorkerGone("no ready frame")
        except BaseException:
            self.close()
            raise

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, request: tuple[Any, ...]) -> None:
        write_frame(self._to, request)

    def receive(self) -> Any:
        # A worker stopped or wedged must not hold its caller (maybe the log store) forever.
        return read_frame(self._from, ANSWER_TIMEOUT_S)

    def close(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class DecodePool:
    """Up to ``size`` decode workers, started when needed and leaving after ``idle_s``."""

    def __init__(self, size: int, *, idle_s: float = 30.0) -> None:
        self.size = size
        self.idle_s = idle_s
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._count = 0  # workers started or starting, busy or idle
        self._freed = threading.Condition(self._lock)
        self._closed = False
        #: Requests the workers answered (plain or not), for tests and curious operators.
        self.answered = 0
        self._retry_at = 0.0  # monotonic time before which no worker is started

    def decode(
        self,
        body: bytes,
        gzipped: bool,
        limit: int,
        now_ms: int,
        metric_ids: MetricIds,
    ) -> ResolvedRows | Unavailable | None:
        """The rows of a plain PutMetricData body (None: not plain), or UNAVAILABLE;
        ``metric_ids`` gives the ids of keys (the metric store's).

        Blocking: waits for a free worker when all are busy (run it in a thread).
        """
        worker = self._submit((PMD, body, gzipped, limit, now_ms))
        if worker is None:
            return UNAVAILABLE
        keys = worker.keys
        return self._result(
            worker, lambda got: None if got is None else keys.decode(got, metric_ids)
        )

    def start_emf(self, chunks: list[PackedEvents], now_ms: int) -> object | None:
        """Hand EMF lines to workers, split among those free (waits for one); a ticket for
        ``finish_emf``, or None when no worker could take them."""
        workers: list[_Worker] = []
        parts = self.size
        while parts and (worker := self._take(wait=not workers)) is not None:
            workers.append(worker)
            parts -= 1
        if not workers:
            return None
        sent: list[_Worker] = []
        for i, worker in enumerate(workers):
            if self._send(worker, (EMF, chunks, i, len(workers), now_ms)):
                sent.append(worker)
        if len(sent) < len(workers):  # one failed: no partial answers, all lines here
            for worker in sent:
                # Its answer may hold keys our table never learns: replace the worker.
                self._drop(worker)
            return None
        return sent

    def finish_emf(self, ticket: object, metric_ids: MetricIds) -> EmfAnswer | None:
        """The extraction the workers made for ``ticket``; None if any failed."""
        assert isinstance(ticket, list)
        answers = []
        pending = list(ticket)
        try:
            while pending:
                worker = pending.pop(0)
                keys = worker.keys

                def resolve(got: Any, keys: KeysReceived = keys) -> EmfAnswer:
                    return resolve_answer(
                        got, lambda reset, new, rows: keys.mids(reset, new, rows, metric_ids)
                    )

                answers.append(self._result(worker, resolve))
        finally:
            for worker in pending:  # only when something unexpected escaped
                self._drop(worker)
        resolved = [answer for answer in answers if isinstance(answer, EmfAnswer)]
        return merge_answers(resolved) if len(resolved) == len(answers) else None

    def _submit(self, request: tuple[Any, ...]) -> _Worker | None:
        """A worker that has been sent ``request``, or None when none could take it."""
        worker = self._take()
        return worker if worker is not None and self._send(worker, request) else None

    def _send(self, worker: _Worker, request: tuple[Any, ...]) -> bool:
        try:
            worker.send(request)
        except (WorkerGone, OSError) as exc:
            self._fail(worker, exc)
            return False
        return True

    def _result(self, worker: _Worker, then: Callable[[Any], T]) -> T | Unavailable:
        """``then`` of a submitted worker's answer, or UNAVAILABLE; the worker is given back
        only after ``then``, which may use its key table (no other caller may touch it)."""
        try:
            answer = then(worker.receive())
        except _GONE + _NONSENSE as exc:  # nonsense too: its key table is suspect
            self._fail(worker, exc)
            return UNAVAILABLE
        except BaseException:
            self._drop(worker)
            raise
        with self._lock:
            self.answered += 1
        self._give_back(worker)
        return answer

    def _fail(self, worker: _Worker, exc: BaseException) -> None:
        log.warning("decode worker %s failed (%s); working in process", worker.process.pid, exc)
        self._drop(worker)

    def pids(self) -> list[int]:
        """Process ids of the idle workers that are still running."""
        with self._lock:
            return [w.process.pid for w in self._idle if w.alive()]

    def reap(self) -> int:
        """Forget the idle workers that left by themselves, so none lingers as a zombie
        process until the next large request; how many."""
        with self._lock:
            gone = [w for w in self._idle if not w.alive()]  # alive() polls: reaps the exit
            if gone:
                self._idle = [w for w in self._idle if w not in gone]
                self._count -= len(gone)
                self._freed.notify_all()
        for worker in gone:
            worker.close()
        return len(gone)

    def _take(self, *, wait: bool = True) -> _Worker | None:
        """An idle worker; None while one starts, or (``wait`` False) when all are busy."""
        with self._lock:
            while not self._closed:
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        return worker
                    self._count -= 1  # it left after idling (already exited: close is quick)
                    worker.close()
                if self._count < self.size:
                    if time.monotonic() >= self._retry_at:  # not right after a failed start
                        self._count += 1
                        threading.Thread(target=self._start, daemon=True).start()
                    return None
                if not wait:
                    return None
                self._freed.wait()
            return None

    def _start(self) -> None:
        try:
            worker = _Worker(self.idle_s)
        except Exception as exc:  # whatever it was, the count must drop and waiters wake
            log.warning("could not start a decode worker: %s", exc)
            with self._lock:
                self._count -= 1
                self._retry_at = time.monotonic() + RETRY_AFTER_S
                self._freed.notify_all()  # a waiter may start one again (or give up)
            return
        self._give_back(worker)

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(worker)
                self._freed.notify()
                return
        worker.close()

    def _drop(self, worker: _Worker) -> None:
        with self._lock:
            self._count -= 1
            self._freed.notify()
        worker.close()

    def close(self) -> None:
        """Stop every idle worker; busy ones are stopped when their call returns."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._freed.notify_all()
        for worker in idle:
            worker.close()


def default_size() -> int:
    """Workers worth having here: as many as cores, at most two; none on one core."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    return min(2, cores) if cores > 1 else 0

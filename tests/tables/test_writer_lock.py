"""The writer lock: writers in other threads and processes wait for it, and a killed holder's
lock is released by the kernel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from heron.tables.writer_lock import WriterLock

HOLD_IN_A_CHILD = """
import sys, time
from pathlib import Path
from heron.tables.writer_lock import WriterLock
lock = WriterLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


class _Taker:
    """A thread that takes the lock once (and lets go at once), started on creation."""

    def __init__(self, lock: WriterLock) -> None:
        self.done = threading.Event()
        self._lock = lock
        self.thread = threading.Thread(target=self._take, daemon=True)
        self.thread.start()

    def _take(self) -> None:
        self._lock.acquire()
        self.done.set()
        self._lock.release()

    def took_it_within(self, seconds: float) -> bool:
        if not self.done.wait(seconds):
            return False
        self.thread.join(5)
        return True


def test_a_writer_in_another_thread_waits_until_the_holder_releases(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path / "db-writer")
    try:
        lock.acquire()
        taker = _Taker(lock)
        assert not taker.took_it_within(0.3)
        lock.release()
        assert taker.took_it_within(5)
    finally:
        lock.close()


def test_a_holder_killed_mid_transaction_lets_the_others_in(tmp_path: Path) -> None:
    path = tmp_path / "db-writer"
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_IN_A_CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    lock = WriterLock(path)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        taker = _Taker(lock)
        assert not taker.took_it_within(0.3)  # another process holds it
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        assert taker.took_it_within(5)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
        lock.close()


def _give_up(signum: int, frame: object) -> None:
    raise TimeoutError


def test_a_forked_child_does_not_share_its_parents_hold(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path / "db-writer")
    try:
        lock.acquire()  # this thread's file is open before the fork: the child inherits it
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child's same thread must wait for the parent's hold, not share it
            try:
                signal.signal(signal.SIGALRM, _give_up)
                signal.setitimer(signal.ITIMER_REAL, 0.3)
                try:
                    lock.acquire()
                    answer = b"1"
                except TimeoutError:
                    answer = b"0"
                os.write(write_end, answer)
            finally:
                os._exit(0)
        os.close(write_end)
        answer = os.read(read_end, 1)
        os.close(read_end)
        os.waitpid(pid, 0)
        assert answer == b"0"
    finally:
        lock.release()
        lock.close()


def test_a_second_instance_in_the_holding_thread_does_not_wait_for_itself(tmp_path: Path) -> None:
    # Two database objects on one file, the second written inside the first's transaction:
    # the second must not block on the first's lock (SQLite's own lock decides instead).
    first, second = WriterLock(tmp_path / "db-writer"), WriterLock(tmp_path / "db-writer")
    try:
        assert first.acquire() is True
        assert second.acquire() is False  # returns at once instead of waiting forever
        taker = _Taker(first)  # another thread still waits for the real holder
        assert not taker.took_it_within(0.3)
        first.release()
        assert taker.took_it_within(5)
    finally:
        first.close()
        second.close()

"""kill -9 during delivery: after a restart every notification has arrived, none twice in effect."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from heron.monitor.notify.db import NotifyDB
from heron.monitor.notify.delivery import IN_FLIGHT
from heron.monitor.notify.topics import TopicStore

from .support import Receiver, alarm_body

CHILD = Path(__file__).with_name("kill_child.py")
N = 40


def _start(data: Path, url: str, in_flight: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(data), url, str(in_flight)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def _wait(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.mark.parametrize("in_flight", [1, IN_FLIGHT])
def test_kill_9_mid_delivery_loses_nothing_and_duplicates_no_effect(
    tmp_path: Path, in_flight: int
) -> None:
    receiver = Receiver(delay=0.02)  # slow enough that the kill lands mid-delivery
    topics = TopicStore(tmp_path / "notify.db")
    arn = topics.topic_arn("alerts")
    ids = [
        topics.publish(arn, alarm_body(f"Alarm{i}", "ALARM", "OK", time.time())) for i in range(N)
    ]
    topics.close()
    child = _start(tmp_path, receiver.url, in_flight)
    _wait(lambda: len(receiver.requests) >= N // 3)
    _kill(child)
    killed_at = len(receiver.requests)
    assert killed_at < N, "the kill came too late to test anything"
    child = _start(tmp_path, receiver.url, in_flight)
    try:
        _wait(lambda: len({h["x-heron-idempotency-key"] for _, h, _ in receiver.requests}) >= N)
        time.sleep(0.2)  # anything still to come would arrive now
    finally:
        _kill(child)
        receiver.close()
    keys = [h["x-heron-idempotency-key"] for _, h, _ in receiver.requests]
    assert set(keys) == {f"{i}:n:hook" for i in ids}  # nothing lost
    # At-least-once on the wire: only the requests in flight at the kill (one per lane) may
    # repeat, with the same key (and SNS MessageId), so a receiver that honours either applies
    # each notification once.
    assert len(keys) - len(set(keys)) <= in_flight
    message_ids = {h["x-amz-sns-message-id"] for _, h, _ in receiver.requests}
    assert len(message_ids) == N
    db = NotifyDB(tmp_path / "notify.db")
    statuses = db.all("SELECT status, COUNT(*) FROM nt_outbox GROUP BY status")
    assert statuses == [("delivered", N)]
    db.close()

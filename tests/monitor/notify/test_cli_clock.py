"""``heron notify ack|snooze|silence`` stamp times with the running instance's clock: at
``time_scale`` 60 a 30-minute snooze or silence is 30 Heron minutes from the notifier's now,
not from the real clock (which lies hours behind it and would make both over when set)."""

from __future__ import annotations

import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from heron.cli import main
from heron.monitor.notify.clockfile import FILE, instance_clock, record_clock
from heron.monitor.notify.config import load_notify_config
from heron.monitor.notify.notifier import Notifier
from heron.monitor.notify.topics import TopicStore
from heron.monitor.timescale import ScaledClock

from .support import alarm_body

TOML = """
[notify.routes.alerts]
channels = ["inbox"]
"""
SCALE = 60.0


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Notifier, Path]]:
    """A notifier on Heron time (60x, started an hour of real time ago: 59 h ahead of real
    time), as ``heron up --time-scale 60`` runs it, with one open incident."""
    (tmp_path / "heron.toml").write_text(TOML)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / ".heron"
    data.mkdir()
    clock = ScaledClock(SCALE, anchor=time.time() - 3600)
    topics = TopicStore(data / "notify.db", clock=clock)
    config = load_notify_config(tomllib.loads(TOML)["notify"])
    notifier = Notifier(topics, config, data / "notify.db", clock=clock)
    topics.publish(topics.topic_arn("alerts"), alarm_body("LambdaErrors", "ALARM", "OK", clock()))
    notifier.tick(clock())
    yield notifier, data
    notifier.close()
    topics.close()


def test_snooze_and_silence_count_from_the_notifiers_clock(
    running: tuple[Notifier, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    notifier, data = running
    heron_now = notifier.clock
    assert main(["notify", "snooze", "1", "--minutes", "30", "--by", "alice"]) == 0
    assert "snoozed" in capsys.readouterr().out
    incident = notifier.ctx.incidents.get(1)
    assert incident.snoozed_until is not None
    # 30 Heron minutes ahead of the notifier's now (a real second is a Heron minute: slack).
    assert abs(incident.snoozed_until - (heron_now() + 1800)) < 5 * SCALE
    assert incident.snoozed_until > heron_now() + 1200  # not over when set
    notifier.tick(heron_now())
    assert notifier.ctx.incidents.get(1).status == "snoozed"  # the notifier did not wake it
    assert not notifier.ctx.incidents.due(heron_now())

    assert main(["notify", "silence", "add", "LambdaErrors", "--minutes", "30"]) == 0
    capsys.readouterr()
    [active] = notifier.ctx.silences.current(heron_now())
    assert active.active(heron_now())
    assert abs(active.ends - (heron_now() + 1800)) < 5 * SCALE

    assert main(["notify", "ack", "1", "--by", "bob"]) == 0
    capsys.readouterr()
    acked = notifier.ctx.incidents.get(1)
    assert acked.status == "acknowledged"
    assert abs(acked.updated - heron_now()) < 5 * SCALE  # stamped in Heron time too
    assert (data / FILE).exists()


def test_without_a_running_instance_the_cli_uses_real_time(tmp_path: Path) -> None:
    assert instance_clock(tmp_path) is time.time  # no record
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    record_clock(tmp_path, ScaledClock(SCALE, anchor=time.time() - 3600), pid=child.pid)
    assert instance_clock(tmp_path) is time.time  # left by a process that is gone
    record_clock(tmp_path, ScaledClock(SCALE, anchor=time.time() - 3600))
    clock = instance_clock(tmp_path)
    assert isinstance(clock, ScaledClock) and clock() > time.time() + 3600
    (tmp_path / FILE).write_text("{not json")
    assert instance_clock(tmp_path) is time.time


def test_the_record_goes_when_the_notifier_stops(tmp_path: Path) -> None:
    topics = TopicStore(tmp_path / "notify.db")
    notifier = Notifier(topics, load_notify_config({}), tmp_path / "notify.db")
    assert (tmp_path / FILE).exists()
    assert instance_clock(tmp_path) is time.time  # scale 1: real time
    notifier.close()
    topics.close()
    assert not (tmp_path / FILE).exists()

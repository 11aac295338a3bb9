"""Recurring maintenance windows: pure decisions across DST, config errors, the pipeline muting
with a named reason (and announcing what still fires when the window closes), and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.cli import main
from heron.errors import ConfigError
from heron.monitor.notify.maintenance import (
    MaintenanceStore,
    Window,
    maintenance_decision,
    parse_window,
)
from heron.monitor.notify.reasons import Reason, Verdict

from .support import FakeClock, Harness, at, config

LONDON = "Europe/London"


def _window(**raw: object) -> Window:
    spec = {"alarms": ["Lambda*"], "days": ["sun"], "ranges": ["01:30-03:30"],
            "time_zone": LONDON, "reason": "patching", **raw}  # fmt: skip
    return parse_window("patch", spec, "notify.maintenance.patch")


def test_a_weekly_window_keeps_its_wall_clock_times_across_dst() -> None:
    w = _window()
    # Winter: Sunday 2026-03-22, 01:30-03:30 GMT = 01:30-03:30 UTC (two hours).
    assert not w.active(at("2026-03-22 01:29", LONDON))
    assert w.active(at("2026-03-22 01:30", LONDON))
    assert w.ends(at("2026-03-22 02:00", LONDON)) == at("2026-03-22 03:30", LONDON)
    assert not w.active(at("2026-03-22 03:30", LONDON))
    # Spring forward, Sunday 2026-03-29: 01:00 GMT jumps to 02:00 BST. The window opens at
    # 01:30 wall time, which does not exist, so in practice at 02:00 BST (01:00 UTC) ...
    assert not w.active(at("2026-03-29 00:59", "UTC"))
    assert w.active(at("2026-03-29 01:00", "UTC"))
    # ... and closes at 03:30 BST = 02:30 UTC: one and a half real hours, not two.
    assert w.ends(at("2026-03-29 01:10", "UTC")) == at("2026-03-29 02:30", "UTC")
    assert not w.active(at("2026-03-29 02:30", "UTC"))
    # Summer: 01:30-03:30 BST = 00:30-02:30 UTC.
    assert w.active(at("2026-04-05 00:30", "UTC")) and not w.active(at("2026-04-05 02:30", "UTC"))
    # Autumn back, Sunday 2026-10-25: 02:00 BST becomes 01:00 GMT; 01:30 happens twice. The
    # window opens at the first 01:30 (00:30 UTC) and ends at 03:30 GMT (03:30 UTC): three hours.
    assert w.active(at("2026-10-25 00:30", "UTC"))
    assert w.ends(at("2026-10-25 00:45", "UTC")) == at("2026-10-25 03:30", "UTC")
    assert not w.active(at("2026-10-26 02:00", LONDON))  # Monday


def test_ranges_across_midnight_and_adjacent_days_are_one_opening() -> None:
    w = _window(days=["sat-sun"], ranges=["22:00-24:00", "00:00-06:00"], time_zone="UTC")
    assert w.active(at("2026-03-07 23:00"))  # Saturday night
    assert w.ends(at("2026-03-07 23:00")) == at("2026-03-08 06:00")  # through Sunday 06:00
    night = _window(days=["fri"], ranges=["22:00-02:00"], time_zone="UTC")
    assert night.active(at("2026-03-07 01:00"))  # Saturday 01:00 belongs to Friday's range
    assert night.ends(at("2026-03-07 01:00")) == at("2026-03-07 02:00")


def test_the_decision_names_the_window_and_its_reason() -> None:
    w = _window()
    inside = at("2026-03-22 02:00", LONDON)
    hit = maintenance_decision("LambdaErrors", [w], inside)
    assert hit.verdict is Verdict.DROP and hit.reason is Reason.MAINTENANCE
    assert hit.detail == "patch: patching (until 2026-03-22T03:30:00Z)"
    assert maintenance_decision("HighLatency", [w], inside).verdict is Verdict.PASS
    assert maintenance_decision("LambdaErrors", [w], inside + 3 * 3600).verdict is Verdict.PASS


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"days": ["someday"]}, r"notify.maintenance.patch.days: unknown day"),
        ({"ranges": []}, r"notify.maintenance.patch.ranges: required"),
        ({"ranges": ["25:00-26:00"]}, r"notify.maintenance.patch.ranges: expected a time"),
        ({"time_zone": "Mars/Olympus"}, r"notify.maintenance.patch.time_zone: unknown time zone"),
        ({"alarms": []}, r"notify.maintenance.patch.alarms"),
        ({"when": "sunday"}, r"notify.maintenance.patch: unknown keys \['when'\]"),
    ],
)
def test_bad_windows_are_refused_naming_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _window(**raw)


TOML = """
[notify.maintenance.patch]
alarms = ["Lambda*"]
days = ["fri"]
ranges = ["02:00-04:00"]
time_zone = "Europe/London"
reason = "kernel patching"
"""


def test_the_pipeline_mutes_and_announces_what_still_fires_afterwards(tmp_path: Path) -> None:
    h = Harness(tmp_path, config(TOML), FakeClock(at("2026-03-06 02:30", LONDON)))
    h.publish("LambdaErrors", "ALARM", "OK")
    h.publish("HighLatency", "ALARM", "OK")
    h.tick()
    assert [a for _, a in h.inbox()] == ["[CRITICAL] HighLatency is in ALARM"]
    (muted,) = [e for e in h.ctx.ledger.entries("LambdaErrors") if e.stage == "silence"]
    assert muted.reason == Reason.MAINTENANCE.value and "kernel patching" in muted.detail
    h.clock.now = at("2026-03-06 03:59", LONDON)
    h.tick()
    assert len(h.inbox()) == 1
    h.clock.now = at("2026-03-06 04:00", LONDON)  # the window closes; LambdaErrors still fires
    h.tick()
    assert h.inbox()[-1][1] == "[CRITICAL] LambdaErrors is in ALARM"
    h.clock.advance(60)
    h.tick()
    assert len(h.inbox()) == 2  # announced once
    h.close()


def test_cli_windows_are_stored_listed_applied_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "heron.toml").write_text(TOML)
    args = ["notify", "maintenance", "add", "deploys", "--alarms", "High*", "--days", "mon-fri",
            "--ranges", "12:00-13:00", "--zone", "UTC", "--reason", "release train"]  # fmt: skip
    assert main(args) == 0
    assert "maintenance window 'deploys'" in capsys.readouterr().out
    assert main(["notify", "maintenance", "add", "bad", "--days", "fri", "--ranges", "9-10"]) == 2
    assert "maintenance bad.ranges: expected a time HH:MM" in capsys.readouterr().err
    assert main(["notify", "maintenance", "list"]) == 0
    out = capsys.readouterr().out
    assert "patch" in out and "heron.toml" in out and "deploys" in out and "release train" in out

    h = Harness(tmp_path / ".heron", config(TOML), FakeClock(at("2026-03-06 12:30")))
    (stored,) = MaintenanceStore(h.ctx.db).all()
    assert stored.name == "deploys"
    h.publish("HighLatency", "ALARM", "OK")
    h.tick()
    assert h.inbox() == []
    h.close()
    assert main(["notify", "maintenance", "remove", "deploys"]) == 0
    assert main(["notify", "maintenance", "remove", "deploys"]) == 1

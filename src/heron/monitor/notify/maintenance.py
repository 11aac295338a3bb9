"""Recurring maintenance windows: weekly day + time ranges in an IANA zone that mute matching
alarms with a named reason (``[notify.maintenance.NAME]`` in heron.toml, or
``heron notify maintenance add``).

Ranges are wall-clock times, so "Sunday 01:00-03:00 Europe/London" stays at 01:00 local across
daylight-saving changes (and lasts one hour less of real time on the night clocks go forward).
Deciding is a pure function of the windows and the time; the CLI's windows live in notify.db.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from heron.errors import ConfigError
from heron.monitor.notify.db import NotifyDB
from heron.monitor.notify.hours import Hours, parse_days, parse_range, zone
from heron.monitor.notify.reasons import Decision, Reason, Verdict
from heron.monitor.notify.render import when

_KEYS = {"alarms", "time_zone", "days", "ranges", "reason"}


@dataclass(frozen=True, slots=True)
class Window:
    """A named weekly window muting alarms whose names match one of ``alarms`` (globs)."""

    name: str
    alarms: tuple[str, ...]
    hours: Hours
    reason: str

    def matches(self, alarm: str) -> bool:
        """Whether the window covers ``alarm``."""
        return any(fnmatch.fnmatchcase(alarm, p) for p in self.alarms)

    def active(self, at: float) -> bool:
        """Whether the window is open at epoch second ``at``."""
        return self.hours.contains(at)

    def ends(self, at: float) -> float:
        """When the window open at ``at`` closes (adjacent ranges count as one opening)."""
        end = at
        for _ in range(16):  # a whole week of back-to-back ranges is at most 14 steps
            end = _range_end(self.hours, end)
            if not self.hours.contains(end):
                return end
        return end


def _range_end(hours: Hours, at: float) -> float:
    """The end of the (latest-ending) range open at ``at``."""
    local = datetime.fromtimestamp(at, hours.zone)
    minute = local.hour * 60 + local.minute + local.second / 60
    ends = []
    for day_offset in (0, -1):
        day = local.date() + timedelta(days=day_offset)
        if day.weekday() not in hours.days or day in hours.holidays:
            continue
        for r in hours.ranges:
            crosses = r.crosses_midnight
            if day_offset == -1 and not crosses:
                continue
            if day_offset == 0 and not (minute >= r.start and (crosses or minute < r.end)):
                continue
            if day_offset == -1 and not minute < r.end:
                continue
            end_day = day + timedelta(days=1 if crosses or r.end == 1440 else 0)
            end_minute = r.end % 1440
            wall = datetime.combine(
                end_day, time(end_minute // 60, end_minute % 60), tzinfo=hours.zone
            )
            ends.append(wall.timestamp())
    return max(ends, default=at)


def active_window(alarm: str, windows: Sequence[Window], now: float) -> Window | None:
    """The open window covering ``alarm`` that closes last, or None."""
    hits = [w for w in windows if w.matches(alarm) and w.active(now)]
    return max(hits, key=lambda w: w.ends(now), default=None)


def maintenance_decision(alarm: str, windows: Sequence[Window], now: float) -> Decision:
    """Drop an alert a maintenance window covers, naming the window and its reason."""
    hit = active_window(alarm, windows, now)
    if hit is None:
        return Decision(Verdict.PASS, Reason.NOT_SILENCED)
    until = hit.ends(now)
    return Decision(
        Verdict.DROP, Reason.MAINTENANCE, f"{hit.name}: {hit.reason} (until {when(until)})", until
    )


def parse_window(name: str, raw: Mapping[str, Any], key: str) -> Window:
    """One window table; errors name the offending key."""
    unknown = set(raw) - _KEYS
    if unknown:
        raise ConfigError(f"{key}: unknown keys {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    alarms = raw.get("alarms", ["*"])
    if isinstance(alarms, str):
        alarms = [alarms]
    if (
        not isinstance(alarms, list)
        or not alarms
        or not all(isinstance(a, str) and a.strip() for a in alarms)
    ):
        raise ConfigError(f"{key}.alarms: expected a list of alarm names or globs like 'Lambda*'")
    ranges_raw = raw.get("ranges")
    if isinstance(ranges_raw, str):
        ranges_raw = [ranges_raw]
    if not isinstance(ranges_raw, list) or not ranges_raw:
        raise ConfigError(f"{key}.ranges: required, e.g. ['02:00-04:00']")
    hours = Hours(
        zone(raw.get("time_zone", "UTC"), f"{key}.time_zone"),
        parse_days(raw.get("days"), f"{key}.days"),
        tuple(parse_range(r, f"{key}.ranges") for r in ranges_raw),
        frozenset(),
    )
    reason = raw.get("reason", f"maintenance window {name}")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{key}.reason: expected text saying why alarms are muted")
    return Window(name, tuple(alarms), hours, reason.strip())


def parse_windows(raw: Mapping[str, Any]) -> tuple[Window, ...]:
    """Every ``[notify.maintenance.NAME]`` table."""
    out = []
    for name, table in raw.items():
        key = f"notify.maintenance.{name}"
        if not isinstance(table, Mapping):
            raise ConfigError(f"{key}: expected a table")
        out.append(parse_window(name, table, key))
    return tuple(out)


class MaintenanceStore:
    """Windows added from the CLI, stored (as their table) in ``nt_maintenance``."""

    def __init__(self, db: NotifyDB) -> None:
        self._db = db

    def add(self, name: str, spec: Mapping[str, Any], by: str, now: float) -> Window:
        """Validate and store a window (replacing one of the same name)."""
        if not name.strip():
            raise ConfigError("maintenance: a window needs a name")
        window = parse_window(name, spec, f"maintenance {name}")
        self._db.execute(
            "INSERT OR REPLACE INTO nt_maintenance (name, spec, created_by, created) "
            "VALUES (?,?,?,?)",
            (name, json.dumps(dict(spec)), by, now),
        )
        return window

    def remove(self, name: str) -> bool:
        """Delete a window; False when there is none of that name."""
        return self._db.execute("DELETE FROM nt_maintenance WHERE name=?", (name,)).rowcount > 0

    def all(self) -> list[Window]:
        """The stored windows, by name."""
        rows = self._db.all("SELECT name, spec FROM nt_maintenance ORDER BY name")
        return [parse_window(n, json.loads(s), f"maintenance {n}") for n, s in rows]

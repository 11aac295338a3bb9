"""On-call schedules: rotations in layers, handoff times in an IANA zone, temporary overrides.

A layer rotates its users daily, weekly (handoff at a wall-clock time, so 09:00 stays 09:00
across daylight-saving changes) or every custom number of hours (exact durations). A layer may
be restricted to business hours, which leaves it empty outside them. Where several layers have
someone, the layer listed last wins (PagerDuty's rule); an override beats every layer.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from heron.errors import ConfigError
from heron.monitor.notify.hours import Hours, parse_clock, zone

ROTATIONS = ("daily", "weekly", "custom")
#: How finely (seconds) gap checks and ``changes`` sample a schedule before refining.
_STEP_S = 900.0
#: How far past the last layer start the gap check looks.
_GAP_CHECK_DAYS = 14


@dataclass(frozen=True, slots=True)
class OnCall:
    """Who is on call and why (which layer, or an override)."""

    user: str
    source: str


@dataclass(frozen=True, slots=True)
class Layer:
    """One rotation of users."""

    name: str
    users: tuple[str, ...]
    rotation: str
    length_h: float
    handoff: int
    start: date
    zone: ZoneInfo
    hours: Hours | None = None

    @property
    def anchor(self) -> float:
        """The epoch second of the first handoff."""
        wall = datetime.combine(self.start, time(self.handoff // 60, self.handoff % 60))
        return wall.replace(tzinfo=self.zone).timestamp()

    def shift(self, at: float) -> int:
        """How many handoffs have happened by ``at`` (negative before the first)."""
        if self.rotation == "custom":
            return int((at - self.anchor) // (self.length_h * 3600))
        local = datetime.fromtimestamp(at, self.zone)
        day = local.date()
        if local.hour * 60 + local.minute < self.handoff:
            day -= timedelta(days=1)  # before today's handoff the previous shift still runs
        per = 1 if self.rotation == "daily" else 7
        return (day - self.start).days // per

    def who(self, at: float) -> str | None:
        """The user this layer puts on call at ``at`` (None before it starts or outside hours)."""
        if at < self.anchor or (self.hours is not None and not self.hours.contains(at)):
            return None
        return self.users[self.shift(at) % len(self.users)]


@dataclass(frozen=True, slots=True)
class Override:
    """A temporary replacement: ``user`` is on call from ``start`` to ``end`` (epoch seconds)."""

    user: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Schedule:
    """Layers and overrides flattened into one person on call at a time."""

    name: str
    zone: ZoneInfo
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()

    def who(self, at: float) -> OnCall | None:
        """Who is on call at ``at`` (None in a gap)."""
        for o in self.overrides:
            if o.start <= at < o.end:
                return OnCall(o.user, "override")
        for layer in reversed(self.layers):
            user = layer.who(at)
            if user is not None:
                return OnCall(user, f"layer {layer.name}")
        return None

    def changes(self, start: float, end: float) -> list[tuple[float, OnCall | None]]:
        """Who is on call at ``start`` and each moment it changes before ``end`` (to the second)."""
        current = self.who(start)
        out: list[tuple[float, OnCall | None]] = [(start, current)]
        t = start
        while t < end:
            nxt = min(t + _STEP_S, end)
            after = self.who(nxt)
            if after != current:
                lo, hi = t, nxt  # the change lies in (lo, hi]; bisect to the second
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if self.who(mid) == current:
                        lo = mid
                    else:
                        hi = mid
                current = self.who(hi)
                out.append((hi, current))
                t = hi
            else:
                t = nxt
        return out


def _when(raw: Any, tz: ZoneInfo, key: str) -> float:
    if isinstance(raw, str):
        try:
            raw = datetime.fromisoformat(raw)
        except ValueError:
            raise ConfigError(f"{key}: expected a date-time like 2026-03-06T18:00") from None
    if isinstance(raw, datetime):
        return (raw if raw.tzinfo else raw.replace(tzinfo=tz)).timestamp()
    raise ConfigError(f"{key}: expected a date-time like 2026-03-06T18:00, got {raw!r}")


def _start_date(raw: Any, key: str) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise ConfigError(f"{key}: expected a date YYYY-MM-DD, got {raw!r}") from None


def _default_name(key: str) -> str:
    """``layer 1`` for ``notify.oncall.primary.layers[0]``."""
    last = key.rsplit(".", 1)[-1]
    index = last.removeprefix("layers[").removesuffix("]")
    return f"layer {int(index) + 1}" if index.isdigit() else last


def parse_layer(
    raw: Mapping[str, Any], key: str, default_zone: ZoneInfo, hours: Mapping[str, Hours]
) -> Layer:
    """One ``[[notify.oncall.NAME.layers]]`` table."""
    allowed = {
        "name",
        "users",
        "rotation",
        "length_hours",
        "handoff",
        "start",
        "time_zone",
        "hours",
    }
    unknown = set(raw) - allowed
    if unknown:
        raise ConfigError(f"{key}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    users = raw.get("users")
    if not isinstance(users, list) or not users or not all(isinstance(u, str) for u in users):
        raise ConfigError(f"{key}.users: expected a non-empty list of names")
    rotation = raw.get("rotation", "weekly")
    if rotation not in ROTATIONS:
        raise ConfigError(
            f"{key}.rotation: expected one of {', '.join(ROTATIONS)}, got {rotation!r}"
        )
    length = float(raw.get("length_hours", 0))
    if rotation == "custom" and length <= 0:
        raise ConfigError(f"{key}.length_hours: a custom rotation needs a positive length")
    if "start" not in raw:
        raise ConfigError(f"{key}.start: the date of the first handoff is required")
    tz = zone(raw["time_zone"], f"{key}.time_zone") if "time_zone" in raw else default_zone
    restrict = None
    if "hours" in raw:
        if raw["hours"] not in hours:
            raise ConfigError(f"{key}.hours: no [notify.hours.{raw['hours']}] table")
        restrict = hours[raw["hours"]]
    return Layer(
        name=str(raw.get("name", _default_name(key))),
        users=tuple(users),
        rotation=str(rotation),
        length_h=length,
        handoff=parse_clock(raw.get("handoff", "09:00"), f"{key}.handoff"),
        start=_start_date(raw["start"], f"{key}.start"),
        zone=tz,
        hours=restrict,
    )


def parse_schedule(
    name: str, raw: Mapping[str, Any], key: str, hours: Mapping[str, Hours]
) -> Schedule:
    """A ``[notify.oncall.NAME]`` table, checked for overlapping overrides and for gaps."""
    allowed = {"time_zone", "layers", "overrides", "allow_gaps"}
    unknown = set(raw) - allowed
    if unknown:
        raise ConfigError(f"{key}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    tz = zone(raw.get("time_zone", "UTC"), f"{key}.time_zone")
    layers_raw = raw.get("layers")
    if not isinstance(layers_raw, list) or not layers_raw:
        raise ConfigError(f"{key}.layers: a schedule needs at least one [[layers]] table")
    layers = tuple(
        parse_layer(layer, f"{key}.layers[{i}]", tz, hours) for i, layer in enumerate(layers_raw)
    )
    overrides = []
    for i, o in enumerate(raw.get("overrides", [])):
        where = f"{key}.overrides[{i}]"
        if not isinstance(o, Mapping) or not isinstance(o.get("user"), str):
            raise ConfigError(f"{where}.user: the person who covers is required")
        start, end = (
            _when(o.get("start"), tz, f"{where}.start"),
            _when(o.get("end"), tz, f"{where}.end"),
        )
        if end <= start:
            raise ConfigError(f"{where}.end: must be after start")
        overrides.append(Override(o["user"], start, end))
    overrides.sort(key=lambda o: o.start)
    for a, b in itertools.pairwise(overrides):
        if b.start < a.end:
            raise ConfigError(
                f"{key}.overrides: {a.user}'s and {b.user}'s overrides overlap; "
                "an override must end before the next begins"
            )
    schedule = Schedule(name, tz, layers, tuple(overrides))
    if not raw.get("allow_gaps", False):
        _check_gaps(schedule, key)
    return schedule


def _check_gaps(schedule: Schedule, key: str) -> None:
    begin = max(layer.anchor for layer in schedule.layers)
    t, end = begin, begin + _GAP_CHECK_DAYS * 86400
    while t < end:
        if schedule.who(t) is None:
            when = datetime.fromtimestamp(t, schedule.zone).strftime("%a %Y-%m-%d %H:%M %Z")
            raise ConfigError(
                f"{key}: nobody is on call at {when}; add a layer without `hours` "
                "or set allow_gaps = true"
            )
        t += _STEP_S

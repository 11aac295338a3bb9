"""Business hours: an IANA time zone, days of the week, time ranges (which may cross midnight)
and holiday dates; correct across daylight-saving changes because ranges are wall-clock times.

A range ``22:00-06:00`` belongs to the day it starts on: on a Friday-only calendar it covers
Friday 22:00 to Saturday 06:00. A holiday removes the ranges that start on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from heron.errors import ConfigError

#: The hours table that always exists (Mon-Fri 09:00-17:00 UTC unless configured).
DEFAULT_HOURS = "business"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: How far ahead ``next_open`` looks before concluding the calendar never opens.
_HORIZON_DAYS = 400


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Minutes after local midnight; ``end <= start`` means the range ends the next day."""

    start: int
    end: int

    @property
    def crosses_midnight(self) -> bool:
        """Whether the range ends on the following day."""
        return self.end <= self.start

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class Hours:
    """A weekly calendar of open ranges in one time zone, minus holidays."""

    zone: ZoneInfo
    days: frozenset[int]
    ranges: tuple[TimeRange, ...]
    holidays: frozenset[date]

    def _open_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    def contains(self, at: float) -> bool:
        """Whether epoch second ``at`` falls inside the hours."""
        local = datetime.fromtimestamp(at, self.zone)
        minute = local.hour * 60 + local.minute + local.second / 60
        today, yesterday = local.date(), local.date() - timedelta(days=1)
        for r in self.ranges:
            if not r.crosses_midnight:
                if self._open_day(today) and r.start <= minute < r.end:
                    return True
            elif (self._open_day(today) and minute >= r.start) or (
                self._open_day(yesterday) and minute < r.end
            ):
                return True
        return False

    def next_open(self, at: float) -> float:
        """``at`` itself when inside the hours, else the epoch second they next begin."""
        if self.contains(at):
            return at
        first = datetime.fromtimestamp(at, self.zone).date() - timedelta(days=1)
        for offset in range(_HORIZON_DAYS):
            day = first + timedelta(days=offset)
            if not self._open_day(day):
                continue
            starts = sorted(self._start(day, r.start) for r in self.ranges)
            for start in starts:
                if start > at:
                    return start
        raise ConfigError(f"business hours {self} never open in the next {_HORIZON_DAYS} days")

    def _start(self, day: date, minute: int) -> float:
        # A start inside a spring-forward gap (02:30 that day) resolves with the pre-change
        # offset, i.e. to the first real instant after the gap, which is what people expect.
        wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.zone)
        return wall.timestamp()

    def __str__(self) -> str:
        days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        ranges = ",".join(str(r) for r in self.ranges)
        return f"{days} {ranges} {self.zone.key}"


def zone(name: Any, key: str) -> ZoneInfo:
    """The IANA zone ``name``, or a ConfigError naming ``key``."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{key}: an IANA time zone name is required, e.g. 'Europe/London'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{key}: unknown time zone {name!r}") from None


def parse_clock(text: Any, key: str, *, allow_24: bool = False) -> int:
    """``"HH:MM"`` as minutes after midnight (``24:00`` only where ``allow_24``)."""
    if isinstance(text, str) and len(text) == 5 and text[2] == ":":
        hh, mm = text[:2], text[3:]
        if hh.isdigit() and mm.isdigit():
            h, m = int(hh), int(mm)
            if (h < 24 and m < 60) or (allow_24 and h == 24 and m == 0):
                return h * 60 + m
    raise ConfigError(f"{key}: expected a time HH:MM, got {text!r}")


def parse_range(text: Any, key: str) -> TimeRange:
    """``"09:00-17:30"`` (or ``"22:00-06:00"`` across midnight) as a TimeRange."""
    if not isinstance(text, str) or text.count("-") != 1:
        raise ConfigError(f"{key}: expected a range HH:MM-HH:MM, got {text!r}")
    left, right = text.split("-")
    start = parse_clock(left.strip(), key)
    end = parse_clock(right.strip(), key, allow_24=True)
    if start == end:
        raise ConfigError(f"{key}: range {text!r} is empty (start equals end)")
    return TimeRange(start, end)


def parse_days(raw: Any, key: str) -> frozenset[int]:
    """Day names (``mon``..``sun``) and ranges (``mon-fri``) as weekday numbers (Monday 0)."""
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{key}: expected a non-empty list of days such as ['mon-fri']")
    days: set[int] = set()
    for item in raw:
        text = str(item).strip().lower()
        parts = [p.strip()[:3] for p in text.split("-")]
        if len(parts) > 2 or any(p not in DAY_NAMES for p in parts):
            raise ConfigError(f"{key}: unknown day {item!r}; use mon..sun or a range like mon-fri")
        first, last = DAY_NAMES.index(parts[0]), DAY_NAMES.index(parts[-1])
        d = first
        while True:
            days.add(d)
            if d == last:
                break
            d = (d + 1) % 7
    return frozenset(days)


def parse_hours(raw: Mapping[str, Any], key: str) -> Hours:
    """Business hours from a ``[notify.hours.NAME]`` table; errors name the offending key."""
    allowed = {"time_zone", "days", "ranges", "holidays"}
    unknown = set(raw) - allowed
    if unknown:
        raise ConfigError(f"{key}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    tz = zone(raw.get("time_zone", "UTC"), f"{key}.time_zone")
    days = parse_days(raw.get("days", ["mon-fri"]), f"{key}.days")
    ranges_raw = raw.get("ranges", ["09:00-17:00"])
    if not isinstance(ranges_raw, list) or not ranges_raw:
        raise ConfigError(f"{key}.ranges: expected a non-empty list like ['09:00-17:00']")
    ranges = tuple(parse_range(r, f"{key}.ranges") for r in ranges_raw)
    holidays: set[date] = set()
    for h in raw.get("holidays", []):
        if isinstance(h, date) and not isinstance(h, datetime):
            holidays.add(h)
            continue
        try:
            holidays.add(date.fromisoformat(str(h)))
        except ValueError:
            raise ConfigError(f"{key}.holidays: expected dates YYYY-MM-DD, got {h!r}") from None
    return Hours(tz, days, ranges, frozenset(holidays))

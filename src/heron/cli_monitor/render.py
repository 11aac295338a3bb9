"""Pure helpers of the monitor commands: parse times and dimensions, draw tables and sparklines.

Nothing here talks to the monitor or reads the clock: times are resolved against a ``now``
passed in, so every rule is testable on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_RELATIVE = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_SPARKS = "▁▂▃▄▅▆▇█"
_LAMBDA_STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/(\[[^\]]*\])([0-9a-fA-F]+)$")
SPARKLINE_WIDTH = 72


@dataclass(frozen=True, slots=True)
class TimeSpec:
    """A point in time as the user wrote it: an age (``30m`` ago) or an absolute instant."""

    text: str
    ago: timedelta | None = None
    at: datetime | None = None

    def resolve(self, now: datetime) -> datetime:
        """The instant meant, in UTC, relative ages counted back from ``now``."""
        if self.at is not None:
            return self.at
        return now - (self.ago or timedelta(0))


def parse_time(text: str) -> TimeSpec:
    """``45s``/``30m``/``1h``/``2d``/``1w`` ago, ``now``, or ISO 8601 (naive means UTC)."""
    if text.strip().lower() == "now":
        return TimeSpec(text, ago=timedelta(0))
    match = _RELATIVE.match(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        return TimeSpec(text, ago=timedelta(**{_UNITS[unit]: amount}))
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use an age such as 30m, 1h, 2d or an ISO 8601 time "
            "such as 2024-03-14T12:00:00Z"
        ) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)  # the monitor keeps UTC, so a bare time means UTC too
    return TimeSpec(text, at=at.astimezone(UTC))


def parse_positive(text: str) -> int:
    """A whole number above zero (a period in seconds, a limit)."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise ValueError(f"{text} must be above zero")
    return value


def parse_dimension(text: str, *, value_required: bool) -> tuple[str, str | None]:
    """``Name=Value`` as a pair; a bare ``Name`` (any value) only where ``value_required`` is off."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not name:
        raise ValueError(f"{text!r} is not a dimension: write Name=Value, e.g. FunctionName=ping")
    if not sep or not value:
        if value_required:
            raise ValueError(f"dimension {name!r} needs a value: write {name}=VALUE")
        return name, None
    return name, value


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: int = 0) -> str:
    """Rows under upper-case headers in aligned columns; the last ``right`` columns align right."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    first_right = len(headers) - right

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(widths[i]) if i >= first_right else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def sparkline(values: Sequence[float | None], width: int = SPARKLINE_WIDTH) -> str:
    """One block character per value (a space for a gap), scaled between the min and the max.

    Longer series are folded into ``width`` buckets keeping each bucket's maximum, so a spike
    stays visible instead of being averaged away.
    """
    if len(values) > width:
        size = -(-len(values) // width)
        folded: list[float | None] = []
        for start in range(0, len(values), size):
            present = [v for v in values[start : start + size] if v is not None]
            folded.append(max(present) if present else None)
        values = folded
    present = [v for v in values if v is not None]
    if not present:
        return " " * len(values)
    low, high = min(present), max(present)
    top = len(_SPARKS) - 1
    chars = []
    for v in values:
        if v is None:
            chars.append(" ")
        elif high == low:
            chars.append(_SPARKS[0] if high == 0 else _SPARKS[top // 2])
        else:
            chars.append(_SPARKS[round((v - low) / (high - low) * top)])
    return "".join(chars)


def format_number(value: float) -> str:
    """A metric value for a table: whole numbers bare, others with two decimals (or 4 digits)."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.4g}"


def format_instant(moment: datetime) -> str:
    """A period start as ``2024-03-14T12:00:00Z`` (UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_ms(epoch_ms: int) -> str:
    """A log event time as ``2024-03-14T12:00:00.123Z`` (UTC, millisecond precision)."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def format_bytes(size: int) -> str:
    """A byte count as people read it: ``512 B``, ``1.5 KiB``, ``2.0 MiB``."""
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{int(amount)} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def short_stream(name: str) -> str:
    """A Lambda stream ``2024/03/14/[$LATEST]<32 hex>`` shortened to ``[$LATEST]<8 hex>``."""
    match = _LAMBDA_STREAM.match(name)
    if not match:
        return name
    return match.group(1) + match.group(2)[:8]


def event_line(timestamp_ms: int, stream: str, message: str) -> str:
    """``TIMESTAMP  STREAM  MESSAGE``; later lines of a multi-line message indent under the first."""
    prefix = f"{format_ms(timestamp_ms)}  {short_stream(stream)}  "
    lines = message.rstrip("\r\n").split("\n")
    indent = " " * len(prefix)
    return prefix + ("\n" + indent).join(line.rstrip("\r") for line in lines)


def dimensions_text(dimensions: Sequence[dict[str, str]]) -> str:
    """Dimensions as ``Name=Value, Name=Value`` (``-`` for none)."""
    if not dimensions:
        return "-"
    return ", ".join(f"{d['Name']}={d.get('Value', '*')}" for d in dimensions)

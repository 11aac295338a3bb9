"""CloudWatch's retention and roll-up schedule, and the query rules tied to it (pure functions).

Storage levels: 0 = 1-second cells kept 3 hours, 1 = 60-second cells kept 15 days, 2 = 5-minute
cells kept 63 days, 3 = 1-hour cells kept 455 days. Expired cells roll up into the next level;
level-3 cells older than 455 days are dropped. Queries: the Period must be a multiple of 60 when
StartTime is more than 3 hours old, of 300 beyond 15 days and of 3600 beyond 63 days (otherwise
no datapoints); StartTime is rounded down accordingly; StartTime is inclusive, EndTime exclusive;
each datapoint is stamped with the start of its period.
"""

from __future__ import annotations

import math

HOUR = 3600
DAY = 86400

#: Width in seconds of a cell at each storage level.
LEVEL_WIDTH = (1, 60, 300, 3600)
#: How long cells of each level are kept before rolling up (or, for the last, being dropped).
LEVEL_KEEP_S = (3 * HOUR, 15 * DAY, 63 * DAY, 455 * DAY)
#: Periods high-resolution data may be queried with below one minute.
SUB_MINUTE_PERIODS = (1, 5, 10, 20, 30)


def level_for_resolution(storage_resolution: int) -> int:
    """Storage level a datum lands in: 1-second cells for high resolution, else 60-second."""
    return 0 if storage_resolution < 60 else 1


def rollup_cutoff(level: int, now_s: int) -> int:
    """Cells of ``level`` starting before this second are due to roll up (or expire, for 3)."""
    edge = now_s - LEVEL_KEEP_S[level]
    if level + 1 < len(LEVEL_WIDTH):
        width = LEVEL_WIDTH[level + 1]
        return edge // width * width  # whole coarser cells roll up together
    return edge


def period_allowed(period_s: int, start_s: int, now_s: int) -> bool:
    """Whether CloudWatch returns data for ``period_s`` given how old StartTime is."""
    age = now_s - start_s
    if age > 63 * DAY:
        return period_s % 3600 == 0
    if age > 15 * DAY:
        return period_s % 300 == 0
    if age > 3 * HOUR:
        return period_s % 60 == 0
    return True


def round_start(start_ms: int, period_s: int, now_s: int) -> int:
    """StartTime (seconds) rounded down as CloudWatch rounds it for this period and age."""
    start_s = start_ms // 1000
    age = now_s - start_s
    if age > 63 * DAY:
        step = 3600
    elif age > 15 * DAY:
        step = 300
    elif period_s < 60 and 60 % period_s == 0:
        step = period_s
    else:
        step = 60
    return start_s // step * step


def end_second(end_ms: int) -> int:
    """First whole second not covered by an exclusive EndTime given in milliseconds."""
    return -(-end_ms // 1000)


def datapoint_count(start_ms: int, end_ms: int, period_s: int) -> int:
    """How many datapoints a window may produce (what the 1,440 limit is checked against)."""
    return max(0, math.ceil((end_ms - start_ms) / 1000 / period_s))

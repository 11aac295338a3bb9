"""The history table of ``alarms.db``: appending, querying and expiring alarm history items.

Items are stored exactly as DescribeAlarmHistory returns them (``history`` builds them); the
functions here run on the store's connection, inside whatever transaction and lock it holds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: The history table and the indexes its two access paths (all alarms, one alarm) use.
HISTORY_SCHEMA = """
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, type TEXT NOT NULL,
    ts REAL NOT NULL, kind TEXT NOT NULL, summary TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS history_ts ON history (ts, id);
CREATE INDEX IF NOT EXISTS history_name ON history (name, ts, id);
"""


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """DescribeAlarmHistory's filters (``after`` is the paging cursor: (timestamp, id))."""

    name: str | None = None
    types: frozenset[str] = frozenset({"MetricAlarm"})
    kind: str | None = None
    start: float | None = None
    end: float | None = None
    ascending: bool = False
    after: tuple[float, int] | None = None
    limit: int = 100


def insert_items(db: sqlite3.Connection, items: Sequence[Mapping[str, Any]]) -> None:
    """Append history items (in DescribeAlarmHistory's shape) within the caller's transaction."""
    db.executemany(
        "INSERT INTO history (name, type, ts, kind, summary, data) VALUES (?,?,?,?,?,?)",
        [
            (
                i["AlarmName"],
                i["AlarmType"],
                i["Timestamp"],
                i["HistoryItemType"],
                i["HistorySummary"],
                i["HistoryData"],
            )
            for i in items
        ],
    )


def select_items(db: sqlite3.Connection, query: HistoryQuery) -> list[tuple[int, dict[str, Any]]]:
    """Matching history items with their ids, newest first unless ``query.ascending``."""
    where = [f"type IN ({','.join('?' * len(query.types))})"]
    args: list[Any] = sorted(query.types)
    if query.name is not None:
        where.append("name=?")
        args.append(query.name)
    if query.kind is not None:
        where.append("kind=?")
        args.append(query.kind)
    if query.start is not None:
        where.append("ts>=?")
        args.append(query.start)
    if query.end is not None:
        where.append("ts<=?")
        args.append(query.end)
    direction = "ASC" if query.ascending else "DESC"
    if query.after is not None:
        where.append(f"(ts, id) {'>' if query.ascending else '<'} (?, ?)")
        args.extend(query.after)
    sql = (
        f"SELECT id, name, type, ts, kind, summary, data FROM history "
        f"WHERE {' AND '.join(where)} ORDER BY ts {direction}, id {direction} LIMIT ?"
    )
    rows = db.execute(sql, (*args, query.limit)).fetchall()
    return [
        (
            ident,
            {
                "AlarmName": name,
                "AlarmType": kind_of_alarm,
                "Timestamp": ts,
                "HistoryItemType": kind,
                "HistorySummary": summary,
                "HistoryData": data,
            },
        )
        for ident, name, kind_of_alarm, ts, kind, summary, data in rows
    ]


def delete_before(db: sqlite3.Connection, cutoff: float) -> int:
    """Delete items older than ``cutoff`` (epoch seconds); how many went."""
    return db.execute("DELETE FROM history WHERE ts < ?", (cutoff,)).rowcount

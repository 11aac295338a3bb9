"""Upkeep of stored log chunks: retention deletes and the move from one row per event.

Retention deletes whole chunks once their newest event is past the cutoff, so an event can
outlive its retention by at most ``CHUNK_SPAN_MS``; CloudWatch itself deletes expired events
lazily (up to 72 hours late), and a chunk's event ids stay stable because chunks never shrink.
"""

from __future__ import annotations

import itertools
import sqlite3

from heron.monitor.logs.chunks import LIMIT, pack
from heron.monitor.logs.store_sql import INSERT_CHUNK

#: Rows converted per step when moving a data directory from the one-row-per-event layout.
_MIGRATION_STEP = 10_000


def expire_group(db: sqlite3.Connection, gid: int, cutoff_ms: int) -> int:
    """Delete a group's chunks whose events are all older than ``cutoff_ms`` and subtract their
    size from the stream and group totals (inside the caller's transaction); returns how many
    events went."""
    sizes = db.execute(
        "SELECT stream_id, sum(size), sum(count) FROM log_chunks"
        " WHERE group_id=? AND last_ts<? GROUP BY stream_id",
        (gid, cutoff_ms),
    ).fetchall()
    if not sizes:
        return 0
    db.execute("DELETE FROM log_chunks WHERE group_id=? AND last_ts<?", (gid, cutoff_ms))
    for sid, size, _count in sizes:
        db.execute(
            "UPDATE log_streams SET stored_bytes=max(0, stored_bytes-?) WHERE id=?", (size, sid)
        )
    db.execute(
        "UPDATE log_groups SET stored_bytes=max(0, stored_bytes-?) WHERE id=?",
        (sum(size for _, size, _ in sizes), gid),
    )
    return int(sum(count for _, _, count in sizes))


def migrate_event_rows(db: sqlite3.Connection) -> int:
    """Move events from the old ``log_events`` table (one row each) into chunks, in one
    transaction, and drop the table; returns how many moved (0 when there is no such table)."""
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='log_events'"
    ).fetchone()
    if exists is None:
        return 0
    moved = 0
    db.execute("BEGIN IMMEDIATE")
    try:
        streams = db.execute("SELECT DISTINCT group_id, stream_id FROM log_events").fetchall()
        for gid, sid in streams:
            after = (-LIMIT, -1)
            while True:
                rows = db.execute(
                    "SELECT ts, id, ingest_ms, message FROM log_events WHERE stream_id=?"
                    " AND (ts > ? OR (ts = ? AND id > ?)) ORDER BY ts, id LIMIT ?",
                    (sid, after[0], after[0], after[1], _MIGRATION_STEP),
                ).fetchall()
                if not rows:
                    break
                # One chunk per run of equal ingestion times, so every event keeps its own.
                for ingest, run in itertools.groupby(rows, key=lambda row: row[2]):
                    events = [(ts, message) for ts, _id, _ingest, message in run]
                    for chunk in pack(events):
                        db.execute(INSERT_CHUNK, (gid, sid, ingest, *chunk.columns()))
                moved += len(rows)
                after = (rows[-1][0], rows[-1][1])
        db.execute("DROP TABLE log_events")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return moved

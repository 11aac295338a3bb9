"""The log store's SQLite schema and the plain records it reads back."""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA = """
CREATE TABLE IF NOT EXISTS log_groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    retention_days INTEGER,
    stored_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS log_streams (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    first_event_ms INTEGER,
    last_event_ms INTEGER,
    last_ingestion_ms INTEGER,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    UNIQUE (group_id, name)
);
CREATE TABLE IF NOT EXISTS log_events (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL,
    stream_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    ingest_ms INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_events_group_ts ON log_events (group_id, ts);
CREATE INDEX IF NOT EXISTS log_events_stream_ts ON log_events (stream_id, ts);
CREATE TABLE IF NOT EXISTS metric_filters (
    group_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    pattern TEXT NOT NULL,
    transformations TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (group_id, name)
);
"""


#: A stream's events in one statement: ``?4`` is a JSON array of [timestamp, start, length]
#: (byte offsets from 1) into ``?5``, the messages' UTF-8 bytes one after another. (substr of
#: an empty blob is NULL, hence the coalesce: an empty message stays an empty string.)
INSERT_SLICES = (
    "INSERT INTO log_events(group_id, stream_id, ts, ingest_ms, message)"
    " SELECT ?1, ?2, value ->> 0, ?3,"
    " coalesce(CAST(substr(?5, value ->> 1, value ->> 2) AS TEXT), '')"
    " FROM json_each(?4)"
)


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A log group as DescribeLogGroups reports it (times in epoch ms)."""

    name: str
    created_ms: int
    retention_days: int | None
    stored_bytes: int
    metric_filter_count: int


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """A log stream as DescribeLogStreams reports it (times in epoch ms, None before events)."""

    name: str
    created_ms: int
    first_event_ms: int | None
    last_event_ms: int | None
    last_ingestion_ms: int | None
    stored_bytes: int


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One stored event: its stream, timestamp, ingestion time, message and id."""

    stream: str
    timestamp_ms: int
    ingestion_ms: int
    message: str
    event_id: int

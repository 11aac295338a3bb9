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
-- One stream's events of one write, sorted by time (see chunks.py): stamps are int64 and
-- lengths uint32 (characters) in the machine's byte order, messages one TEXT.
CREATE TABLE IF NOT EXISTS log_chunks (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL,
    stream_id INTEGER NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    ingest_ms INTEGER NOT NULL,
    count INTEGER NOT NULL,
    size INTEGER NOT NULL,
    stamps BLOB NOT NULL,
    lengths BLOB NOT NULL,
    messages TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_chunks_group ON log_chunks (group_id, first_ts);
CREATE INDEX IF NOT EXISTS log_chunks_stream ON log_chunks (stream_id, first_ts);
-- GetLogEvents from the end (its default) reads a stream newest first.
CREATE INDEX IF NOT EXISTS log_chunks_stream_last ON log_chunks (stream_id, last_ts);
CREATE TABLE IF NOT EXISTS metric_filters (
    group_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    pattern TEXT NOT NULL,
    transformations TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (group_id, name)
);
"""


#: One chunk: group id, stream id, ingestion ms, then ``PackedChunk.columns()``.
INSERT_CHUNK = (
    "INSERT INTO log_chunks(group_id, stream_id, ingest_ms, first_ts, last_ts, count, size,"
    " stamps, lengths, messages) VALUES (?,?,?,?,?,?,?,?,?,?)"
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

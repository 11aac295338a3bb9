"""A Logs Insights subset: the records stored events become, and StartQuery's query lifecycle.

Records carry ``@timestamp``, ``@message``, ``@logStream``, ``@log``, ``@ingestionTime`` and,
for JSON messages, every field in dot notation (``a.b``, arrays as ``a.0``). Queries run when
their results are first asked for (Scheduled → Complete); StopQuery before that cancels them.
Queries are parsed by ``insights_commands`` and run by ``insights_run``.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import orjson

from heron.monitor.logs.insights_commands import parse_query
from heron.monitor.logs.insights_parser import Record
from heron.monitor.logs.insights_run import run_query
from heron.monitor.logs.store import LogStore
from heron.types import Clock

__all__ = ["DEFAULT_LIMIT", "QueryManager", "record_of"]

DEFAULT_LIMIT = 10_000


def record_of(group: str, stream: str, ts: int, ingest: int, message: str) -> Record:
    """The fields Insights sees for one event (JSON messages are flattened)."""
    record: Record = {
        "@timestamp": ts,
        "@message": message,
        "@logStream": stream,
        "@log": f"000000000000:{group}",
        "@ingestionTime": ingest,
    }
    if message.startswith("{"):
        try:
            doc = orjson.loads(message)
        except orjson.JSONDecodeError:
            return record
        if isinstance(doc, dict):
            _flatten(doc, "", record)
    return record


def _flatten(node: Any, prefix: str, out: Record) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _flatten(v, f"{prefix}{k}.", out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _flatten(v, f"{prefix}{i}.", out)
    else:
        out.setdefault(prefix[:-1], node)


class QueryManager:
    """StartQuery / GetQueryResults / StopQuery state: queries run lazily on first read."""

    def __init__(self, store: LogStore, *, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        self._queries: dict[str, dict[str, Any]] = {}

    def start(
        self, groups: list[str], query: str, start_s: int, end_s: int, limit: int | None
    ) -> str:
        """Parse and schedule a query; returns its id (QueryError when malformed)."""
        commands = parse_query(query)
        qid = str(uuid.uuid4())
        with self._lock:
            self._queries[qid] = {
                "groups": groups,
                "commands": commands,
                "start": start_s * 1000,
                "end": end_s * 1000 + 999,
                "limit": limit or DEFAULT_LIMIT,
                "status": "Scheduled",
            }
        return qid

    def results(self, qid: str) -> dict[str, Any] | None:
        """GetQueryResults' answer, running the query if it has not run yet; None if unknown."""
        with self._lock:
            q = self._queries.get(qid)
            if q is None:
                return None
            if q["status"] == "Scheduled":
                q["status"] = "Running"
                records = (
                    record_of(*row)
                    for row in self.store.scan_events(q["groups"], q["start"], q["end"])
                )
                try:
                    q["rows"], q["stats"] = run_query(q["commands"], records, q["limit"])
                    q["status"] = "Complete"
                except Exception:
                    q["rows"], q["stats"], q["status"] = [], _empty_stats(), "Failed"
            return {
                "status": q["status"],
                "results": q.get("rows", []),
                "statistics": q.get("stats", _empty_stats()),
            }

    def stop(self, qid: str) -> bool | None:
        """Cancel a query that has not completed; None if unknown, False if already done."""
        with self._lock:
            q = self._queries.get(qid)
            if q is None:
                return None
            if q["status"] in ("Scheduled", "Running"):
                q["status"] = "Cancelled"
                return True
            return False


def _empty_stats() -> dict[str, float]:
    return {"recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0}

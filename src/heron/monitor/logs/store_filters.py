"""The log store's metric filters: create, replace, delete and list them, cached per group."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

import orjson

from heron.monitor.logs.metric_filters import (
    MAX_FILTERS_PER_GROUP,
    MetricFilter,
    build_metric_filter,
)
from heron.monitor.logs.store_errors import LimitExceeded, NotFound


class MetricFilterStore:
    """The log store's metric filter operations; the store provides the connection, lock and ids."""

    _db: sqlite3.Connection
    _lock: threading.RLock
    #: Each group's filters by group id, as extraction applies them (dropped on any change).
    _filters: dict[int, list[MetricFilter]]

    def _group_id(self, name: str) -> int:
        raise NotImplementedError

    def now_ms(self) -> int:
        """The clock's time in epoch milliseconds."""
        raise NotImplementedError

    def put_metric_filter(
        self, group: str, name: str, pattern: str, transformations: Sequence[dict[str, Any]]
    ) -> MetricFilter:
        """Create or replace a metric filter (PatternError / FilterDefinitionError / limits)."""
        with self._lock:
            gid = self._group_id(group)
            existing = self._db.execute(
                "SELECT created_ms FROM metric_filters WHERE group_id=? AND name=?", (gid, name)
            ).fetchone()
            if existing is None:
                (count,) = self._db.execute(
                    "SELECT count(*) FROM metric_filters WHERE group_id=?", (gid,)
                ).fetchone()
                if count >= MAX_FILTERS_PER_GROUP:
                    raise LimitExceeded("Resource limit exceeded.")
            mf = build_metric_filter(name, pattern, transformations, self.now_ms())
            self._db.execute(
                "INSERT OR REPLACE INTO metric_filters(group_id, name, pattern, transformations,"
                " created_ms) VALUES (?,?,?,?,?)",
                (gid, name, pattern, orjson.dumps(list(transformations)).decode(), mf.created_ms),
            )
            self._filters.pop(gid, None)
            return mf

    def delete_metric_filter(self, group: str, name: str) -> None:
        """Delete a metric filter (NotFound if absent)."""
        with self._lock:
            gid = self._group_id(group)
            cur = self._db.execute(
                "DELETE FROM metric_filters WHERE group_id=? AND name=?", (gid, name)
            )
            if cur.rowcount == 0:
                raise NotFound("The specified resource does not exist.")
            self._filters.pop(gid, None)

    def metric_filters(self, group: str | None = None) -> list[tuple[str, MetricFilter]]:
        """(group name, filter) pairs sorted by group then filter name."""
        sql = (
            "SELECT g.name, f.name, f.pattern, f.transformations, f.created_ms FROM metric_filters f"
            " JOIN log_groups g ON g.id=f.group_id"
        )
        with self._lock:
            if group is not None:
                self._group_id(group)
                rows = self._db.execute(sql + " WHERE g.name=? ORDER BY f.name", (group,))
            else:
                rows = self._db.execute(sql + " ORDER BY g.name, f.name")
            rows_list = rows.fetchall()
        return [(g, build_metric_filter(n, p, orjson.loads(t), c)) for g, n, p, t, c in rows_list]

    def _group_filters(self, gid: int) -> list[MetricFilter]:
        filters = self._filters.get(gid)
        if filters is None:
            rows = self._db.execute(
                "SELECT name, pattern, transformations, created_ms FROM metric_filters"
                " WHERE group_id=? ORDER BY name",
                (gid,),
            ).fetchall()
            filters = [build_metric_filter(n, p, orjson.loads(t), c) for n, p, t, c in rows]
            self._filters[gid] = filters
        return filters

"""The alarm store: alarms with their state, tags and history, durable in ``<data-dir>/alarms.db``.

Alarms are kept as the DescribeAlarms dicts of the shared contract (``MetricAlarm`` /
``CompositeAlarm`` shapes, timestamps as float epoch seconds) both in memory, for the scheduler
and the API, and as JSON rows in SQLite (WAL), so state and history survive a ``kill -9``: every
change is committed before the method returns. A new alarm starts in INSUFFICIENT_DATA
("Unchecked: Initial alarm creation"); putting an existing alarm again replaces its configuration
and keeps its state, as PutMetricAlarm does. History items are stored exactly as
DescribeAlarmHistory returns them (``history_log``) and expire after two weeks (AWS's documented
retention).
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heron.monitor.alarms import history
from heron.monitor.alarms.history_log import (
    HISTORY_SCHEMA,
    HistoryQuery,
    delete_before,
    insert_items,
    select_items,
)
from heron.types import Clock

# HistoryQuery is part of this store's interface (``history``), so it is exported from here too.
__all__ = [
    "ACTION_KEYS",
    "HISTORY_RETENTION_S",
    "INITIAL_REASON",
    "STATE_KEYS",
    "AlarmStore",
    "HistoryQuery",
    "Transition",
    "normalize_action_arns",
]

#: How long history items are kept (CloudWatch documents two weeks).
HISTORY_RETENTION_S = 14 * 86400
INITIAL_REASON = "Unchecked: Initial alarm creation"
#: Members that describe the alarm's state, kept across configuration updates.
STATE_KEYS = (
    "StateValue",
    "StateReason",
    "StateReasonData",
    "StateUpdatedTimestamp",
    "StateTransitionedTimestamp",
)
#: The action lists, in DescribeAlarms' order.
ACTION_KEYS = ("OKActions", "AlarmActions", "InsufficientDataActions")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alarms (name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tags (
    arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (arn, key));
"""


def normalize_action_arns(alarm: dict[str, Any]) -> None:
    """Replace the literal ``region`` / ``account`` placeholders of action ARNs in place.

    The seed's alarms name ``arn:aws:sns:region:account:alerts``; they mean the instance's own
    region and account, which the alarm's ARN carries.
    """
    parts = str(alarm.get("AlarmArn", "")).split(":")
    if len(parts) < 5:
        return
    region, account = parts[3], parts[4]
    for key in ACTION_KEYS:
        if key in alarm:
            alarm[key] = [_normalize_arn(arn, region, account) for arn in alarm[key]]


def _normalize_arn(arn: str, region: str, account: str) -> str:
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[3] == "region" and parts[4] == "account":
        parts[3], parts[4] = region, account
        return ":".join(parts)
    return arn


@dataclass(frozen=True, slots=True)
class Transition:
    """A state change: the alarm after it, and the state it left."""

    alarm: dict[str, Any]
    old_state: str
    old_reason: str
    old_reason_data: str | None
    timestamp: float


class AlarmStore:
    """Alarms, their tags and their history; thread-safe."""

    def __init__(
        self,
        data_dir: Path | str,
        *,
        clock: Clock = time.time,
        retention_s: float = HISTORY_RETENTION_S,
    ) -> None:
        self._clock = clock
        self._retention_s = retention_s
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(Path(data_dir) / "alarms.db"), check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA + HISTORY_SCHEMA)
        self._alarms: dict[str, dict[str, Any]] = {
            name: json.loads(body) for name, body in self._db.execute("SELECT * FROM alarms")
        }
        #: Bumped on every configuration change (not on state changes): the scheduler's cue to
        #: regroup alarms by metric.
        self.version = 0
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (from the changing thread) after each configuration change."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        self.version += 1
        for listener in self._listeners:
            listener()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    # -- reading ---------------------------------------------------------------------------

    def get(self, name: str) -> dict[str, Any] | None:
        """A copy of the alarm called ``name``, or None."""
        with self._lock:
            alarm = self._alarms.get(name)
            return copy.deepcopy(alarm) if alarm is not None else None

    def alarms(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Copies of all alarms (or those of ``names`` that exist), sorted by name."""
        with self._lock:
            if names is None:
                chosen = sorted(self._alarms)
            else:
                chosen = sorted({n for n in names if n in self._alarms})
            return [copy.deepcopy(self._alarms[n]) for n in chosen]

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """The live alarm dicts by name (read-only: for the scheduler's hot path, no copies)."""
        with self._lock:
            return dict(self._alarms)

    def states(self) -> dict[str, str]:
        """Every alarm's StateValue, by name."""
        with self._lock:
            return {name: alarm["StateValue"] for name, alarm in self._alarms.items()}

    def __len__(self) -> int:
        return len(self._alarms)

    # -- configuration ---------------------------------------------------------------------

    def put_alarm(
        self, config: Mapping[str, Any], *, tags: Sequence[Mapping[str, str]] = ()
    ) -> tuple[dict[str, Any], bool]:
        """Create or replace an alarm from its validated configuration; (alarm, created).

        A new alarm starts in INSUFFICIENT_DATA and takes ``tags``; an existing one keeps its
        state and tags and gets the new configuration. Either way a ConfigurationUpdate history
        item is recorded.
        """
        now = self._clock()
        name = str(config["AlarmName"])
        with self._lock:
            before = self._alarms.get(name)
            alarm = {k: v for k, v in config.items() if k not in STATE_KEYS}
            alarm.setdefault("ActionsEnabled", True)
            normalize_action_arns(alarm)
            alarm["AlarmConfigurationUpdatedTimestamp"] = now
            if before is None:
                alarm.update(
                    StateValue="INSUFFICIENT_DATA",
                    StateReason=INITIAL_REASON,
                    StateUpdatedTimestamp=now,
                    StateTransitionedTimestamp=now,
                )
                item = history.created(alarm, now)
            else:
                alarm.update({k: before[k] for k in STATE_KEYS if k in before})
                item = history.updated(before, alarm, now)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._write(alarm)
                insert_items(self._db, [item])
                if before is None:
                    self._db.execute("DELETE FROM tags WHERE arn=?", (alarm["AlarmArn"],))
                    self._put_tags(alarm["AlarmArn"], tags)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._alarms[name] = alarm
            self._changed()
            return copy.deepcopy(alarm), before is None

    def delete(self, names: Sequence[str]) -> list[dict[str, Any]]:
        """Delete the named alarms (all must exist: the caller checks); the deleted alarms.

        Their history stays (AWS keeps it after deletion), their tags go.
        """
        now = self._clock()
        with self._lock:
            gone = [self._alarms[n] for n in dict.fromkeys(names) if n in self._alarms]
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for alarm in gone:
                    self._db.execute("DELETE FROM alarms WHERE name=?", (alarm["AlarmName"],))
                    self._db.execute("DELETE FROM tags WHERE arn=?", (alarm["AlarmArn"],))
                insert_items(self._db, [history.deleted(a, now) for a in gone])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            for alarm in gone:
                del self._alarms[alarm["AlarmName"]]
            self._changed()
            return gone

    def set_actions_enabled(self, names: Sequence[str], enabled: bool) -> None:
        """Enable or disable actions of the named alarms (unknown names are ignored, as AWS)."""
        with self._lock:
            changed = []
            for name in dict.fromkeys(names):
                alarm = self._alarms.get(name)
                if alarm is not None and alarm.get("ActionsEnabled") is not enabled:
                    changed.append({**alarm, "ActionsEnabled": enabled})
            if not changed:
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for alarm in changed:
                    self._write(alarm)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            for alarm in changed:
                self._alarms[alarm["AlarmName"]] = alarm

    # -- state -----------------------------------------------------------------------------

    def set_state(
        self,
        name: str,
        state: str,
        reason: str,
        reason_data: str | None,
        *,
        now: float | None = None,
        config_timestamp: float | None = None,
    ) -> Transition | None:
        """Move an alarm to ``state`` and record the StateUpdate; the transition, or None.

        None when the alarm is gone, already in ``state``, or (given ``config_timestamp``) was
        reconfigured since the evaluation that asked for this change started.
        """
        at = self._clock() if now is None else now
        with self._lock:
            alarm = self._alarms.get(name)
            if alarm is None or alarm["StateValue"] == state:
                return None
            if (
                config_timestamp is not None
                and alarm["AlarmConfigurationUpdatedTimestamp"] != config_timestamp
            ):
                return None
            after = {
                **alarm,
                "StateValue": state,
                "StateReason": reason,
                "StateUpdatedTimestamp": at,
                "StateTransitionedTimestamp": at,
            }
            if reason_data is None:
                after.pop("StateReasonData", None)
            else:
                after["StateReasonData"] = reason_data
            item = history.state_update(
                after,
                old_state=alarm["StateValue"],
                old_reason=alarm.get("StateReason", ""),
                old_reason_data=alarm.get("StateReasonData"),
                timestamp=at,
            )
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._write(after)
                insert_items(self._db, [item])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._alarms[name] = after
            return Transition(
                alarm=copy.deepcopy(after),
                old_state=alarm["StateValue"],
                old_reason=alarm.get("StateReason", ""),
                old_reason_data=alarm.get("StateReasonData"),
                timestamp=at,
            )

    # -- history ---------------------------------------------------------------------------

    def record(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Append history items (already in DescribeAlarmHistory's shape)."""
        if not items:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                insert_items(self._db, items)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def history(self, query: HistoryQuery) -> list[tuple[int, dict[str, Any]]]:
        """Matching history items with their ids, newest first unless ``ascending``."""
        with self._lock:
            return select_items(self._db, query)

    def expire_history(self, now: float | None = None) -> int:
        """Drop history older than the retention period; how many items went."""
        cutoff = (self._clock() if now is None else now) - self._retention_s
        with self._lock:
            return delete_before(self._db, cutoff)

    # -- tags ------------------------------------------------------------------------------

    def tags(self, arn: str) -> list[dict[str, str]]:
        """The resource's tags as ``[{"Key", "Value"}]``, sorted by key."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, value FROM tags WHERE arn=? ORDER BY key", (arn,)
            ).fetchall()
        return [{"Key": k, "Value": v} for k, v in rows]

    def tag(self, arn: str, tags: Sequence[Mapping[str, str]]) -> None:
        """Add or overwrite tags on a resource."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._put_tags(arn, tags)
            self._db.execute("COMMIT")

    def untag(self, arn: str, keys: Sequence[str]) -> None:
        """Remove tags by key (absent keys are ignored)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("DELETE FROM tags WHERE arn=? AND key=?", [(arn, k) for k in keys])
            self._db.execute("COMMIT")

    # -- internals -------------------------------------------------------------------------

    def _write(self, alarm: Mapping[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO alarms VALUES (?, ?)",
            (alarm["AlarmName"], json.dumps(alarm, separators=(",", ":"))),
        )

    def _put_tags(self, arn: str, tags: Sequence[Mapping[str, str]]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO tags VALUES (?, ?, ?)",
            [(arn, t["Key"], t["Value"]) for t in tags],
        )


def concrete_arns(request: Mapping[str, Any], region: str, account_id: str) -> dict[str, Any]:
    """The request with ``arn:aws:sns:region:account:x`` placeholders in its action lists made
    concrete (as the PutMetricAlarm handler does before validating)."""
    out = dict(request)
    for key in ACTION_KEYS:
        if isinstance(out.get(key), list):
            out[key] = [_concrete(arn, region, account_id) for arn in out[key]]
    return out


def _concrete(arn: Any, region: str, account_id: str) -> Any:
    if not isinstance(arn, str):
        return arn
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[3] == "region" and parts[4] == "account":
        parts[3], parts[4] = region, account_id
        return ":".join(parts)
    return arn

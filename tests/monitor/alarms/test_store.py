"""The alarm store: creation state, updates keep state, history shapes, retention, kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from heron.monitor.alarms.history_log import HistoryQuery
from heron.monitor.alarms.store import HISTORY_RETENTION_S, INITIAL_REASON, AlarmStore

from .alarm_support import ALERTS, T0, FakeClock, alarm_arn, composite_alarm, metric_alarm

CHILD = Path(__file__).with_name("alarm_store_child.py")


def test_a_new_alarm_starts_insufficient_data_and_records_its_creation(tmp_path: Path) -> None:
    store = AlarmStore(tmp_path, clock=FakeClock())
    alarm, created = store.put_alarm(metric_alarm("Errors"), tags=[{"Key": "a", "Value": "b"}])
    assert created
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateReason"] == INITIAL_REASON
    assert "StateReasonData" not in alarm
    assert alarm["StateUpdatedTimestamp"] == alarm["StateTransitionedTimestamp"] == T0
    assert alarm["AlarmConfigurationUpdatedTimestamp"] == T0
    assert store.tags(alarm_arn("Errors")) == [{"Key": "a", "Value": "b"}]
    [(_, item)] = store.history(HistoryQuery())
    assert item["HistoryItemType"] == "ConfigurationUpdate"
    assert item["HistorySummary"] == 'Alarm "Errors" created'
    assert item["AlarmType"] == "MetricAlarm"
    data = json.loads(item["HistoryData"])
    assert data["version"] == "1.0" and data["type"] == "Create"
    created_alarm = data["createdAlarm"]
    assert created_alarm["alarmName"] == "Errors"
    assert created_alarm["okactions"] == [ALERTS]
    assert created_alarm["dimensions"] == [{"value": "send", "name": "FunctionName"}]
    assert created_alarm["alarmConfigurationUpdatedTimestamp"] == "2023-11-14T22:14:00.000+0000"
    assert created_alarm["stateValue"] == "INSUFFICIENT_DATA"


def test_putting_an_existing_alarm_keeps_state_and_tags_and_replaces_config(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    store = AlarmStore(tmp_path, clock=clock)
    store.put_alarm(
        metric_alarm("Errors", AlarmDescription="old"), tags=[{"Key": "a", "Value": "1"}]
    )
    clock.now += 60
    store.set_state("Errors", "ALARM", "Threshold Crossed", '{"version":"1.0"}')
    clock.now += 60
    alarm, created = store.put_alarm(
        metric_alarm("Errors", Threshold=5.0), tags=[{"Key": "b", "Value": "2"}]
    )
    assert not created
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"] == "Threshold Crossed"
    assert alarm["StateReasonData"] == '{"version":"1.0"}'
    assert alarm["StateUpdatedTimestamp"] == T0 + 60
    assert alarm["AlarmConfigurationUpdatedTimestamp"] == T0 + 120
    assert alarm["Threshold"] == 5.0 and "AlarmDescription" not in alarm
    assert store.tags(alarm_arn("Errors")) == [{"Key": "a", "Value": "1"}]  # tags ignored on update
    summaries = [i["HistorySummary"] for _, i in store.history(HistoryQuery(ascending=True))]
    assert summaries == [
        'Alarm "Errors" created',
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
        'Alarm "Errors" updated',
    ]


def test_state_update_history_has_aws_shape(tmp_path: Path) -> None:
    store = AlarmStore(tmp_path, clock=FakeClock())
    store.put_alarm(metric_alarm("Errors"))
    transition = store.set_state("Errors", "ALARM", "Threshold Crossed: 1 datapoint", '{"a":1}')
    assert transition is not None
    assert transition.old_state == "INSUFFICIENT_DATA"
    assert transition.old_reason == INITIAL_REASON
    assert store.set_state("Errors", "ALARM", "again", None) is None  # no change, no item
    [(_, item)] = store.history(HistoryQuery(kind="StateUpdate"))
    assert item["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert json.loads(item["HistoryData"]) == {
        "version": "1.0",
        "oldState": {"stateValue": "INSUFFICIENT_DATA", "stateReason": INITIAL_REASON},
        "newState": {
            "stateValue": "ALARM",
            "stateReason": "Threshold Crossed: 1 datapoint",
            "stateReasonData": {"a": 1},
        },
    }


def test_a_stale_evaluation_does_not_overwrite_a_reconfigured_alarm(tmp_path: Path) -> None:
    clock = FakeClock()
    store = AlarmStore(tmp_path, clock=clock)
    alarm, _ = store.put_alarm(metric_alarm("Errors"))
    clock.now += 1
    store.put_alarm(metric_alarm("Errors", Threshold=9.0))
    stale = store.set_state(
        "Errors", "ALARM", "r", None, config_timestamp=alarm["AlarmConfigurationUpdatedTimestamp"]
    )
    assert stale is None
    assert store.get("Errors")["StateValue"] == "INSUFFICIENT_DATA"  # type: ignore[index]


def test_seed_placeholder_action_arns_become_the_instance_region_and_account(
    tmp_path: Path,
) -> None:
    store = AlarmStore(tmp_path, clock=FakeClock())
    alarm, _ = store.put_alarm(
        metric_alarm(
            "Seed",
            AlarmActions=["arn:aws:sns:region:account:alerts"],
            OKActions=["arn:aws:sns:us-west-2:999999999999:other"],
        )
    )
    assert alarm["AlarmActions"] == [ALERTS]
    assert alarm["OKActions"] == ["arn:aws:sns:us-west-2:999999999999:other"]


def test_history_filters_and_cursor(tmp_path: Path) -> None:
    clock = FakeClock()
    store = AlarmStore(tmp_path, clock=clock)
    store.put_alarm(metric_alarm("A"))
    store.put_alarm(composite_alarm("C", "ALARM(A)"))
    for i in range(5):
        clock.now += 10
        store.set_state("A", "ALARM" if i % 2 == 0 else "OK", f"r{i}", None)
    metric_only = store.history(HistoryQuery())
    assert {i["AlarmName"] for _, i in metric_only} == {"A"}
    both = store.history(HistoryQuery(types=frozenset({"MetricAlarm", "CompositeAlarm"})))
    assert len(both) == 7
    newest_first = [i["Timestamp"] for _, i in metric_only]
    assert newest_first == sorted(newest_first, reverse=True)
    first = store.history(HistoryQuery(limit=2))
    last_id, last = first[-1]
    rest = store.history(HistoryQuery(after=(last["Timestamp"], last_id)))
    assert [i for _, i in first + rest] == [i for _, i in metric_only]
    window = store.history(HistoryQuery(start=T0 + 20, end=T0 + 40, ascending=True))
    assert [i["Timestamp"] for _, i in window] == [T0 + 20, T0 + 30, T0 + 40]


def test_history_outlives_deletion_and_expires_after_two_weeks(tmp_path: Path) -> None:
    clock = FakeClock()
    store = AlarmStore(tmp_path, clock=clock)
    store.put_alarm(metric_alarm("Gone"), tags=[{"Key": "k", "Value": "v"}])
    clock.now += 5
    [deleted] = store.delete(["Gone"])
    assert deleted["AlarmName"] == "Gone"
    assert store.get("Gone") is None
    assert store.tags(alarm_arn("Gone")) == []
    items = [i for _, i in store.history(HistoryQuery(ascending=True))]
    assert [i["HistorySummary"] for i in items] == [
        'Alarm "Gone" created',
        'Alarm "Gone" deleted',
    ]
    assert json.loads(items[1]["HistoryData"])["type"] == "Delete"
    assert store.expire_history(T0 + HISTORY_RETENTION_S) == 0
    assert store.expire_history(T0 + HISTORY_RETENTION_S + 1) == 1
    assert len(store.history(HistoryQuery())) == 1


def test_actions_enabled_toggles_and_ignores_unknown_names(tmp_path: Path) -> None:
    store = AlarmStore(tmp_path, clock=FakeClock())
    store.put_alarm(metric_alarm("A"))
    store.set_actions_enabled(["A", "nope"], False)
    assert store.get("A")["ActionsEnabled"] is False  # type: ignore[index]
    reopened = AlarmStore(tmp_path, clock=FakeClock())
    assert reopened.get("A")["ActionsEnabled"] is False  # type: ignore[index]


def test_state_and_history_survive_kill_minus_nine(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout is not None
    acked = 0
    deadline = time.monotonic() + 20
    while acked < 200 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        acked = int(line)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert acked == 200, "the child did not finish its state changes"
    store = AlarmStore(tmp_path, clock=FakeClock())
    alarm = store.get("Durable")
    assert alarm is not None
    assert alarm["StateValue"] == "OK" and alarm["StateReason"] == "round 200"
    assert alarm["StateUpdatedTimestamp"] == T0 + 200 * 60
    updates = store.history(HistoryQuery(kind="StateUpdate", limit=500))
    assert len(updates) == 200
    assert store.tags(alarm_arn("Durable")) == [{"Key": "team", "Value": "core"}]

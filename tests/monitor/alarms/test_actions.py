"""Alarm actions: the exact SNS message and subject, only on transitions, only when enabled."""

from __future__ import annotations

import json
from pathlib import Path

from heron.monitor.alarms.actions import AlarmActions, alarm_message, subject
from heron.monitor.alarms.history_log import HistoryQuery
from heron.monitor.alarms.store import AlarmStore
from heron.monitor.notify.topics import TopicStore

from .alarm_support import ACCOUNT, ALERTS, T0, WARNINGS, FakeClock, alarm_arn, metric_alarm

REASON = (
    "Threshold Crossed: 1 datapoint [3.0 (14/11/23 22:14:00)] was greater than the threshold (0.0)."
)


def _alarmed(**overrides: object) -> dict[str, object]:
    alarm = metric_alarm("LambdaErrors", **{"AlarmDescription": "Lambda errors", **overrides})
    alarm.update(
        AlarmConfigurationUpdatedTimestamp=T0,
        StateValue="ALARM",
        StateReason=REASON,
        StateReasonData='{"version":"1.0"}',
        StateUpdatedTimestamp=T0 + 61.5,
        StateTransitionedTimestamp=T0 + 61.5,
    )
    return alarm


def test_metric_alarm_message_is_exactly_what_sns_delivers() -> None:
    message = alarm_message(_alarmed(), "OK")
    assert json.dumps(message, separators=(",", ":")) == json.dumps(
        {
            "AlarmName": "LambdaErrors",
            "AlarmDescription": "Lambda errors",
            "AWSAccountId": ACCOUNT,
            "AlarmConfigurationUpdatedTimestamp": "2023-11-14T22:14:00.000+0000",
            "NewStateValue": "ALARM",
            "NewStateReason": REASON,
            "StateChangeTime": "2023-11-14T22:15:01.500+0000",
            "Region": "US East (N. Virginia)",
            "AlarmArn": alarm_arn("LambdaErrors"),
            "OldStateValue": "OK",
            "OKActions": [ALERTS],
            "AlarmActions": [ALERTS],
            "InsufficientDataActions": [],
            "Trigger": {
                "MetricName": "Errors",
                "Namespace": "Heron",
                "StatisticType": "Statistic",
                "Statistic": "SUM",
                "Unit": None,
                "Dimensions": [{"value": "send", "name": "FunctionName"}],
                "Period": 60,
                "EvaluationPeriods": 1,
                "ComparisonOperator": "GreaterThanThreshold",
                "Threshold": 0.0,
                "TreatMissingData": "notBreaching",
                "EvaluateLowSampleCountPercentile": "",
            },
        },
        separators=(",", ":"),
    )


def test_extended_statistic_and_optional_members_in_the_trigger() -> None:
    alarm = _alarmed(
        Statistic=None,
        ExtendedStatistic="p99",
        Unit="Milliseconds",
        DatapointsToAlarm=1,
        TreatMissingData=None,
        AlarmDescription=None,
    )
    message = alarm_message(alarm, "INSUFFICIENT_DATA")
    trigger = message["Trigger"]
    assert message["AlarmDescription"] is None
    assert trigger["StatisticType"] == "ExtendedStatistic"
    assert trigger["ExtendedStatistic"] == "p99" and "Statistic" not in trigger
    assert trigger["Unit"] == "Milliseconds"
    assert trigger["DatapointsToAlarm"] == 1
    assert trigger["TreatMissingData"] == ""
    keys = list(trigger)
    assert (
        keys.index("EvaluationPeriods")
        < keys.index("DatapointsToAlarm")
        < keys.index("ComparisonOperator")
    )


def test_metric_math_trigger_lists_the_queries() -> None:
    alarm = _alarmed(
        MetricName=None,
        Namespace=None,
        Statistic=None,
        Dimensions=None,
        Period=None,
        Metrics=[
            {
                "Id": "m1",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Errors",
                        "Dimensions": [{"Name": "FunctionName", "Value": "send"}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
                "ReturnData": False,
            },
            {"Id": "e1", "Expression": "m1 * 100", "Label": "Rate", "ReturnData": True},
        ],
    )
    trigger = alarm_message(alarm, "OK")["Trigger"]
    assert "MetricName" not in trigger and trigger["Period"] == 60
    assert trigger["Threshold"] == 0.0
    assert trigger["Metrics"][0] == {
        "Id": "m1",
        "MetricStat": {
            "Metric": {
                "Dimensions": [{"value": "send", "name": "FunctionName"}],
                "MetricName": "Errors",
                "Namespace": "AWS/Lambda",
            },
            "Period": 60,
            "Stat": "Sum",
        },
        "ReturnData": False,
    }
    assert list(trigger["Metrics"][1]) == ["Expression", "Id", "Label", "ReturnData"]


def test_composite_message_carries_rule_and_triggering_children() -> None:
    alarm = {
        "AlarmName": "Both",
        "AlarmArn": alarm_arn("Both"),
        "AlarmRule": "ALARM(A) AND ALARM(B)",
        "ActionsEnabled": True,
        "OKActions": [],
        "AlarmActions": [WARNINGS],
        "InsufficientDataActions": [],
        "AlarmConfigurationUpdatedTimestamp": T0,
        "StateValue": "ALARM",
        "StateReason": "child changed",
        "StateReasonData": json.dumps(
            {
                "triggeringAlarms": [
                    {
                        "arn": alarm_arn("A"),
                        "state": {"value": "ALARM", "timestamp": "2023-11-14T22:14:00.000+0000"},
                    }
                ]
            }
        ),
        "StateUpdatedTimestamp": T0,
        "StateTransitionedTimestamp": T0,
    }
    message = alarm_message(alarm, "OK")
    assert "Trigger" not in message
    assert message["AlarmRule"] == "ALARM(A) AND ALARM(B)"
    assert message["TriggeringChildren"] == [
        {
            "Arn": alarm_arn("A"),
            "State": {"Value": "ALARM", "Timestamp": "2023-11-14T22:14:00.000+0000"},
        }
    ]


def test_subject_names_state_alarm_and_region_and_shortens_long_names() -> None:
    assert subject(_alarmed()) == 'ALARM: "LambdaErrors" in US East (N. Virginia)'
    long = _alarmed(AlarmName="x" * 200)
    text = subject(long)
    assert len(text) == 100
    assert text.startswith('ALARM: "xxx') and text.endswith('..." in US East (N. Virginia)')


def _world(tmp_path: Path) -> tuple[FakeClock, AlarmStore, TopicStore, AlarmActions]:
    clock = FakeClock()
    store = AlarmStore(tmp_path, clock=clock)
    topics = TopicStore(tmp_path / "notify.db", account_id=ACCOUNT, clock=clock)
    return clock, store, topics, AlarmActions(store, topics, clock=clock)


def test_a_transition_publishes_to_the_new_states_topics_and_records_the_action(
    tmp_path: Path,
) -> None:
    clock, store, topics, actions = _world(tmp_path)
    store.put_alarm(metric_alarm("E", AlarmActions=[ALERTS], OKActions=[WARNINGS]))
    clock.now += 60
    transition = store.set_state("E", "ALARM", "breach", None)
    assert transition is not None
    [item] = actions.run(transition)
    [published] = topics.published(ALERTS)
    assert topics.published(WARNINGS) == []
    assert published.subject == 'ALARM: "E" in US East (N. Virginia)'
    body = json.loads(published.message)
    assert body["NewStateValue"] == "ALARM" and body["OldStateValue"] == "INSUFFICIENT_DATA"
    assert published.status == "pending"
    assert item["HistoryItemType"] == "Action"
    assert item["HistorySummary"] == f"Successfully executed action {ALERTS}"
    data = json.loads(item["HistoryData"])
    assert data["actionState"] == "Succeeded" and data["notificationResource"] == ALERTS
    assert [i for _, i in store.history(HistoryQuery(kind="Action"))] == [item]


def test_disabled_actions_publish_nothing_and_write_no_action_items(tmp_path: Path) -> None:
    _clock, store, topics, actions = _world(tmp_path)
    store.put_alarm(metric_alarm("E", ActionsEnabled=False))
    transition = store.set_state("E", "ALARM", "breach", None)
    assert transition is not None
    assert actions.run(transition) == []
    assert topics.published() == []
    assert store.history(HistoryQuery(kind="Action")) == []


def test_missing_topics_and_lambda_actions_are_recorded_as_failed(tmp_path: Path) -> None:
    _clock, store, topics, actions = _world(tmp_path)
    missing = f"arn:aws:sns:us-east-1:{ACCOUNT}:nope"
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:pager"
    store.put_alarm(metric_alarm("E", AlarmActions=[missing, function, ALERTS]))
    transition = store.set_state("E", "ALARM", "breach", None)
    assert transition is not None
    failed_topic, failed_lambda, ok = actions.run(transition)
    assert failed_topic["HistorySummary"] == (
        f'Failed to execute action {missing}. Received error: "Topic does not exist"'
    )
    assert json.loads(failed_lambda["HistoryData"])["actionState"] == "Failed"
    assert "Lambda alarm actions are not supported" in failed_lambda["HistorySummary"]
    assert ok["HistorySummary"] == f"Successfully executed action {ALERTS}"
    assert len(topics.published(ALERTS)) == 1

"""CloudWatch alarm operations through boto3 against a real server: shapes, filters, paging,
history, state, actions, tags and AWS's error shapes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .alarm_server import ACCOUNT, REGION, AlarmApi, alarm_api

ALERTS = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
WARNINGS = f"arn:aws:sns:{REGION}:{ACCOUNT}:warnings"
ARN = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"

SEED_LAMBDA_ERRORS = {
    "AlarmName": "LambdaErrors",
    "MetricName": "Errors",
    "Namespace": "AWS/Lambda",
    "Statistic": "Sum",
    "Period": 300,
    "EvaluationPeriods": 1,
    "Threshold": 0,
    "ComparisonOperator": "GreaterThanThreshold",
    "AlarmActions": ["arn:aws:sns:region:account:alerts"],
}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlarmApi]:
    with alarm_api(tmp_path_factory.mktemp("alarms"), tmp_path_factory.mktemp("models")) as up:
        yield up


@pytest.fixture
def cw(api: AlarmApi) -> Any:
    return api.client("cloudwatch")


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response: Any = exc.value.response
    return (
        response["Error"]["Code"],
        response["Error"].get("Message", ""),
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def _put(cw: Any, name: str, **overrides: Any) -> None:
    request = {
        "AlarmName": name,
        "MetricName": "Errors",
        "Namespace": "Ops",
        "Dimensions": [{"Name": "FunctionName", "Value": name}],
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "missing",
        "AlarmActions": [ALERTS],
        "OKActions": [ALERTS],
        **overrides,
    }
    cw.put_metric_alarm(**{k: v for k, v in request.items() if v is not None})


@pytest.mark.parametrize("protocol", [None, "query", "smithy-rpc-v2-cbor"])
def test_the_seed_alarm_loads_verbatim_and_describes_in_aws_shape(
    api: AlarmApi, protocol: str | None
) -> None:
    cw = api.client("cloudwatch", protocol)
    cw.put_metric_alarm(**SEED_LAMBDA_ERRORS, Tags=[{"Key": "severity", "Value": "critical"}])
    [alarm] = cw.describe_alarms(AlarmNames=["LambdaErrors"])["MetricAlarms"]
    assert alarm["AlarmArn"] == ARN + "LambdaErrors"
    assert alarm["AlarmActions"] == [ALERTS]  # the seed's placeholders made concrete
    assert alarm["OKActions"] == [] and alarm["InsufficientDataActions"] == []
    assert alarm["ActionsEnabled"] is True
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["Threshold"] == 0.0 and alarm["Period"] == 300
    assert alarm["Dimensions"] == []
    assert "DatapointsToAlarm" not in alarm and "TreatMissingData" not in alarm
    assert isinstance(alarm["StateUpdatedTimestamp"], datetime)
    assert isinstance(alarm["AlarmConfigurationUpdatedTimestamp"], datetime)
    tags = cw.list_tags_for_resource(ResourceARN=ARN + "LambdaErrors")["Tags"]
    assert tags == [{"Key": "severity", "Value": "critical"}]


def test_invalid_definitions_get_aws_errors_and_change_nothing(cw: Any) -> None:
    with pytest.raises(ClientError) as exc:
        _put(cw, "Invalid", EvaluationPeriods=1, DatapointsToAlarm=2)
    code, _, status = _error(exc)
    assert status == 400 and code in ("ValidationError", "InvalidParameterValue")
    with pytest.raises(ClientError) as both:
        _put(cw, "Invalid", ExtendedStatistic="p99")
    assert _error(both)[0] == "InvalidParameterCombination"
    assert cw.describe_alarms(AlarmNames=["Invalid"])["MetricAlarms"] == []


def test_an_action_naming_a_missing_topic_is_refused_and_stores_nothing(cw: Any) -> None:
    missing = f"arn:aws:sns:{REGION}:{ACCOUNT}:no-such-topic"
    with pytest.raises(ClientError) as exc:
        _put(cw, "NoTopic", AlarmActions=[missing])
    code, message, status = _error(exc)
    assert (code, status) == ("InvalidParameterValue", 400) and missing in message
    assert cw.describe_alarms(AlarmNames=["NoTopic"])["MetricAlarms"] == []
    # The seed's placeholders resolve to the instance's own topics, which exist.
    _put(cw, "PlaceholderTopic", AlarmActions=["arn:aws:sns:region:account:alerts"])
    [alarm] = cw.describe_alarms(AlarmNames=["PlaceholderTopic"])["MetricAlarms"]
    assert alarm["AlarmActions"] == [ALERTS]


def test_an_update_keeps_state_and_replaces_configuration(cw: Any) -> None:
    _put(cw, "Keep")
    cw.set_alarm_state(AlarmName="Keep", StateValue="ALARM", StateReason="manual")
    _put(cw, "Keep", Threshold=7.0, AlarmDescription="now described")
    [alarm] = cw.describe_alarms(AlarmNames=["Keep"])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM" and alarm["StateReason"] == "manual"
    assert alarm["Threshold"] == 7.0 and alarm["AlarmDescription"] == "now described"


def test_describe_filters_and_paging(cw: Any) -> None:
    for i in range(7):
        _put(cw, f"page-{i}", AlarmActions=[WARNINGS] if i % 2 else [ALERTS])
    cw.set_alarm_state(AlarmName="page-3", StateValue="OK", StateReason="fine")
    names = [a["AlarmName"] for a in cw.describe_alarms(AlarmNamePrefix="page-")["MetricAlarms"]]
    assert names == [f"page-{i}" for i in range(7)]
    first = cw.describe_alarms(AlarmNamePrefix="page-", MaxRecords=3)
    assert [a["AlarmName"] for a in first["MetricAlarms"]] == ["page-0", "page-1", "page-2"]
    second = cw.describe_alarms(AlarmNamePrefix="page-", MaxRecords=3, NextToken=first["NextToken"])
    assert [a["AlarmName"] for a in second["MetricAlarms"]] == ["page-3", "page-4", "page-5"]
    paged = cw.get_paginator("describe_alarms").paginate(AlarmNamePrefix="page-", MaxRecords=2)
    assert [a["AlarmName"] for p in paged for a in p["MetricAlarms"]] == names
    ok = cw.describe_alarms(AlarmNamePrefix="page-", StateValue="OK")["MetricAlarms"]
    assert [a["AlarmName"] for a in ok] == ["page-3"]
    warned = cw.describe_alarms(AlarmNamePrefix="page-", ActionPrefix=WARNINGS)["MetricAlarms"]
    assert [a["AlarmName"] for a in warned] == ["page-1", "page-3", "page-5"]
    with pytest.raises(ClientError) as bad_state:
        cw.describe_alarms(StateValue="BROKEN")
    assert _error(bad_state) == (
        "ValidationError",
        "1 validation error detected: Value 'BROKEN' at 'stateValue' failed to satisfy "
        "constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]",
        400,
    )
    with pytest.raises(ClientError) as token:
        cw.describe_alarms(NextToken="!!not-a-token!!")
    assert _error(token)[0] == "InvalidNextToken"


def test_composite_alarms_describe_only_when_asked_and_navigate(cw: Any) -> None:
    _put(cw, "child-a")
    _put(cw, "child-b")
    cw.put_composite_alarm(
        AlarmName="parent",
        AlarmRule='ALARM("child-a") OR ALARM(child-b)',
        AlarmActions=[WARNINGS],
    )
    default = cw.describe_alarms(AlarmNames=["parent", "child-a"])
    assert [a["AlarmName"] for a in default["MetricAlarms"]] == ["child-a"]
    assert default["CompositeAlarms"] == []
    both = cw.describe_alarms(
        AlarmNames=["parent", "child-a"], AlarmTypes=["CompositeAlarm", "MetricAlarm"]
    )
    [parent] = both["CompositeAlarms"]
    assert parent["AlarmRule"] == 'ALARM("child-a") OR ALARM(child-b)'
    assert parent["StateValue"] == "OK"  # evaluated at creation
    children = cw.describe_alarms(ChildrenOfAlarmName="parent")
    assert [a["AlarmName"] for a in children["MetricAlarms"]] == ["child-a", "child-b"]
    assert set(children["MetricAlarms"][0]) == {
        "AlarmName", "AlarmArn", "StateValue", "StateUpdatedTimestamp",
    }  # fmt: skip
    parents = cw.describe_alarms(ParentsOfAlarmName="child-b")
    assert [a["AlarmName"] for a in parents["CompositeAlarms"]] == ["parent"]
    with pytest.raises(ClientError) as mixed:
        cw.describe_alarms(ChildrenOfAlarmName="parent", StateValue="OK")
    assert _error(mixed)[0] == "InvalidParameterCombination"
    cw.set_alarm_state(AlarmName="child-a", StateValue="ALARM", StateReason="go")
    [parent] = cw.describe_alarms(AlarmNames=["parent"], AlarmTypes=["CompositeAlarm"])[
        "CompositeAlarms"
    ]
    assert parent["StateValue"] == "ALARM"
    with pytest.raises(ClientError) as blocked:
        cw.delete_alarms(AlarmNames=["child-a"])
    assert _error(blocked) == (
        "ValidationError",
        "Cannot delete child-a as there are composite alarm(s) depending on it.",
        400,
    )
    with pytest.raises(ClientError) as unknown_child:
        cw.put_composite_alarm(AlarmName="orphan", AlarmRule="ALARM(nobody)")
    assert _error(unknown_child)[2] == 400
    cw.delete_alarms(AlarmNames=["parent", "child-a", "child-b"])
    assert cw.describe_alarms(AlarmNamePrefix="child-")["MetricAlarms"] == []


def test_describe_alarms_for_metric(cw: Any) -> None:
    _put(cw, "for-metric-1", Namespace="Metricked", Dimensions=[{"Name": "A", "Value": "1"}])
    _put(cw, "for-metric-2", Namespace="Metricked", Dimensions=[{"Name": "A", "Value": "2"}])
    _put(cw, "for-metric-3", Namespace="Metricked", Statistic="Maximum", Dimensions=[])
    everything = cw.describe_alarms_for_metric(Namespace="Metricked", MetricName="Errors")
    assert len(everything["MetricAlarms"]) == 3
    one = cw.describe_alarms_for_metric(
        Namespace="Metricked", MetricName="Errors", Dimensions=[{"Name": "A", "Value": "2"}]
    )
    assert [a["AlarmName"] for a in one["MetricAlarms"]] == ["for-metric-2"]
    by_stat = cw.describe_alarms_for_metric(
        Namespace="Metricked", MetricName="Errors", Statistic="Maximum"
    )
    assert [a["AlarmName"] for a in by_stat["MetricAlarms"]] == ["for-metric-3"]


def test_set_alarm_state_publishes_and_records_history(api: AlarmApi, cw: Any) -> None:
    _put(cw, "manual", AlarmActions=[ALERTS], OKActions=[])
    before = len(api.topics.published(ALERTS))
    cw.set_alarm_state(
        AlarmName="manual", StateValue="ALARM", StateReason="drill", StateReasonData='{"a":1}'
    )
    published = api.topics.published(ALERTS)[before:]
    assert len(published) == 1
    body = json.loads(published[0].message)
    assert body["AlarmName"] == "manual" and body["NewStateReason"] == "drill"
    assert body["OldStateValue"] == "INSUFFICIENT_DATA"
    items = cw.describe_alarm_history(AlarmName="manual")["AlarmHistoryItems"]
    assert [i["HistoryItemType"] for i in items] == ["Action", "StateUpdate", "ConfigurationUpdate"]
    assert items[0]["HistorySummary"] == f"Successfully executed action {ALERTS}"
    assert items[1]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    data = json.loads(items[1]["HistoryData"])
    assert data["newState"] == {
        "stateValue": "ALARM", "stateReason": "drill", "stateReasonData": {"a": 1},
    }  # fmt: skip
    assert isinstance(items[0]["Timestamp"], datetime)


def test_set_alarm_state_errors(cw: Any) -> None:
    _put(cw, "stateful")
    with pytest.raises(ClientError) as unknown:
        cw.set_alarm_state(AlarmName="nobody", StateValue="OK", StateReason="x")
    assert _error(unknown)[0::2] == ("ResourceNotFound", 404)
    with pytest.raises(ClientError) as bad_json:
        cw.set_alarm_state(
            AlarmName="stateful", StateValue="OK", StateReason="x", StateReasonData="{nope"
        )
    assert _error(bad_json)[0::2] == ("InvalidFormat", 400)
    with pytest.raises(ClientError) as bad_state:
        cw.set_alarm_state(AlarmName="stateful", StateValue="INVALID", StateReason="x")
    assert _error(bad_state)[0] == "ValidationError"
    [alarm] = cw.describe_alarms(AlarmNames=["stateful"])["MetricAlarms"]
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"


def test_history_filters_scan_order_and_paging(cw: Any) -> None:
    _put(cw, "hist", AlarmActions=[], OKActions=[])
    for i in range(5):
        cw.set_alarm_state(
            AlarmName="hist", StateValue="ALARM" if i % 2 == 0 else "OK", StateReason=f"r{i}"
        )
    updates = cw.describe_alarm_history(AlarmName="hist", HistoryItemType="StateUpdate")
    reasons = [
        json.loads(i["HistoryData"])["newState"]["stateReason"]
        for i in updates["AlarmHistoryItems"]
    ]
    assert reasons == ["r4", "r3", "r2", "r1", "r0"]
    ascending = cw.describe_alarm_history(
        AlarmName="hist", HistoryItemType="StateUpdate", ScanBy="TimestampAscending"
    )["AlarmHistoryItems"]
    assert [json.loads(i["HistoryData"])["newState"]["stateReason"] for i in ascending] == [
        "r0", "r1", "r2", "r3", "r4",
    ]  # fmt: skip
    pages = cw.get_paginator("describe_alarm_history").paginate(
        AlarmName="hist", PaginationConfig={"PageSize": 2}
    )
    sizes = [len(p["AlarmHistoryItems"]) for p in pages]
    assert sizes == [2, 2, 2]  # five state updates and the creation
    future = cw.describe_alarm_history(AlarmName="hist", StartDate=time.time() + 3600)
    assert future["AlarmHistoryItems"] == []
    composites_only = cw.describe_alarm_history(AlarmName="hist", AlarmTypes=["CompositeAlarm"])
    assert composites_only["AlarmHistoryItems"] == []


def test_disabled_actions_publish_nothing_until_enabled(api: AlarmApi, cw: Any) -> None:
    _put(cw, "muted", AlarmActions=[WARNINGS], OKActions=[])
    cw.disable_alarm_actions(AlarmNames=["muted", "no-such-alarm"])
    before = len(api.topics.published(WARNINGS))
    cw.set_alarm_state(AlarmName="muted", StateValue="ALARM", StateReason="quiet")
    assert len(api.topics.published(WARNINGS)) == before
    [alarm] = cw.describe_alarms(AlarmNames=["muted"])["MetricAlarms"]
    assert alarm["ActionsEnabled"] is False and alarm["StateValue"] == "ALARM"
    cw.enable_alarm_actions(AlarmNames=["muted"])
    cw.set_alarm_state(AlarmName="muted", StateValue="OK", StateReason="back")
    cw.set_alarm_state(AlarmName="muted", StateValue="ALARM", StateReason="loud")
    assert len(api.topics.published(WARNINGS)) == before + 1


def test_delete_alarms_is_all_or_nothing(cw: Any) -> None:
    _put(cw, "del-1")
    with pytest.raises(ClientError) as missing:
        cw.delete_alarms(AlarmNames=["del-1", "del-missing"])
    assert _error(missing)[0::2] == ("ResourceNotFound", 404)
    assert len(cw.describe_alarms(AlarmNames=["del-1"])["MetricAlarms"]) == 1
    cw.delete_alarms(AlarmNames=["del-1"])
    assert cw.describe_alarms(AlarmNames=["del-1"])["MetricAlarms"] == []
    history = cw.describe_alarm_history(AlarmName="del-1")["AlarmHistoryItems"]
    assert history[0]["HistorySummary"] == 'Alarm "del-1" deleted'


def test_tags(cw: Any) -> None:
    _put(cw, "tagged", Tags=[{"Key": "a", "Value": "1"}])
    arn = ARN + "tagged"
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "9"}])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "a", "Value": "9"},
        {"Key": "b", "Value": "2"},
    ]
    cw.untag_resource(ResourceARN=arn, TagKeys=["a", "zzz"])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as unknown:
        cw.list_tags_for_resource(ResourceARN=ARN + "nope")
    assert _error(unknown)[0::2] == ("ResourceNotFoundException", 404)


def test_a_breach_through_the_api_alarms_at_the_next_round(api: AlarmApi, cw: Any) -> None:
    _put(cw, "live", Namespace="Live", Dimensions=[], TreatMissingData="notBreaching")
    now = time.time()
    cw.put_metric_data(
        Namespace="Live", MetricData=[{"MetricName": "Errors", "Value": 4.0, "Timestamp": now}]
    )
    boundary = (now // 60 + 1) * 60
    api.scheduler.tick(boundary + 1)
    [alarm] = cw.describe_alarms(AlarmNames=["live"])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed")
    assert json.loads(alarm["StateReasonData"])["version"] == "1.0"
    body = json.loads(api.topics.published(ALERTS)[-1].message)
    assert body["AlarmName"] == "live" and body["NewStateValue"] == "ALARM"
    assert body["Trigger"]["Namespace"] == "Live" and body["Trigger"]["Statistic"] == "SUM"

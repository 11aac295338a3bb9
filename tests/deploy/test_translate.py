"""Alarm translation: local names become deployed ones, unpublished metrics become published ones."""

from __future__ import annotations

import json
from typing import Any

import pytest

from heron.deploy.names import DeployError
from heron.deploy.translate import Deployed, translate_alarm, translate_filter
from heron.functions.specs import DEFAULT_FUNCTIONS
from heron.monitor.alarms.catalogue import LOG_NAMESPACE, MetricFilterSpec
from heron.monitor.alarms.lint import lint_alarm
from heron.monitor.alarms.seed import read_alarm_file, seed_paths

HTTP, WS = {"Ref": "HttpApi"}, {"Ref": "WebSocketApi"}
D = Deployed(
    prefix="heron-prod",
    functions={f.name: f for f in DEFAULT_FUNCTIONS},
    tables={"Users": "heron-prod-Users"},
    topics={"alerts": {"Ref": "AlertsTopic"}, "warnings": {"Ref": "WarningsTopic"}},
    http_api=HTTP,
    ws_api=WS,
    ws_stage="prod",
)


def seed(name: str) -> dict[str, Any]:
    (path,) = [p for p in seed_paths() if p.stem == name]
    (alarm,) = read_alarm_file(path).alarms
    return dict(alarm)


def test_every_seed_alarm_lint_flags_is_translated_and_lints_clean() -> None:
    flagged = [
        n
        for n in ("APIGateway5xxErrors", "HighLatency", "HighMemoryUsage", "WebSocketErrors")
        if lint_alarm(seed(n))
    ]
    assert len(flagged) == 4  # the premise: lint flags these four locally
    for name in flagged:
        out = translate_alarm(seed(name), D)
        for t in out:
            assert lint_alarm(t.request) == []
        top = out[-1].request
        assert top["AlarmName"] == f"heron-prod-{name}"
        assert "[Translated for AWS:" in top["AlarmDescription"]


def test_http_5xx_uses_the_http_api_metric_and_dimension() -> None:
    (t,) = translate_alarm(seed("APIGateway5xxErrors"), D)
    assert t.request["MetricName"] == "5xx"
    assert t.request["Dimensions"] == [{"Name": "ApiId", "Value": HTTP}]
    assert t.request["AlarmActions"] == [{"Ref": "AlertsTopic"}]
    # heron up notifies on the way back to OK too; the template keeps that behaviour.
    assert t.request["OKActions"] == [{"Ref": "AlertsTopic"}]
    assert t.request["Threshold"] == 5


def test_websocket_errors_become_metric_math_over_the_connect_route() -> None:
    (t,) = translate_alarm(seed("WebSocketErrors"), D)
    stats = [q["MetricStat"]["Metric"] for q in t.request["Metrics"] if "MetricStat" in q]
    assert sorted(m["MetricName"] for m in stats) == [
        "ClientError",
        "ExecutionError",
        "IntegrationError",
    ]
    for m in stats:
        assert {"Name": "Route", "Value": "$connect"} in m["Dimensions"]
        assert {"Name": "ApiId", "Value": WS} in m["Dimensions"]
    (expr,) = [q for q in t.request["Metrics"] if "Expression" in q]
    assert expr["ReturnData"] is True and "MetricName" not in t.request


def test_memory_becomes_a_composite_over_report_line_metrics_per_function() -> None:
    out = translate_alarm(seed("HighMemoryUsage"), D)
    *children, composite = out
    assert composite.composite and composite.request["AlarmName"] == "heron-prod-HighMemoryUsage"
    assert len(children) == len(DEFAULT_FUNCTIONS)
    send = next(c for c in children if c.request["AlarmName"].endswith("-sendMessage"))
    (mem,) = [q for q in send.request["Metrics"] if "MetricStat" in q]
    assert mem["MetricStat"]["Metric"]["Namespace"] == LOG_NAMESPACE
    assert mem["MetricStat"]["Metric"]["MetricName"] == "heron-prod-sendMessageMaxMemoryUsed"
    assert any("/ 256" in q.get("Expression", "") for q in send.request["Metrics"])
    assert "AlarmActions" not in send.request  # only the composite notifies
    assert f'ALARM("{send.request["AlarmName"]}")' in composite.request["AlarmRule"]
    (spec,) = send.filters
    assert spec.group == "/aws/lambda/heron-prod-sendMessage" and "Max" in spec.pattern


def test_latency_without_api_id_watches_the_http_api() -> None:
    (t,) = translate_alarm(seed("HighLatency"), D)
    assert t.request["Dimensions"] == [{"Name": "ApiId", "Value": HTTP}]
    assert t.request["AlarmActions"] == [{"Ref": "WarningsTopic"}]


def test_published_alarms_are_only_renamed() -> None:
    (t,) = translate_alarm(seed("LambdaErrors"), D)
    assert "Translated" not in (t.request.get("AlarmDescription") or "")
    assert t.request["MetricName"] == "Errors" and t.request["Namespace"] == "AWS/Lambda"
    local = {"AlarmName": "x", "Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum",
             "Period": 60, "EvaluationPeriods": 1, "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
             "Dimensions": [{"Name": "FunctionName", "Value": "getUser"}]}  # fmt: skip
    (t,) = translate_alarm(local, D)
    assert t.request["Dimensions"] == [{"Name": "FunctionName", "Value": "heron-prod-getUser"}]


def test_composite_rules_name_the_deployed_alarms() -> None:
    rule = {"AlarmName": "Both", "AlarmRule": 'ALARM("LambdaErrors") AND ALARM(HighLatency)'}
    (t,) = translate_alarm(rule, D)
    assert t.composite
    assert (
        t.request["AlarmRule"]
        == 'ALARM("heron-prod-LambdaErrors") AND ALARM("heron-prod-HighLatency")'
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"AlarmActions": ["arn:aws:sns:region:account:pager"]}, "topic 'pager'"),
        ({"AlarmActions": ["arn:aws:automate:us-east-1:ec2:stop"]}, "not an SNS topic"),
        ({"Dimensions": [{"Name": "FunctionName", "Value": "nope"}]}, "'nope' is not part"),
        ({"Dimensions": [{"Name": "TableName", "Value": "Ghosts"}]}, "table 'Ghosts'"),
        ({"MetricName": "InitDuration", "Dimensions": []}, "can never fire on AWS"),
    ],
)
def test_alarms_that_cannot_work_on_aws_are_refused(change: dict[str, Any], message: str) -> None:
    alarm = {"AlarmName": "Mine", "Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum",
             "Period": 60, "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold",
             "AlarmActions": ["arn:aws:sns:region:account:alerts"], **change}  # fmt: skip
    with pytest.raises(DeployError, match=message.replace("(", r"\(")):
        translate_alarm(alarm, D)


def test_catalogue_filters_move_to_the_deployed_log_groups_and_metric_names() -> None:
    spec = MetricFilterSpec(
        "/aws/lambda/getUser", "ErrorRecords", '{ $.level = "ERROR" }',
        {"metricName": "getUserErrorRecords", "metricNamespace": LOG_NAMESPACE, "metricValue": "1"},
    )  # fmt: skip
    out = translate_filter(spec, D)
    assert out.group == "/aws/lambda/heron-prod-getUser"
    assert out.transformation["metricName"] == "heron-prod-getUserErrorRecords"
    with pytest.raises(DeployError, match="not created"):
        translate_filter(MetricFilterSpec("/custom/group", "f", "x", spec.transformation), D)


def test_translation_does_not_touch_the_input() -> None:
    alarm = seed("HighMemoryUsage")
    before = json.dumps(alarm, sort_keys=True)
    translate_alarm(alarm, D)
    assert json.dumps(alarm, sort_keys=True) == before

"""``lint``: the seed's alarms are flagged with the advice that fixes them; clean alarms pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from heron.monitor.alarms.lint import lint_alarm, lint_alarms

REPO = Path(__file__).resolve().parents[3]


def seed() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((REPO / "alarms").glob("*.json"))}


#: Seed alarm -> (finding kind, words the problem must say, words the advice must say).
SEED_FINDINGS = {
    "APIGateway5xxErrors": ("dimensions", "never without dimensions", "use MetricName 5xx"),
    "HighLatency": ("dimensions", "does not exist on AWS", "ApiId"),
    "HighMemoryUsage": ("not-published", "MemoryUsed", "Lambda Insights memory_utilization"),
    "WebSocketErrors": ("not-published", "ConnectionErrors", "Route=$connect"),
}


@pytest.mark.parametrize("name", sorted(SEED_FINDINGS))
def test_each_flagged_seed_alarm_gets_its_finding_and_advice(name: str) -> None:
    (finding,) = lint_alarm(seed()[name])
    kind, problem, advice = SEED_FINDINGS[name]
    assert finding.alarm == name and finding.kind == kind
    assert problem in finding.problem and advice in finding.advice


def test_lambda_errors_without_a_function_is_fine_aws_publishes_the_aggregate() -> None:
    assert lint_alarm(seed()["LambdaErrors"]) == []
    assert len(lint_alarms(seed().values())) == 4


def test_a_clean_http_api_alarm_passes() -> None:
    alarm = {
        "AlarmName": "Api5xx",
        "Namespace": "AWS/ApiGateway",
        "MetricName": "5xx",
        "Dimensions": [{"Name": "ApiId", "Value": "a1b2c3"}],
    }
    assert lint_alarm(alarm) == []


def test_the_rest_api_name_on_an_http_api_is_flagged_with_the_http_name() -> None:
    alarm = {
        "AlarmName": "Rest",
        "Namespace": "AWS/ApiGateway",
        "MetricName": "5XXError",
        "Dimensions": [{"Name": "ApiId", "Value": "a1b2c3"}],
    }
    (finding,) = lint_alarm(alarm)
    assert finding.kind == "dimensions" and "HTTP APIs publish 5xx" in finding.advice


def test_dynamodb_latency_needs_the_operation() -> None:
    alarm = {
        "AlarmName": "Slow",
        "Namespace": "AWS/DynamoDB",
        "MetricName": "SuccessfulRequestLatency",
        "Dimensions": [{"Name": "TableName", "Value": "Users"}],
    }
    (finding,) = lint_alarm(alarm)
    assert "{Operation, TableName}" in finding.advice


def test_a_misspelt_metric_gets_a_suggestion_and_custom_namespaces_are_left_alone() -> None:
    (finding,) = lint_alarm(
        {"AlarmName": "Typo", "Namespace": "AWS/Lambda", "MetricName": "Invocation"}
    )
    assert finding.kind == "not-published" and "did you mean Invocations?" in finding.advice
    assert lint_alarm({"AlarmName": "Mine", "Namespace": "Heron", "MetricName": "Anything"}) == []


def test_metric_math_alarms_are_checked_metric_by_metric() -> None:
    alarm = {
        "AlarmName": "Rate",
        "Metrics": [
            {
                "Id": "a",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Errors",
                        "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            },
            {
                "Id": "b",
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/Lambda", "MetricName": "ColdStarts"},
                    "Period": 60,
                    "Stat": "Sum",
                },
            },
            {"Id": "e", "Expression": "b / a"},
        ],
    }
    (finding,) = lint_alarm(alarm)
    assert "ColdStarts" in finding.metric and "Init Duration" in finding.advice
    assert lint_alarm({"AlarmName": "C", "AlarmRule": "ALARM(Rate)"}) == []

"""Every alarm in the template watches a metric that exists on AWS.

The table below is written from the reference (``cloudwatch.md`` §6: the metrics AWS publishes for
Lambda, HTTP and WebSocket APIs and DynamoDB, with their dimension sets), independently of
``heron alarms lint``'s own table. A metric in any other namespace must be produced by the stack
itself: by one of the template's metric filters, or by the functions' EMF (namespace ``Heron``,
dimension ``FunctionName``, emitted by ``heron.functions.messages``).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from heron.monitor.alarms.seed import SEED_ALARMS

FN = [
    set(),
    {"FunctionName"},
    {"FunctionName", "Resource"},
    {"FunctionName", "Resource", "ExecutedVersion"},
]
HTTP = [{"ApiId"}, {"ApiId", "Stage"}, {"ApiId", "Method", "Resource", "Stage"}]
WS = [{"ApiId"}, {"ApiId", "Stage"}, {"ApiId", "Stage", "Route"}]
TABLE, TABLE_OP, TABLE_GSI = (
    [{"TableName"}],
    [{"TableName", "Operation"}],
    [{"TableName"}, {"TableName", "GlobalSecondaryIndexName"}],
)
PUBLISHED: dict[str, dict[str, list[set[str]]]] = {
    "AWS/Lambda": {
        **{m: FN for m in ("Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions",
                           "DeadLetterErrors", "DestinationDeliveryFailures", "IteratorAge",
                           "ProvisionedConcurrentExecutions", "ProvisionedConcurrencyInvocations",
                           "ProvisionedConcurrencySpilloverInvocations")},
        "UnreservedConcurrentExecutions": [set()],
        "ClaimedAccountConcurrency": [set()],
    },
    "AWS/ApiGateway": {
        **{m: HTTP for m in ("Count", "4xx", "5xx", "Latency", "DataProcessed")},
        "IntegrationLatency": HTTP + WS,
        **{m: WS for m in ("ConnectCount", "MessageCount", "IntegrationError", "ClientError", "ExecutionError")},
    },
    "AWS/DynamoDB": {
        **{m: TABLE_GSI for m in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits",
                                  "ProvisionedReadCapacityUnits", "ProvisionedWriteCapacityUnits",
                                  "ReadThrottleEvents", "WriteThrottleEvents")},
        **{m: TABLE_OP for m in ("ThrottledRequests", "SuccessfulRequestLatency", "SystemErrors", "ReturnedItemCount")},
        **{m: TABLE for m in ("ConditionalCheckFailedRequests", "TransactionConflict", "TimeToLiveDeletedItemCount")},
        "UserErrors": [set()],
    },
}  # fmt: skip
#: EMF metrics the functions emit (namespace Heron, dimension FunctionName).
EMF = {"MessagesSent", "MessageLatency", "FailedDeliveries", "NotificationsCreated", "ColdStart"}


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == kind}


def _metrics(alarm: dict[str, Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    if alarm.get("MetricName"):
        return [(alarm["Namespace"], alarm["MetricName"], alarm.get("Dimensions", []))]
    out = []
    for q in alarm.get("Metrics", []):
        if "MetricStat" in q:
            m = q["MetricStat"]["Metric"]
            out.append((m["Namespace"], m["MetricName"], m.get("Dimensions", [])))
    return out


def problems(template: dict[str, Any]) -> tuple[int, list[str]]:
    """(metrics checked, the alarms' metrics that nothing publishes)."""
    filters = {
        (t["MetricNamespace"], t["MetricName"])
        for f in _resources(template, "AWS::Logs::MetricFilter").values()
        for t in f["MetricTransformations"]
    }
    functions = {
        p["FunctionName"] for p in _resources(template, "AWS::Serverless::Function").values()
    }
    found = []
    checked = 0
    for lid, alarm in _resources(template, "AWS::CloudWatch::Alarm").items():
        for namespace, name, dims in _metrics(alarm):
            checked += 1
            names = {d["Name"] for d in dims}
            if namespace in PUBLISHED:
                sets = PUBLISHED[namespace].get(name)
                if sets is None or names not in sets:
                    found.append(f"{lid}: {namespace} {name} {sorted(names)} is not published")
            elif (namespace, name) in filters:
                continue
            elif namespace == "Heron" and name in EMF and names == {"FunctionName"}:
                if dims[0]["Value"] not in functions:
                    found.append(f"{lid}: EMF {name} of undeployed function {dims[0]['Value']}")
            else:
                found.append(f"{lid}: {namespace} {name} comes from nothing in the stack")
    return checked, found


def test_every_alarm_reads_only_metrics_that_exist_on_aws(template: dict[str, Any]) -> None:
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) > 100
    checked, found = problems(template)
    assert checked > len(alarms)  # metric-math alarms contribute several metrics each
    assert found == []


def test_the_check_catches_what_aws_does_not_publish(template: dict[str, Any]) -> None:
    planted = copy.deepcopy(template)
    seed = planted["Resources"]["AlarmAPIGateway5xxErrors"]["Properties"]
    seed["MetricName"] = "5XXError"  # the REST API name, as in the seed's file
    memory = planted["Resources"]["AlarmCreateUserMemoryUtilization"]["Properties"]
    memory["MetricName"] = "heron-prod-createUserMemoryUsed"  # no filter makes this one
    _, found = problems(planted)
    assert len(found) == 2
    assert "5XXError ['ApiId'] is not published" in found[0] + found[1]


def test_api_alarms_name_the_deployed_apis(template: dict[str, Any]) -> None:
    api_ids = {"HttpApi", "WebSocketApi"}
    for lid, alarm in _resources(template, "AWS::CloudWatch::Alarm").items():
        for namespace, _, dims in _metrics(alarm):
            if namespace == "AWS/ApiGateway":
                (api,) = [d["Value"] for d in dims if d["Name"] == "ApiId"]
                assert api in ({"Ref": i} for i in api_ids), lid


def test_every_seed_alarm_is_in_the_template_and_flagged_ones_say_so(
    template: dict[str, Any],
) -> None:
    by_name = {
        p["AlarmName"]: p
        for kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
        for p in _resources(template, kind).values()
    }
    for name in SEED_ALARMS:
        alarm = by_name[f"heron-prod-{name}"]
        translated = "[Translated for AWS:" in alarm.get("AlarmDescription", "")
        assert translated == (name != "LambdaErrors"), name


def test_composite_alarms_name_alarms_in_the_template(template: dict[str, Any]) -> None:
    names = {p["AlarmName"] for p in _resources(template, "AWS::CloudWatch::Alarm").values()}
    for lid, composite in _resources(template, "AWS::CloudWatch::CompositeAlarm").items():
        referenced = re.findall(r'ALARM\("([^"]+)"\)', composite["AlarmRule"])
        assert referenced and set(referenced) <= names, lid
        assert set(template["Resources"][lid]["DependsOn"]) >= {
            k
            for k, v in _resources(template, "AWS::CloudWatch::Alarm").items()
            if v["AlarmName"] in referenced
        }

"""``heron deploy`` against a real CloudFormation endpoint: a moto server started by the test.

The server is ``moto_cfn.py``: moto, plus CloudFormation models for the alarm, subscription,
metric-filter and API types moto's CloudFormation skips (they call moto's own backends). The
deployment goes through the same path as ``--aws``: package and template uploaded to S3, a
change set created, previewed and executed; the results are read back with boto3.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from heron.cli import main
from heron.deploy.synth import synthesize

from .conftest import REGION, client, default_target


def all_alarms(cw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    metric: dict[str, Any] = {}
    composite: dict[str, Any] = {}
    for page in cw.get_paginator("describe_alarms").paginate(
        AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    ):
        metric.update({a["AlarmName"]: a for a in page["MetricAlarms"]})
        composite.update({a["AlarmName"]: a for a in page["CompositeAlarms"]})
    return metric, composite


@pytest.mark.slow
@pytest.mark.usefixtures("aws_env")
def test_deploy_creates_tables_topics_alarms_and_functions(
    endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["deploy", "--endpoint-url", endpoint, "--region", REGION, "--stage", "test", "--yes"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "+ Add     UsersTable" in out and "Stack heron-test: CREATE_COMPLETE" in out
    template = synthesize(default_target(stage="test"))
    resources = template["Resources"]

    ddb = client("dynamodb", endpoint)
    for logical, pk in (("Users", "userId"), ("Messages", "conversationId"), ("Notifications", "userId"),
                        ("Connections", "connectionId")):  # fmt: skip
        table = ddb.describe_table(TableName=f"heron-test-{logical}")["Table"]
        assert table["KeySchema"][0] == {"AttributeName": pk, "KeyType": "HASH"}
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    connections = ddb.describe_table(TableName="heron-test-Connections")["Table"]
    assert [g["IndexName"] for g in connections["GlobalSecondaryIndexes"]] == ["userId-index"]

    sns = client("sns", endpoint)
    topics = sorted(t["TopicArn"].rsplit(":", 1)[1] for t in sns.list_topics()["Topics"])
    assert {"heron-test-alerts", "heron-test-warnings"} <= set(topics)
    notifier = client("lambda", endpoint).get_function(FunctionName="heron-test-notifier")
    notifier_arn = notifier["Configuration"]["FunctionArn"]
    assert notifier["Concurrency"] == {"ReservedConcurrentExecutions": 1}  # one state writer
    state_bucket = client("cloudformation", endpoint).describe_stack_resource(
        StackName="heron-test", LogicalResourceId="NotifyStateBucket"
    )["StackResourceDetail"]["PhysicalResourceId"]
    s3 = client("s3", endpoint)
    # (moto's bucket model applies encryption and tags only; versioning is checked in test_synth)
    rules = s3.get_bucket_encryption(Bucket=state_bucket)["ServerSideEncryptionConfiguration"]
    assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    notifier_env = notifier["Configuration"]["Environment"]["Variables"]
    assert notifier_env["HERON_NOTIFY_STATE_BUCKET"] == state_bucket
    for topic in ("alerts", "warnings"):
        arn = f"arn:aws:sns:{REGION}:123456789012:heron-test-{topic}"
        subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("lambda", notifier_arn)]

    cw = client("cloudwatch", endpoint)
    metric, composite = all_alarms(cw)
    expected = {
        r["Properties"]["AlarmName"]
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert expected <= set(metric)
    assert "heron-test-HighMemoryUsage" in composite
    apis = {a["Name"]: a["ApiId"] for a in client("apigatewayv2", endpoint).get_apis()["Items"]}
    five = metric["heron-test-APIGateway5xxErrors"]
    assert five["MetricName"] == "5xx"
    assert five["Dimensions"] == [{"Name": "ApiId", "Value": apis["heron-test-http"]}]
    assert five["AlarmActions"] == [f"arn:aws:sns:{REGION}:123456789012:heron-test-alerts"]
    assert "Translated for AWS" in five["AlarmDescription"]

    logs = client("logs", endpoint)
    groups = {
        g["logGroupName"]: g
        for g in logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/heron-test-")["logGroups"]
    }
    assert len(groups) == 11 and all(g.get("retentionInDays") == 30 for g in groups.values())
    filters = logs.describe_metric_filters(logGroupName="/aws/lambda/heron-test-sendMessage")[
        "metricFilters"
    ]
    assert {f["filterName"] for f in filters} == {
        "ErrorRecords",
        "TaskTimeouts",
        "ColdStarts",
        "MaxMemoryUsed",
    }

    config = client("lambda", endpoint).get_function_configuration(
        FunctionName="heron-test-sendMessage"
    )
    env = config["Environment"]["Variables"]
    assert (
        env["MESSAGES_TABLE"] == "heron-test-Messages" and env["HERON_TABLES_BACKEND"] == "dynamodb"
    )
    assert env["WS_MANAGEMENT_ENDPOINT"].startswith(f"https://{apis['heron-test-ws']}.execute-api.")
    assert (config["Handler"], config["MemorySize"], config["Timeout"]) == (
        "heron.functions.messages.send_message", 256, 10,
    )  # fmt: skip
    body = json.loads(cw.get_dashboard(DashboardName="heron-test")["DashboardBody"])
    assert apis["heron-test-http"] in json.dumps(body) and len(body["widgets"]) > 10


@pytest.mark.usefixtures("aws_env")
def test_a_declined_change_set_creates_nothing(
    endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    argv = ["deploy", "--endpoint-url", endpoint, "--region", REGION, "--stage", "declined"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "Not executed" in out and "to add, 0 to modify, 0 to remove" in out
    names = client("dynamodb", endpoint).list_tables()["TableNames"]
    assert not [n for n in names if n.startswith("heron-declined-")]
    metric, _ = all_alarms(client("cloudwatch", endpoint))
    assert not [n for n in metric if n.startswith("heron-declined-")]


@pytest.mark.slow
@pytest.mark.usefixtures("aws_env")
def test_redeploying_previews_only_what_changed(
    endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["deploy", "--endpoint-url", endpoint, "--region", REGION, "--stage", "upd", "--yes"]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(argv) == 0
    assert "No changes: the stack is up to date." in capsys.readouterr().out
    assert main([*argv, "--log-retention-days", "60"]) == 0
    out = capsys.readouterr().out
    assert "(update)" in out and "0 to add, 13 to modify, 0 to remove" in out
    modified = [line.split()[2] for line in out.splitlines() if line.startswith("~ Modify")]
    assert len(modified) == 13 and all(m.endswith(("LogGroup", "AccessLogs")) for m in modified)
    # (moto acknowledges the update but does not apply the new retention; AWS does.)
    assert "Stack heron-upd: UPDATE_COMPLETE" in out

"""What the template holds: tables, roles, functions, routes, stages, topics, dashboard."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from heron.cli import main
from heron.deploy.apis import HTTP_ACCESS_FORMAT, WS_ACCESS_FORMAT
from heron.deploy.names import DeployError, logical_id
from heron.deploy.synth import synthesize
from heron.functions.specs import DEFAULT_FUNCTIONS
from heron.gateway.access_log import http_access_record, ws_access_record

from .conftest import default_target


def props(template: dict[str, Any], lid: str) -> dict[str, Any]:
    return dict(template["Resources"][lid]["Properties"])


def statements(template: dict[str, Any], fn: str) -> list[dict[str, Any]]:
    role = props(template, logical_id(fn, "Role"))
    return list(role["Policies"][0]["PolicyDocument"]["Statement"])


def test_tables_have_their_keys_indexes_and_ttl(template: dict[str, Any]) -> None:
    connections = props(template, "ConnectionsTable")
    assert connections["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert connections["BillingMode"] == "PAY_PER_REQUEST"
    (gsi,) = connections["GlobalSecondaryIndexes"]
    assert [k["AttributeName"] for k in gsi["KeySchema"]] == ["userId", "connectedAt"]
    types = {a["AttributeName"]: a["AttributeType"] for a in connections["AttributeDefinitions"]}
    assert types == {"connectionId": "S", "userId": "S", "connectedAt": "N"}
    notifications = props(template, "NotificationsTable")
    assert notifications["GlobalSecondaryIndexes"][0]["IndexName"] == "unread-index"
    assert "TimeToLiveSpecification" not in props(template, "UsersTable")


def test_each_role_allows_only_what_its_handler_does(template: dict[str, Any]) -> None:
    get_user = statements(template, "getUser")
    assert [s["Sid"] for s in get_user] == ["OwnLogs", "UsersTable"]
    assert get_user[1]["Action"] == ["dynamodb:GetItem"]
    assert get_user[1]["Resource"] == [{"Fn::GetAtt": ["UsersTable", "Arn"]}]
    send = {s["Sid"]: s for s in statements(template, "sendMessage")}
    assert set(send) == {
        "OwnLogs",
        "UsersTable",
        "MessagesTable",
        "NotificationsTable",
        "ConnectionsTable",
        "ManageConnections",
    }
    assert send["ManageConnections"]["Action"] == "execute-api:ManageConnections"
    assert "dynamodb:PutItem" not in send["UsersTable"]["Action"]
    assert {"Fn::Sub": "${ConnectionsTable.Arn}/index/*"} in send["ConnectionsTable"]["Resource"]
    # Nothing anywhere grants a wildcard action or resource.
    for fn in (*(f.name for f in DEFAULT_FUNCTIONS), "notifier"):
        for s in statements(template, fn):
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            assert not [a for a in actions if "*" in a], fn
            assert s["Resource"] != "*", fn
    notifier = {s["Sid"]: s for s in statements(template, "notifier")}
    assert set(notifier) == {"OwnLogs", "NotifyStateObjects", "NotifyStateList"}
    # Its state: objects under notify/ in its own bucket, read and write, nothing else.
    assert notifier["NotifyStateObjects"]["Action"] == ["s3:GetObject", "s3:PutObject"]
    assert notifier["NotifyStateObjects"]["Resource"] == {
        "Fn::Sub": "${NotifyStateBucket.Arn}/notify/*"
    }
    assert notifier["NotifyStateList"]["Resource"] == {"Fn::GetAtt": ["NotifyStateBucket", "Arn"]}
    # No other function can read the notifier's state.
    for fn in DEFAULT_FUNCTIONS:
        assert "NotifyStateBucket" not in json.dumps(statements(template, fn.name)), fn.name


def test_functions_carry_sizing_and_environment(template: dict[str, Any]) -> None:
    for fn in DEFAULT_FUNCTIONS:
        p = props(template, logical_id(fn.name, "Function"))
        assert p["Handler"] == fn.handler and p["MemorySize"] == fn.memory_mb
        assert p["Timeout"] >= fn.timeout_s and p["Runtime"] == "python3.12"
        assert p["Environment"]["Variables"]["USERS_TABLE"] == "heron-prod-Users"
        assert p["LoggingConfig"]["LogGroup"] == {"Ref": logical_id(fn.name, "LogGroup")}


def test_every_route_is_served_behind_the_authorizer_unless_open(template: dict[str, Any]) -> None:
    routes = {
        p["RouteKey"]: p
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
        for p in [r["Properties"]]
    }
    for fn in DEFAULT_FUNCTIONS:
        for route in fn.http_routes:
            expected = "CUSTOM" if fn.authorized else "NONE"
            assert routes[route]["AuthorizationType"] == expected, route
        for route in fn.ws_routes:
            assert routes[route]["ApiId"] == {"Ref": "WebSocketApi"}
    authorizer = props(template, "HttpAuthorizer")
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    assert authorizer["EnableSimpleResponses"] is True


def test_stages_throttle_and_log_in_the_seed_shapes(template: dict[str, Any]) -> None:
    http = props(template, "HttpApiStage")
    assert http["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": 1000.0,
        "ThrottlingBurstLimit": 2000,
    }
    ws = props(template, "WebSocketApiStage")
    assert (
        ws["StageName"] == "prod" and ws["DefaultRouteSettings"]["DetailedMetricsEnabled"] is True
    )
    # The access-log format, with numbers in place of numeric variables, is JSON with exactly
    # the fields of the records the local gateway writes.
    for stage, record in (
        (http, http_access_record(request_id="r", ip="1", caller=None, time_s=0, method="GET",
                                  resource_path="/", status=200, protocol="HTTP/1.1",
                                  response_length=1, integration_error=None)),
        (ws, ws_access_record(request_id="r", connection_id="c", event_type="CONNECT", time_s=0,
                              status=200, latency_ms=1)),
    ):  # fmt: skip
        text = re.sub(r"\$context\.[A-Za-z.]+", "1", stage["AccessLogSettings"]["Format"])
        assert list(json.loads(text)) == list(record)
    assert list(HTTP_ACCESS_FORMAT) != list(WS_ACCESS_FORMAT)


def test_log_groups_have_retention_and_the_dashboard_is_json(template: dict[str, Any]) -> None:
    groups = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Logs::LogGroup"
    ]
    assert len(groups) == len(DEFAULT_FUNCTIONS) + 3 and all(
        g["RetentionInDays"] == 30 for g in groups
    )
    body = json.loads(props(template, "Dashboard")["DashboardBody"]["Fn::Sub"])
    kinds = {w["type"] for w in body["widgets"]}
    assert kinds == {"text", "metric", "alarm", "log"}
    (alarms,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(alarms["properties"]["alarms"]) == 5
    assert alarms["y"] == 0  # current status first, as in the seed
    text = json.dumps(body)
    # The local dashboard's graphs, for the deployed names and the stack's API ids.
    assert "heron-prod-sendMessage" in text and "heron-prod-Connections" in text
    assert '"${HttpApi}"' in text and "local-http" not in text
    assert set(re.findall(r"\$\{[^}]*\}", text)) == {
        "${HttpApi}",
        "${WebSocketApi}",
        "${AWS::Region}",
        "${AWS::AccountId}",
    }


def test_the_stage_prefixes_every_physical_name() -> None:
    template = synthesize(default_target(stage="staging"))
    names = json.dumps(template)
    assert "heron-staging-Users" in names and "heron-prod" not in names


def test_synth_writes_yaml_and_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HERON_ALARMS_DIR", "")
    assert main(["deploy", "synth", "--out", "template.yaml", "--stage", "dev"]) == 0
    assert "Wrote template.yaml" in capsys.readouterr().out
    document = yaml.safe_load(Path("template.yaml").read_text())
    assert document["Resources"]["UsersTable"]["Properties"]["TableName"] == "heron-dev-Users"
    assert main(["deploy", "synth", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["Transform"] == "AWS::Serverless-2016-10-31"


def test_two_functions_on_one_route_are_refused() -> None:
    target = default_target()
    clash = type(DEFAULT_FUNCTIONS[0])(name="other", handler="x.y", http_routes=("POST /users",))
    with pytest.raises(DeployError, match="served by both createUser and other"):
        synthesize(replace(target, functions=(*target.functions, clash)))


def test_the_notifier_is_one_writer_with_a_private_state_bucket_and_link_routes(
    template: dict[str, Any],
) -> None:
    notifier = props(template, "NotifierFunction")
    assert notifier["ReservedConcurrentExecutions"] == 1
    env = notifier["Environment"]["Variables"]
    assert env["HERON_NOTIFY_STATE_BUCKET"] == {"Ref": "NotifyStateBucket"}
    assert env["HERON_NOTIFY_PUBLIC_URL"]["Fn::Sub"].startswith("https://${HttpApi}.execute-api.")
    bucket = template["Resources"]["NotifyStateBucket"]
    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"
    assert set(bucket["Properties"]["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert template["Outputs"]["NotifyStateBucket"]["Value"] == {"Ref": "NotifyStateBucket"}
    # The signed links reach the notifier without the authorizer: the signature is the credential.
    routes = {
        p["RouteKey"]: p
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
        for p in [r["Properties"]]
    }
    for method in ("GET", "POST"):
        route = routes[f"{method} /notify/link/{{id}}/{{action}}"]
        assert route["AuthorizationType"] == "NONE"
        assert route["Target"] == {"Fn::Sub": "integrations/${NotifierFunctionHttpIntegration}"}
    integration = props(template, "NotifierFunctionHttpIntegration")
    assert integration["IntegrationUri"] == {"Fn::GetAtt": ["NotifierFunction", "Arn"]}

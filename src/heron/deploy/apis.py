"""The HTTP API and the WebSocket API (API Gateway v2): routes, integrations, authorizer, stages.

The HTTP API serves every function's ``http_routes`` on the ``$default`` stage, behind the Lambda
authorizer (payload 2.0, simple responses, identity ``$request.header.Authorization``, results
cached 300 s) unless the function is declared ``authorized = false``. The WebSocket API routes on
``$request.body.action``; ``$connect`` checks the token in the handler itself, as locally.
Both stages apply the stage throttling Heron enforces locally and write access logs in the seed's
shapes; the WebSocket stage has route-level (detailed) metrics on, which the translated
``WebSocketErrors`` alarm reads (``Route=$connect``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from heron.deploy.names import DeployError, logical_id
from heron.types import FunctionSpec

HTTP_API, WS_API = "HttpApi", "WebSocketApi"
HTTP_STAGE, WS_STAGE = "HttpApiStage", "WebSocketApiStage"
AUTHORIZER = "HttpAuthorizer"
HTTP_ACCESS_LOGS, WS_ACCESS_LOGS = "HttpApiAccessLogs", "WebSocketApiAccessLogs"
#: The seed's HTTP access-log record, as API Gateway context variables.
HTTP_ACCESS_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.authorizer.userId",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationError": "$context.integrationErrorMessage",
}
#: The seed's WebSocket access-log record.
WS_ACCESS_FORMAT = {
    "requestId": "$context.requestId",
    "connectionId": "$context.connectionId",
    "eventType": "$context.eventType",
    "timestamp": "$context.requestTime",
    "status": "$context.status",
    "latency": "$context.integrationLatency",
}
_NUMERIC = frozenset({"status", "responseLength", "latency"})
_HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"})


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """What the APIs need besides the functions."""

    name_prefix: str
    ws_stage: str
    throttle_rate: float
    throttle_burst: int
    authorizer_function: str = "authorizer"
    authorizer_cache_s: int = 300


def access_format(fields: dict[str, str]) -> str:
    """The access-log format string: one JSON object, numbers unquoted."""
    parts = [
        f'"{k}":{v}' if k in _NUMERIC else f'"{k}":"{v}"'  # context variables are not JSON-escaped
        for k, v in fields.items()
    ]
    return "{" + ",".join(parts) + "}"


def _invoke_uri(fn_id: str) -> dict[str, Any]:
    return {
        "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31"
        f"/functions/${{{fn_id}.Arn}}/invocations"
    }


def _permission(fn_id: str, api_id: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": fn_id},
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}"
                f":${{{api_id}}}/*"
            },
        },
    }


def check_route(route: str, fn: str) -> tuple[str, str]:
    """Split an HTTP route key ``"GET /users/{userId}"``; DeployError when it is malformed."""
    method, _, path = route.partition(" ")
    if method not in _HTTP_METHODS or not path.startswith("/"):
        raise DeployError(f"function {fn!r}: route {route!r} must look like 'GET /path'")
    return method, path


def api_resources(
    functions: tuple[FunctionSpec, ...], fn_ids: dict[str, str], s: ApiSettings
) -> dict[str, dict[str, Any]]:
    """Both APIs with their routes, integrations, authorizer, stages and invoke permissions."""
    res: dict[str, dict[str, Any]] = {}
    throttle = {"ThrottlingRateLimit": s.throttle_rate, "ThrottlingBurstLimit": s.throttle_burst}
    res[HTTP_API] = {
        "Type": "AWS::ApiGatewayV2::Api",
        "Properties": {"Name": f"{s.name_prefix}-http", "ProtocolType": "HTTP"},
    }
    res[WS_API] = {
        "Type": "AWS::ApiGatewayV2::Api",
        "Properties": {
            "Name": f"{s.name_prefix}-ws",
            "ProtocolType": "WEBSOCKET",
            "RouteSelectionExpression": "$request.body.action",
        },
    }
    names = {f.name for f in functions}
    needs_authorizer = any(f.authorized and f.http_routes for f in functions)
    if needs_authorizer:
        if s.authorizer_function not in names:
            raise DeployError(
                f"routes need the authorizer function {s.authorizer_function!r}, not declared"
            )
        auth_fn = fn_ids[s.authorizer_function]
        res[AUTHORIZER] = {
            "Type": "AWS::ApiGatewayV2::Authorizer",
            "Properties": {
                "ApiId": {"Ref": HTTP_API},
                "Name": f"{s.name_prefix}-authorizer",
                "AuthorizerType": "REQUEST",
                "AuthorizerUri": _invoke_uri(auth_fn),
                "AuthorizerPayloadFormatVersion": "2.0",
                "EnableSimpleResponses": True,
                "IdentitySource": ["$request.header.Authorization"],
                "AuthorizerResultTtlInSeconds": s.authorizer_cache_s,
            },
        }
        res[logical_id(auth_fn, "AuthorizerPermission")] = _permission(auth_fn, HTTP_API)
    http_routes, ws_routes = [], []
    seen: dict[str, str] = {}
    for fn in functions:
        fid = fn_ids[fn.name]
        for route in (*fn.http_routes, *(f"ws {r}" for r in fn.ws_routes)):
            if route in seen:
                raise DeployError(f"route {route!r} is served by both {seen[route]} and {fn.name}")
            seen[route] = fn.name
        if fn.http_routes:
            integ = logical_id(fid, "HttpIntegration")
            res[integ] = {
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {
                    "ApiId": {"Ref": HTTP_API},
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": {"Fn::GetAtt": [fid, "Arn"]},
                    "PayloadFormatVersion": "2.0",
                    "TimeoutInMillis": 30000,
                },
            }
            res[logical_id(fid, "HttpPermission")] = _permission(fid, HTTP_API)
            for route in fn.http_routes:
                method, path = check_route(route, fn.name)
                rid = logical_id(method, path.replace("{", "By").replace("}", ""), "Route")
                props: dict[str, Any] = {
                    "ApiId": {"Ref": HTTP_API},
                    "RouteKey": route,
                    "Target": {"Fn::Sub": f"integrations/${{{integ}}}"},
                }
                if fn.authorized:
                    props["AuthorizationType"] = "CUSTOM"
                    props["AuthorizerId"] = {"Ref": AUTHORIZER}
                else:
                    props["AuthorizationType"] = "NONE"
                res[rid] = {"Type": "AWS::ApiGatewayV2::Route", "Properties": props}
                http_routes.append(rid)
        if fn.ws_routes:
            integ = logical_id(fid, "WsIntegration")
            res[integ] = {
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {
                    "ApiId": {"Ref": WS_API},
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": _invoke_uri(fid),
                    "TimeoutInMillis": 29000,
                },
            }
            res[logical_id(fid, "WsPermission")] = _permission(fid, WS_API)
            for route in fn.ws_routes:
                rid = logical_id("Ws", route.lstrip("$"), "Route")
                res[rid] = {
                    "Type": "AWS::ApiGatewayV2::Route",
                    "Properties": {
                        "ApiId": {"Ref": WS_API},
                        "RouteKey": route,
                        "AuthorizationType": "NONE",
                        "Target": {"Fn::Sub": f"integrations/${{{integ}}}"},
                    },
                }
                ws_routes.append(rid)
    res[HTTP_STAGE] = {
        "Type": "AWS::ApiGatewayV2::Stage",
        "DependsOn": http_routes,
        "Properties": {
            "ApiId": {"Ref": HTTP_API},
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": throttle,
            "AccessLogSettings": {
                "DestinationArn": {"Fn::GetAtt": [HTTP_ACCESS_LOGS, "Arn"]},
                "Format": access_format(HTTP_ACCESS_FORMAT),
            },
        },
    }
    res["WebSocketApiDeployment"] = {
        "Type": "AWS::ApiGatewayV2::Deployment",
        "DependsOn": ws_routes,
        "Properties": {"ApiId": {"Ref": WS_API}},
    }
    res[WS_STAGE] = {
        "Type": "AWS::ApiGatewayV2::Stage",
        "Properties": {
            "ApiId": {"Ref": WS_API},
            "StageName": s.ws_stage,
            "DeploymentId": {"Ref": "WebSocketApiDeployment"},
            "DefaultRouteSettings": {**throttle, "DetailedMetricsEnabled": True},
            "AccessLogSettings": {
                "DestinationArn": {"Fn::GetAtt": [WS_ACCESS_LOGS, "Arn"]},
                "Format": access_format(WS_ACCESS_FORMAT),
            },
        },
    }
    return res


def management_endpoint(stage: str) -> dict[str, Any]:
    """The @connections endpoint handlers post to: ``https://<api>.execute-api.<region>.../<stage>``."""
    # The stage name is literal: referencing the Stage resource would make a cycle (the stage
    # depends on the routes, the routes on the functions, the functions on this endpoint).
    return {
        "Fn::Sub": f"https://${{{WS_API}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{stage}"
    }

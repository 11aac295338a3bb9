"""Template assembly: ``synthesize(target)`` builds the whole CloudFormation (SAM) template.

Order of construction follows the data flow: tables, log groups, roles, functions, APIs, topics,
metric filters, alarms, dashboard. Every name is checked against CloudFormation's limits and
every alarm is translated (``translate``) before anything is returned, so a template that comes
out of here can be deployed; bad input is a ``DeployError`` naming what is wrong.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from heron.deploy.alarms import alarm_resources
from heron.deploy.apis import (
    HTTP_ACCESS_LOGS,
    HTTP_API,
    WS_ACCESS_LOGS,
    WS_API,
    ApiSettings,
    api_resources,
    management_endpoint,
)
from heron.deploy.dashboard import dashboard_body
from heron.deploy.functions import base_environment, function_resource
from heron.deploy.iam import access_for, role_resource
from heron.deploy.logs import log_group_resource, metric_filter_resources
from heron.deploy.names import DeployError, check_name, logical_id
from heron.deploy.notifier import (
    STATE_BUCKET,
    notifier_environment,
    notifier_events,
    notifier_spec,
    secret_parameters,
    secret_variables,
    state_bucket_resource,
    state_statements,
)
from heron.deploy.tables import table_logical_id, table_resource
from heron.deploy.target import NOTIFIER, DeployTarget
from heron.deploy.topics import HAS_EMAIL, topic_refs, topic_resources
from heron.deploy.translate import (
    LOCAL_HTTP_API,
    LOCAL_WS_API,
    LOCAL_WS_STAGE,
    Deployed,
    Translated,
    translate_alarm,
    translate_filter,
)
from heron.errors import ConfigError
from heron.monitor.alarms.catalogue import MetricFilterSpec, TableTarget, Target, build_catalogue
from heron.monitor.alarms.seed import SEED_ALARMS, catalogue_source, seed_paths
from heron.monitor.notify.config import load_notify_config
from heron.monitor.notify.topics import DEFAULT_TOPICS

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
#: CloudFormation's per-template resource quota.
MAX_RESOURCES = 500
#: The gateway's local access-log groups, which alarm files and filters may name.
LOCAL_ACCESS_GROUPS = {
    HTTP_ACCESS_LOGS: f"/aws/apigateway/{LOCAL_HTTP_API}/access",
    WS_ACCESS_LOGS: f"/aws/apigateway/{LOCAL_WS_API}/access",
}


def _parameters(target: DeployTarget) -> dict[str, Any]:
    params: dict[str, Any] = {
        "CodeBucket": {"Type": "String", "Description": "S3 bucket holding the code package"},
        "CodeKey": {"Type": "String", "Description": "S3 key of the code package (.zip)"},
        "AlarmEmail": {
            "Type": "String",
            "Default": "",
            "Description": "Optional e-mail subscribed to both topics, a backstop to the notifier",
        },
    }
    params.update(secret_parameters(target.notify))
    return params


def _check_notify(target: DeployTarget) -> None:
    # Validate [notify] now, with placeholder secrets, so a bad table fails synth, not Lambda.
    fake = {v: "https://placeholder.invalid/secret" for v in secret_variables(target.notify)}
    try:
        load_notify_config(target.notify, fake)
    except ConfigError as exc:
        raise DeployError(f"[notify]: {exc}") from None


def _alarms(target: DeployTarget, deployed: Deployed) -> tuple[list[Translated], list[Any]]:
    sources = list(target.alarm_sources)
    if target.catalogue:
        catalogue = build_catalogue(
            Target(
                functions=target.functions,
                tables=tuple(TableTarget(t.name, t.provisioned) for t in target.tables),
                http_api_id=LOCAL_HTTP_API,
                ws_api_id=LOCAL_WS_API,
                ws_stage=LOCAL_WS_STAGE,
                account_concurrency=target.account_concurrency,
            )
        )
        # After the seed's files, before the user's: the order ``heron up`` loads them in.
        sources.insert(len(seed_paths()), catalogue_source(catalogue))
    # Later sources replace same-named alarms, as ``heron up`` loads them.
    requests: dict[str, tuple[str, dict[str, Any]]] = {}
    filters: list[MetricFilterSpec] = []
    for source in sources:
        for request in source.alarms:
            requests[str(request["AlarmName"])] = (source.origin, dict(request))
        filters.extend(translate_filter(f, deployed) for f in source.filters)
    translated: list[Translated] = []
    for origin, request in requests.values():
        try:
            out = translate_alarm(request, deployed, ok_actions=target.ok_notifications)
        except DeployError as exc:
            raise DeployError(f"{origin}: {exc}") from None
        translated.extend(out)
        for t in out:
            filters.extend(t.filters)
    return translated, filters


def synthesize(target: DeployTarget) -> dict[str, Any]:
    """The CloudFormation template (with the SAM transform) for ``target``."""
    _check_notify(target)
    prefix = target.prefix
    res: dict[str, Any] = {}
    table_ids: dict[str, str] = {}
    table_names: dict[str, str] = {}
    for schema in target.tables:
        tid = table_logical_id(schema.name)
        table_ids[schema.name] = tid
        table_names[schema.name] = target.physical(schema.name)
        res[tid] = table_resource(schema, table_names[schema.name])
    specs = (*target.functions, notifier_spec(NOTIFIER))
    fn_ids = {fn.name: logical_id(fn.name, "Function") for fn in specs}
    group_ids: dict[str, str] = {}
    for fn in specs:
        physical = target.physical(fn.name)
        check_name("function name", physical)
        gid = logical_id(fn.name, "LogGroup")
        group_ids[f"/aws/lambda/{physical}"] = gid
        res[gid] = log_group_resource(f"/aws/lambda/{physical}", target.log_retention_days)
    access_groups = {
        HTTP_ACCESS_LOGS: f"/aws/apigateway/{prefix}-http/access",
        WS_ACCESS_LOGS: f"/aws/apigateway/{prefix}-ws/access",
    }
    for gid, name in access_groups.items():
        group_ids[name] = gid
        res[gid] = log_group_resource(name, target.log_retention_days)
    env = base_environment(table_names, management_endpoint(target.stage))
    topics = DEFAULT_TOPICS
    res[STATE_BUCKET] = state_bucket_resource()
    for fn in specs:
        fid = fn_ids[fn.name]
        role_id = logical_id(fn.name, "Role")
        is_notifier = fn.name == NOTIFIER
        res[role_id] = role_resource(
            access_for(fn.handler),
            log_group_id=group_ids[f"/aws/lambda/{target.physical(fn.name)}"],
            table_ids=table_ids,
            ws_api_id=WS_API,
            ws_stage=target.stage,
            extra=state_statements() if is_notifier else (),
        )
        res[fid] = function_resource(
            fn,
            target.physical(fn.name),
            runtime=target.runtime,
            role_id=role_id,
            log_group_id=logical_id(fn.name, "LogGroup"),
            environment=notifier_environment(target.notify, topics) if is_notifier else env,
            events=notifier_events(topics) if is_notifier else None,
        )
    res.update(
        api_resources(
            specs,  # the notifier serves the signed incident links
            fn_ids,
            ApiSettings(prefix, target.stage, target.throttle_rate, target.throttle_burst),
        )
    )
    res.update(topic_resources(prefix, topics))
    deployed = Deployed(
        prefix=prefix,
        functions={fn.name: fn for fn in target.functions},
        tables=table_names,
        topics=topic_refs(topics),
        http_api={"Ref": HTTP_API},
        ws_api={"Ref": WS_API},
        ws_stage=target.stage,
        log_groups={LOCAL_ACCESS_GROUPS[k]: v for k, v in access_groups.items()},
    )
    alarms, filters = _alarms(target, deployed)
    res.update(metric_filter_resources(filters, group_ids))
    res.update(alarm_resources(alarms, prefix))
    res["Dashboard"] = {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": check_name("dashboard name", prefix),
            "DashboardBody": dashboard_body(
                functions=[(target.physical(f.name), f.memory_mb) for f in target.functions],
                tables=list(table_names.values()),
                seed_alarms=[deployed.alarm_name(a) for a in SEED_ALARMS],
                account_concurrency=target.account_concurrency,
            ),
        },
    }
    if len(res) > MAX_RESOURCES:
        raise DeployError(
            f"the template has {len(res)} resources; CloudFormation allows {MAX_RESOURCES}"
        )
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": SAM_TRANSFORM,
        "Description": f"Heron {target.stage}: functions, APIs, tables, alarms, topics, dashboard",
        "Parameters": _parameters(target),
        "Conditions": {HAS_EMAIL: {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}},
        "Resources": res,
        "Outputs": _outputs(target, prefix),
    }


def _outputs(target: DeployTarget, prefix: str) -> dict[str, Any]:
    return {
        "HttpApiUrl": {
            "Description": "The HTTP API",
            "Value": {
                "Fn::Sub": f"https://${{{HTTP_API}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"
            },
        },
        "WebSocketUrl": {
            "Description": "The WebSocket API",
            "Value": {
                "Fn::Sub": f"wss://${{{WS_API}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{target.stage}"
            },
        },
        "DashboardUrl": {
            "Description": "The CloudWatch dashboard",
            "Value": {
                "Fn::Sub": "https://console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}"
                f"#dashboards:name={prefix}"
            },
        },
        "NotifyStateBucket": {
            "Description": "The bucket holding the notifier's state (notify/heron-notify.db)",
            "Value": {"Ref": STATE_BUCKET},
        },
        **{
            logical_id(t, "TopicArn"): {"Description": f"The {t} topic", "Value": ref}
            for t, ref in topic_refs().items()
        },
    }


def render(template: dict[str, Any], fmt: str) -> str:
    """The template as ``json`` or ``yaml`` text."""
    if fmt == "json":
        return json.dumps(template, indent=2) + "\n"
    if fmt == "yaml":
        try:
            yaml = importlib.import_module("yaml")
        except ImportError:
            raise DeployError("YAML output needs PyYAML: pip install 'heron[aws]'") from None
        return str(yaml.safe_dump(template, sort_keys=False, width=100))
    raise DeployError(f"unknown template format {fmt!r}: use json or yaml")

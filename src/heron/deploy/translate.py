"""Alarm translation: Heron's alarms rewritten to watch what AWS really publishes.

Locally, Heron publishes the seed's metric names so the seed's alarms fire verbatim. On AWS some
of those series do not exist (``heron alarms lint`` says which). ``translate_alarm`` rewrites an
alarm request for the deployed stack: local names become deployed ones (functions, tables, API
ids, alarm names, topics), and every metric AWS does not publish is mapped to one it does:

- ``5XXError``/``4XXError`` (REST API names) -> the HTTP API's ``5xx``/``4xx`` with ``ApiId``;
- WebSocket ``ConnectionErrors`` -> metric math over ``ClientError + ExecutionError +
  IntegrationError`` of the ``$connect`` route;
- ``ActiveConnections`` (no AWS equivalent) -> ``ConnectCount``, new connections per period;
- Lambda ``MemoryUsed`` (percent) -> per function, ``Max Memory Used`` from the REPORT line via a
  metric filter into ``Heron/LogPatterns`` divided by the memory size; with no ``FunctionName``
  a composite alarm over one such alarm per function;
- API Gateway metrics without ``ApiId`` -> the deployed API's.

Each rewritten alarm's description says what was changed and why. Anything else ``lint`` flags is
a ``DeployError``: an alarm that could never fire is not deployed silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from heron.deploy.logs import FILTERS, function_filter
from heron.deploy.names import DeployError, check_name
from heron.monitor.alarms.catalogue import LOG_NAMESPACE, MetricFilterSpec
from heron.monitor.alarms.lint import lint_alarm
from heron.monitor.alarms.seed import with_ok_actions
from heron.types import FunctionSpec

APIGW, LAMBDA = "AWS/ApiGateway", "AWS/Lambda"
#: The local gateway's identities (``GatewayConfig`` defaults) that alarms and files name.
LOCAL_HTTP_API, LOCAL_WS_API, LOCAL_WS_STAGE = "local-http", "local-ws", "local"
_HTTP_METRICS = frozenset({"Count", "4xx", "5xx", "Latency", "IntegrationLatency", "DataProcessed"})
_WS_METRICS = frozenset({"ConnectCount", "MessageCount", "ClientError", "ExecutionError",
                         "IntegrationError"})  # fmt: skip
_DESCRIPTION_LIMIT = 1024
_RULE_REF = re.compile(r"\b(ALARM|OK|INSUFFICIENT_DATA)\(\s*(\"?)([^\")]+)\2\s*\)")


@dataclass(frozen=True, slots=True)
class Deployed:
    """How local names map onto the stack: physical names and intrinsic references."""

    prefix: str
    functions: Mapping[str, FunctionSpec]
    tables: Mapping[str, str]
    topics: Mapping[str, Any]
    http_api: Any
    ws_api: Any
    ws_stage: str
    log_groups: Mapping[str, str] = field(default_factory=dict)

    def function(self, local: str) -> str:
        """The deployed name of function ``local`` (DeployError if it is not deployed)."""
        if local in self.functions:
            return f"{self.prefix}-{local}"
        if local.startswith(self.prefix + "-") and local[len(self.prefix) + 1 :] in self.functions:
            return local
        raise DeployError(f"function {local!r} is not part of this deployment")

    def alarm_name(self, local: str) -> str:
        """The deployed alarm name: ``<prefix>-<name>``."""
        name = local if local.startswith(self.prefix + "-") else f"{self.prefix}-{local}"
        return check_name("alarm name", name)


@dataclass(frozen=True, slots=True)
class Translated:
    """One alarm ready for the template, with the metric filters it needs."""

    request: dict[str, Any]
    composite: bool = False
    depends_on: tuple[str, ...] = ()
    filters: tuple[MetricFilterSpec, ...] = ()
    note: str = ""


def translate_filter(spec: MetricFilterSpec, d: Deployed) -> MetricFilterSpec:
    """A metric filter from an alarm file or the catalogue, on the deployed log group."""
    group = _log_group(spec.group, d)
    t = dict(spec.transformation)
    t["metricName"] = _filter_metric(str(t.get("metricNamespace")), str(t["metricName"]), d)
    return MetricFilterSpec(group, spec.name, spec.pattern, t)


def _log_group(group: str, d: Deployed) -> str:
    if group in d.log_groups:
        return d.log_groups[group]
    if group.startswith("/aws/lambda/"):
        return f"/aws/lambda/{d.function(group.removeprefix('/aws/lambda/'))}"
    if group in d.log_groups.values():
        return group
    raise DeployError(f"log group {group!r} is not created by this deployment")


def _filter_metric(namespace: str, name: str, d: Deployed) -> str:
    if namespace != LOG_NAMESPACE:
        return name
    for suffix in FILTERS:
        local = name.removesuffix(suffix)
        if local != name and local in d.functions:
            return f"{d.function(local)}{suffix}"
    return name


def _dimensions(dims: Any, d: Deployed, alarm: str) -> list[dict[str, Any]]:
    out = []
    for dim in dims or []:
        name, value = str(dim["Name"]), dim["Value"]
        if name == "FunctionName":
            value = d.function(str(value))
        elif name == "TableName":
            if value not in d.tables and value not in d.tables.values():
                raise DeployError(f"alarm {alarm!r} watches table {value!r}, not in this stack")
            value = d.tables.get(value, value)
        elif name == "ApiId":
            if value == LOCAL_HTTP_API:
                value = d.http_api
            elif value == LOCAL_WS_API:
                value = d.ws_api
            else:
                raise DeployError(
                    f"alarm {alarm!r} watches API {value!r}; this stack has {LOCAL_HTTP_API!r}"
                    f" (HTTP) and {LOCAL_WS_API!r} (WebSocket)"
                )
        elif name == "Stage" and value == LOCAL_WS_STAGE:
            value = d.ws_stage
        out.append({"Name": name, "Value": value})
    return out


def _actions(arns: Any, d: Deployed, alarm: str) -> list[Any]:
    out = []
    for arn in arns or []:
        parts = str(arn).split(":")
        if len(parts) != 6 or parts[:3] != ["arn", "aws", "sns"]:
            raise DeployError(f"alarm {alarm!r}: action {arn!r} is not an SNS topic ARN")
        topic = parts[5]
        if topic not in d.topics:
            raise DeployError(
                f"alarm {alarm!r} notifies topic {topic!r}, which the stack does not create"
                f" (known topics: {', '.join(sorted(d.topics))})"
            )
        out.append(d.topics[topic])
    return out


def _rename(request: Mapping[str, Any], d: Deployed, ok_actions: bool) -> dict[str, Any]:
    alarm = str(request["AlarmName"])
    out = with_ok_actions(request) if ok_actions else dict(request)
    out["AlarmName"] = d.alarm_name(alarm)
    for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        if key in out:
            out[key] = _actions(out[key], d, alarm)
    if "AlarmRule" in out:
        out["AlarmRule"] = _RULE_REF.sub(
            lambda m: f'{m.group(1)}("{d.alarm_name(m.group(3).strip())}")', str(out["AlarmRule"])
        )
        return out
    if out.get("MetricName"):
        out["Dimensions"] = _dimensions(out.get("Dimensions"), d, alarm)
        out["MetricName"] = _filter_metric(str(out.get("Namespace")), str(out["MetricName"]), d)
    queries = []
    for query in out.get("Metrics") or []:
        q = dict(query)
        if "MetricStat" in q:
            stat = dict(q["MetricStat"])
            metric = dict(stat["Metric"])
            metric["Dimensions"] = _dimensions(metric.get("Dimensions"), d, alarm)
            metric["MetricName"] = _filter_metric(
                str(metric.get("Namespace")), str(metric["MetricName"]), d
            )
            stat["Metric"] = metric
            q["MetricStat"] = stat
        queries.append(q)
    if queries:
        out["Metrics"] = queries
    return out


def _describe(request: dict[str, Any], note: str) -> dict[str, Any]:
    text = f"{request.get('AlarmDescription') or ''} [Translated for AWS: {note}]".strip()
    request["AlarmDescription"] = text[:_DESCRIPTION_LIMIT]
    return request


def _stat_of(request: Mapping[str, Any]) -> str:
    return str(request.get("ExtendedStatistic") or request.get("Statistic") or "Sum")


def _single_metric(request: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in request.items() if k not in ("Statistic", "ExtendedStatistic")}
    for key in ("Namespace", "MetricName", "Dimensions", "Period", "Unit"):
        out.pop(key, None)
    return out


def _query(
    ident: str, namespace: str, name: str, dims: list[Any], stat: str, period: int
) -> dict[str, Any]:
    return {
        "Id": ident,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dims},
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": False,
    }


def _memory_alarm(
    base: dict[str, Any], fn: FunctionSpec, physical: str, name: str
) -> dict[str, Any]:
    out = _single_metric(base)
    out["AlarmName"] = name
    out["Metrics"] = [
        _query("mem", LOG_NAMESPACE, f"{physical}MaxMemoryUsed", [], _stat_of(base),
               int(base.get("Period", 300))),
        {"Id": "pct", "Expression": f"100 * mem / {fn.memory_mb}",
         "Label": f"{physical} memory used (% of {fn.memory_mb} MB)", "ReturnData": True},
    ]  # fmt: skip
    out.setdefault("TreatMissingData", "notBreaching")
    return out


def _translate_memory(
    renamed: dict[str, Any], d: Deployed, local_dims: list[Any]
) -> list[Translated]:
    fn_names = [str(x["Value"]) for x in local_dims if x["Name"] == "FunctionName"]
    note = (
        "AWS/Lambda publishes no memory metric; Max Memory Used comes from each function's"
        f" REPORT lines through a metric filter into {LOG_NAMESPACE}, as a % of its memory size"
    )
    if fn_names:
        local = fn_names[0]
        physical = d.function(local)
        request = _memory_alarm(renamed, d.functions[local], physical, renamed["AlarmName"])
        return [
            Translated(
                _describe(request, note),
                filters=(function_filter(physical, "MaxMemoryUsed"),),
                note=note,
            )
        ]
    children = []
    for local, fn in d.functions.items():
        physical = d.function(local)
        child = _memory_alarm(renamed, fn, physical, f"{renamed['AlarmName']}-{local}")
        for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            child.pop(key, None)  # the composite notifies, once
        child["AlarmDescription"] = f"{physical}: memory part of {renamed['AlarmName']}"
        children.append(Translated(child, filters=(function_filter(physical, "MaxMemoryUsed"),)))
    rule = " OR ".join(f'ALARM("{c.request["AlarmName"]}")' for c in children)
    composite = {
        k: v
        for k, v in renamed.items()
        if k in ("AlarmName", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions",
                 "InsufficientDataActions")
    }  # fmt: skip
    composite["AlarmRule"] = rule
    note += "; one alarm per function, combined here with OR"
    depends = tuple(c.request["AlarmName"] for c in children)
    return [
        *children,
        Translated(_describe(composite, note), composite=True, depends_on=depends, note=note),
    ]


def _translate_single(
    renamed: dict[str, Any], local: Mapping[str, Any], d: Deployed
) -> list[Translated]:
    namespace, metric = str(renamed.get("Namespace")), str(renamed.get("MetricName"))
    dims = list(renamed.get("Dimensions") or [])
    names = {x["Name"] for x in dims}
    period = int(renamed.get("Period", 300))
    if (
        namespace == APIGW
        and metric in ("5XXError", "4XXError", "ThrottledRequests")
        and "ApiName" not in names
    ):
        new = "4xx" if metric != "5XXError" else "5xx"
        out = dict(renamed, MetricName=new, Dimensions=[{"Name": "ApiId", "Value": d.http_api}])
        why = (
            "throttled requests are 429s, counted in 4xx"
            if metric == "ThrottledRequests"
            else f"{metric} is the REST API name"
        )
        return [
            Translated(
                _describe(
                    out,
                    f"HTTP APIs publish {new} per ApiId ({why}); watching the deployed HTTP API's {new}",
                )
            )
        ]
    if namespace == APIGW and metric == "ConnectionErrors":
        ws = [{"Name": "ApiId", "Value": d.ws_api}, {"Name": "Stage", "Value": d.ws_stage},
              {"Name": "Route", "Value": "$connect"}]  # fmt: skip
        stat = _stat_of(renamed)
        out = _single_metric(renamed)
        out["Metrics"] = [
            _query("client", APIGW, "ClientError", ws, stat, period),
            _query("execution", APIGW, "ExecutionError", ws, stat, period),
            _query("integration", APIGW, "IntegrationError", ws, stat, period),
            {"Id": "errors", "Expression": "FILL(client, 0) + FILL(execution, 0) + FILL(integration, 0)",
             "Label": "Failed $connect requests", "ReturnData": True},
        ]  # fmt: skip
        note = (
            "WebSocket APIs publish no ConnectionErrors; failed $connect requests are"
            " ClientError + ExecutionError + IntegrationError of route $connect (metric math)"
        )
        return [Translated(_describe(out, note))]
    if namespace == APIGW and metric == "ActiveConnections":
        out = dict(renamed, MetricName="ConnectCount", Statistic="Sum",
                   Dimensions=[{"Name": "ApiId", "Value": d.ws_api}, {"Name": "Stage", "Value": d.ws_stage}])  # fmt: skip
        out.pop("ExtendedStatistic", None)
        note = (
            "AWS publishes no count of open WebSocket connections; this alarm watches new"
            " connections per period (ConnectCount) against the same threshold"
        )
        return [Translated(_describe(out, note))]
    if namespace == LAMBDA and metric == "MemoryUsed":
        return _translate_memory(renamed, d, list(local.get("Dimensions") or []))
    lambda_filters = {
        "MaxMemoryUsed": "MaxMemoryUsed",
        "ColdStarts": "ColdStarts",
        "Timeouts": "TaskTimeouts",
    }
    if namespace == LAMBDA and metric in lambda_filters and "FunctionName" in names:
        physical = next(str(x["Value"]) for x in dims if x["Name"] == "FunctionName")
        suffix = lambda_filters[metric]
        out = dict(
            renamed, Namespace=LOG_NAMESPACE, MetricName=f"{physical}{suffix}", Dimensions=[]
        )
        note = (
            f"AWS/Lambda publishes no {metric}; it comes from {physical}'s log lines"
            f" through a metric filter into {LOG_NAMESPACE}"
        )
        return [
            Translated(
                _describe(out, note), filters=(function_filter(physical, suffix),), note=note
            )
        ]
    if namespace == APIGW and "ApiId" not in names and "ApiName" not in names:
        api, kind = (d.ws_api, "WebSocket") if metric in _WS_METRICS else (d.http_api, "HTTP")
        if metric in _HTTP_METRICS or metric in _WS_METRICS:
            stage = [x for x in dims if x["Name"] == "Stage"]
            out = dict(renamed, Dimensions=[{"Name": "ApiId", "Value": api}, *stage])
            note = (
                f"AWS publishes {metric} only per API, never account-wide; watching the"
                f" deployed {kind} API (ApiId)"
            )
            return [Translated(_describe(out, note))]
    return [Translated(renamed)]


def translate_alarm(
    request: Mapping[str, Any], d: Deployed, *, ok_actions: bool = True
) -> list[Translated]:
    """The deployed form of one alarm request (several when one becomes a composite)."""
    name = str(request.get("AlarmName", "?"))
    renamed = _rename(request, d, ok_actions)
    if "AlarmRule" in renamed:
        return [Translated(renamed, composite=True)]
    if renamed.get("MetricName"):
        out = _translate_single(renamed, request, d)
    else:
        out = [Translated(renamed)]
    for t in out:
        if t.composite:
            continue
        findings = lint_alarm(t.request)
        if findings:
            f = findings[0]
            raise DeployError(
                f"alarm {name!r} can never fire on AWS: {f.problem} ({f.metric}); {f.advice}"
            )
    return out

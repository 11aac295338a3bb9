"""A moto server whose CloudFormation also creates alarms, subscriptions, metric filters and APIs.

moto's CloudFormation skips resource types it has no model for, and (moto 5.2) that includes
``AWS::CloudWatch::Alarm``, ``AWS::CloudWatch::CompositeAlarm``, ``AWS::SNS::Subscription``,
``AWS::Logs::MetricFilter`` and ``AWS::ApiGatewayV2::Api``. This launcher registers small models
for them that call moto's own CloudWatch, SNS, Logs and API Gateway v2 backends (the same code
its APIs run), then serves moto over HTTP: ``python moto_cfn.py PORT``. Other API Gateway v2
types (routes, stages...) stay skipped, as moto has no CloudFormation support for them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from moto.apigatewayv2.models import apigatewayv2_backends
from moto.cloudwatch.models import (
    Dimension,
    Metric,
    MetricDataQuery,
    MetricStat,
    cloudwatch_backends,
)
from moto.core.common_models import CloudFormationModel
from moto.logs.models import logs_backends
from moto.sns.models import sns_backends


def _queries(metrics: list[dict[str, Any]] | None) -> list[MetricDataQuery] | None:
    if not metrics:
        return None
    out = []
    for m in metrics:
        stat = None
        if "MetricStat" in m:
            s = m["MetricStat"]
            metric = s["Metric"]
            stat = MetricStat(
                metric=Metric(
                    metric_name=metric["MetricName"],
                    namespace=metric["Namespace"],
                    dimensions=[
                        Dimension(name=d["Name"], value=d["Value"])
                        for d in metric.get("Dimensions", [])
                    ],
                ),
                period=s.get("Period"),
                stat=s.get("Stat"),
                unit=s.get("Unit"),
            )
        out.append(
            MetricDataQuery(
                query_id=m["Id"],
                label=m.get("Label"),
                period=m.get("Period"),
                return_data=m.get("ReturnData"),
                expression=m.get("Expression"),
                metric_stat=stat,
            )
        )
    return out


_Create = Callable[[Any, str, str], str]


def _model(cfn_type: str) -> Callable[[_Create], type[CloudFormationModel]]:
    """A decorator: registers with moto a model for ``cfn_type`` that creates through the function.

    The function takes the resource's Properties, the account and the region, and returns the
    physical id. The class it builds must stay bound to a module name: moto finds models through
    ``CloudFormationModel.__subclasses__()``, which holds them only weakly.
    """

    def register(create: _Create) -> type[CloudFormationModel]:
        class Model(CloudFormationModel):
            # moto files models by the second part of their module name.
            __module__ = "heron.deploy_tests"

            def __init__(self, physical_id: str) -> None:
                self._physical_id = physical_id

            @property
            def physical_resource_id(self) -> str:
                return self._physical_id

            @staticmethod
            def cloudformation_name_type() -> str:
                return ""

            @staticmethod
            def cloudformation_type() -> str:
                return cfn_type

            @classmethod
            def create_from_cloudformation_json(
                cls,
                resource_name: str,
                cloudformation_json: Any,
                account_id: str,
                region_name: str,
                **kwargs: Any,
            ) -> Model:
                return cls(create(cloudformation_json["Properties"], account_id, region_name))

        Model.__name__ = Model.__qualname__ = create.__name__
        return Model

    return register


@_model("AWS::CloudWatch::Alarm")
def CfnAlarm(p: Any, account_id: str, region_name: str) -> str:
    cloudwatch_backends[account_id][region_name].put_metric_alarm(
        name=p["AlarmName"],
        namespace=p.get("Namespace"),
        metric_name=p.get("MetricName"),
        comparison_operator=p["ComparisonOperator"],
        evaluation_periods=p["EvaluationPeriods"],
        period=p.get("Period"),
        threshold=p.get("Threshold"),
        statistic=p.get("Statistic"),
        extended_statistic=p.get("ExtendedStatistic"),
        description=p.get("AlarmDescription"),
        dimensions=p.get("Dimensions", []),
        alarm_actions=p.get("AlarmActions", []),
        ok_actions=p.get("OKActions", []),
        insufficient_data_actions=p.get("InsufficientDataActions", []),
        metric_data_queries=_queries(p.get("Metrics")),
        datapoints_to_alarm=p.get("DatapointsToAlarm"),
        treat_missing_data=p.get("TreatMissingData"),
        actions_enabled=p.get("ActionsEnabled", True),
        tags=p.get("Tags"),
    )
    return str(p["AlarmName"])


@_model("AWS::CloudWatch::CompositeAlarm")
def CfnCompositeAlarm(p: Any, account_id: str, region_name: str) -> str:
    cloudwatch_backends[account_id][region_name].put_metric_alarm(
        name=p["AlarmName"], namespace=None, metric_name=None, comparison_operator=None,  # type: ignore[arg-type]
        evaluation_periods=None, period=None, threshold=None, statistic=None,  # type: ignore[arg-type]
        description=p.get("AlarmDescription"), dimensions=[],
        alarm_actions=p.get("AlarmActions", []), ok_actions=p.get("OKActions", []),
        actions_enabled=p.get("ActionsEnabled", True), rule=p["AlarmRule"],
    )  # fmt: skip
    return str(p["AlarmName"])


@_model("AWS::SNS::Subscription")
def CfnSubscription(p: Any, account_id: str, region_name: str) -> str:
    sub = sns_backends[account_id][region_name].subscribe(
        p["TopicArn"], p["Endpoint"], p["Protocol"]
    )
    return sub.arn


@_model("AWS::Logs::MetricFilter")
def CfnMetricFilter(p: Any, account_id: str, region_name: str) -> str:
    transformations = [
        {k[0].lower() + k[1:]: v for k, v in t.items()} for t in p["MetricTransformations"]
    ]
    logs_backends[account_id][region_name].put_metric_filter(
        p["FilterName"],
        p["FilterPattern"],
        p["LogGroupName"],
        transformations,  # type: ignore[arg-type]
    )
    return str(p["FilterName"])


@_model("AWS::ApiGatewayV2::Api")
def CfnHttpApi(p: Any, account_id: str, region_name: str) -> str:
    api = apigatewayv2_backends[account_id][region_name].create_api(
        api_key_selection_expression=None, cors_configuration=None, description=None,  # type: ignore[arg-type]
        disable_schema_validation=None, disable_execute_api_endpoint=None,  # type: ignore[arg-type]
        name=p["Name"], protocol_type=p["ProtocolType"],
        route_selection_expression=p.get("RouteSelectionExpression"), tags={}, version=None,  # type: ignore[arg-type]
    )  # fmt: skip
    return api.api_id


if __name__ == "__main__":
    from moto.server import main

    main(["-H", "127.0.0.1", "-p", sys.argv[1]])

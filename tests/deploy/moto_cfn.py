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


class _Created:
    # A mixin: moto finds models as *direct* subclasses of CloudFormationModel.
    def __init__(self, physical_id: str) -> None:
        self._physical_id = physical_id

    @property
    def physical_resource_id(self) -> str:
        return self._physical_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""


class CfnAlarm(_Created, CloudFormationModel):
    # moto files models by the second part of their module name.
    __module__ = "heron.deploy_tests"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnAlarm:
        p = cloudformation_json["Properties"]
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
        return cls(p["AlarmName"])


class CfnCompositeAlarm(_Created, CloudFormationModel):
    # moto files models by the second part of their module name.
    __module__ = "heron.deploy_tests"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::CompositeAlarm"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnCompositeAlarm:
        p = cloudformation_json["Properties"]
        cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=p["AlarmName"], namespace=None, metric_name=None, comparison_operator=None,  # type: ignore[arg-type]
            evaluation_periods=None, period=None, threshold=None, statistic=None,  # type: ignore[arg-type]
            description=p.get("AlarmDescription"), dimensions=[],
            alarm_actions=p.get("AlarmActions", []), ok_actions=p.get("OKActions", []),
            actions_enabled=p.get("ActionsEnabled", True), rule=p["AlarmRule"],
        )  # fmt: skip
        return cls(p["AlarmName"])


class CfnSubscription(_Created, CloudFormationModel):
    # moto files models by the second part of their module name.
    __module__ = "heron.deploy_tests"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::Subscription"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnSubscription:
        p = cloudformation_json["Properties"]
        sub = sns_backends[account_id][region_name].subscribe(
            p["TopicArn"], p["Endpoint"], p["Protocol"]
        )
        return cls(sub.arn)


class CfnMetricFilter(_Created, CloudFormationModel):
    # moto files models by the second part of their module name.
    __module__ = "heron.deploy_tests"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Logs::MetricFilter"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnMetricFilter:
        p = cloudformation_json["Properties"]
        transformations = [
            {k[0].lower() + k[1:]: v for k, v in t.items()} for t in p["MetricTransformations"]
        ]
        logs_backends[account_id][region_name].put_metric_filter(
            p["FilterName"],
            p["FilterPattern"],
            p["LogGroupName"],
            transformations,  # type: ignore[arg-type]
        )
        return cls(p["FilterName"])


class CfnHttpApi(_Created, CloudFormationModel):
    # moto files models by the second part of their module name.
    __module__ = "heron.deploy_tests"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGatewayV2::Api"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnHttpApi:
        p = cloudformation_json["Properties"]
        api = apigatewayv2_backends[account_id][region_name].create_api(
            api_key_selection_expression=None, cors_configuration=None, description=None,  # type: ignore[arg-type]
            disable_schema_validation=None, disable_execute_api_endpoint=None,  # type: ignore[arg-type]
            name=p["Name"], protocol_type=p["ProtocolType"],
            route_selection_expression=p.get("RouteSelectionExpression"), tags={}, version=None,  # type: ignore[arg-type]
        )  # fmt: skip
        return cls(api.api_id)


if __name__ == "__main__":
    from moto.server import main

    main(["-H", "127.0.0.1", "-p", sys.argv[1]])

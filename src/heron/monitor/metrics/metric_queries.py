"""Validating a list of MetricDataQuery items and ordering them for evaluation.

Shared by GetMetricData and, later, metric-math alarms (PutMetricAlarm ``Metrics``). Messages
marked [AWS-observed] were seen from AWS (via moto's and client projects' recordings); the others
follow the same phrasing and are [Inferred].
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from heron.awsapi.errors import AwsError, validation_error
from heron.monitor.metrics.math_eval import parse_expression
from heron.monitor.metrics.math_parser import Node, expression_error, referenced_ids

MAX_QUERIES = 500
MAX_DIMENSIONS = 30
ID_PATTERN = "^[a-z][a-zA-Z0-9_]*$"
_ID = re.compile(ID_PATTERN)

_NUM = r"-?\d+(?:\.\d+)?"
_PCT = r"(?:\d{1,2}(?:\.\d+)?|100(?:\.0+)?)"
_BOUND = rf"(?:{_NUM}%?)"
_STATISTIC = re.compile(
    rf"^(?:SampleCount|Average|Sum|Minimum|Maximum|IQM"
    rf"|p{_PCT}|(?:tm|wm|tc|ts){_PCT}"
    rf"|(?:TM|WM|TC|TS|PR)\(\s*(?:{_BOUND}\s*:\s*{_BOUND}?|:\s*{_BOUND})\s*\))$"
)


def invalid_value(message: str) -> AwsError:
    """CloudWatch's InvalidParameterValue."""
    return AwsError("InvalidParameterValueException", message, query_code="InvalidParameterValue")


def missing_parameter(name: str) -> AwsError:
    """CloudWatch's MissingParameter for a required member."""
    return AwsError(
        "MissingRequiredParameterException",
        f"The parameter {name} is required.",
        query_code="MissingParameter",
    )


def is_valid_statistic(stat: str) -> bool:
    """Whether ``stat`` is a statistic CloudWatch accepts in a MetricStat."""
    return _STATISTIC.match(stat) is not None


def is_valid_period(period: int) -> bool:
    """CloudWatch periods: 1, 5, 10, 20, 30 (high resolution) or any multiple of 60."""
    return period in (1, 5, 10, 20, 30) or (period >= 60 and period % 60 == 0)


@dataclass(frozen=True, slots=True)
class Query:
    """One validated MetricDataQuery."""

    position: int  # 1-based, as AWS's "member.N" paths count
    id: str
    return_data: bool
    label: str | None
    metric_stat: Mapping[str, Any] | None
    expression: str | None
    node: Node | None
    period_s: int | None  # MetricStat.Period, or an expression's own Period when given


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """Validated queries in request order plus the expression ids in evaluation order."""

    queries: tuple[Query, ...]
    order: tuple[str, ...]

    def by_id(self) -> dict[str, Query]:
        """The queries keyed by Id."""
        return {q.id: q for q in self.queries}


def _check_metric_stat(stat: Mapping[str, Any], path: str) -> int:
    """Validate a MetricStat; return its period."""
    metric = stat.get("Metric")
    if not isinstance(metric, Mapping):
        raise missing_parameter(f"{path}.Metric")
    for member in ("Namespace", "MetricName"):
        if not metric.get(member):
            raise missing_parameter(f"{path}.Metric.{member}")
    dims = metric.get("Dimensions") or []
    if len(dims) > MAX_DIMENSIONS:
        raise invalid_value(
            f"The collection {path}.Metric.Dimensions must not have a size greater than "
            f"{MAX_DIMENSIONS}."
        )
    names = [d.get("Name") for d in dims]
    for i, dim in enumerate(dims, 1):
        if not dim.get("Name") or dim.get("Value") is None:
            raise missing_parameter(f"{path}.Metric.Dimensions.member.{i}.Name")
        if names.count(dim["Name"]) > 1:
            raise invalid_value(
                f"The parameter {path}.Metric.Dimensions contains duplicate dimension name "
                f"{dim['Name']}."
            )
    period = stat.get("Period")
    if period is None:
        raise missing_parameter(f"{path}.Period")
    if not is_valid_period(int(period)):
        raise invalid_value(
            f"The parameter {path}.Period must be 1, 5, 10, 20, 30, or a multiple of 60."
        )
    statistic = stat.get("Stat")
    if not statistic:
        raise missing_parameter(f"{path}.Stat")
    if not is_valid_statistic(str(statistic)):
        # [AWS-observed]
        raise validation_error(f"The value for parameter {path}.Stat is not a valid statistic.")
    return int(period)


def _check_query(raw: Mapping[str, Any], position: int) -> Query:
    path = f"MetricDataQueries.member.{position}"
    query_id = raw.get("Id")
    if not query_id:
        raise missing_parameter(f"{path}.Id")
    if _ID.match(str(query_id)) is None or len(query_id) > 255:
        # [AWS-observed]
        raise validation_error(
            f"The value {query_id} for parameter {path}.Id is not matching the expected "
            f"pattern {ID_PATTERN}."
        )
    stat, expression = raw.get("MetricStat"), raw.get("Expression")
    if stat is not None and expression is not None:
        raise AwsError(
            "InvalidParameterCombinationException",
            f"The parameters {path}.MetricStat and {path}.Expression are mutually exclusive and "
            "you have specified both.",
            query_code="InvalidParameterCombination",
        )
    if stat is None and not expression:
        # [AWS-observed], trailing newline included
        raise validation_error(f"The parameter {path}.MetricStat is required.\n")
    period = raw.get("Period")
    if stat is not None:
        period = _check_metric_stat(stat, f"{path}.MetricStat")
    elif period is not None and not is_valid_period(int(period)):
        raise invalid_value(
            f"The parameter {path}.Period must be 1, 5, 10, 20, 30, or a multiple of 60."
        )
    node = parse_expression(str(expression), query_id) if expression else None
    return Query(
        position=position,
        id=query_id,
        return_data=raw.get("ReturnData", True) is not False,
        label=raw.get("Label"),
        metric_stat=stat,
        expression=str(expression) if expression else None,
        node=node,
        period_s=int(period) if period is not None else None,
    )


def _evaluation_order(queries: Sequence[Query]) -> tuple[str, ...]:
    """Expression ids ordered so every expression comes after the expressions it reads."""
    by_id = {q.id: q for q in queries}
    deps: dict[str, list[str]] = {}
    for q in queries:
        if q.node is None:
            continue
        names = sorted(referenced_ids(q.node))
        for name in names:
            if name not in by_id:
                raise expression_error(q.id, f"Unrecognized metric identifier: {name}")
        deps[q.id] = [n for n in names if by_id[n].node is not None]
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in deps:
        if state.get(root) == 2:
            continue
        # iterative depth-first search: a chain of 500 expressions must not hit recursion limits
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node, i = stack[-1]
            if i < len(deps[node]):
                stack[-1] = (node, i + 1)
                child = deps[node][i]
                if state.get(child) == 1:
                    raise expression_error(
                        child, f"Circular dependency detected involving expression '{node}'"
                    )
                if state.get(child) != 2:
                    state[child] = 1
                    stack.append((child, 0))
            else:
                stack.pop()
                state[node] = 2
                order.append(node)
    return tuple(order)


def plan_queries(raw_queries: Sequence[Mapping[str, Any]] | None) -> QueryPlan:
    """Validate MetricDataQueries as CloudWatch does and order the expressions for evaluation."""
    if not raw_queries:
        raise missing_parameter("MetricDataQueries")
    if len(raw_queries) > MAX_QUERIES:
        raise invalid_value(
            f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
        )
    queries = tuple(_check_query(raw, i) for i, raw in enumerate(raw_queries, 1))
    seen: set[str] = set()
    for q in queries:
        if q.id in seen:
            raise validation_error(
                f"The value {q.id} for parameter MetricDataQueries.member.{q.position}.Id "
                "is already used by another query."
            )
        seen.add(q.id)
    order = _evaluation_order(queries)
    if not any(q.return_data for q in queries):
        raise validation_error("At least one query must have ReturnData set to true.")
    return QueryPlan(queries, order)

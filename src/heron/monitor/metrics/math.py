"""CloudWatch metric math: the public face of the parser, the series model and the evaluator.

Import from here; the implementation lives in ``math_parser`` (syntax), ``math_series`` (values
and operators), ``math_functions`` (the function library) and ``math_eval`` (evaluation).
"""

from __future__ import annotations

from heron.monitor.metrics.math_eval import (
    evaluate,
    evaluate_checked,
    evaluate_expression,
    parse_expression,
    result_series,
)
from heron.monitor.metrics.math_functions import FUNCTION_NAMES
from heron.monitor.metrics.math_parser import Node, expression_error, referenced_ids, uses_metrics
from heron.monitor.metrics.math_series import EvalContext, Series, SeriesArray, Value

__all__ = [
    "FUNCTION_NAMES",
    "EvalContext",
    "Node",
    "Series",
    "SeriesArray",
    "Value",
    "evaluate",
    "evaluate_checked",
    "evaluate_expression",
    "expression_error",
    "parse_expression",
    "referenced_ids",
    "result_series",
    "uses_metrics",
]

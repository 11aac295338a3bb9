"""Evaluating a parsed metric-math expression against the series of the other queries.

``evaluate_expression`` is the one-call entry: parse, evaluate, and insist the result is what
CloudWatch allows a query to return (a time series or an array of them; a bare scalar such as
``AVG(m1)`` is only valid inside a larger expression).
"""

from __future__ import annotations

from heron.awsapi.errors import AwsError
from heron.monitor.metrics.math_functions import FUNCTION_NAMES, FUNCTIONS
from heron.monitor.metrics.math_parser import (
    Array,
    Call,
    Keyword,
    Node,
    Num,
    Ref,
    Str,
    Unary,
    parse,
)
from heron.monitor.metrics.math_series import (
    EvalContext,
    Series,
    Value,
    binary,
    describe,
    unary,
)

__all__ = [
    "evaluate",
    "evaluate_checked",
    "evaluate_expression",
    "parse_expression",
    "result_series",
]


def parse_expression(text: str, query_id: str = "expr") -> Node:
    """Parse a metric-math expression, knowing every function Heron implements or names."""
    return parse(text, FUNCTION_NAMES, query_id)


def evaluate(node: Node, ctx: EvalContext) -> Value:
    """The value of ``node`` in ``ctx`` (a scalar, a series, an array, or a bare keyword)."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Str | Keyword):
        return node
    if isinstance(node, Ref):
        try:
            return ctx.lookup(node.name)
        except KeyError:
            raise ctx.fail(f"Unrecognized metric identifier: {node.name}") from None
    if isinstance(node, Array):
        return _array(node, ctx)
    if isinstance(node, Call):
        fewest, most, function = FUNCTIONS[node.name]
        if not fewest <= len(node.args) <= most:
            raise ctx.fail(f"Invalid number of arguments for function {node.name}")
        return function([evaluate(arg, ctx) for arg in node.args], ctx)
    if isinstance(node, Unary):
        return unary(node.op, evaluate(node.operand, ctx), ctx)
    return binary(node.op, evaluate(node.left, ctx), evaluate(node.right, ctx), ctx)


def _array(node: Array, ctx: EvalContext) -> Value:
    """``[a, b, ...]``: series and arrays of series flattened into one array."""
    items: list[Series] = []
    for item in node.items:
        value = evaluate(item, ctx)
        if isinstance(value, Series):
            items.append(value)
        elif isinstance(value, tuple):
            items.extend(value)
        else:
            raise ctx.fail(f"An array can hold only time series, not {describe(value)}")
    return tuple(items)


def result_series(value: Value, ctx: EvalContext) -> list[Series]:
    """The series a query returns: one, several, or an error for a scalar or keyword."""
    if isinstance(value, Series):
        return [value]
    if isinstance(value, tuple):
        return list(value)
    raise ctx.fail(
        f"The expression evaluates to a {describe(value)}; "
        "it must produce a time series or an array of time series"
    )


def evaluate_checked(node: Node, ctx: EvalContext) -> Value:
    """``evaluate``, with any arithmetic surprise reported as the expression's ``AwsError``."""
    try:
        return evaluate(node, ctx)
    except AwsError:
        raise
    except (ArithmeticError, ValueError, IndexError) as exc:  # pragma: no cover - defensive
        raise ctx.fail(f"Could not evaluate the expression ({type(exc).__name__})") from exc


def evaluate_expression(text: str, ctx: EvalContext) -> list[Series]:
    """Parse and evaluate ``text`` in ``ctx``; every failure is an ``AwsError``."""
    return result_series(evaluate_checked(parse_expression(text, ctx.query_id), ctx), ctx)

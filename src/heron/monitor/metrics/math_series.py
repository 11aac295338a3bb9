"""Metric-math values and operators: time series, scalars, arrays, and how they combine.

Semantics follow CloudWatch's "Using metric math" page: between two time series an operator works
on the union of their timestamps with a missing value treated as 0; between a series and a scalar
it applies to every point; a point whose result is not a finite number (division by zero, a log
of a negative, an overflow) is dropped, so NaN and Infinity never leave this module inside a
series. Comparisons and logical operators yield 1 or 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from heron.awsapi.errors import AwsError
from heron.monitor.metrics.math_parser import Keyword, Str, expression_error

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

# A series longer than this is refused rather than built (FILL or TIME_SERIES at a 1-second
# period over months would otherwise allocate without bound).
MAX_POINTS = 2_000_000


@dataclass(frozen=True, slots=True, eq=False)
class Series:
    """One time series: ascending epoch-ms timestamps, finite values, a label and its period."""

    timestamps: Ints
    values: Floats
    label: str = ""
    period_s: int | None = None

    @classmethod
    def of(
        cls,
        timestamps: Sequence[int] | Ints,
        values: Sequence[float] | Floats,
        label: str = "",
        period_s: int | None = None,
    ) -> Series:
        """Build a series from plain sequences, dropping non-finite values."""
        ts = np.asarray(timestamps, dtype=np.int64)
        vals = np.asarray(values, dtype=np.float64)
        if ts.shape != vals.shape or ts.ndim != 1:
            raise ValueError("timestamps and values must be one-dimensional and of equal length")
        if ts.size > 1 and not bool(np.all(ts[1:] > ts[:-1])):
            order = np.argsort(ts, kind="stable")
            ts, vals = ts[order], vals[order]
        return cls(ts, vals, label, period_s).with_data(ts, vals)

    def with_data(self, timestamps: Ints, values: Floats) -> Series:
        """A series with this one's label and period and the given points, non-finite dropped."""
        keep = np.isfinite(values)
        if not bool(keep.all()):
            timestamps, values = timestamps[keep], values[keep]
        # + 0.0 turns -0.0 (from negating or multiplying a zero) into 0.0 for the wire
        return Series(timestamps, values + 0.0, self.label, self.period_s)

    def __len__(self) -> int:
        return int(self.timestamps.size)


SeriesArray = tuple[Series, ...]
Value = float | Series | SeriesArray | Keyword | Str


def describe(value: Value) -> str:
    """A short name of the value's kind, for error messages."""
    if isinstance(value, Series):
        return "time series"
    if isinstance(value, tuple):
        return "array of time series"
    if isinstance(value, Keyword):
        return value.name
    if isinstance(value, Str):
        return "string"
    return "scalar"


@dataclass(frozen=True, slots=True)
class EvalContext:
    """What an expression can see: the query's id, the time range, and the other queries."""

    query_id: str
    start_ms: int
    end_ms: int
    period_s: int
    lookup: Callable[[str], Value]
    metrics: Sequence[tuple[str, Series]] = ()

    def fail(self, detail: str) -> AwsError:
        """The error for this expression."""
        return expression_error(self.query_id, detail)


def grid(anchor_ms: int, start_ms: int, end_ms: int, period_s: int, ctx: EvalContext) -> Ints:
    """Every period-start in [start_ms, end_ms) that lies a whole number of periods from anchor."""
    step = max(period_s, 1) * 1000
    first = -((anchor_ms - start_ms) // step)  # ceil((start - anchor) / step)
    last = -((anchor_ms - end_ms) // step) - 1  # ceil((end - anchor) / step) - 1
    if last - first + 1 > MAX_POINTS:
        raise ctx.fail(f"The expression would produce more than {MAX_POINTS} datapoints")
    return anchor_ms + np.arange(first, max(last + 1, first), dtype=np.int64) * step


def align(a: Series, b: Series) -> tuple[Ints, Floats, Floats]:
    """Both series on the union of their timestamps, a missing value read as 0."""
    if a.timestamps.size == b.timestamps.size and np.array_equal(a.timestamps, b.timestamps):
        return a.timestamps, a.values, b.values
    ts = np.union1d(a.timestamps, b.timestamps)
    av = np.zeros(ts.size)
    bv = np.zeros(ts.size)
    av[np.searchsorted(ts, a.timestamps)] = a.values
    bv[np.searchsorted(ts, b.timestamps)] = b.values
    return ts, av, bv


def values_at(series: Series, timestamps: Ints, missing: float = np.nan) -> Floats:
    """The series' value at each of ``timestamps``, ``missing`` where it has no point."""
    out = np.full(timestamps.size, missing, dtype=np.float64)
    if series.timestamps.size == 0 or timestamps.size == 0:
        return out
    idx = np.searchsorted(series.timestamps, timestamps)
    idx_clipped = np.minimum(idx, series.timestamps.size - 1)
    hit = series.timestamps[idx_clipped] == timestamps
    out[hit] = series.values[idx_clipped[hit]]
    return out


def _compute(op: str, x: Floats | float, y: Floats | float) -> Floats:
    """Apply a binary operator elementwise; non-finite results are the caller's to drop."""
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    with np.errstate(all="ignore"):
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        if op == "^":
            return np.power(a, b)
        if op == "AND":
            return np.asarray((a != 0) & (b != 0), dtype=np.float64)
        if op == "OR":
            return np.asarray((a != 0) | (b != 0), dtype=np.float64)
        compare = {
            "==": np.equal,
            "!=": np.not_equal,
            "<": np.less,
            "<=": np.less_equal,
            ">": np.greater,
            ">=": np.greater_equal,
        }[op]
        return np.asarray(compare(a, b), dtype=np.float64)


def binary(op: str, left: Value, right: Value, ctx: EvalContext) -> Value:
    """``left op right`` for any mix of scalars, series and arrays of series."""
    if isinstance(left, tuple) and isinstance(right, tuple):
        raise ctx.fail(f"Operator {op} cannot combine two arrays of time series")
    if isinstance(left, tuple):
        return tuple(_as_series(binary(op, item, right, ctx), ctx) for item in left)
    if isinstance(right, tuple):
        return tuple(_as_series(binary(op, left, item, ctx), ctx) for item in right)
    if isinstance(left, Keyword | Str) or isinstance(right, Keyword | Str):
        bad = left if isinstance(left, Keyword | Str) else right
        raise ctx.fail(f"Operator {op} cannot be applied to {describe(bad)}")
    if isinstance(left, Series) and isinstance(right, Series):
        ts, av, bv = align(left, right)
        label = left.label or right.label
        base = Series(ts, av, label, left.period_s or right.period_s)
        return base.with_data(ts, _compute(op, av, bv))
    if isinstance(left, Series):
        return left.with_data(left.timestamps, _compute(op, left.values, float(right)))  # type: ignore[arg-type]
    if isinstance(right, Series):
        return right.with_data(right.timestamps, _compute(op, float(left), right.values))
    return float(_compute(op, left, right))


def unary(op: str, operand: Value, ctx: EvalContext) -> Value:
    """``-x`` or ``NOT x``."""
    if op == "-":
        return map_values(operand, np.negative, ctx, "-")
    return map_values(operand, lambda v: (v == 0).astype(np.float64), ctx, "NOT")


def map_values(value: Value, fn: Callable[[Floats], Floats], ctx: EvalContext, name: str) -> Value:
    """Apply ``fn`` to every value of a scalar, a series or each series of an array."""
    with np.errstate(all="ignore"):
        if isinstance(value, Series):
            return value.with_data(value.timestamps, fn(value.values))
        if isinstance(value, tuple):
            return tuple(s.with_data(s.timestamps, fn(s.values)) for s in value)
        if isinstance(value, float | int):
            return float(fn(np.asarray([value], dtype=np.float64))[0])
    raise ctx.fail(f"{name} cannot be applied to {describe(value)}")


def map_series(value: Value, fn: Callable[[Series], Series], ctx: EvalContext, name: str) -> Value:
    """Apply ``fn`` to a series or to each series of an array; anything else is an error."""
    if isinstance(value, Series):
        return fn(value)
    if isinstance(value, tuple):
        return tuple(fn(s) for s in value)
    raise ctx.fail(
        f"{name} expects a time series or an array of time series, not {describe(value)}"
    )


def _as_series(value: Value, ctx: EvalContext) -> Series:
    if isinstance(value, Series):
        return value
    raise ctx.fail(f"Expected a time series, got {describe(value)}")


def stack(series: SeriesArray) -> tuple[Ints, Floats]:
    """An array of series as a (series x union-timestamp) matrix, NaN where a point is missing."""
    if not series:
        return np.empty(0, dtype=np.int64), np.empty((0, 0))
    ts = np.unique(np.concatenate([s.timestamps for s in series]))
    matrix = np.full((len(series), ts.size), np.nan)
    for row, s in enumerate(series):
        matrix[row, np.searchsorted(ts, s.timestamps)] = s.values
    return ts, matrix

"""The metric-math function library: what each CloudWatch function does to its arguments.

Argument kinds follow the user guide's table (S scalar, TS time series, TS[] array). Reducers
(SUM, AVG, MIN, MAX, STDDEV, DATAPOINT_COUNT) turn one series into a scalar and an array into one
series; for arrays SUM and AVG read a missing value as 0 as AWS documents, MIN, MAX and STDDEV use
the values present at each timestamp [Inferred]. STDDEV is the population standard deviation
[Inferred]. SQRT is a Heron extension (AWS has none; ``m1 ^ 0.5`` is the portable spelling).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from heron.monitor.metrics.math_parser import Keyword, Str
from heron.monitor.metrics.math_series import (
    EvalContext,
    Floats,
    Ints,
    Series,
    SeriesArray,
    Value,
    describe,
    grid,
    map_series,
    map_values,
    stack,
    values_at,
)

Function = Callable[[list[Value], EvalContext], Value]

_EMPTY_TS = np.empty(0, dtype=np.int64)
_EMPTY_VALUES = np.empty(0, dtype=np.float64)


def _series_arg(value: Value, name: str, ctx: EvalContext) -> Series:
    if isinstance(value, Series):
        return value
    raise ctx.fail(f"{name} expects a time series, not {describe(value)}")


def _array_arg(value: Value, name: str, ctx: EvalContext) -> SeriesArray:
    if isinstance(value, tuple):
        return value
    raise ctx.fail(f"{name} expects an array of time series, not {describe(value)}")


def _scalar_arg(value: Value, name: str, ctx: EvalContext) -> float:
    if isinstance(value, float | int):
        return float(value)
    raise ctx.fail(f"{name} expects a scalar, not {describe(value)}")


def _int_arg(value: Value, name: str, ctx: EvalContext) -> int:
    number = _scalar_arg(value, name, ctx)
    if not np.isfinite(number):
        raise ctx.fail(f"{name} expects a finite number")
    return int(number)


def _empty(label: str = "", period_s: int | None = None) -> Series:
    return Series(_EMPTY_TS, _EMPTY_VALUES, label, period_s)


def _span(series: Series, ctx: EvalContext) -> Ints:
    """The series' period grid over the query range, anchored on its own points when it has any."""
    period = series.period_s or ctx.period_s
    anchor = int(series.timestamps[0]) if len(series) else ctx.start_ms
    return grid(anchor, ctx.start_ms, ctx.end_ms, period, ctx)


# --- reducers ---------------------------------------------------------------------------------


def _reduce_one(name: str, values: Floats) -> float:
    if name == "DATAPOINT_COUNT":
        return float(values.size)
    if values.size == 0:
        return float("nan")  # no data: the scalar poisons every point it touches, which drops
    if name == "SUM":
        return float(values.sum())
    if name == "AVG":
        return float(values.mean())
    if name == "MIN":
        return float(values.min())
    if name == "MAX":
        return float(values.max())
    return float(values.std())


def _reduce_many(name: str, matrix: Floats) -> Floats:
    present = ~np.isnan(matrix)
    with np.errstate(all="ignore"):
        if name == "SUM":
            out = np.nansum(matrix, axis=0)
        elif name == "AVG":
            out = np.nansum(matrix, axis=0) / matrix.shape[0]
        elif name == "DATAPOINT_COUNT":
            out = present.sum(axis=0)
        elif name == "MIN":
            out = np.where(present, matrix, np.inf).min(axis=0)
        elif name == "MAX":
            out = np.where(present, matrix, -np.inf).max(axis=0)
        else:
            counts = present.sum(axis=0)
            mean = np.nansum(matrix, axis=0) / counts
            out = np.sqrt(np.nansum((matrix - mean) ** 2, axis=0) / counts)
    return np.asarray(out, dtype=np.float64)


def _reducer(name: str) -> Function:
    def reduce(args: list[Value], ctx: EvalContext) -> Value:
        arg = args[0]
        if isinstance(arg, float | int):
            return 1.0 if name == "DATAPOINT_COUNT" else (0.0 if name == "STDDEV" else float(arg))
        if isinstance(arg, Series):
            return _reduce_one(name, arg.values)
        if isinstance(arg, tuple):
            if not arg:
                return _empty(period_s=ctx.period_s)
            ts, matrix = stack(arg)
            return _empty(period_s=arg[0].period_s).with_data(ts, _reduce_many(name, matrix))
        raise ctx.fail(f"{name} cannot be applied to {describe(arg)}")

    return reduce


# --- pointwise and sequential -----------------------------------------------------------------


def _pointwise(name: str, fn: Callable[[Floats], Floats]) -> Function:
    def apply(args: list[Value], ctx: EvalContext) -> Value:
        return map_values(args[0], fn, ctx, name)

    return apply


def _sequential(name: str, fn: Callable[[Series], Series]) -> Function:
    def apply(args: list[Value], ctx: EvalContext) -> Value:
        return map_series(args[0], fn, ctx, name)

    return apply


def _rate(s: Series) -> Series:
    with np.errstate(all="ignore"):
        seconds = np.diff(s.timestamps) / 1000.0
        return s.with_data(s.timestamps[1:], np.diff(s.values) / seconds)


def _diff(s: Series) -> Series:
    return s.with_data(s.timestamps[1:], np.diff(s.values))


def _diff_time(s: Series) -> Series:
    return s.with_data(s.timestamps[1:], np.diff(s.timestamps) / 1000.0)


def _running_sum(s: Series) -> Series:
    return s.with_data(s.timestamps, np.cumsum(s.values))


# --- FILL, IF, TIME_SERIES ----------------------------------------------------------------------


def _fill_one(s: Series, filler: Value, ctx: EvalContext) -> Series:
    ts = np.union1d(_span(s, ctx), s.timestamps)
    present = values_at(s, ts)
    gaps = np.isnan(present)
    if isinstance(filler, Series):
        present[gaps] = values_at(filler, ts[gaps])
    elif isinstance(filler, Keyword) and filler.name == "REPEAT":
        # carry the most recent real value forward; a leading gap has none and stays empty
        idx = np.where(~gaps, np.arange(ts.size), -1)
        np.maximum.accumulate(idx, out=idx)
        seen = idx >= 0
        present[seen] = present[idx[seen]]
    elif isinstance(filler, Keyword) and filler.name == "LINEAR":
        known = np.flatnonzero(~gaps)
        if known.size >= 2:
            inside = gaps & (np.arange(ts.size) > known[0]) & (np.arange(ts.size) < known[-1])
            present[inside] = np.interp(ts[inside], ts[known], present[known])
    elif isinstance(filler, float | int):
        present[gaps] = float(filler)
    else:
        raise ctx.fail(f"FILL cannot fill with {describe(filler)}")
    return s.with_data(ts, present)


def _fill(args: list[Value], ctx: EvalContext) -> Value:
    filler = args[1]
    if isinstance(filler, tuple):
        raise ctx.fail("FILL cannot fill with an array of time series")
    return map_series(args[0], lambda s: _fill_one(s, filler, ctx), ctx, "FILL")


def _branch(value: Value | None, ts: Ints, missing: float, ctx: EvalContext) -> Floats:
    """IF's value for each timestamp from one branch (a scalar, a series, or absent)."""
    if value is None:
        return np.full(ts.size, np.nan)
    if isinstance(value, Series):
        return values_at(value, ts, missing)
    if isinstance(value, float | int):
        return np.full(ts.size, float(value))
    raise ctx.fail(f"IF cannot return {describe(value)}")


def _if_one(cond: Value, yes: Value, no: Value | None, ctx: EvalContext) -> Value:
    if isinstance(cond, float | int):
        if cond != 0:
            return yes
        if no is not None:
            return no
        return _empty(yes.label if isinstance(yes, Series) else "", ctx.period_s)
    cond_s = _series_arg(cond, "IF", ctx)
    ts = cond_s.timestamps
    truth = cond_s.values != 0
    # AWS: a true condition with no point in the "true" series yields 0; a false one with no point
    # in the "false" series (or no false branch) drops the timestamp.
    out = np.where(truth, _branch(yes, ts, 0.0, ctx), _branch(no, ts, np.nan, ctx))
    label = yes.label if isinstance(yes, Series) else cond_s.label
    return Series(ts, out, label, cond_s.period_s).with_data(ts, out)


def _if(args: list[Value], ctx: EvalContext) -> Value:
    cond, yes = args[0], args[1]
    no = args[2] if len(args) > 2 else None
    arrays = [a for a in (cond, yes, no) if isinstance(a, tuple)]
    if not arrays:
        return _if_one(cond, yes, no, ctx)
    size = len(arrays[0])
    if any(len(a) != size for a in arrays):
        raise ctx.fail("IF arrays of time series must have the same length")

    def pick(value: Value | None, i: int) -> Value | None:
        return value[i] if isinstance(value, tuple) else value

    results = []
    for i in range(size):
        one = _if_one(pick(cond, i), pick(yes, i), pick(no, i), ctx)  # type: ignore[arg-type]
        if not isinstance(one, Series):
            raise ctx.fail("IF over arrays must produce time series")
        results.append(one)
    return tuple(results)


def _time_series(args: list[Value], ctx: EvalContext) -> Value:
    value = _scalar_arg(args[0], "TIME_SERIES", ctx)
    ts = grid(ctx.start_ms, ctx.start_ms, ctx.end_ms, ctx.period_s, ctx)
    return _empty(period_s=ctx.period_s).with_data(ts, np.full(ts.size, value))


def _calendar_values(name: str, ts: Ints) -> Ints:
    """The calendar field ``name`` (UTC) of each epoch-ms timestamp."""
    days = ts.astype("datetime64[ms]").astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    if name == "MINUTE":
        return (ts // 60_000) % 60
    if name == "HOUR":
        return (ts // 3_600_000) % 24
    if name == "DAY":  # 1970-01-01 was a Thursday; AWS numbers Monday 1 .. Sunday 7
        return np.asarray((days.astype(np.int64) + 3) % 7 + 1, dtype=np.int64)
    if name == "DATE":
        return np.asarray((days - months.astype("datetime64[D]")).astype(np.int64) + 1)
    if name == "MONTH":
        return np.asarray(months.astype(np.int64) % 12 + 1, dtype=np.int64)
    if name == "YEAR":
        return np.asarray(months.astype(np.int64) // 12 + 1970, dtype=np.int64)
    return ts // 1000  # EPOCH


def _calendar(name: str) -> Function:
    def apply(args: list[Value], ctx: EvalContext) -> Value:
        s = _series_arg(args[0], name, ctx)
        ts = _span(s, ctx)
        return s.with_data(ts, _calendar_values(name, ts).astype(np.float64))

    return apply


# --- arrays -------------------------------------------------------------------------------------


def _metrics(args: list[Value], ctx: EvalContext) -> Value:
    if args and not isinstance(args[0], Str):
        raise ctx.fail("METRICS expects a string")
    needle = args[0].value if args and isinstance(args[0], Str) else ""
    return tuple(s for query_id, s in ctx.metrics if needle in query_id)


def _sort(args: list[Value], ctx: EvalContext) -> Value:
    series = _array_arg(args[0], "SORT", ctx)
    stat, order = args[1], args[2]
    if not isinstance(stat, Keyword) or stat.name not in {"AVG", "MIN", "MAX", "SUM", "STDDEV"}:
        raise ctx.fail("SORT expects AVG, MIN, MAX, SUM or STDDEV as its second argument")
    if not isinstance(order, Keyword) or order.name not in {"ASC", "DESC"}:
        raise ctx.fail("SORT expects ASC or DESC as its third argument")
    keys = [_reduce_one(stat.name, s.values) for s in series]
    sign = -1.0 if order.name == "DESC" else 1.0
    # series without data sort last whichever the order
    ranked = sorted(range(len(series)), key=lambda i: (np.isnan(keys[i]), sign * keys[i]))
    out = tuple(series[i] for i in ranked)
    if len(args) > 3:
        out = out[: max(_int_arg(args[3], "SORT", ctx), 0)]
    return out


def _slice(args: list[Value], ctx: EvalContext) -> Value:
    series = _array_arg(args[0], "SLICE", ctx)
    start = _int_arg(args[1], "SLICE", ctx)
    end = _int_arg(args[2], "SLICE", ctx) if len(args) > 2 else len(series)
    return series[max(start, 0) : max(end, 0)]


def _first_last(name: str) -> Function:
    def apply(args: list[Value], ctx: EvalContext) -> Value:
        series = _array_arg(args[0], name, ctx)
        if not series:
            return _empty(period_s=ctx.period_s)
        return series[0] if name == "FIRST" else series[-1]

    return apply


def _remove_empty(args: list[Value], ctx: EvalContext) -> Value:
    return tuple(s for s in _array_arg(args[0], "REMOVE_EMPTY", ctx) if len(s))


def _metric_count(args: list[Value], ctx: EvalContext) -> Value:
    return float(len(_array_arg(args[0], "METRIC_COUNT", ctx)))


def _period(args: list[Value], ctx: EvalContext) -> Value:
    return float(_series_arg(args[0], "PERIOD", ctx).period_s or ctx.period_s)


def _unsupported(name: str) -> Function:
    def apply(args: list[Value], ctx: EvalContext) -> Value:
        raise ctx.fail(f"Unsupported function: {name}")

    return apply


# name -> (fewest arguments, most arguments, implementation)
FUNCTIONS: dict[str, tuple[int, int, Function]] = {
    **{n: (1, 1, _reducer(n)) for n in ("SUM", "AVG", "MIN", "MAX", "STDDEV", "DATAPOINT_COUNT")},
    "ABS": (1, 1, _pointwise("ABS", np.abs)),
    "CEIL": (1, 1, _pointwise("CEIL", np.ceil)),
    "FLOOR": (1, 1, _pointwise("FLOOR", np.floor)),
    "LOG": (1, 1, _pointwise("LOG", np.log)),
    "LOG10": (1, 1, _pointwise("LOG10", np.log10)),
    "SQRT": (1, 1, _pointwise("SQRT", np.sqrt)),
    "RATE": (1, 1, _sequential("RATE", _rate)),
    "DIFF": (1, 1, _sequential("DIFF", _diff)),
    "DIFF_TIME": (1, 1, _sequential("DIFF_TIME", _diff_time)),
    "RUNNING_SUM": (1, 1, _sequential("RUNNING_SUM", _running_sum)),
    "FILL": (2, 2, _fill),
    "IF": (2, 3, _if),
    "TIME_SERIES": (1, 1, _time_series),
    **{n: (1, 1, _calendar(n)) for n in ("MINUTE", "HOUR", "DAY", "DATE", "MONTH", "YEAR")},
    "EPOCH": (1, 1, _calendar("EPOCH")),
    "METRICS": (0, 1, _metrics),
    "SORT": (3, 4, _sort),
    "SLICE": (2, 3, _slice),
    "FIRST": (1, 1, _first_last("FIRST")),
    "LAST": (1, 1, _first_last("LAST")),
    "REMOVE_EMPTY": (1, 1, _remove_empty),
    "METRIC_COUNT": (1, 1, _metric_count),
    "PERIOD": (1, 1, _period),
    **{
        n: (0, 8, _unsupported(n))
        for n in (
            "SEARCH",
            "ANOMALY_DETECTION_BAND",
            "INSIGHT_RULE_METRIC",
            "SERVICE_QUOTA",
            "LAMBDA",
            "CONCAT",
        )
    },
}

FUNCTION_NAMES = frozenset(FUNCTIONS)

"""The GetMetricData operation: validate, fetch each MetricStat, evaluate the math, label, page.

``get_metric_data`` is pure apart from the ``fetch`` function it is given, which answers one
MetricStat query with period-start timestamps (epoch ms, ascending) and values; ``store_fetch``
builds one from the metric store's ``MetricQueries``. An optional ``fetch_many`` answers all of a
request's MetricStat queries in one call (``store_fetch_many`` builds one when the store has
``series_many``) and must give exactly what ``fetch`` gives query by query. ``run_queries`` is
the evaluation core without the paging, for callers such as metric-math alarms.

Rules implemented (see cloudwatch.md §3.3 and §3.5): StartTime inclusive, EndTime exclusive;
StartTime rounded down by its age (to the period for sub-minute periods, the minute within 15
days, 5 minutes within 63 days, the hour beyond) and no datapoints when the period is finer than
what is still kept; default labels are the MetricName with the Stat and the Period appended when
those differ between the request's MetricStat queries; expressions are labelled with their Label
or Id; results come in request order, only for ReturnData != false.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from heron.awsapi.errors import AwsError, validation_error
from heron.awsapi.models import service_spec
from heron.awsapi.shapes import validate_against_shape
from heron.monitor.metrics.math_eval import evaluate_checked, result_series
from heron.monitor.metrics.math_series import EvalContext, Floats, Ints, Series, Value
from heron.monitor.metrics.metric_queries import Query, QueryPlan, invalid_value, plan_queries
from heron.monitor.metrics.result_cache import ResultCache

#: One MetricStat's points: (period-start ms, values), as lists or as numpy arrays.
Points = tuple[Sequence[int] | Ints, Sequence[float] | Floats]
Fetch = Callable[[Mapping[str, Any], int, int], Points]
FetchRequest = tuple[Mapping[str, Any], int, int]
"""One MetricStat read: (MetricStat, start ms, end ms), the arguments ``fetch`` takes."""
FetchMany = Callable[[Sequence[FetchRequest]], Sequence[Points]]

DEFAULT_MAX_DATAPOINTS = 100_800
_HOUR_MS = 3_600_000
_DAY_MS = 24 * _HOUR_MS
_TIMEZONE = re.compile(r"^[+-](?:[01]\d|2[0-3])[0-5]\d$")


@dataclass(frozen=True, slots=True)
class QueryResult:
    """One series a returned query produced: its query, label and points (ascending)."""

    query: Query
    label: str
    series: Series


RESULTS: ResultCache[QueryResult] = ResultCache()
"""The process-wide cache of evaluated multi-page requests that NextToken pages read."""


def effective_start(start_ms: int, now_ms: int, period_s: int) -> int | None:
    """StartTime rounded down as CloudWatch does, or None when the period is no longer kept."""
    age = now_ms - start_ms
    if period_s < 60:
        if age > 3 * _HOUR_MS:
            return None  # high-resolution datapoints are kept three hours
        unit = period_s
    elif age <= 15 * _DAY_MS:
        unit = 60
    elif age <= 63 * _DAY_MS:
        if period_s % 300:
            return None
        unit = 300
    else:
        if period_s % 3600:
            return None
        unit = 3600
    return start_ms - start_ms % (unit * 1000)


def default_labels(queries: Sequence[Query]) -> dict[str, str]:
    """MetricStat labels: MetricName, plus Stat and Period when they differ across the request."""
    stats = [q.metric_stat for q in queries if q.metric_stat is not None]
    add_stat = len({str(s["Stat"]) for s in stats}) > 1
    add_period = len({int(s["Period"]) for s in stats}) > 1
    labels: dict[str, str] = {}
    for q in queries:
        if q.metric_stat is None:
            labels[q.id] = q.label if q.label is not None else q.id
            continue
        if q.label is not None:
            labels[q.id] = q.label
            continue
        parts = [str(q.metric_stat["Metric"]["MetricName"])]
        if add_stat:
            parts.append(str(q.metric_stat["Stat"]))
        if add_period:
            parts.append(str(q.metric_stat["Period"]))
        labels[q.id] = " ".join(parts)
    return labels


def _fetch_all(
    plan: QueryPlan,
    fetch: Fetch,
    fetch_many: FetchMany | None,
    start_ms: int,
    end_ms: int,
    now_ms: int,
) -> dict[str, Points]:
    """Each MetricStat query's points by Id: one ``fetch_many`` call when given, else per query.

    A query whose rounded window is empty or no longer kept is not asked for at all.
    """
    wanted: list[tuple[str, FetchRequest]] = []
    for q in plan.queries:
        if q.metric_stat is None:
            continue
        start = effective_start(start_ms, now_ms, int(q.period_s or 60))
        if start is not None and start < end_ms:
            wanted.append((q.id, (q.metric_stat, start, end_ms)))
    if fetch_many is None:
        return {qid: fetch(*read) for qid, read in wanted}
    answers = fetch_many([read for _, read in wanted])
    return {qid: answer for (qid, _), answer in zip(wanted, answers, strict=True)}


def run_queries(
    plan: QueryPlan,
    fetch: Fetch,
    start_ms: int,
    end_ms: int,
    now_ms: int,
    *,
    fetch_many: FetchMany | None = None,
) -> list[QueryResult]:
    """Fetch every MetricStat (in one ``fetch_many`` call when given), evaluate every
    expression, and return the ReturnData series."""
    labels = default_labels(plan.queries)
    periods = [q.period_s for q in plan.queries if q.metric_stat is not None and q.period_s]
    default_period = max(periods, default=60)
    values: dict[str, Value] = {}
    metrics: list[tuple[str, Series]] = []
    points = _fetch_all(plan, fetch, fetch_many, start_ms, end_ms, now_ms)
    for q in plan.queries:
        if q.metric_stat is None:
            continue
        period = int(q.period_s or 60)
        ts, vals = points.get(q.id, ((), ()))
        series = Series.of(ts, vals, labels[q.id], period)
        values[q.id] = series
        metrics.append((q.id, series))
    contexts: dict[str, EvalContext] = {}
    by_id = plan.by_id()
    for expression_id in plan.order:
        q = by_id[expression_id]
        period = q.period_s or default_period
        anchor = effective_start(start_ms, now_ms, period)
        ctx = EvalContext(
            query_id=q.id,
            start_ms=anchor if anchor is not None else start_ms,
            end_ms=end_ms,
            period_s=period,
            lookup=values.__getitem__,
            metrics=metrics,
        )
        assert q.node is not None
        values[q.id] = evaluate_checked(q.node, ctx)
        contexts[q.id] = ctx
    out: list[QueryResult] = []
    for q in plan.queries:
        if not q.return_data:
            continue
        if q.metric_stat is not None:
            fetched = values[q.id]
            assert isinstance(fetched, Series)
            out.append(QueryResult(q, labels[q.id], fetched))
            continue
        value = values[q.id]
        produced = result_series(value, contexts[q.id])
        if isinstance(value, Series):
            out.append(QueryResult(q, labels[q.id], produced[0]))
            continue
        for series in produced:
            # AWS captions each series of an array as "<expression label> <metric label>"
            parts = [p for p in (q.label, series.label) if p]
            out.append(QueryResult(q, " ".join(parts) or q.id, series))
    return out


def _to_ms(request: Mapping[str, Any], member: str) -> int:
    value = request.get(member)
    if value is None:
        raise AwsError(
            "MissingRequiredParameterException",
            f"The parameter {member} is required.",
            query_code="MissingParameter",
        )
    return round(float(value) * 1000)


def _check_shape(request: Mapping[str, Any]) -> None:
    """Length, enum and range constraints from the API model, worded as AWS words them."""
    operation = service_spec("cloudwatch").operation("GetMetricData")
    assert operation is not None
    problems = validate_against_shape(operation.input_shape, request)
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise validation_error(f"{count} validation {noun} detected: " + "; ".join(problems))


def _token_key(request: Mapping[str, Any]) -> str:
    """A digest of everything that shapes the result list, binding a NextToken to its request."""
    members = ("MetricDataQueries", "StartTime", "EndTime", "ScanBy", "LabelOptions")
    basis = {k: request.get(k) for k in members}
    try:
        text = orjson.dumps(basis, default=str, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # not yet checked (an integer beyond 64 bits): the slower encoder copes
        text = json.dumps(basis, sort_keys=True, default=str).encode()
    return hashlib.sha256(text).hexdigest()[:16]


def encode_token(offset: int, key: str, snapshot: str | None = None) -> str:
    """An opaque NextToken for resuming at ``offset`` datapoints into the flattened results,
    naming the cached ``snapshot`` of those results when there is one."""
    data: dict[str, Any] = {"o": offset, "k": key}
    if snapshot is not None:
        data["s"] = snapshot
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, key: str) -> tuple[int, str | None]:
    """The offset and snapshot id a NextToken carries; InvalidNextToken if it is malformed or
    for another request."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = int(data["o"])
        snapshot = data.get("s")
        if data["k"] != key or offset < 0 or not isinstance(snapshot, str | None):
            raise ValueError("token belongs to another request")
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError):
        raise AwsError("InvalidNextToken", "The NextToken is not valid.") from None
    return offset, snapshot


def _page(
    results: Sequence[QueryResult], descending: bool, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The results' datapoints from ``offset``, at most ``limit``; also the total count."""
    out: list[dict[str, Any]] = []
    position = 0
    for r in results:
        n = len(r.series)
        lo = min(max(offset - position, 0), n)
        hi = min(max(offset + limit - position, 0), n)
        position += n
        # a result appears on each page holding some of its points; an empty one on the first
        if hi <= lo and not (n == 0 and offset == 0):
            continue
        ts, vals = r.series.timestamps, r.series.values
        if descending:
            ts, vals = ts[::-1], vals[::-1]
        out.append(
            {
                "Id": r.query.id,
                "Label": r.label,
                "Timestamps": (ts[lo:hi] / 1000.0).tolist(),
                "Values": np.asarray(vals[lo:hi], dtype=np.float64).tolist(),
                "StatusCode": "Complete" if hi >= n else "PartialData",
                "Messages": [],
            }
        )
    return out, position


def get_metric_data(
    request: Mapping[str, Any],
    fetch: Fetch,
    now_ms: int,
    *,
    cache: ResultCache[QueryResult] | None = RESULTS,
    fetch_many: FetchMany | None = None,
) -> dict[str, Any]:
    """Answer a GetMetricData request (botocore input shape) with its output shape.

    A request that needs more than one page keeps its evaluated results in ``cache`` (the
    process-wide ``RESULTS`` unless given; None disables it) and its NextToken pages read them
    from there; a page whose snapshot is gone evaluates the request again. ``fetch_many``, when
    given, reads all MetricStat queries in one call instead of one ``fetch`` call each.
    """
    key = _token_key(request)
    # the snapshot is also bound to the data source, so two stores in one process never mix
    cache_key = f"{key}:{id(getattr(fetch, '__self__', fetch))}"
    # A later page whose snapshot is still cached was checked and planned when its first page
    # was answered (the token binds the same queries); 500 queries cost ~5 ms to check again.
    results = _snapshot_results(request, key, cache_key, cache, now_ms)
    plan = None
    if results is None:
        _check_shape(request)
        plan = plan_queries(request.get("MetricDataQueries"))
    start_ms, end_ms = _to_ms(request, "StartTime"), _to_ms(request, "EndTime")
    if start_ms >= end_ms:
        # [AWS-observed] for GetMetricStatistics; GetMetricData shares the rule
        raise invalid_value("The parameter StartTime must be less than the parameter EndTime.")
    given = request.get("MaxDatapoints")
    limit = DEFAULT_MAX_DATAPOINTS if given is None else int(given)
    if limit < 1:
        raise invalid_value("The parameter MaxDatapoints must be greater than 0.")
    timezone = (request.get("LabelOptions") or {}).get("Timezone")
    if timezone is not None and _TIMEZONE.match(str(timezone)) is None:
        raise invalid_value(f"The value {timezone} for parameter LabelOptions.Timezone is invalid.")
    token = request.get("NextToken")
    offset, snapshot = decode_token(str(token), key) if token else (0, None)
    if results is None:
        assert plan is not None
        results = run_queries(plan, fetch, start_ms, end_ms, now_ms, fetch_many=fetch_many)
        snapshot = None
    descending = request.get("ScanBy", "TimestampDescending") != "TimestampAscending"
    page, total = _page(results, descending, offset, limit)
    response: dict[str, Any] = {"MetricDataResults": page, "Messages": []}
    if offset + limit < total:
        if cache is not None and snapshot is None:
            snapshot = cache.put(cache_key, results, total, now_ms)
        response["NextToken"] = encode_token(offset + limit, key, snapshot)
    elif cache is not None and snapshot is not None:
        cache.discard(snapshot)  # the last page: nobody should need these results again
    return response


def _snapshot_results(
    request: Mapping[str, Any],
    key: str,
    cache_key: str,
    cache: ResultCache[QueryResult] | None,
    now_ms: int,
) -> Sequence[QueryResult] | None:
    """The cached results a NextToken names, or None (no token, a bad one, or expired)."""
    token = request.get("NextToken")
    if cache is None or not token:
        return None
    try:
        _, snapshot = decode_token(str(token), key)
    except AwsError:
        return None  # the full path raises it, after the checks that come first
    return None if snapshot is None else cache.get(snapshot, cache_key, now_ms)

"""``heron metrics list`` and ``heron metrics get``: ListMetrics and GetMetricData as tables."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from heron.cli_monitor.client import (
    MonitorError,
    MonitorTarget,
    add_connection_options,
    argument_type,
    make_client,
    run_command,
)
from heron.cli_monitor.render import (
    TimeSpec,
    dimensions_text,
    format_instant,
    format_number,
    parse_dimension,
    parse_positive,
    parse_time,
    sparkline,
    table,
)

# Periods `metrics get` picks when --period is not given: the finest that keeps the table short.
_AUTO_PERIODS = (60, 300, 900, 3600, 6 * 3600, 86400)
_MAX_AUTO_ROWS = 120

Datapoints = dict[datetime, dict[str, float]]


def parse_stats(values: Sequence[str] | None) -> list[str]:
    """The statistics asked for (repeatable, comma-separated), in order, once each; default Average."""
    stats: list[str] = []
    for value in values or ["Average"]:
        for stat in value.split(","):
            if stat.strip() and stat.strip() not in stats:
                stats.append(stat.strip())
    if not stats:
        raise MonitorError("--stat needs a statistic, e.g. --stat Sum or --stat p99")
    return stats


def auto_period(window: timedelta) -> int:
    """The finest standard period that shows ``window`` in at most ~120 rows."""
    seconds = window.total_seconds()
    for period in _AUTO_PERIODS:
        if seconds / period <= _MAX_AUTO_ROWS:
            return period
    return _AUTO_PERIODS[-1]


def metric_queries(
    namespace: str,
    metric: str,
    dimensions: Sequence[tuple[str, str | None]],
    stats: Sequence[str],
    period: int,
) -> list[dict[str, Any]]:
    """One GetMetricData MetricStat query per statistic, with ids m0, m1, ..."""
    spec = {
        "Namespace": namespace,
        "MetricName": metric,
        "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions],
    }
    return [
        {"Id": f"m{i}", "MetricStat": {"Metric": spec, "Period": period, "Stat": stat}}
        for i, stat in enumerate(stats)
    ]


def merge_results(
    results: Sequence[dict[str, Any]], stat_by_id: dict[str, str], into: Datapoints
) -> None:
    """Add GetMetricData results to ``into``: period start (UTC) -> statistic -> value."""
    for result in results:
        stat = stat_by_id[result["Id"]]
        for moment, value in zip(
            result.get("Timestamps", []), result.get("Values", []), strict=True
        ):
            into.setdefault(moment.astimezone(UTC), {})[stat] = float(value)


def gap_filled(points: Datapoints, stat: str, period: int) -> list[float | None]:
    """One value per period from the first datapoint to the last, None where none was recorded."""
    if not points:
        return []
    times = sorted(points)
    step = timedelta(seconds=period)
    out: list[float | None] = []
    moment = times[0]
    while moment <= times[-1]:
        out.append(points.get(moment, {}).get(stat))
        moment += step
    return out


def _list_metrics(args: argparse.Namespace, target: MonitorTarget) -> int:
    """Every metric matching the filters, paging through NextToken."""
    client = make_client(target, "cloudwatch")
    request: dict[str, Any] = {}
    if args.namespace:
        request["Namespace"] = args.namespace
    if args.name:
        request["MetricName"] = args.name
    if args.dimension:
        request["Dimensions"] = [
            {"Name": n} if v is None else {"Name": n, "Value": v} for n, v in args.dimension
        ]
    metrics: list[dict[str, Any]] = []
    while True:
        page = client.list_metrics(**request)
        metrics.extend(page.get("Metrics", []))
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    metrics.sort(key=lambda m: (m["Namespace"], m["MetricName"], dimensions_text(m["Dimensions"])))
    if args.json:
        print(orjson.dumps(metrics, option=orjson.OPT_INDENT_2).decode())
        return 0
    rows = [[m["Namespace"], m["MetricName"], dimensions_text(m["Dimensions"])] for m in metrics]
    print(table(["NAMESPACE", "METRIC", "DIMENSIONS"], rows))
    if not metrics:
        print("no metrics match; drop a filter, or generate traffic first", file=sys.stderr)
    return 0


def _get_metric(args: argparse.Namespace, target: MonitorTarget) -> int:
    """One metric's datapoints over a window, one column per statistic."""
    stats = parse_stats(args.stat)
    now = datetime.now(UTC)
    start = args.since.resolve(now)
    end = args.until.resolve(now)
    if start >= end:
        raise MonitorError(f"--since {args.since.text} must be before --until {args.until.text}")
    period = args.period or auto_period(end - start)
    queries = metric_queries(args.namespace, args.metric, args.dimension, stats, period)
    stat_by_id = {q["Id"]: q["MetricStat"]["Stat"] for q in queries}
    client = make_client(target, "cloudwatch")
    request: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    points: Datapoints = {}
    notes: list[str] = []
    while True:
        page = client.get_metric_data(**request)
        merge_results(page.get("MetricDataResults", []), stat_by_id, points)
        notes.extend(m.get("Value", "") for m in page.get("Messages", []))
        for result in page.get("MetricDataResults", []):
            notes.extend(m.get("Value", "") for m in result.get("Messages", []))
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    for note in dict.fromkeys(n for n in notes if n):
        print(f"note: {note}", file=sys.stderr)
    times = sorted(points)
    if args.json:
        body = {
            "namespace": args.namespace,
            "metric": args.metric,
            "dimensions": queries[0]["MetricStat"]["Metric"]["Dimensions"],
            "period": period,
            "start": format_instant(start),
            "end": format_instant(end),
            "stats": stats,
            "datapoints": [{"timestamp": format_instant(t), **points[t]} for t in times],
        }
        print(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
        return 0
    rows = [[format_instant(t)] + [_cell(points[t].get(stat)) for stat in stats] for t in times]
    print(table(["TIME", *stats], rows, right=len(stats)))
    if not times:
        dims = " ".join(f"{n}={v}" for n, v in args.dimension)
        print(
            f"no datapoints for {args.namespace} {args.metric} {dims}".rstrip()
            + f" since {format_instant(start)}; `heron metrics list --namespace {args.namespace}"
            f" --name {args.metric}` shows which dimension sets exist",
            file=sys.stderr,
        )
    elif _can_print("█"):
        width = max(len(s) for s in stats)
        print()
        for stat in stats:
            print(f"{stat:<{width}}  {sparkline(gap_filled(points, stat, period))}")
    return 0


def _cell(value: float | None) -> str:
    return "-" if value is None else format_number(value)


def _can_print(text: str) -> bool:
    """Whether stdout's encoding can carry ``text`` (sparklines need more than ASCII)."""
    try:
        text.encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def add_metrics_commands(subparsers: Any) -> None:
    """Register ``heron metrics list`` and ``heron metrics get`` on the top-level subparsers."""
    metrics = subparsers.add_parser("metrics", help="list metrics and print their datapoints")
    actions = metrics.add_subparsers(dest="metrics_command", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="metrics the monitor holds (ListMetrics)")
    listing.add_argument("--namespace", help="only this namespace, e.g. AWS/Lambda")
    listing.add_argument("--name", help="only this metric name, e.g. Invocations")
    listing.add_argument(
        "--dimension",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        type=argument_type(lambda t: parse_dimension(t, value_required=False)),
        help="only metrics with this dimension (any value if none given); repeatable",
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_connection_options(listing)
    listing.set_defaults(func=run_command(_list_metrics))

    get = actions.add_parser("get", help="one metric's datapoints over time (GetMetricData)")
    get.add_argument("namespace", help="namespace, e.g. AWS/Lambda")
    get.add_argument("metric", help="metric name, e.g. Invocations")
    get.add_argument(
        "--dimension",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        type=argument_type(lambda t: parse_dimension(t, value_required=True)),
        help="the metric's dimensions, all of them (e.g. FunctionName=createUser); repeatable",
    )
    get.add_argument(
        "--stat",
        action="append",
        metavar="STAT",
        help="Average (default), Sum, Minimum, Maximum, SampleCount, p99, ...; repeatable or "
        "comma-separated, one column each",
    )
    get.add_argument(
        "--period",
        type=argument_type(parse_positive),
        help="seconds per datapoint (default 60, coarser for long windows)",
    )
    get.add_argument(
        "--since",
        type=argument_type(parse_time),
        default=TimeSpec("1h", ago=timedelta(hours=1)),
        help="start: an age such as 30m, 1h, 2d, or an ISO 8601 time (default 1h)",
    )
    get.add_argument(
        "--until",
        type=argument_type(parse_time),
        default=TimeSpec("now", ago=timedelta(0)),
        help="end, written like --since (default now)",
    )
    get.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_connection_options(get)
    get.set_defaults(func=run_command(_get_metric))

"""CloudWatch metric operations: PutMetricData, GetMetricStatistics, ListMetrics, GetMetricData.

Each handler takes the decoded request (botocore input shape; timestamps as epoch seconds) and
returns the output shape. Every request is validated whole before anything is stored, with
CloudWatch's codes and messages (awsQueryCompatible: ``code`` is the modelled exception name,
``query_code`` the Query-protocol code). Messages marked [AWS-observed] in cloudwatch.md are
AWS's exact text; the others follow AWS's phrasing for the same family ([Inferred]).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from heron.awsapi.errors import (
    combination,
    constraint,
    invalid,
    missing,
)
from heron.monitor.contracts import MetricId
from heron.monitor.metrics import model
from heron.monitor.metrics.ingest import SampleBatch
from heron.monitor.metrics.retention import datapoint_count
from heron.monitor.metrics.statistics import StatisticError, is_percentile
from heron.monitor.metrics.store import MetricStore
from heron.types import Clock, Dimensions

Handler = Callable[[dict[str, Any]], dict[str, Any]]
Fetch = Callable[[Mapping[str, Any], int, int], tuple[Sequence[int], Sequence[float]]]

#: StandardUnit in the API model's order (used in enum-constraint messages).
_UNIT_ENUM = (*model.UNITS[1:], "None")
_STATISTIC_ENUM = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PAST_MS = 14 * 86400 * 1000
_FUTURE_MS = 2 * 3600 * 1000
_PAGE = 500
_MAX_DATAPOINTS = 1440
_FORBIDDEN = ("\x00", "\x01")


def _length(value: str, path: str, low: int, high: int) -> None:
    if len(value) < low:
        raise constraint(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must have length greater than or equal to {low}"
        )
    if len(value) > high:
        raise constraint(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {high}"
        )


def _string(value: Any, name: str, path: str, high: int) -> str:
    if value is None:
        raise missing(name)
    if not isinstance(value, str):
        raise invalid(f"The value {value} for parameter {name} is invalid.")
    _length(value, path, 1, high)
    if any(c in value for c in _FORBIDDEN):
        raise invalid(f"The value {value!r} for parameter {name} is invalid.")
    return value


def _namespace(value: Any, *, public: bool) -> str:
    ns = _string(value, "Namespace", "namespace", 255)
    if ns.startswith(":"):
        raise constraint(
            f"Value '{ns}' at 'namespace' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [^:].*"
        )
    if not ns.isascii() or (public and ns.startswith("AWS/")):
        raise invalid(f"The value {ns} for parameter Namespace is invalid.")
    return ns


def _unit(value: Any, path: str) -> int:
    if value is None:
        return 0
    code = model.UNIT_CODES.get(value) if isinstance(value, str) else None
    if code is None:
        raise constraint(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(_UNIT_ENUM)}]"
        )
    return code


def _dimensions(raw: Any, name: str, path: str) -> Dimensions:
    """Validated, sorted dimensions of a metric (``name`` is the query-style member path)."""
    if not raw:
        return ()
    if len(raw) > model.MAX_DIMENSIONS:
        raise constraint(
            f"Value at '{path}' failed to satisfy constraint: Member must have length "
            f"less than or equal to {model.MAX_DIMENSIONS}"
        )
    pairs = []
    for j, dim in enumerate(raw, 1):
        dim_name = _string(
            dim.get("Name"), f"{name}.member.{j}.Name", f"{path}.{j}.member.name", 255
        )
        dim_value = _string(
            dim.get("Value"), f"{name}.member.{j}.Value", f"{path}.{j}.member.value", 1024
        )
        if dim_name.startswith(":") or not dim_name.isascii():
            raise invalid(f"The value {dim_name} for parameter {name}.member.{j}.Name is invalid.")
        pairs.append((dim_name, dim_value))
    pairs.sort()
    for (a, _), (b, _) in itertools.pairwise(pairs):
        if a == b:  # [Inferred] wording
            raise invalid(f"The dimension {a} is duplicated in parameter {name}.")
    return tuple(pairs)


def _number(value: Any, name: str) -> float:
    """A datapoint value: finite, within +-2**360."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(f"The value {value} for parameter {name} is invalid.")
    v = float(value)
    if v != v or v > model.MAX_MAGNITUDE or v < -model.MAX_MAGNITUDE:
        if v != v:
            shown = "NaN"
        elif math.isinf(v):
            shown = "Infinity" if v > 0 else "-Infinity"
        else:
            shown = repr(v)
        raise invalid(f"The value {shown} for parameter {name} is invalid.")
    return v


class _CloudWatch:
    """The handlers, bound to one store and clock."""

    def __init__(self, store: MetricStore, clock: Clock, metric_data: Callable[..., Any] | None):
        self._store = store
        self._clock = clock
        self._metric_data = metric_data

    # -- PutMetricData ---------------------------------------------------------------------

    def put_metric_data(self, request: dict[str, Any]) -> dict[str, Any]:
        """Validate every datum, then store them all in one commit."""
        ns = _namespace(request.get("Namespace"), public=True)
        lists: list[tuple[str, list[Any]]] = []
        if request.get("MetricData"):
            lists.append(("MetricData", request["MetricData"]))
        for k, entity in enumerate(request.get("EntityMetricData") or [], 1):
            lists.append(
                (f"EntityMetricData.member.{k}.MetricData", entity.get("MetricData") or [])
            )
        total = sum(len(data) for _, data in lists)
        if total == 0:
            raise missing("MetricData")
        if total > model.MAX_DATUMS:
            raise invalid("The collection MetricData must not have a size greater than 1000.")
        now_ms = int(self._clock() * 1000)
        batch = SampleBatch()
        fast = self._fast_datum
        for name, data in lists:
            for i, datum in enumerate(data, 1):
                if not fast(batch, ns, datum, now_ms):
                    self._datum(batch, ns, datum, f"{name}.member.{i}", i, now_ms)
        self._store.put_batch(batch)
        return {}

    @staticmethod
    def _fast_datum(batch: SampleBatch, ns: str, d: Any, now_ms: int) -> bool:
        """Store the common well-formed datum (plain Value, ordinary members) without the
        per-member error bookkeeping; False sends it through the full validation instead."""
        name = d.get("MetricName")
        value = d.get("Value")
        if (
            type(name) is not str
            or not 0 < len(name) <= 255
            or (type(value) is not float and type(value) is not int)
            or not -model.MAX_MAGNITUDE <= value <= model.MAX_MAGNITUDE  # also refuses NaN
            or len(d) > 5
        ):
            return False
        unit = model.UNIT_CODES.get(d.get("Unit", "None"))
        ts = d.get("Timestamp")
        if unit is None or (ts is not None and type(ts) is not float):
            return False
        ts_ms = now_ms if ts is None else round(ts * 1000)
        if not now_ms - _PAST_MS <= ts_ms <= now_ms + _FUTURE_MS:
            return False
        raw = d.get("Dimensions")
        pairs: list[tuple[str, str]] = []
        if raw:
            if len(raw) > model.MAX_DIMENSIONS:
                return False
            for dim in raw:
                k, v = dim.get("Name"), dim.get("Value")
                if (
                    type(k) is not str
                    or type(v) is not str
                    or not 0 < len(k) <= 255
                    or not 0 < len(v) <= 1024
                    or k[0] == ":"
                    or not k.isascii()
                ):
                    return False
                pairs.append((k, v))
            if len(pairs) > 1:
                pairs.sort()
                for i in range(1, len(pairs)):
                    if pairs[i][0] == pairs[i - 1][0]:
                        return False
        expected = 2 + ("Unit" in d) + ("Timestamp" in d) + ("Dimensions" in d)
        if len(d) != expected:  # StorageResolution, Values, StatisticValues ...: full path
            return False
        key = model.metric_key(ns, name, tuple(pairs))
        # The key's separators are the only \0 / \1 it may hold: none came from the strings.
        if key.count("\x00") != 1 + len(pairs) or key.count("\x01") != len(pairs):
            return False
        batch.add_value(key, unit, ts_ms, 1, float(value))
        return True

    def _datum(
        self, batch: SampleBatch, ns: str, d: Mapping[str, Any], p: str, i: int, now_ms: int
    ) -> None:
        name = _string(
            d.get("MetricName"), f"{p}.MetricName", f"metricData.{i}.member.metricName", 255
        )
        dims = _dimensions(
            d.get("Dimensions"), f"{p}.Dimensions", f"metricData.{i}.member.dimensions"
        )
        unit = _unit(d.get("Unit"), f"metricData.{i}.member.unit")
        resolution = d.get("StorageResolution", 60)
        if resolution not in (1, 60) or isinstance(resolution, bool):
            raise invalid(f"The value {resolution} for parameter {p}.StorageResolution is invalid.")
        ts = d.get("Timestamp")
        ts_ms = now_ms if ts is None else round(float(ts) * 1000)
        if ts_ms < now_ms - _PAST_MS:
            raise invalid(
                f"The parameter {p}.Timestamp must specify a time within the past two weeks."
            )
        if ts_ms > now_ms + _FUTURE_MS:
            raise invalid(
                f"The parameter {p}.Timestamp must specify a time no more than two hours in the future."
            )
        value, values, counts, stats = (
            d.get("Value"), d.get("Values"), d.get("Counts"), d.get("StatisticValues")
        )  # fmt: skip
        if value is not None and values is not None:  # [AWS-observed]
            raise combination(
                f"The parameters {p}.Value and {p}.Values are mutually exclusive and you have specified both."
            )
        if value is not None and stats is not None:  # [AWS-observed]
            raise combination(
                f"The parameters {p}.Value and {p}.StatisticValues are mutually exclusive and you have specified both."
            )
        key = model.metric_key(ns, name, dims)
        level = 0 if resolution == 1 else 1
        if value is not None:
            batch.add_value(key, unit, ts_ms, level, _number(value, f"{p}.Value"))
        elif values is not None or counts is not None:
            # AWS accepts Values together with StatisticValues; the Values are what is stored.
            self._values(batch, key, unit, ts_ms, level, values or [], counts, p)
        elif stats is not None:
            batch.add_statistic_set(key, unit, ts_ms, level, self._statistic_set(stats, p))
        else:  # [Inferred] wording
            raise missing(f"{p}.Value")

    @staticmethod
    def _values(
        batch: SampleBatch,
        key: str,
        unit: int,
        ts_ms: int,
        level: int,
        values: list[Any],
        counts: list[Any] | None,
        p: str,
    ) -> None:
        if counts is not None and len(counts) != len(values):  # [AWS-observed]
            raise invalid(f"The parameters {p}.Values and {p}.Counts must be of the same size.")
        if len(values) > model.MAX_VALUES:
            raise invalid(f"The collection {p}.Values must not have a size greater than 150.")
        if not values:
            raise missing(f"{p}.Values")
        checked = [_number(v, f"{p}.Values.member.{j}") for j, v in enumerate(values, 1)]
        weights = None
        if counts is not None:
            weights = [_number(c, f"{p}.Counts.member.{j}") for j, c in enumerate(counts, 1)]
            for j, c in enumerate(weights, 1):
                if c < 0:
                    raise invalid(
                        f"The value {c!r} for parameter {p}.Counts.member.{j} is invalid."
                    )
        batch.add_values(key, unit, ts_ms, level, checked, weights)

    @staticmethod
    def _statistic_set(stats: Mapping[str, Any], p: str) -> tuple[float, float, float, float]:
        got = []
        for member in ("SampleCount", "Sum", "Minimum", "Maximum"):
            if stats.get(member) is None:
                raise missing(f"{p}.StatisticValues.{member}")
            got.append(_number(stats[member], f"{p}.StatisticValues.{member}"))
        count, total, low, high = got
        if count <= 0:  # [Inferred]
            raise invalid(
                f"The value {count!r} for parameter {p}.StatisticValues.SampleCount is invalid."
            )
        if low > high:  # [Inferred]
            raise invalid(
                f"The value {low!r} for parameter {p}.StatisticValues.Minimum is invalid."
            )
        return count, total, low, high

    # -- GetMetricStatistics ---------------------------------------------------------------

    def get_metric_statistics(self, request: dict[str, Any]) -> dict[str, Any]:
        """Statistics of one metric per period (datapoints unordered, as AWS returns them)."""
        ns = _namespace(request.get("Namespace"), public=False)
        name = _string(request.get("MetricName"), "MetricName", "metricName", 255)
        dims = _dimensions(request.get("Dimensions"), "Dimensions", "dimensions")
        for member in ("StartTime", "EndTime", "Period"):
            if request.get(member) is None:
                raise missing(member)
        start_ms = round(float(request["StartTime"]) * 1000)
        end_ms = round(float(request["EndTime"]) * 1000)
        period = request["Period"]
        if isinstance(period, bool) or not isinstance(period, int) or period < 1:
            raise constraint(
                f"Value '{period}' at 'period' failed to satisfy constraint: "
                "Member must have value greater than or equal to 1"
            )
        if period not in (1, 5, 10, 20, 30) and period % 60:
            raise invalid("The parameter Period must be a multiple of 60.")
        if start_ms >= end_ms:  # [AWS-observed]
            raise invalid("The parameter StartTime must be less than the parameter EndTime.")
        stats = list(request.get("Statistics") or [])
        extended = list(request.get("ExtendedStatistics") or [])
        self._check_statistics(stats, extended)
        unit = request.get("Unit")
        if unit is not None:
            _unit(unit, "unit")
        points = datapoint_count(start_ms, end_ms, period)
        if points > _MAX_DATAPOINTS:  # [AWS-observed]
            raise combination(
                f"You have requested up to {points} datapoints, which exceeds the limit of 1440. "
                "You may reduce the datapoints requested by increasing Period, or decreasing the "
                "time range."
            )
        found = self._store.statistics(
            MetricId(ns, name, dims),
            start_ms=start_ms,
            end_ms=end_ms,
            period_s=period,
            statistics=stats or extended,
            unit=unit,
        )
        for point in found:
            point["Timestamp"] = point["Timestamp"] / 1000
        return {"Label": name, "Datapoints": found}

    @staticmethod
    def _check_statistics(stats: list[Any], extended: list[Any]) -> None:
        if stats and extended:
            raise combination("Must specify either Statistics or ExtendedStatistics, but not both.")
        if not stats and not extended:
            raise combination("Must specify either Statistics or ExtendedStatistics.")
        if len(stats) > 5:
            raise constraint(
                "Value at 'statistics' failed to satisfy constraint: "
                "Member must have length less than or equal to 5"
            )
        bad = [s for s in stats if s not in _STATISTIC_ENUM]
        if bad:
            raise constraint(
                f"Value '[{', '.join(map(str, stats))}]' at 'statistics' failed to satisfy "
                "constraint: Member must satisfy constraint: [Member must satisfy enum value set: "
                f"[{', '.join(_STATISTIC_ENUM)}]]"
            )
        if len(extended) > 10:
            raise constraint(
                "Value at 'extendedStatistics' failed to satisfy constraint: "
                "Member must have length less than or equal to 10"
            )
        for s in extended:
            if not isinstance(s, str) or not is_percentile(s):
                raise invalid(f"The value {s} for parameter ExtendedStatistics is not supported.")

    # -- ListMetrics -----------------------------------------------------------------------

    def list_metrics(self, request: dict[str, Any]) -> dict[str, Any]:
        """Metrics matching the filters, 500 per page."""
        ns = request.get("Namespace")
        if ns is not None:
            ns = _namespace(ns, public=False)
        name = request.get("MetricName")
        if name is not None:
            name = _string(name, "MetricName", "metricName", 255)
        filters = self._dimension_filters(request.get("Dimensions") or [])
        active = request.get("RecentlyActive")
        if active is not None and active != "PT3H":
            raise constraint(
                f"Value '{active}' at 'recentlyActive' failed to satisfy constraint: "
                "Member must satisfy enum value set: [PT3H]"
            )
        now_ms = int(self._clock() * 1000)
        after = _decode_token(request["NextToken"]) if request.get("NextToken") else None
        found = self._store.list_metrics(
            namespace=ns,
            name=name,
            dimension_filters=filters,
            active_since_ms=now_ms - 3 * 3600 * 1000 if active else None,
            after=after,
            limit=_PAGE + 1,
        )
        page = found[:_PAGE]
        out: dict[str, Any] = {
            "Metrics": [
                {
                    "Namespace": m.namespace,
                    "MetricName": m.name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in m.dimensions],
                }
                for m in page
            ]
        }
        if len(found) > _PAGE:
            out["NextToken"] = _encode_token(page[-1])
        return out

    @staticmethod
    def _dimension_filters(raw: list[Any]) -> list[tuple[str, str | None]]:
        if len(raw) > 10:
            raise constraint(
                "Value at 'dimensions' failed to satisfy constraint: "
                "Member must have length less than or equal to 10"
            )
        out: list[tuple[str, str | None]] = []
        for j, f in enumerate(raw, 1):
            dim = _string(
                f.get("Name"), f"Dimensions.member.{j}.Name", f"dimensions.{j}.member.name", 255
            )
            value = f.get("Value")
            if value is not None:
                value = _string(
                    value, f"Dimensions.member.{j}.Value", f"dimensions.{j}.member.value", 1024
                )
            out.append((dim, value))
        return out

    # -- GetMetricData ---------------------------------------------------------------------

    def get_metric_data(self, request: dict[str, Any]) -> dict[str, Any]:
        """Delegate planning and math to ``metric_data.get_metric_data`` with a store fetch."""
        run = self._metric_data
        if run is None:
            from heron.monitor.metrics.metric_data import get_metric_data

            run = get_metric_data
        result: dict[str, Any] = run(request, self.fetch, int(self._clock() * 1000))
        return result

    def fetch(
        self, metric_stat: Mapping[str, Any], start_ms: int, end_ms: int
    ) -> tuple[list[int], list[float]]:
        """Answer one MetricStat from the store: (period-start ms ascending, values)."""
        metric = metric_stat["Metric"]
        dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions") or []))
        stat = str(metric_stat["Stat"])
        try:
            return self._store.series(
                MetricId(metric["Namespace"], metric["MetricName"], dims),
                start_ms=start_ms,
                end_ms=end_ms,
                period_s=int(metric_stat["Period"]),
                statistic=stat,
                unit=metric_stat.get("Unit"),
            )
        except StatisticError as exc:
            raise invalid(f"The value {stat} for parameter MetricStat.Stat is invalid.") from exc


def _encode_token(metric: MetricId) -> str:
    key = model.metric_key(metric.namespace, metric.name, metric.dimensions)
    return base64.urlsafe_b64encode(key.encode()).decode()


def _decode_token(token: Any) -> MetricId:
    try:
        key = base64.urlsafe_b64decode(str(token).encode()).decode()
        return MetricId(*model.parse_key(key))
    except (binascii.Error, UnicodeDecodeError, IndexError, ValueError, TypeError) as exc:
        raise invalid(f"The value {token} for parameter NextToken is invalid.") from exc


def cloudwatch_operations(
    store: MetricStore, *, clock: Clock, metric_data: Callable[..., Any] | None = None
) -> dict[str, Handler]:
    """CloudWatch's metric operations keyed by name, bound to ``store`` and ``clock``.

    ``metric_data`` replaces ``heron.monitor.metrics.metric_data.get_metric_data`` (same
    signature: ``(request, fetch, now_ms) -> response``).
    """
    ops = _CloudWatch(store, clock, metric_data)
    return {
        "PutMetricData": ops.put_metric_data,
        "GetMetricStatistics": ops.get_metric_statistics,
        "ListMetrics": ops.list_metrics,
        "GetMetricData": ops.get_metric_data,
    }

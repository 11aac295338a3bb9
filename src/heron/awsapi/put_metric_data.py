"""CloudWatch's PutMetricData: every datum validated, then all stored in one batch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio.to_thread

from heron.awsapi.decode_pool import DecodePool, Unavailable
from heron.awsapi.errors import combination, invalid, missing
from heron.awsapi.metric_fields import (
    dimensions_member,
    namespace_member,
    number_member,
    string_member,
    unit_member,
)
from heron.awsapi.plain_put import (
    FUTURE_MS,
    PAST_MS,
    IdentityMemo,
    PlainPut,
    plain_body,
    plain_row,
)
from heron.monitor.metrics import model
from heron.monitor.metrics.ingest import SampleBatch
from heron.monitor.metrics.store import MetricStore
from heron.types import Clock

#: JSON at least this large is worth sending to a decode worker (about 170 datums).
OFFLOAD_MIN_BYTES = 32 * 1024


def json_size(body: bytes, gzipped: bool) -> int:
    """The JSON's size: a gzip member's trailer states it (modulo 4 GiB; only a hint)."""
    return int.from_bytes(body[-4:], "little") if gzipped else len(body)


class MetricWriter:
    """The PutMetricData handler, bound to one store and clock (and maybe decode workers)."""

    def __init__(self, store: MetricStore, clock: Clock, pool: DecodePool | None = None) -> None:
        self._store = store
        self._clock = clock
        self._pool = pool
        self._memo = IdentityMemo()

    async def put_raw(self, body: bytes, gzipped: bool, limit: int) -> dict[str, Any] | None:
        """PutMetricData straight from its raw JSON body when the request is plain (see
        ``plain_put``); None leaves the request to the generic path, which answers it."""
        return await anyio.to_thread.run_sync(self._put_raw, body, gzipped, limit)

    def _put_raw(self, body: bytes, gzipped: bool, limit: int) -> dict[str, Any] | None:
        now_ms = int(self._clock() * 1000)
        if self._pool is not None and json_size(body, gzipped) >= OFFLOAD_MIN_BYTES:
            rows = self._pool.decode(body, gzipped, limit, now_ms, self._store.metric_ids)
            if not isinstance(rows, Unavailable):
                if rows is None:
                    return None
                self._store.put_resolved(*rows)
                return {}
        return self._put_plain(plain_body(body, gzipped, limit, now_ms, self._memo))

    def _put_plain(self, put: PlainPut | None) -> dict[str, Any] | None:
        if put is None:
            return None
        self._store.put_batch(
            SampleBatch.of_values(put.keys, put.units, put.times_ms, put.values, 1)
        )
        return {}

    def put_metric_data(self, request: dict[str, Any]) -> dict[str, Any]:
        """Validate every datum, then store them all in one commit."""
        ns = namespace_member(request.get("Namespace"), public=True)
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

    def _fast_datum(self, batch: SampleBatch, ns: str, d: Any, now_ms: int) -> bool:
        """Store a plain datum without the per-member error bookkeeping; False sends it
        through the full validation instead."""
        row = plain_row(d, ns, now_ms, self._memo)
        if row is None:
            return False
        key, unit, ts_ms, value = row
        batch.add_value(key, unit, ts_ms, 1, value)
        return True

    def _datum(
        self, batch: SampleBatch, ns: str, d: Mapping[str, Any], p: str, i: int, now_ms: int
    ) -> None:
        name = string_member(
            d.get("MetricName"), f"{p}.MetricName", f"metricData.{i}.member.metricName", 255
        )
        dims = dimensions_member(
            d.get("Dimensions"), f"{p}.Dimensions", f"metricData.{i}.member.dimensions"
        )
        unit = unit_member(d.get("Unit"), f"metricData.{i}.member.unit")
        resolution = d.get("StorageResolution", 60)
        if resolution not in (1, 60) or isinstance(resolution, bool):
            raise invalid(f"The value {resolution} for parameter {p}.StorageResolution is invalid.")
        ts = d.get("Timestamp")
        ts_ms = now_ms if ts is None else round(float(ts) * 1000)
        if ts_ms < now_ms - PAST_MS:
            raise invalid(
                f"The parameter {p}.Timestamp must specify a time within the past two weeks."
            )
        if ts_ms > now_ms + FUTURE_MS:
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
            batch.add_value(key, unit, ts_ms, level, number_member(value, f"{p}.Value"))
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
        checked = [number_member(v, f"{p}.Values.member.{j}") for j, v in enumerate(values, 1)]
        weights = None
        if counts is not None:
            weights = [number_member(c, f"{p}.Counts.member.{j}") for j, c in enumerate(counts, 1)]
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
            got.append(number_member(stats[member], f"{p}.StatisticValues.{member}"))
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

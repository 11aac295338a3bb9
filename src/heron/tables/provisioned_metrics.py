"""The provisioned-capacity metrics DynamoDB publishes for tables in provisioned mode.

AWS/DynamoDB ``ProvisionedReadCapacityUnits`` and ``ProvisionedWriteCapacityUnits`` (by
``TableName``, and by ``TableName`` + ``GlobalSecondaryIndexName`` for each index) are what
the seed's "consumed capacity: 80 % of provisioned" alarm and the dashboard divide by. AWS
publishes them every five minutes; Heron publishes them every minute so a fresh instance has them
in the first period. On-demand tables publish none, as on AWS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from heron.tables.base import TableSchema
from heron.tables.metrics import NAMESPACE
from heron.types import Dimensions, MetricDatum, TelemetrySink

log = logging.getLogger(__name__)

#: Seconds between publications.
PUBLISH_INTERVAL_S = 60.0


def provisioned_capacity_datums(
    schemas: Sequence[TableSchema], timestamp_ms: int
) -> list[MetricDatum]:
    """The provisioned read/write units of every provisioned table and its indexes."""
    out: list[MetricDatum] = []
    for schema in schemas:
        if schema.provisioned is None:
            continue
        read_units, write_units = schema.provisioned
        # Heron's indexes share the table's throughput settings (as tables create declares).
        targets: list[Dimensions] = [(("TableName", schema.name),)]
        targets += [
            (("GlobalSecondaryIndexName", index.name), ("TableName", schema.name))
            for index in schema.indexes
        ]
        for dims in targets:
            out.append(
                MetricDatum(
                    NAMESPACE,
                    "ProvisionedReadCapacityUnits",
                    float(read_units),
                    "Count",
                    dims,
                    timestamp_ms,
                )
            )
            out.append(
                MetricDatum(
                    NAMESPACE,
                    "ProvisionedWriteCapacityUnits",
                    float(write_units),
                    "Count",
                    dims,
                    timestamp_ms,
                )
            )
    return out


async def publish_provisioned_capacity(
    schemas: Sequence[TableSchema],
    sink: TelemetrySink,
    clock: Callable[[], float],
    stop: asyncio.Event,
    interval_s: float = PUBLISH_INTERVAL_S,
) -> None:
    """Publish the provisioned-capacity datums now and every ``interval_s`` until ``stop``."""
    if not any(schema.provisioned for schema in schemas):
        return
    while not stop.is_set():
        try:
            sink.put_metric_data(provisioned_capacity_datums(schemas, int(clock() * 1000)))
        except Exception:  # telemetry must never take the server down; the next minute retries
            log.exception("publishing provisioned capacity failed")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)

"""The catalogue's DynamoDB alarms: capacity, latency, throttling and error rates per table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from heron.monitor.alarms.catalogue import CatalogueAlarm, TableTarget
from heron.monitor.alarms.catalogue_requests import alarm, dims, metric_math, metric_stat

#: DynamoDB's default table-level throughput ceiling for on-demand tables (units per second).
ON_DEMAND_TABLE_MAX = 40_000
READ_OPERATIONS = ("GetItem", "Query", "Scan")
WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems")


def table_alarms(table: TableTarget) -> list[CatalogueAlarm]:
    """One table's alarms: consumed capacity, read/write latency, throttle and system-error rates."""
    t = table.name
    by_table = dims(TableName=t)

    def per_op(metric: str, prefix: str, ops: Sequence[str], stat: str) -> list[dict[str, Any]]:
        return [
            metric_stat(
                f"{prefix}{op.lower()}",
                "AWS/DynamoDB",
                metric,
                dims(Operation=op, TableName=t),
                stat,
                300,
            )
            for op in ops
        ]

    requests = [
        metric_stat(
            "reads", "AWS/DynamoDB", "ConsumedReadCapacityUnits", by_table, "SampleCount", 300
        ),
        metric_stat(
            "writes", "AWS/DynamoDB", "ConsumedWriteCapacityUnits", by_table, "SampleCount", 300
        ),
    ]
    out = []
    for direction, index in (("Read", 0), ("Write", 1)):
        limit = table.provisioned[index] if table.provisioned else ON_DEMAND_TABLE_MAX
        kind = "provisioned" if table.provisioned else "on-demand table maximum"
        out.append(
            alarm(
                f"DynamoDB-{t}-Consumed{direction}Capacity",
                "warning",
                "dynamodb.consumed_capacity",
                f"{t}: consumed {direction.lower()} capacity above 80% of {limit} units/s ({kind})",
                threshold=80.0,
                **metric_math(
                    f"100 * (consumed / PERIOD(consumed)) / {limit}",
                    f"Consumed {direction.lower()} capacity (%)",
                    metric_stat(
                        "consumed",
                        "AWS/DynamoDB",
                        f"Consumed{direction}CapacityUnits",
                        by_table,
                        "Sum",
                        300,
                    ),
                ),
            )
        )
    for direction, ops in (("Read", READ_OPERATIONS), ("Write", WRITE_OPERATIONS)):
        stats = per_op("SuccessfulRequestLatency", "latency", ops, "Average")
        ids = ", ".join(s["Id"] for s in stats)
        out.append(
            alarm(
                f"DynamoDB-{t}-{direction}Latency",
                "warning",
                f"dynamodb.{direction.lower()}_latency",
                f"{t}: average {direction.lower()} latency above 100 ms ({', '.join(ops)})",
                threshold=100.0,
                **metric_math(f"MAX([{ids}])", f"{direction} latency (ms)", *stats),
            )
        )
    out.append(
        alarm(
            f"DynamoDB-{t}-ThrottleRate",
            "warning",
            "dynamodb.throttle_rate",
            f"{t}: more than 1% of requests throttled over 5 minutes",
            threshold=1.0,
            **metric_math(
                "100 * (FILL(rt, 0) + FILL(wt, 0)) / "
                "(FILL(reads, 0) + FILL(writes, 0) + FILL(rt, 0) + FILL(wt, 0))",
                "Throttled requests (%)",
                metric_stat("rt", "AWS/DynamoDB", "ReadThrottleEvents", by_table, "Sum", 300),
                metric_stat("wt", "AWS/DynamoDB", "WriteThrottleEvents", by_table, "Sum", 300),
                *requests,
            ),
        )
    )
    errors = per_op("SystemErrors", "se", READ_OPERATIONS + WRITE_OPERATIONS, "Sum")
    ids = ", ".join(s["Id"] for s in errors)
    out.append(
        alarm(
            f"DynamoDB-{t}-SystemErrorRate",
            "critical",
            "dynamodb.system_error_rate",
            f"{t}: more than 1% of requests failed with a DynamoDB system error (HTTP 500)",
            threshold=1.0,
            **metric_math(
                f"100 * SUM(FILL([{ids}], 0)) / (FILL(reads, 0) + FILL(writes, 0))",
                "System errors (%)",
                *errors,
                *requests,
            ),
        )
    )
    return out


def user_error_alarm(tables: Sequence[TableTarget]) -> CatalogueAlarm:
    """The account-wide DynamoDB user-error rate alarm, over the first four tables' requests."""
    # UserErrors is account-wide; the denominator adds up the tables' requests (four tables fit
    # the ten-metric limit with the numerator: the catalogue watches the first four).
    watched = tables[:4]
    stats = [
        metric_stat("usererrors", "AWS/DynamoDB", "UserErrors", [], "Sum", 300),
    ]
    terms = []
    for i, table in enumerate(watched):
        for kind, metric in (
            ("r", "ConsumedReadCapacityUnits"),
            ("w", "ConsumedWriteCapacityUnits"),
        ):
            ident = f"{kind}{i}"
            stats.append(
                metric_stat(
                    ident, "AWS/DynamoDB", metric, dims(TableName=table.name), "SampleCount", 300
                )
            )
            terms.append(f"FILL({ident}, 0)")
    names = ", ".join(t.name for t in watched)
    return alarm(
        "DynamoDB-UserErrorRate",
        "warning",
        "dynamodb.user_error_rate",
        f"DynamoDB: more than 1% of requests rejected as invalid (HTTP 400) over 5 minutes"
        f" (requests of {names})",
        threshold=1.0,
        **metric_math(
            f"100 * FILL(usererrors, 0) / ({' + '.join(terms)})",
            "User errors (%)",
            *stats,
        ),
    )

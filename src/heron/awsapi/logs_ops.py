"""CloudWatch Logs operations (awsJson 1.1) over the log store, with AWS's errors and shapes.

Each handler takes the decoded request (botocore input shape; Logs' own times are epoch-ms
integers, not timestamp types) and returns the output shape. Logs is not query-compatible, so
errors carry only the modelled exception name. Request checks and paging are in
``logs_requests``; the metric filter operations in ``logs_metric_filter_ops``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from heron.awsapi.errors import AwsError
from heron.awsapi.logs_metric_filter_ops import metric_filter_operations
from heron.awsapi.logs_requests import (
    GROUP_PATTERN,
    GROUP_RE,
    STREAM_RE,
    Checks,
    Handler,
    group_name_of,
    invalid,
    page_items,
    store_call,
)
from heron.monitor.logs.insights import QueryManager
from heron.monitor.logs.insights_parser import QueryError
from heron.monitor.logs.patterns import PatternError, compile_pattern
from heron.monitor.logs.store import LogStore
from heron.types import Clock

#: The retention periods PutRetentionPolicy accepts.
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)  # fmt: skip


def log_events(raw: list[Any]) -> list[tuple[int, str]]:
    """PutLogEvents' events as (timestamp, message), or the error naming the first bad one."""
    try:
        events = [(e["timestamp"], e["message"]) for e in raw]
    except (TypeError, KeyError):
        events = []
    # Checked column-wise (a few C-level passes): this runs for every event ingested.
    if (
        len(events) == len(raw)
        and all(type(ts) is int for ts, _ in events)
        and all(type(m) is str and m for _, m in events)
    ):
        return events
    for i, e in enumerate(raw):
        ts, msg = (e.get("timestamp"), e.get("message")) if isinstance(e, dict) else (None, None)
        if not isinstance(ts, int) or isinstance(ts, bool) or not isinstance(msg, str) or not msg:
            raise invalid(
                f"1 validation error detected: Value at 'logEvents.{i + 1}.member' failed to "
                "satisfy constraint: Member must have a timestamp and a non-empty message"
            )
    raise AssertionError("the column checks and the per-event checks disagree")


def logs_operations(
    store: LogStore,
    *,
    clock: Clock,
    region: str = "us-east-1",
    account_id: str = "000000000000",
    queries: QueryManager | None = None,
) -> dict[str, Handler]:
    """The CloudWatch Logs operations over ``store``, keyed by operation name."""
    qm = queries if queries is not None else QueryManager(store, clock=clock)
    arn_base = f"arn:aws:logs:{region}:{account_id}:log-group:"

    def create_log_group(req: dict[str, Any]) -> dict[str, Any]:
        name = group_name_of({"logGroupName": req.get("logGroupName")})
        if name.lower().startswith("aws/"):
            raise invalid("Log groups starting with AWS/ are reserved for AWS.")
        store_call(lambda: store.create_group(name))
        return {}

    def delete_log_group(req: dict[str, Any]) -> dict[str, Any]:
        name = group_name_of({"logGroupName": req.get("logGroupName")})
        store_call(lambda: store.delete_group(name))
        return {}

    def group_and_stream(req: dict[str, Any]) -> tuple[str, str]:
        checks = Checks(req)
        group = checks.group_name()
        stream = checks.string("logStreamName", required=True, regex=STREAM_RE)
        checks.done()
        assert group is not None and stream is not None
        return group, stream

    def create_log_stream(req: dict[str, Any]) -> dict[str, Any]:
        group, stream = group_and_stream(req)
        store_call(lambda: store.create_stream(group, stream))
        return {}

    def delete_log_stream(req: dict[str, Any]) -> dict[str, Any]:
        group, stream = group_and_stream(req)
        store_call(lambda: store.delete_stream(group, stream))
        return {}

    def describe_log_groups(req: dict[str, Any]) -> dict[str, Any]:
        checks = Checks(req)
        prefix = checks.string("logGroupNamePrefix", regex=GROUP_RE, regex_text=GROUP_PATTERN)
        pattern = checks.string("logGroupNamePattern", low=0, high=512)
        limit = checks.integer("limit", 1, 50) or 50
        checks.done()
        if prefix is not None and pattern is not None:
            raise invalid(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
            )
        groups = store.groups(prefix)
        if pattern:
            groups = [g for g in groups if pattern.lower() in g.name.lower()]
        page, token = page_items(groups, lambda g: g.name, req.get("nextToken"), limit)
        out: dict[str, Any] = {
            "logGroups": [
                {
                    "logGroupName": g.name,
                    "creationTime": g.created_ms,
                    **({"retentionInDays": g.retention_days} if g.retention_days else {}),
                    "metricFilterCount": g.metric_filter_count,
                    "arn": f"{arn_base}{g.name}:*",
                    "storedBytes": g.stored_bytes,
                    "logGroupClass": "STANDARD",
                    "logGroupArn": f"{arn_base}{g.name}",
                }
                for g in page
            ]
        }
        if token:
            out["nextToken"] = token
        return out

    def describe_log_streams(req: dict[str, Any]) -> dict[str, Any]:
        group = group_name_of(req)
        checks = Checks(req)
        prefix = checks.string("logStreamNamePrefix", regex=STREAM_RE)
        limit = checks.integer("limit", 1, 50) or 50
        order = req.get("orderBy", "LogStreamName")
        if order not in ("LogStreamName", "LastEventTime"):
            checks.errors.append(
                f"Value '{order}' at 'orderBy' failed to satisfy constraint: Member must satisfy "
                "enum value set: [LogStreamName, LastEventTime]"
            )
        checks.done()
        if prefix is not None and order == "LastEventTime":
            raise invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
        streams = store_call(lambda: store.streams(group, prefix))
        descending = bool(req.get("descending", False))
        if order == "LastEventTime":
            streams.sort(key=lambda s: (s.last_event_ms or 0, s.name), reverse=descending)
        elif descending:
            streams.reverse()
        page, token = page_items(streams, lambda s: s.name, req.get("nextToken"), limit)
        items = []
        for s in page:
            item: dict[str, Any] = {"logStreamName": s.name, "creationTime": s.created_ms}
            if s.first_event_ms is not None:
                item["firstEventTimestamp"] = s.first_event_ms
                item["lastEventTimestamp"] = s.last_event_ms
            if s.last_ingestion_ms is not None:
                item["lastIngestionTime"] = s.last_ingestion_ms
            item["uploadSequenceToken"] = "1"
            item["arn"] = f"{arn_base}{group}:log-stream:{s.name}"
            item["storedBytes"] = s.stored_bytes
            items.append(item)
        out: dict[str, Any] = {"logStreams": items}
        if token:
            out["nextToken"] = token
        return out

    def put_log_events(req: dict[str, Any]) -> dict[str, Any]:
        checks = Checks(req)
        group = checks.group_name()
        stream = checks.string("logStreamName", required=True, regex=STREAM_RE)
        raw = req.get("logEvents")
        if not isinstance(raw, list) or not raw:
            checks.errors.append(
                "Value null at 'logEvents' failed to satisfy constraint: Member must not be null"
                if raw is None
                else "Value '[]' at 'logEvents' failed to satisfy constraint: Member must have "
                "length greater than or equal to 1"
            )
        checks.done()
        assert group is not None and stream is not None and isinstance(raw, list)
        events = log_events(raw)
        result = store_call(lambda: store.put_events(group, stream, events))
        out: dict[str, Any] = {"nextSequenceToken": f"{store.now_ms():056d}"}
        if info := result.decision.rejected_info():
            out["rejectedLogEventsInfo"] = info
        return out

    def get_log_events(req: dict[str, Any]) -> dict[str, Any]:
        group = group_name_of(req)
        checks = Checks(req)
        stream = checks.string("logStreamName", required=True, regex=STREAM_RE)
        limit = checks.integer("limit", 1, 10_000) or 10_000
        checks.done()
        assert stream is not None
        page = store_call(
            lambda: store.get_events(
                group,
                stream,
                start_ms=req.get("startTime"),
                end_ms=req.get("endTime"),
                limit=limit,
                token=req.get("nextToken"),
                start_from_head=bool(req.get("startFromHead", False)),
            )
        )
        return {
            "events": [
                {"timestamp": e.timestamp_ms, "message": e.message, "ingestionTime": e.ingestion_ms}
                for e in page.events
            ],
            "nextForwardToken": page.forward_token,
            "nextBackwardToken": page.backward_token,
        }

    def filter_log_events(req: dict[str, Any]) -> dict[str, Any]:
        group = group_name_of(req)
        checks = Checks(req)
        prefix = checks.string("logStreamNamePrefix", regex=STREAM_RE)
        limit = checks.integer("limit", 1, 10_000) or 10_000
        checks.string("filterPattern", low=0, high=1024)
        names = req.get("logStreamNames")
        if names is not None and not 1 <= len(names) <= 100:
            checks.errors.append(
                "Value at 'logStreamNames' failed to satisfy constraint: Member must have length "
                "between 1 and 100"
            )
        checks.done()
        if names is not None and prefix is not None:
            raise invalid("logStreamNames and logStreamNamePrefix are mutually exclusive")
        try:
            pattern = compile_pattern(req["filterPattern"]) if req.get("filterPattern") else None
        except PatternError as exc:
            msg = str(exc)
            raise invalid(
                msg if msg.startswith("Invalid character") else "Invalid filter pattern"
            ) from exc
        page = store_call(
            lambda: store.filter_events(
                group,
                pattern=pattern,
                stream_names=names,
                stream_prefix=prefix,
                start_ms=req.get("startTime"),
                end_ms=req.get("endTime"),
                limit=limit,
                token=req.get("nextToken"),
            )
        )
        out: dict[str, Any] = {
            "events": [
                {
                    "logStreamName": e.stream,
                    "timestamp": e.timestamp_ms,
                    "message": e.message,
                    "ingestionTime": e.ingestion_ms,
                    "eventId": f"{e.event_id:056d}",
                }
                for e in page.events
            ],
            "searchedLogStreams": [],
        }
        if page.next_token:
            out["nextToken"] = page.next_token
        return out

    def put_retention_policy(req: dict[str, Any]) -> dict[str, Any]:
        checks = Checks(req)
        group = checks.group_name()
        days = req.get("retentionInDays")
        if days is None:
            checks.errors.append(
                "Value null at 'retentionInDays' failed to satisfy constraint: Member must not be null"
            )
        elif days not in RETENTION_DAYS or isinstance(days, bool):
            checks.errors.append(
                f"Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member must "
                f"satisfy enum value set: [{', '.join(map(str, RETENTION_DAYS))}]"
            )
        checks.done()
        assert group is not None
        store_call(lambda: store.set_retention(group, int(days or 0)))
        return {}

    def delete_retention_policy(req: dict[str, Any]) -> dict[str, Any]:
        group = group_name_of({"logGroupName": req.get("logGroupName")})
        store_call(lambda: store.set_retention(group, None))
        return {}

    def start_query(req: dict[str, Any]) -> dict[str, Any]:
        groups: list[str] = []
        if req.get("logGroupName") is not None:
            groups.append(group_name_of({"logGroupName": req["logGroupName"]}))
        for key in ("logGroupNames", "logGroupIdentifiers"):
            for g in req.get(key) or []:
                groups.append(group_name_of({"logGroupIdentifier": g}))
        if not groups:
            raise invalid("Log group names or identifiers must be specified")
        if len(groups) > 50:
            raise invalid("Up to 50 log groups can be queried at once")
        checks = Checks(req)
        query = checks.string("queryString", required=True, low=0, high=10_000)
        checks.integer("startTime", 0, 2**62, required=True)
        checks.integer("endTime", 0, 2**62, required=True)
        limit = checks.integer("limit", 1, 10_000)
        checks.done()
        if req["endTime"] < req["startTime"]:
            raise invalid("endTime must be greater than or equal to startTime")
        for g in groups:
            store_call(partial(store.group, g))
        try:
            qid = qm.start(groups, query or "", req["startTime"], req["endTime"], limit)
        except QueryError as exc:
            raise AwsError("MalformedQueryException", str(exc)) from exc
        return {"queryId": qid}

    def get_query_results(req: dict[str, Any]) -> dict[str, Any]:
        qid = req.get("queryId")
        result = qm.results(str(qid)) if qid is not None else None
        if result is None:
            raise AwsError("ResourceNotFoundException", "Query does not exist.")
        return result

    def stop_query(req: dict[str, Any]) -> dict[str, Any]:
        qid = req.get("queryId")
        stopped = qm.stop(str(qid)) if qid is not None else None
        if stopped is None:
            raise AwsError("ResourceNotFoundException", "Query does not exist.")
        return {"success": stopped}

    return {
        "CreateLogGroup": create_log_group,
        "DeleteLogGroup": delete_log_group,
        "CreateLogStream": create_log_stream,
        "DeleteLogStream": delete_log_stream,
        "DescribeLogGroups": describe_log_groups,
        "DescribeLogStreams": describe_log_streams,
        "PutLogEvents": put_log_events,
        "GetLogEvents": get_log_events,
        "FilterLogEvents": filter_log_events,
        **metric_filter_operations(store),
        "PutRetentionPolicy": put_retention_policy,
        "DeleteRetentionPolicy": delete_retention_policy,
        "StartQuery": start_query,
        "GetQueryResults": get_query_results,
        "StopQuery": stop_query,
    }


__all__: Sequence[str] = ["RETENTION_DAYS", "logs_operations"]

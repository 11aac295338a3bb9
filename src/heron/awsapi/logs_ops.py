"""CloudWatch Logs operations (awsJson 1.1) over the log store, with AWS's errors and shapes.

Each handler takes the decoded request (botocore input shape; Logs' own times are epoch-ms
integers, not timestamp types) and returns the output shape. Logs is not query-compatible, so
errors carry only the modelled exception name.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import orjson

from heron.awsapi.errors import AwsError
from heron.monitor.logs.insights import QueryError, QueryManager
from heron.monitor.logs.metric_filters import (
    MAX_TEST_MESSAGES,
    FilterDefinitionError,
    match_test_messages,
)
from heron.monitor.logs.patterns import PatternError, compile_pattern
from heron.monitor.logs.store import (
    AlreadyExists,
    InvalidRequest,
    LimitExceeded,
    LogStore,
    NotFound,
)
from heron.types import Clock

Handler = Callable[[dict[str, Any]], dict[str, Any]]

#: The retention periods PutRetentionPolicy accepts.
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)  # fmt: skip
_GROUP_RE = re.compile(r"[\.\-_/#A-Za-z0-9]+")
_GROUP_PATTERN = r"[\.\-_/#A-Za-z0-9]+"
_STREAM_RE = re.compile(r"[^:*]*")
_FILTER_NAME_RE = re.compile(r"[^:*]*")
_METRIC_NAME_RE = re.compile(r"[^:*$]*")


def invalid(message: str) -> AwsError:
    """An ``InvalidParameterException``."""
    return AwsError("InvalidParameterException", message)


class _Checks:
    """Collects AWS-style constraint violations and raises them together."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.request = request
        self.errors: list[str] = []

    def group_name(self) -> str | None:
        """The required ``logGroupName``, checked against the log-group name pattern."""
        return self.string(
            "logGroupName", required=True, regex=_GROUP_RE, regex_text=_GROUP_PATTERN
        )

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        low: int = 1,
        high: int = 512,
        regex: re.Pattern[str] | None = None,
        regex_text: str | None = None,
    ) -> str | None:
        value = self.request.get(name)
        if value is None:
            if required:
                self.errors.append(
                    f"Value null at '{name}' failed to satisfy constraint: Member must not be null"
                )
            return None
        if not isinstance(value, str):
            self.errors.append(f"Value at '{name}' failed to satisfy constraint: must be a string")
            return None
        if regex is not None and not regex.fullmatch(value):
            self.errors.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must satisfy "
                f"regular expression pattern: {regex_text or regex.pattern}"
            )
        if len(value) < low:
            self.errors.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must have "
                f"length greater than or equal to {low}"
            )
        elif len(value) > high:
            self.errors.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must have "
                f"length less than or equal to {high}"
            )
        return value

    def integer(self, name: str, low: int, high: int, *, required: bool = False) -> int | None:
        value = self.request.get(name)
        if value is None:
            if required:
                self.errors.append(
                    f"Value null at '{name}' failed to satisfy constraint: Member must not be null"
                )
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.errors.append(f"Value '{value}' at '{name}' failed to satisfy constraint: integer")
            return None
        if value < low:
            self.errors.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must have "
                f"value greater than or equal to {low}"
            )
        elif value > high:
            self.errors.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must have "
                f"value less than or equal to {high}"
            )
        return value

    def done(self) -> None:
        if self.errors:
            n = len(self.errors)
            raise invalid(
                f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(self.errors)
            )


def _group_name(request: dict[str, Any]) -> str:
    """``logGroupName`` or ``logGroupIdentifier`` (name or ARN), validated."""
    ident = request.get("logGroupIdentifier")
    if ident is not None and request.get("logGroupName") is not None:
        raise invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if isinstance(ident, str) and ident.startswith("arn:"):
        parts = ident.split(":")
        if len(parts) < 7 or parts[5] != "log-group":
            raise invalid("Invalid logGroupIdentifier")
        return parts[6]
    checks = _Checks(request)
    field = "logGroupIdentifier" if ident is not None else "logGroupName"
    name = checks.string(field, required=True, regex=_GROUP_RE, regex_text=_GROUP_PATTERN)
    checks.done()
    assert name is not None
    return name


def _encode_token(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode()


def _decode_token(token: str | None) -> Any:
    if token is None:
        return None
    try:
        return orjson.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise invalid("The specified nextToken is invalid.") from exc


def _page(
    items: list[Any], key: Callable[[Any], Any], token: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """Page a sorted list, starting after the item whose key the token names."""
    after = _decode_token(token)
    start = 0
    if after is not None:
        start = next((n + 1 for n, item in enumerate(items) if key(item) == after), 0)
    page = items[start : start + limit]
    more = start + limit < len(items)
    return page, (_encode_token(key(page[-1])) if more and page else None)


def _store_call(fn: Callable[[], Any]) -> Any:
    """Run a store call and translate its errors into AWS's."""
    try:
        return fn()
    except NotFound as exc:
        raise AwsError("ResourceNotFoundException", str(exc)) from exc
    except AlreadyExists as exc:
        raise AwsError("ResourceAlreadyExistsException", str(exc)) from exc
    except LimitExceeded as exc:
        raise AwsError("LimitExceededException", str(exc)) from exc
    except InvalidRequest as exc:
        raise invalid(str(exc)) from exc
    except FilterDefinitionError as exc:
        raise invalid(str(exc)) from exc
    except PatternError as exc:
        raise invalid(str(exc)) from exc


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
        name = _group_name({"logGroupName": req.get("logGroupName")})
        if name.lower().startswith("aws/"):
            raise invalid("Log groups starting with AWS/ are reserved for AWS.")
        _store_call(lambda: store.create_group(name))
        return {}

    def delete_log_group(req: dict[str, Any]) -> dict[str, Any]:
        name = _group_name({"logGroupName": req.get("logGroupName")})
        _store_call(lambda: store.delete_group(name))
        return {}

    def group_and_stream(req: dict[str, Any]) -> tuple[str, str]:
        checks = _Checks(req)
        group = checks.group_name()
        stream = checks.string("logStreamName", required=True, regex=_STREAM_RE)
        checks.done()
        assert group is not None and stream is not None
        return group, stream

    def create_log_stream(req: dict[str, Any]) -> dict[str, Any]:
        group, stream = group_and_stream(req)
        _store_call(lambda: store.create_stream(group, stream))
        return {}

    def delete_log_stream(req: dict[str, Any]) -> dict[str, Any]:
        group, stream = group_and_stream(req)
        _store_call(lambda: store.delete_stream(group, stream))
        return {}

    def describe_log_groups(req: dict[str, Any]) -> dict[str, Any]:
        checks = _Checks(req)
        prefix = checks.string("logGroupNamePrefix", regex=_GROUP_RE, regex_text=_GROUP_PATTERN)
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
        page, token = _page(groups, lambda g: g.name, req.get("nextToken"), limit)
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
        group = _group_name(req)
        checks = _Checks(req)
        prefix = checks.string("logStreamNamePrefix", regex=_STREAM_RE)
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
        streams = _store_call(lambda: store.streams(group, prefix))
        descending = bool(req.get("descending", False))
        if order == "LastEventTime":
            streams.sort(key=lambda s: (s.last_event_ms or 0, s.name), reverse=descending)
        elif descending:
            streams.reverse()
        page, token = _page(streams, lambda s: s.name, req.get("nextToken"), limit)
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
        checks = _Checks(req)
        group = checks.group_name()
        stream = checks.string("logStreamName", required=True, regex=_STREAM_RE)
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
        events: list[tuple[int, str]] = []
        for i, e in enumerate(raw):
            ts, msg = (
                (e.get("timestamp"), e.get("message")) if isinstance(e, dict) else (None, None)
            )
            if (
                not isinstance(ts, int)
                or isinstance(ts, bool)
                or not isinstance(msg, str)
                or not msg
            ):
                raise invalid(
                    f"1 validation error detected: Value at 'logEvents.{i + 1}.member' failed to "
                    "satisfy constraint: Member must have a timestamp and a non-empty message"
                )
            events.append((ts, msg))
        result = _store_call(lambda: store.put_events(group, stream, events))
        out: dict[str, Any] = {"nextSequenceToken": f"{store.now_ms():056d}"}
        if info := result.decision.rejected_info():
            out["rejectedLogEventsInfo"] = info
        return out

    def get_log_events(req: dict[str, Any]) -> dict[str, Any]:
        group = _group_name(req)
        checks = _Checks(req)
        stream = checks.string("logStreamName", required=True, regex=_STREAM_RE)
        limit = checks.integer("limit", 1, 10_000) or 10_000
        checks.done()
        assert stream is not None
        page = _store_call(
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
        group = _group_name(req)
        checks = _Checks(req)
        prefix = checks.string("logStreamNamePrefix", regex=_STREAM_RE)
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
        page = _store_call(
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

    def put_metric_filter(req: dict[str, Any]) -> dict[str, Any]:
        checks = _Checks(req)
        group = checks.group_name()
        name = checks.string("filterName", required=True, regex=_FILTER_NAME_RE)
        pattern = checks.string("filterPattern", required=True, low=0, high=1024)
        transformations = req.get("metricTransformations")
        if not isinstance(transformations, list) or not transformations:
            checks.errors.append(
                "Value null at 'metricTransformations' failed to satisfy constraint: Member must "
                "not be null"
            )
        else:
            for i, t in enumerate(transformations):
                for field, regex in (
                    ("metricName", _METRIC_NAME_RE),
                    ("metricNamespace", _METRIC_NAME_RE),
                ):
                    sub = _Checks(t if isinstance(t, dict) else {})
                    sub.string(field, required=True, high=255, regex=regex)
                    checks.errors += [
                        e.replace(f"'{field}'", f"'metricTransformations.{i + 1}.member.{field}'")
                        for e in sub.errors
                    ]
                sub = _Checks(t if isinstance(t, dict) else {})
                sub.string("metricValue", required=True, high=100)
                checks.errors += sub.errors
        checks.done()
        assert group is not None and name is not None and pattern is not None
        _store_call(lambda: store.put_metric_filter(group, name, pattern, transformations or []))
        return {}

    def describe_metric_filters(req: dict[str, Any]) -> dict[str, Any]:
        checks = _Checks(req)
        group = checks.string("logGroupName", regex=_GROUP_RE, regex_text=_GROUP_PATTERN)
        prefix = checks.string("filterNamePrefix", regex=_FILTER_NAME_RE)
        limit = checks.integer("limit", 1, 50) or 50
        checks.done()
        metric_name, namespace = req.get("metricName"), req.get("metricNamespace")
        if (metric_name is None) != (namespace is None):
            raise invalid("metricName and metricNamespace must be specified together")
        if prefix is not None and group is None:
            raise invalid("logGroupName is required when filterNamePrefix is specified")
        pairs = _store_call(lambda: store.metric_filters(group))
        items = [
            mf.as_dict(g)
            for g, mf in pairs
            if (prefix is None or mf.name.startswith(prefix))
            and (
                metric_name is None
                or (
                    mf.transformation.metric_name == metric_name
                    and mf.transformation.namespace == namespace
                )
            )
        ]
        page, token = _page(
            items, lambda d: [d["logGroupName"], d["filterName"]], req.get("nextToken"), limit
        )
        out: dict[str, Any] = {"metricFilters": page}
        if token:
            out["nextToken"] = token
        return out

    def delete_metric_filter(req: dict[str, Any]) -> dict[str, Any]:
        checks = _Checks(req)
        group = checks.group_name()
        name = checks.string("filterName", required=True, regex=_FILTER_NAME_RE)
        checks.done()
        assert group is not None and name is not None
        _store_call(lambda: store.delete_metric_filter(group, name))
        return {}

    def test_metric_filter(req: dict[str, Any]) -> dict[str, Any]:
        checks = _Checks(req)
        pattern = checks.string("filterPattern", required=True, low=0, high=1024)
        messages = req.get("logEventMessages")
        if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_TEST_MESSAGES:
            checks.errors.append(
                "Value at 'logEventMessages' failed to satisfy constraint: Member must have length "
                f"between 1 and {MAX_TEST_MESSAGES}"
            )
        checks.done()
        assert pattern is not None and isinstance(messages, list)
        try:
            matches = match_test_messages(pattern, [str(m) for m in messages])
        except PatternError as exc:
            msg = str(exc)
            raise invalid(
                msg if msg.startswith("Invalid character") else "Invalid metric filter pattern"
            ) from exc
        return {"matches": matches}

    def put_retention_policy(req: dict[str, Any]) -> dict[str, Any]:
        checks = _Checks(req)
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
        _store_call(lambda: store.set_retention(group, int(days or 0)))
        return {}

    def delete_retention_policy(req: dict[str, Any]) -> dict[str, Any]:
        group = _group_name({"logGroupName": req.get("logGroupName")})
        _store_call(lambda: store.set_retention(group, None))
        return {}

    def start_query(req: dict[str, Any]) -> dict[str, Any]:
        groups: list[str] = []
        if req.get("logGroupName") is not None:
            groups.append(_group_name({"logGroupName": req["logGroupName"]}))
        for key in ("logGroupNames", "logGroupIdentifiers"):
            for g in req.get(key) or []:
                groups.append(_group_name({"logGroupIdentifier": g}))
        if not groups:
            raise invalid("Log group names or identifiers must be specified")
        if len(groups) > 50:
            raise invalid("Up to 50 log groups can be queried at once")
        checks = _Checks(req)
        query = checks.string("queryString", required=True, low=0, high=10_000)
        checks.integer("startTime", 0, 2**62, required=True)
        checks.integer("endTime", 0, 2**62, required=True)
        limit = checks.integer("limit", 1, 10_000)
        checks.done()
        if req["endTime"] < req["startTime"]:
            raise invalid("endTime must be greater than or equal to startTime")
        for g in groups:
            _store_call(partial(store.group, g))
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
        "PutMetricFilter": put_metric_filter,
        "DescribeMetricFilters": describe_metric_filters,
        "DeleteMetricFilter": delete_metric_filter,
        "TestMetricFilter": test_metric_filter,
        "PutRetentionPolicy": put_retention_policy,
        "DeleteRetentionPolicy": delete_retention_policy,
        "StartQuery": start_query,
        "GetQueryResults": get_query_results,
        "StopQuery": stop_query,
    }


__all__: Sequence[str] = ["RETENTION_DAYS", "logs_operations"]

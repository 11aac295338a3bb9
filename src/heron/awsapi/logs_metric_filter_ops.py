"""CloudWatch Logs' metric filter operations: Put, Describe, Delete and TestMetricFilter."""

from __future__ import annotations

from typing import Any

from heron.awsapi.logs_requests import (
    FILTER_NAME_RE,
    GROUP_PATTERN,
    GROUP_RE,
    METRIC_NAME_RE,
    Checks,
    Handler,
    invalid,
    page_items,
    store_call,
)
from heron.monitor.logs.metric_filters import MAX_TEST_MESSAGES, match_test_messages
from heron.monitor.logs.patterns import PatternError
from heron.monitor.logs.store import LogStore


def metric_filter_operations(store: LogStore) -> dict[str, Handler]:
    """The metric filter operations over ``store``, keyed by operation name."""

    def put_metric_filter(req: dict[str, Any]) -> dict[str, Any]:
        checks = Checks(req)
        group = checks.group_name()
        name = checks.string("filterName", required=True, regex=FILTER_NAME_RE)
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
                    ("metricName", METRIC_NAME_RE),
                    ("metricNamespace", METRIC_NAME_RE),
                ):
                    sub = Checks(t if isinstance(t, dict) else {})
                    sub.string(field, required=True, high=255, regex=regex)
                    checks.errors += [
                        e.replace(f"'{field}'", f"'metricTransformations.{i + 1}.member.{field}'")
                        for e in sub.errors
                    ]
                sub = Checks(t if isinstance(t, dict) else {})
                sub.string("metricValue", required=True, high=100)
                checks.errors += sub.errors
        checks.done()
        assert group is not None and name is not None and pattern is not None
        store_call(lambda: store.put_metric_filter(group, name, pattern, transformations or []))
        return {}

    def describe_metric_filters(req: dict[str, Any]) -> dict[str, Any]:
        checks = Checks(req)
        group = checks.string("logGroupName", regex=GROUP_RE, regex_text=GROUP_PATTERN)
        prefix = checks.string("filterNamePrefix", regex=FILTER_NAME_RE)
        limit = checks.integer("limit", 1, 50) or 50
        checks.done()
        metric_name, namespace = req.get("metricName"), req.get("metricNamespace")
        if (metric_name is None) != (namespace is None):
            raise invalid("metricName and metricNamespace must be specified together")
        if prefix is not None and group is None:
            raise invalid("logGroupName is required when filterNamePrefix is specified")
        pairs = store_call(lambda: store.metric_filters(group))
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
        page, token = page_items(
            items, lambda d: [d["logGroupName"], d["filterName"]], req.get("nextToken"), limit
        )
        out: dict[str, Any] = {"metricFilters": page}
        if token:
            out["nextToken"] = token
        return out

    def delete_metric_filter(req: dict[str, Any]) -> dict[str, Any]:
        checks = Checks(req)
        group = checks.group_name()
        name = checks.string("filterName", required=True, regex=FILTER_NAME_RE)
        checks.done()
        assert group is not None and name is not None
        store_call(lambda: store.delete_metric_filter(group, name))
        return {}

    def test_metric_filter(req: dict[str, Any]) -> dict[str, Any]:
        checks = Checks(req)
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

    return {
        "PutMetricFilter": put_metric_filter,
        "DescribeMetricFilters": describe_metric_filters,
        "DeleteMetricFilter": delete_metric_filter,
        "TestMetricFilter": test_metric_filter,
    }

"""The alarm catalogue: every seed threshold covered, every alarm valid and lint-clean, the shipped
JSON in step with the code, and the rate alarms' metric math evaluating on real stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heron.functions.specs import DEFAULT_FUNCTIONS
from heron.monitor.alarms.catalogue import (
    SEED_THRESHOLDS,
    TOPICS,
    Catalogue,
    TableTarget,
    Target,
    build_catalogue,
)
from heron.monitor.alarms.lint import lint_alarm
from heron.monitor.alarms.seed import catalogue_source, concrete_arns
from heron.monitor.alarms.validate import validate_put_metric_alarm
from heron.monitor.logs.metric_filters import match_test_messages
from heron.monitor.service import Monitor
from heron.runtime.platform_logs import Report
from heron.settings import load_settings
from heron.tables.schema import default_schemas
from heron.types import Sample
from heron.up import catalogue_target

from .alarm_support import FakeClock

REPO = Path(__file__).resolve().parents[3]
FUNCTIONS = [f.name for f in DEFAULT_FUNCTIONS]
TABLES = [s.name for s in default_schemas({})]
#: Each seed threshold and the catalogue alarms that implement it (default deployment).
COVERAGE: dict[str, list[str]] = {
    "lambda.duration.p95": [f"{f}-DurationP95" for f in FUNCTIONS],
    "lambda.duration.p99": [f"{f}-DurationP99" for f in FUNCTIONS],
    "lambda.timeouts": [f"{f}-TaskTimedOut" for f in FUNCTIONS],
    "lambda.memory": [f"{f}-MemoryUtilization" for f in FUNCTIONS],
    "lambda.concurrency": ["Lambda-AccountConcurrency"],
    "lambda.throttles": [f"{f}-Throttles" for f in FUNCTIONS],
    "lambda.error_rate": [f"{f}-ErrorRate" for f in FUNCTIONS],
    "lambda.cold_start_rate": [f"{f}-ColdStartRate" for f in FUNCTIONS],
    "http.error_rate": ["HttpApi-5xxRate"],
    "http.throttling": ["HttpApi-RequestRate"],
    "ws.connections": ["WebSocket-Connections"],
    "ws.connection_errors": ["WebSocket-ConnectErrors"],
    "ws.message_latency": ["sendMessage-MessageLatencyP95"],
    "ws.failed_deliveries": ["sendMessage-FailedDeliveries"],
    "dynamodb.consumed_capacity": [
        f"DynamoDB-{t}-Consumed{d}Capacity" for t in TABLES for d in ("Read", "Write")
    ],
    "dynamodb.read_latency": [f"DynamoDB-{t}-ReadLatency" for t in TABLES],
    "dynamodb.write_latency": [f"DynamoDB-{t}-WriteLatency" for t in TABLES],
    "dynamodb.throttle_rate": [f"DynamoDB-{t}-ThrottleRate" for t in TABLES],
    "dynamodb.system_error_rate": [f"DynamoDB-{t}-SystemErrorRate" for t in TABLES],
    "dynamodb.user_error_rate": ["DynamoDB-UserErrorRate"],
    "logs.error_records": [f"{f}-ErrorRecords" for f in FUNCTIONS],
    "logs.task_timed_out": [f"{f}-TaskTimedOut" for f in FUNCTIONS],
}
T0 = 1_700_000_040.0


def default_catalogue() -> Catalogue:
    return build_catalogue(
        Target(
            functions=tuple(DEFAULT_FUNCTIONS),
            tables=tuple(TableTarget(s.name, s.provisioned) for s in default_schemas({})),
        )
    )


def test_every_seed_threshold_has_the_alarms_of_the_coverage_table() -> None:
    catalogue = default_catalogue()
    assert set(COVERAGE) == set(SEED_THRESHOLDS)
    by_covers: dict[str, set[str]] = {}
    for alarm in catalogue.alarms:
        by_covers.setdefault(alarm.covers, set()).add(alarm.name)
    for key, names in COVERAGE.items():
        assert set(names) <= by_covers.get(key, set()) | by_covers.get("lambda.timeouts", set()), (
            key
        )
    # Timeouts are the "Task timed out" log-pattern alarms: one alarm covers both thresholds.
    assert by_covers["lambda.timeouts"] == set(COVERAGE["logs.task_timed_out"])


def test_every_catalogue_alarm_passes_put_metric_alarm_validation() -> None:
    for alarm in default_catalogue().alarms:
        request = concrete_arns(alarm.request, "us-east-1", "000000000000")
        config = validate_put_metric_alarm(request, region="us-east-1", account_id="000000000000")
        assert config["AlarmName"] == alarm.name


def test_severity_picks_the_topic_both_ways() -> None:
    for alarm in default_catalogue().alarms:
        assert alarm.severity in ("critical", "warning")
        topic = TOPICS[alarm.severity]
        assert alarm.request["AlarmActions"] == [topic] and alarm.request["OKActions"] == [topic]
        assert {"Key": "severity", "Value": alarm.severity} in alarm.request["Tags"]
    critical = {a.name for a in default_catalogue().alarms if a.severity == "critical"}
    assert {"HttpApi-5xxRate", "sendMessage-ErrorRate", "sendMessage-TaskTimedOut"} <= critical


def test_catalogue_alarms_are_lint_clean_except_the_connection_count() -> None:
    flagged = {a.name for a in default_catalogue().alarms if lint_alarm(a.request)}
    # AWS publishes no WebSocket connection count; the catalogue watches Heron's own gauge.
    assert flagged == {"WebSocket-Connections"}


def test_the_memory_threshold_follows_each_functions_memory_size() -> None:
    alarms = {a.name: a.request for a in default_catalogue().alarms}
    for fn in DEFAULT_FUNCTIONS:
        assert alarms[f"{fn.name}-MemoryUtilization"]["Threshold"] == round(0.8 * fn.memory_mb, 1)


def test_the_shipped_catalogue_file_is_what_the_code_builds_for_the_defaults(
    tmp_path: Path,
) -> None:
    shipped = json.loads((REPO / "alarms" / "catalogue" / "catalogue.json").read_text())
    (tmp_path / "empty.toml").write_text("")
    settings = load_settings(
        tmp_path / "empty.toml",
        environ={},
        default_functions=DEFAULT_FUNCTIONS,
    )
    built = build_catalogue(catalogue_target(settings)).document()
    assert shipped == json.loads(json.dumps(built)), (
        "regenerate with: heron alarms catalogue > alarms/catalogue/catalogue.json"
    )


def test_the_repository_seed_files_are_the_packaged_ones_byte_for_byte() -> None:
    packaged = REPO / "src" / "heron" / "monitor" / "alarms" / "seed"
    names = sorted(p.name for p in packaged.glob("*.json"))
    assert names == sorted(p.name for p in (REPO / "alarms").glob("*.json"))
    assert len(names) == 5
    for name in names:
        assert (packaged / name).read_bytes() == (REPO / "alarms" / name).read_bytes(), name


def test_the_log_pattern_filters_match_what_the_runtime_writes() -> None:
    filters = {(f.group, f.name): f for f in default_catalogue().filters}
    group = "/aws/lambda/sendMessage"
    cold = Report("r-1", 12.5, 256, 91, 230.0, None, None).line()
    warm = Report("r-2", 3.0, 256, 92, None, None, None).line()
    memory = filters[(group, "MaxMemoryUsed")]
    matches = match_test_messages(memory.pattern, [cold, warm])
    assert [m["extractedValues"]["$max_memory_used"] for m in matches] == ["91", "92"]
    assert memory.transformation["metricValue"] == "$max_memory_used"
    assert len(match_test_messages(filters[(group, "ColdStarts")].pattern, [cold, warm])) == 1
    timed_out = "2024-01-01T00:00:00.000Z r-3 Task timed out after 10.00 seconds"
    assert (
        len(match_test_messages(filters[(group, "TaskTimeouts")].pattern, [timed_out, cold])) == 1
    )
    records = ['{"level":"ERROR","function":"sendMessage"}', '{"level":"INFO"}']
    assert len(match_test_messages(filters[(group, "ErrorRecords")].pattern, records)) == 1


# -- the math evaluates on real stores -------------------------------------------------------


@pytest.fixture
def monitor(tmp_path: Path) -> Iterator[tuple[Monitor, FakeClock]]:
    clock = FakeClock(T0)
    m = Monitor(tmp_path, clock=clock)
    m.load_alarms([catalogue_source(default_catalogue())])
    yield m, clock
    m.close()


def _put(m: Monitor, namespace: str, name: str, dims: dict[str, str], values: list[float]) -> None:
    m.metrics.put_samples(
        [
            Sample(
                namespace,
                name,
                tuple(sorted(dims.items())),
                int((T0 + 30) * 1000),
                tuple(values),
            )
        ]
    )


def _state_after_round(m: Monitor, clock: FakeClock, name: str) -> dict[str, Any]:
    clock.now = T0 + 301  # the period [T0, T0+300) has closed
    m.scheduler.tick(clock.now)
    alarm = m.alarms.get(name)
    assert alarm is not None
    return alarm


def test_the_lambda_error_rate_is_errors_over_invocations(
    monitor: tuple[Monitor, FakeClock],
) -> None:
    m, clock = monitor
    fn = {"FunctionName": "getUser"}
    _put(m, "AWS/Lambda", "Invocations", fn, [1.0] * 50)
    _put(m, "AWS/Lambda", "Errors", fn, [1.0] + [0.0] * 49)  # 2% > 1%
    _put(m, "AWS/Lambda", "Invocations", {"FunctionName": "createUser"}, [1.0] * 200)
    _put(m, "AWS/Lambda", "Errors", {"FunctionName": "createUser"}, [1.0] + [0.0] * 199)  # 0.5%
    alarm = _state_after_round(m, clock, "getUser-ErrorRate")
    assert alarm["StateValue"] == "ALARM", alarm["StateReason"]
    assert "[2.0 " in alarm["StateReason"] or "2.0" in alarm["StateReason"]
    assert m.alarms.get("createUser-ErrorRate")["StateValue"] == "OK"  # type: ignore[index]


def test_dynamodb_system_error_rate_sums_the_operations(
    monitor: tuple[Monitor, FakeClock],
) -> None:
    m, clock = monitor
    table = {"TableName": "Messages"}
    _put(m, "AWS/DynamoDB", "ConsumedReadCapacityUnits", table, [0.5] * 60)
    _put(m, "AWS/DynamoDB", "ConsumedWriteCapacityUnits", table, [1.0] * 40)
    _put(m, "AWS/DynamoDB", "SystemErrors", {**table, "Operation": "Query"}, [1.0])
    _put(m, "AWS/DynamoDB", "SystemErrors", {**table, "Operation": "PutItem"}, [1.0])
    alarm = _state_after_round(m, clock, "DynamoDB-Messages-SystemErrorRate")  # 2 of 100
    assert alarm["StateValue"] == "ALARM", alarm["StateReason"]


def test_dynamodb_read_latency_takes_the_slowest_operation(
    monitor: tuple[Monitor, FakeClock],
) -> None:
    m, clock = monitor
    table = {"TableName": "Users"}
    _put(m, "AWS/DynamoDB", "SuccessfulRequestLatency", {**table, "Operation": "GetItem"}, [4.0])
    _put(m, "AWS/DynamoDB", "SuccessfulRequestLatency", {**table, "Operation": "Query"}, [150.0])
    alarm = _state_after_round(m, clock, "DynamoDB-Users-ReadLatency")
    assert alarm["StateValue"] == "ALARM", alarm["StateReason"]
    assert m.alarms.get("DynamoDB-Users-WriteLatency")["StateValue"] != "ALARM"  # type: ignore[index]


def test_the_account_concurrency_alarm_is_a_share_of_the_limit(
    monitor: tuple[Monitor, FakeClock],
) -> None:
    m, clock = monitor
    for minute in range(5):
        m.metrics.put_samples(
            [
                Sample(
                    "AWS/Lambda",
                    "ConcurrentExecutions",
                    (),
                    int((T0 + 60 * minute + 5) * 1000),
                    (850.0 if minute >= 2 else 100.0,),
                )
            ]
        )
    alarm = _state_after_round(m, clock, "Lambda-AccountConcurrency")  # 3 of 5 minutes > 80%
    assert alarm["StateValue"] == "ALARM", alarm["StateReason"]


def test_the_lambda_error_rate_ignores_a_handful_of_invocations(
    monitor: tuple[Monitor, FakeClock],
) -> None:
    m, clock = monitor
    fn = {"FunctionName": "getUser"}
    _put(m, "AWS/Lambda", "Invocations", fn, [1.0] * 3)
    _put(m, "AWS/Lambda", "Errors", fn, [1.0] + [0.0] * 2)  # 33 %, but only 3 invocations
    alarm = _state_after_round(m, clock, "getUser-ErrorRate")
    assert alarm["StateValue"] == "OK", alarm["StateReason"]

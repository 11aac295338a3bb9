"""The table of Heron's settings: each one's name, type, default and documented help.

Add a setting here (and document it in docs/settings.md: a test checks); ``heron.settings``
resolves them from flags, ``HERON_*`` variables, heron.toml and these defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: its name, type, default and the help text shown by ``heron config show``."""

    name: str
    kind: type
    default: Any
    help: str

    @property
    def env_var(self) -> str:
        """The environment variable that sets it."""
        return "HERON_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "host",
        str,
        "127.0.0.1",
        "Address both ports bind to; 0.0.0.0 exposes Heron to the network.",
    ),
    Setting(
        "port",
        int,
        8080,
        "Application port: the HTTP API, the WebSocket API at /ws and @connections.",
    ),
    Setting(
        "monitor_port",
        int,
        4566,
        "Monitor port: /health, the AWS-compatible API and the dashboard.",
    ),
    Setting(
        "data_dir",
        str,
        ".heron",
        "Directory holding every piece of state (tables, telemetry, keys).",
    ),
    Setting(
        "tables_backend",
        str,
        "sqlite",
        "Table storage backend: sqlite (durable, WAL, under data_dir) or dynamodb (the four"
        " tables in DynamoDB at dynamodb_endpoint; `heron up` creates missing ones).",
    ),
    Setting(
        "dynamodb_endpoint",
        str,
        "",
        "DynamoDB endpoint URL for the dynamodb backend, e.g. http://127.0.0.1:8000 for"
        " DynamoDB Local or moto; empty means AWS's endpoint for dynamodb_region.",
    ),
    Setting(
        "dynamodb_region",
        str,
        "",
        "AWS region of the DynamoDB tables; empty means the region setting.",
    ),
    Setting(
        "dynamodb_retry_mode",
        str,
        "standard",
        "How the AWS SDK retries throttled or failed DynamoDB requests: standard or adaptive"
        " (adaptive also rate-limits the client after throttling).",
    ),
    Setting(
        "dynamodb_max_attempts",
        int,
        3,
        "Attempts per DynamoDB request, the first included, before an error is returned.",
    ),
    Setting(
        "table_capacity",
        str,
        "",
        "Tables in provisioned mode as Table=READ/WRITE units, comma-separated (e.g."
        " Messages=10/5); the others are on-demand. Exceeding it throttles, and AWS/DynamoDB"
        " Provisioned*CapacityUnits are published for the capacity alarms and dashboard.",
    ),
    Setting(
        "region", str, "us-east-1", "AWS region reported in ARNs, events and environment variables."
    ),
    Setting("account_id", str, "000000000000", "AWS account id reported in ARNs and events."),
    Setting(
        "account_concurrency",
        int,
        1000,
        "Lambda account concurrency limit shared by all functions.",
    ),
    Setting(
        "max_environments",
        int,
        4,
        "Local cap on execution environments per function (0 = none, as on AWS); past it"
        " invocations wait for a warm one instead of spawning more processes than the cores run.",
    ),
    Setting(
        "environment_idle_s",
        float,
        300.0,
        "Seconds an idle warm execution environment lives before it is reaped.",
    ),
    Setting(
        "throttle_rate",
        float,
        1000.0,
        "HTTP API stage throttling: steady-state requests per second.",
    ),
    Setting("throttle_burst", int, 2000, "HTTP API stage throttling: token-bucket burst size."),
    Setting(
        "http_timeout_s", float, 30.0, "HTTP API integration timeout in seconds (AWS maximum 30)."
    ),
    Setting(
        "ws_timeout_s",
        float,
        29.0,
        "WebSocket API integration timeout in seconds (AWS maximum 29).",
    ),
    Setting(
        "ws_idle_timeout_s",
        float,
        600.0,
        "WebSocket idle timeout: no traffic either way for this long closes the socket.",
    ),
    Setting(
        "ws_max_duration_s", float, 7200.0, "WebSocket maximum connection duration in seconds."
    ),
    Setting(
        "ws_new_connections_per_s", float, 500.0, "New WebSocket connections accepted per second."
    ),
    Setting(
        "authorizer_cache_s",
        float,
        300.0,
        "Seconds an HTTP API Lambda authorizer result is cached (0 disables).",
    ),
    Setting(
        "fault_injection",
        bool,
        False,
        "Honour the fault-injection request headers: x-heron-inject-latency-ms delays the"
        " integration (at most 10 s) and x-heron-inject-error makes the handler fail; on with"
        " `heron up --demo`.",
    ),
    Setting(
        "demo_rate", float, 5.0, "Operations per second of demo traffic under `heron up --demo`."
    ),
    Setting(
        "demo_incident_interval_s",
        float,
        1800.0,
        "Under `heron up --demo`, stage an incident this often (Heron seconds; 0 = never): a"
        " burst of injected handler errors (LambdaErrors goes to ALARM, then back to OK) and a"
        " 17-minute phase of 1.5 s injected latency (HighLatency); at least 1500.",
    ),
    Setting(
        "time_scale",
        float,
        1.0,
        "Heron seconds per real second for the monitor (alarms, metric and log timestamps);"
        " above 1 compresses alarm periods for demos and tests, e.g. 60 makes a 5-minute"
        " period last 5 real seconds.",
    ),
    Setting(
        "decode_workers",
        int,
        -1,
        "Child processes that decode large PutMetricData requests and extract EMF from large"
        " PutLogEvents writes beside the main process (each leaves after 30 s idle); -1 picks"
        " one per core, at most 2, and none on one core; 0 does it all in the main process.",
    ),
    Setting(
        "alarms_dir",
        str,
        "alarms",
        "Directory of alarm JSON files (PutMetricAlarm/PutCompositeAlarm requests) loaded on"
        " `heron up` after the seed's five alarms and the catalogue; same-named alarms replace"
        " them. Skipped when the default directory does not exist.",
    ),
    Setting(
        "alarm_catalogue",
        bool,
        True,
        "Load Heron's alarm catalogue (a threshold alarm for every threshold in the seed, plus"
        " log-pattern metric filters) on `heron up`.",
    ),
    Setting(
        "alarm_ok_notifications",
        bool,
        True,
        "Alarm files whose alarms name AlarmActions but no OKActions also notify those topics"
        " on the way back to OK (false loads them strictly verbatim).",
    ),
    Setting(
        "price_lambda_requests_per_million",
        float,
        0.20,
        "Cost view price (USD): Lambda requests, per million; default us-east-1 list price.",
    ),
    Setting(
        "price_lambda_gb_second",
        float,
        0.0000166667,
        "Cost view price (USD): Lambda duration per GB-second (x86_64); default us-east-1 list price.",
    ),
    Setting(
        "price_http_requests_per_million",
        float,
        1.00,
        "Cost view price (USD): HTTP API requests, per million; default us-east-1 list price.",
    ),
    Setting(
        "price_ws_messages_per_million",
        float,
        1.00,
        "Cost view price (USD): WebSocket messages (received and sent), per million; default us-east-1 list price.",
    ),
    Setting(
        "price_ws_connection_minutes_per_million",
        float,
        0.25,
        "Cost view price (USD): WebSocket connection-minutes, per million; default us-east-1 list price.",
    ),
    Setting(
        "price_ddb_read_request_units_per_million",
        float,
        0.125,
        "Cost view price (USD): DynamoDB on-demand read request units, per million; default us-east-1 list price.",
    ),
    Setting(
        "price_ddb_write_request_units_per_million",
        float,
        0.625,
        "Cost view price (USD): DynamoDB on-demand write request units, per million; default us-east-1 list price.",
    ),
    Setting(
        "price_ddb_rcu_hour",
        float,
        0.00013,
        "Cost view price (USD): DynamoDB provisioned read capacity, per RCU-hour; default us-east-1 list price.",
    ),
    Setting(
        "price_ddb_wcu_hour",
        float,
        0.00065,
        "Cost view price (USD): DynamoDB provisioned write capacity, per WCU-hour; default us-east-1 list price.",
    ),
    Setting(
        "price_ddb_storage_gb_month",
        float,
        0.25,
        "Cost view price (USD): DynamoDB storage, per GB-month; default us-east-1 list price.",
    ),
)

"""Heron's settings: a table of documented records, resolved as flag > environment > heron.toml > default.

Every setting has an environment variable ``HERON_<NAME upper-cased>`` and a key of the same
name at the top level of ``heron.toml``. Functions are declared in ``heron.toml`` as
``[[functions]]`` tables; they add to (or, by name, replace) the built-in functions. The
``[notify]`` tables (channels, routes, on-call) are kept raw here and validated by
``heron.monitor.notify.config`` (docs/notify.md).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heron.errors import ConfigError
from heron.types import FunctionSpec


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
        "Table storage backend: sqlite (durable, WAL, under data_dir).",
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
)

_BY_NAME = {s.name: s for s in SETTINGS}
#: The shortest demo incident cycle: error burst, recovery, 17-minute latency phase, recovery.
MIN_INCIDENT_INTERVAL_S = 1500.0
_FUNCTION_FIELDS = {
    "name", "handler", "memory_mb", "timeout_s", "reserved_concurrency",
    "provisioned_concurrency", "http_routes", "ws_routes", "authorized", "environment",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ResolvedSettings:
    """The settings in force, where each came from, and the declared functions."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]
    functions: tuple[FunctionSpec, ...] = field(default=())
    notify: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def data_dir(self) -> Path:
        """The data directory as a path."""
        return Path(str(self.values["data_dir"]))


def _coerce(setting: Setting, raw: Any, source: str) -> Any:
    try:
        if setting.kind is bool and isinstance(raw, str):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        value = setting.kind(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{setting.name} from {source} must be {setting.kind.__name__}, got {raw!r}"
        ) from exc
    if setting.kind in (int, float) and value < 0:
        raise ConfigError(f"{setting.name} from {source} must not be negative, got {raw!r}")
    return value


def _parse_function(raw: Mapping[str, Any], where: str) -> FunctionSpec:
    unknown = set(raw) - _FUNCTION_FIELDS
    if unknown:
        raise ConfigError(
            f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_FUNCTION_FIELDS)}"
        )
    if not raw.get("name") or not raw.get("handler"):
        raise ConfigError(f"{where}: 'name' and 'handler' are required")
    memory = int(raw.get("memory_mb", 128))
    timeout = float(raw.get("timeout_s", 3.0))
    if not 128 <= memory <= 10240:
        raise ConfigError(f"{where}: memory_mb must be 128-10240 (Lambda's range), got {memory}")
    if not 1 <= timeout <= 900:
        raise ConfigError(f"{where}: timeout_s must be 1-900 (Lambda's range), got {timeout}")
    env = raw.get("environment", {})
    return FunctionSpec(
        name=str(raw["name"]),
        handler=str(raw["handler"]),
        memory_mb=memory,
        timeout_s=timeout,
        reserved_concurrency=(
            None if raw.get("reserved_concurrency") is None else int(raw["reserved_concurrency"])
        ),
        provisioned_concurrency=int(raw.get("provisioned_concurrency", 0)),
        http_routes=tuple(str(r) for r in raw.get("http_routes", ())),
        ws_routes=tuple(str(r) for r in raw.get("ws_routes", ())),
        authorized=bool(raw.get("authorized", True)),
        environment=tuple(sorted((str(k), str(v)) for k, v in dict(env).items())),
    )


def merge_functions(
    defaults: Sequence[FunctionSpec], declared: Sequence[FunctionSpec]
) -> tuple[FunctionSpec, ...]:
    """Declared functions replace defaults of the same name and add the rest, in order."""
    by_name = {f.name: f for f in defaults}
    for f in declared:
        by_name[f.name] = f
    return tuple(by_name.values())


def load_settings(
    config_path: Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    default_functions: Sequence[FunctionSpec] = (),
) -> ResolvedSettings:
    """Resolve every setting: explicit overrides, then HERON_* variables, then heron.toml, then defaults."""
    environ = os.environ if environ is None else environ
    file_values: dict[str, Any] = {}
    notify: dict[str, Any] = {}
    declared: list[FunctionSpec] = []
    path = config_path if config_path is not None else Path("heron.toml")
    if path.exists():
        try:
            document = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
        notify = document.pop("notify", {})
        if not isinstance(notify, dict):
            raise ConfigError(f"{path}: notify must be a table ([notify]); see docs/notify.md")
        for i, raw in enumerate(document.pop("functions", [])):
            declared.append(_parse_function(raw, f"{path} [[functions]] #{i + 1}"))
        unknown = set(document) - set(_BY_NAME)
        if unknown:
            raise ConfigError(
                f"{path}: unknown settings {sorted(unknown)}; see `heron config show`"
            )
        file_values = document
    elif config_path is not None:
        raise ConfigError(f"config file {config_path} does not exist")

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for s in SETTINGS:
        if overrides and overrides.get(s.name) is not None:
            values[s.name], sources[s.name] = _coerce(s, overrides[s.name], "flag"), "flag"
        elif s.env_var in environ:
            values[s.name] = _coerce(s, environ[s.env_var], s.env_var)
            sources[s.name] = s.env_var
        elif s.name in file_values:
            values[s.name] = _coerce(s, file_values[s.name], str(path))
            sources[s.name] = str(path)
        else:
            values[s.name], sources[s.name] = s.default, "default"
    if values["time_scale"] <= 0:
        raise ConfigError(f"time_scale must be above 0, got {values['time_scale']!r}")
    interval = values["demo_incident_interval_s"]
    if 0 < interval < MIN_INCIDENT_INTERVAL_S:
        raise ConfigError(
            f"demo_incident_interval_s must be 0 (no incidents) or at least "
            f"{MIN_INCIDENT_INTERVAL_S:g} (an incident lasts that long), got {interval!r}"
        )
    if values["tables_backend"] != "sqlite":
        raise ConfigError(f"tables_backend must be sqlite, got {values['tables_backend']!r}")
    return ResolvedSettings(
        values, sources, merge_functions(default_functions, declared), notify=notify
    )

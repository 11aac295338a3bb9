"""Resolving Heron's settings (``settings_table``): flag > environment > heron.toml > default.

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
from heron.settings_table import SETTINGS, Setting
from heron.tables.schema import parse_table_capacity
from heron.types import FunctionSpec

# The table is part of this module's interface (``heron config show`` and the docs test read it).
__all__ = [
    "MIN_INCIDENT_INTERVAL_S",
    "SETTINGS",
    "TABLES_BACKENDS",
    "ResolvedSettings",
    "Setting",
    "load_settings",
    "merge_functions",
]

_BY_NAME = {s.name: s for s in SETTINGS}
#: The table backends ``heron up`` runs on (the memory backend is for tests: one process only).
TABLES_BACKENDS = ("sqlite", "dynamodb")
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
    if values["tables_backend"] not in TABLES_BACKENDS:
        raise ConfigError(
            f"tables_backend must be one of {', '.join(TABLES_BACKENDS)}, "
            f"got {values['tables_backend']!r}"
        )
    if values["dynamodb_retry_mode"] not in ("standard", "adaptive"):
        raise ConfigError(
            "dynamodb_retry_mode must be standard or adaptive, "
            f"got {values['dynamodb_retry_mode']!r}"
        )
    if values["dynamodb_max_attempts"] < 1:
        raise ConfigError("dynamodb_max_attempts must be at least 1")
    parse_table_capacity(str(values["table_capacity"]))
    return ResolvedSettings(
        values, sources, merge_functions(default_functions, declared), notify=notify
    )

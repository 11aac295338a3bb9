"""What a deployment is made of: the stage, the functions, the tables, limits and alarm sources.

``DeployTarget`` is the one input of synthesis. ``target_from_settings`` reads it from Heron's
resolved settings (the same functions, tables and alarm files ``heron up`` serves), so the
template deploys what runs locally. Physical names are ``heron-<stage>-<name>``: two stages can
live in one account without colliding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heron.deploy.names import DeployError, check_name
from heron.monitor.alarms.seed import (
    AlarmFileError,
    AlarmSource,
    directory_paths,
    read_alarm_file,
    seed_paths,
)
from heron.settings import ResolvedSettings
from heron.tables.base import TableSchema
from heron.tables.schema import default_schemas, parse_table_capacity
from heron.types import FunctionSpec

#: The Lambda runtime the functions run on (Heron needs Python 3.11+).
DEFAULT_RUNTIME = "python3.12"
RUNTIMES = ("python3.11", "python3.12", "python3.13")
#: CloudWatch Logs accepts only these retention periods (days).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                  2557, 2922, 3288, 3653)  # fmt: skip
#: The function the template adds to run Heron's notification routing behind the topics.
NOTIFIER = "notifier"
NOTIFIER_HANDLER = "heron.deploy.notifier_handler.handler"


@dataclass(frozen=True, slots=True)
class DeployTarget:
    """Everything synthesis reads; names here are Heron's local (logical) names."""

    stage: str
    functions: tuple[FunctionSpec, ...]
    tables: tuple[TableSchema, ...]
    alarm_sources: tuple[AlarmSource, ...] = ()
    runtime: str = DEFAULT_RUNTIME
    log_retention_days: int = 30
    throttle_rate: float = 1000.0
    throttle_burst: int = 2000
    account_concurrency: int = 1000
    ok_notifications: bool = True
    catalogue: bool = True
    notify: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_name("stage name", self.stage)
        if self.runtime not in RUNTIMES:
            raise DeployError(f"runtime {self.runtime!r}: Heron runs on {', '.join(RUNTIMES)}")
        if self.log_retention_days not in RETENTION_DAYS:
            raise DeployError(
                f"log retention {self.log_retention_days} days: CloudWatch Logs accepts only"
                f" {', '.join(map(str, RETENTION_DAYS))}"
            )
        names = [f.name for f in self.functions]
        if NOTIFIER in names:
            raise DeployError(f"a function may not be called {NOTIFIER!r}: the template adds it")
        if len(set(names)) != len(names):
            raise DeployError(f"two functions share a name: {names}")

    @property
    def prefix(self) -> str:
        """The prefix of every physical name: ``heron-<stage>``."""
        return f"heron-{self.stage}"

    def physical(self, name: str) -> str:
        """The deployed name of a function, table or topic called ``name`` locally."""
        return f"{self.prefix}-{name}"


def alarm_sources(settings: ResolvedSettings) -> tuple[AlarmSource, ...]:
    """The seed's alarm files and the user's ``alarms_dir`` files (the catalogue is built later)."""
    try:
        sources = [read_alarm_file(path) for path in seed_paths()]
        directory = Path(str(settings["alarms_dir"]))
        explicit = settings.sources["alarms_dir"] != "default"
        if str(settings["alarms_dir"]) and (directory.is_dir() or explicit):
            sources.extend(read_alarm_file(path) for path in directory_paths(directory))
    except AlarmFileError as exc:
        raise DeployError(f"cannot read alarms: {exc}") from None
    return tuple(sources)


def target_from_settings(
    settings: ResolvedSettings,
    *,
    stage: str = "prod",
    runtime: str = DEFAULT_RUNTIME,
    log_retention_days: int = 30,
) -> DeployTarget:
    """The deployment Heron's settings describe."""
    return DeployTarget(
        stage=stage,
        functions=tuple(settings.functions),
        tables=default_schemas(capacity=parse_table_capacity(str(settings["table_capacity"]))),
        alarm_sources=alarm_sources(settings),
        runtime=runtime,
        log_retention_days=log_retention_days,
        throttle_rate=float(settings["throttle_rate"]),
        throttle_burst=int(settings["throttle_burst"]),
        account_concurrency=int(settings["account_concurrency"]),
        ok_notifications=bool(settings["alarm_ok_notifications"]),
        catalogue=bool(settings["alarm_catalogue"]),
        notify=dict(settings.notify),
    )

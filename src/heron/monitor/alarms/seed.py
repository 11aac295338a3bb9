"""Load alarms on ``heron up``: the seed's five, the catalogue, and the user's alarm files.

The seed's alarms ship as package data (``heron/monitor/alarms/seed/*.json``, the source of
truth; the repository's ``alarms/*.json`` are byte-identical copies, checked by a test). An alarm
file holds one PutMetricAlarm/PutCompositeAlarm request object, a list of them, or the
catalogue's ``{"MetricFilters": [...], "MetricAlarms": [...]}`` document.

Everything goes through the same validation and the same handler as the PutMetricAlarm API, with
the ``arn:aws:sns:region:account:...`` placeholders made concrete. Loading is idempotent: an
alarm whose configuration is unchanged is left alone (state, history and timestamps kept), a
changed one is updated (state kept, as PutMetricAlarm does). Every request is validated before
anything is written, so a bad file changes nothing and is reported with its path.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from heron.awsapi.errors import AwsError
from heron.monitor.alarms.catalogue import Catalogue, MetricFilterSpec
from heron.monitor.alarms.store import STATE_KEYS, AlarmStore, concrete_arns
from heron.monitor.alarms.validate import (
    validate_put_composite_alarm,
    validate_put_metric_alarm,
)

Handler = Callable[[dict[str, Any]], dict[str, Any]]
#: The seed's alarm names, as the issue and the dashboard refer to them.
SEED_ALARMS = (
    "APIGateway5xxErrors",
    "HighLatency",
    "HighMemoryUsage",
    "LambdaErrors",
    "WebSocketErrors",
)
_IGNORED = (*STATE_KEYS, "AlarmConfigurationUpdatedTimestamp")


class AlarmFileError(ValueError):
    """An alarm file that cannot be loaded; the message names the file and the reason."""


@dataclass(frozen=True, slots=True)
class AlarmSource:
    """Alarm requests and metric filters read from one place (a file, or the catalogue)."""

    origin: str
    alarms: tuple[dict[str, Any], ...]
    filters: tuple[MetricFilterSpec, ...] = ()


@dataclass(slots=True)
class LoadReport:
    """What a load did, by alarm name."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    filters: int = 0

    def summary(self) -> str:
        """One line for ``heron up``'s start-up output."""
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged; {self.filters} metric filters"
        )


# -- reading files ---------------------------------------------------------------------------


def seed_paths() -> list[Path]:
    """The seed's alarm files shipped with Heron, sorted by name."""
    root = resources.files("heron.monitor.alarms") / "seed"
    return sorted(
        (Path(str(entry)) for entry in root.iterdir() if entry.name.endswith(".json")),
        key=lambda p: p.name,
    )


def directory_paths(directory: Path) -> list[Path]:
    """The ``*.json`` files directly in ``directory`` (not its subdirectories), sorted."""
    if not directory.is_dir():
        raise AlarmFileError(f"alarm directory {directory} does not exist or is not a directory")
    return sorted(p for p in directory.glob("*.json") if p.is_file())


def parse_alarm_document(document: Any, origin: str) -> AlarmSource:
    """The alarms (and metric filters) of a parsed alarm file."""
    if isinstance(document, dict) and ("MetricAlarms" in document or "MetricFilters" in document):
        alarms = document.get("MetricAlarms", [])
        raw_filters = document.get("MetricFilters", [])
        if not isinstance(alarms, list) or not isinstance(raw_filters, list):
            raise AlarmFileError(f"{origin}: MetricAlarms and MetricFilters must be lists")
        filters = tuple(_filter_spec(f, origin) for f in raw_filters)
    elif isinstance(document, dict):
        alarms, filters = [document], ()
    elif isinstance(document, list):
        alarms, filters = document, ()
    else:
        raise AlarmFileError(f"{origin}: expected an alarm object or a list of them")
    for i, alarm in enumerate(alarms, 1):
        if not isinstance(alarm, dict) or not isinstance(alarm.get("AlarmName"), str):
            raise AlarmFileError(f"{origin}: alarm #{i} is not an object with an AlarmName")
    return AlarmSource(origin, tuple(alarms), filters)


def _filter_spec(raw: Any, origin: str) -> MetricFilterSpec:
    try:
        (transformation,) = raw["metricTransformations"]
        return MetricFilterSpec(
            str(raw["logGroupName"]),
            str(raw["filterName"]),
            str(raw["filterPattern"]),
            dict(transformation),
        )
    except (KeyError, TypeError, ValueError):
        raise AlarmFileError(
            f"{origin}: a metric filter needs logGroupName, filterName, filterPattern and one "
            "metricTransformations entry"
        ) from None


def read_alarm_file(path: Path) -> AlarmSource:
    """Parse one alarm file (AlarmFileError naming the file when it is not valid)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise AlarmFileError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise AlarmFileError(f"{path}: not valid JSON: {exc}") from None
    return parse_alarm_document(document, str(path))


def catalogue_source(catalogue: Catalogue) -> AlarmSource:
    """The catalogue as an alarm source."""
    return AlarmSource("catalogue", tuple(a.request for a in catalogue.alarms), catalogue.filters)


def with_ok_actions(request: Mapping[str, Any]) -> dict[str, Any]:
    """The request with ``OKActions`` = ``AlarmActions`` when it names alarm actions but no OK ones.

    The seed's alarms notify only on ALARM; this makes the way back to OK reach the same topic.
    """
    out = dict(request)
    if out.get("AlarmActions") and "OKActions" not in out:
        out["OKActions"] = list(out["AlarmActions"])
    return out


# -- loading ---------------------------------------------------------------------------------


class AlarmLoader:
    """Validates alarm sources as a whole, then puts what changed through the API handlers."""

    def __init__(
        self,
        store: AlarmStore,
        operations: Mapping[str, Handler],
        *,
        region: str,
        account_id: str,
        logs: Any = None,
    ) -> None:
        self.store = store
        self.operations = operations
        self.region = region
        self.account_id = account_id
        self.logs = logs

    def load(self, sources: Sequence[AlarmSource], *, ok_notifications: bool = True) -> LoadReport:
        """Load every source; AlarmFileError (and nothing changed) if any request is invalid.

        Later sources replace same-named alarms of earlier ones.
        """
        chosen: dict[str, tuple[str, dict[str, Any]]] = {}
        for source in sources:
            for raw in source.alarms:
                request = with_ok_actions(raw) if ok_notifications else dict(raw)
                request = concrete_arns(request, self.region, self.account_id)
                chosen[str(raw["AlarmName"])] = (source.origin, request)
        configs = self._validate(chosen)
        filters = [f for source in sources for f in source.filters]
        self._check_filters(filters)
        report = LoadReport()
        composites = [n for n in chosen if "AlarmRule" in chosen[n][1]]
        for name in [n for n in chosen if n not in composites] + composites:
            self._put(name, chosen[name][1], configs[name], report)
        report.filters = self._install_filters(filters)
        return report

    def _validate(self, chosen: Mapping[str, tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        configs: dict[str, Any] = {}
        metric = {n: v for n, v in chosen.items() if "AlarmRule" not in v[1]}
        for name, (origin, request) in metric.items():
            configs[name] = self._checked(
                origin,
                name,
                lambda r: validate_put_metric_alarm(
                    r, region=self.region, account_id=self.account_id
                ),
                request,
            )
        existing = {**self.store.snapshot(), **configs}
        for name, (origin, request) in chosen.items():
            if name in metric:
                continue
            configs[name] = self._checked(
                origin,
                name,
                lambda r: validate_put_composite_alarm(
                    r, region=self.region, account_id=self.account_id, existing=existing
                ),
                request,
            )
        return configs

    @staticmethod
    def _checked(
        origin: str, name: str, check: Callable[[dict[str, Any]], Any], request: dict[str, Any]
    ) -> Any:
        try:
            return check(request)
        except AwsError as exc:
            raise AlarmFileError(f"{origin}: alarm {name}: {exc.message} ({exc.code})") from None

    def _put(self, name: str, request: dict[str, Any], config: Any, report: LoadReport) -> None:
        before = self.store.get(name)
        if before is not None and _same(before, config):
            report.unchanged.append(name)
            return
        kind = "PutCompositeAlarm" if "AlarmRule" in request else "PutMetricAlarm"
        self.operations[kind](request)
        (report.created if before is None else report.updated).append(name)

    def _check_filters(self, filters: Iterable[MetricFilterSpec]) -> None:
        from heron.monitor.logs.metric_filters import build_metric_filter

        for spec in filters:
            try:
                build_metric_filter(spec.name, spec.pattern, [spec.transformation], 0)
            except ValueError as exc:
                raise AlarmFileError(f"metric filter {spec.name} on {spec.group}: {exc}") from None

    def _install_filters(self, filters: Sequence[MetricFilterSpec]) -> int:
        if self.logs is None or not filters:
            return 0
        from heron.monitor.logs.store import AlreadyExists

        installed: dict[tuple[str, str], dict[str, Any]] = {
            (group, mf.name): mf.as_dict(group) for group, mf in self.logs.metric_filters()
        }
        count = 0
        for spec in filters:
            with_group = installed.get((spec.group, spec.name))
            if with_group is not None and _same_filter(with_group, spec):
                count += 1
                continue
            with contextlib.suppress(AlreadyExists):
                self.logs.create_group(spec.group)
            self.logs.put_metric_filter(spec.group, spec.name, spec.pattern, [spec.transformation])
            count += 1
        return count


def _same(before: Mapping[str, Any], config: Mapping[str, Any]) -> bool:
    stored = {k: v for k, v in before.items() if k not in _IGNORED}
    wanted = dict(config)
    wanted.setdefault("ActionsEnabled", True)
    return stored == wanted


def _same_filter(installed: Mapping[str, Any], spec: MetricFilterSpec) -> bool:
    (transformation,) = installed["metricTransformations"]
    wanted = dict(spec.transformation)
    if "defaultValue" in wanted:
        wanted["defaultValue"] = float(wanted["defaultValue"])
    return bool(installed["filterPattern"] == spec.pattern and transformation == wanted)

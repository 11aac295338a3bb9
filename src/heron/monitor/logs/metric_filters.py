"""Metric filters: PutMetricFilter definitions that turn matching log events into datapoints.

Each matching event contributes one datapoint of ``metricValue`` (a number, ``$.json.field`` or a
space-delimited ``$field``) at the event's timestamp, with dimensions taken from the event;
when a ``defaultValue`` is set, every ingested event that does not match contributes that value
instead (so a minute with logs but no matches reports the default, and a minute without logs
reports nothing), as CloudWatch documents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from heron.monitor.logs.pattern_json import MISSING, selector_getter
from heron.monitor.logs.pattern_values import parse_number, scalar_number, scalar_text
from heron.monitor.logs.patterns import FilterPattern, Match, PatternError, compile_pattern
from heron.monitor.logs.samples import SampleBatch
from heron.telemetry.emf import STANDARD_UNITS
from heron.types import Dimensions

#: Most metric filters one log group may carry.
MAX_FILTERS_PER_GROUP = 100
#: Most dimensions one metric transformation may carry.
MAX_DIMENSIONS = 3
#: Most messages TestMetricFilter accepts.
MAX_TEST_MESSAGES = 50

Extractor = Callable[[Match], Any]


class FilterDefinitionError(ValueError):
    """A metric filter definition AWS would reject (InvalidParameterException); nothing stored."""


@dataclass(frozen=True, slots=True)
class MetricTransformation:
    """Where matching events go: metric name/namespace, value, default, dimensions and unit."""

    metric_name: str
    namespace: str
    value: str
    default_value: float | None = None
    dimensions: tuple[tuple[str, str], ...] = ()
    unit: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The AWS ``MetricTransformation`` shape."""
        out: dict[str, Any] = {
            "metricName": self.metric_name,
            "metricNamespace": self.namespace,
            "metricValue": self.value,
        }
        if self.default_value is not None:
            out["defaultValue"] = self.default_value
        if self.dimensions:
            out["dimensions"] = dict(self.dimensions)
        if self.unit is not None:
            out["unit"] = self.unit
        return out


@dataclass(frozen=True, slots=True)
class MetricFilter:
    """A compiled metric filter: its name, pattern, transformation and creation time."""

    name: str
    pattern: FilterPattern
    transformation: MetricTransformation
    created_ms: int
    value_of: Extractor
    dimension_of: tuple[tuple[str, Extractor], ...]

    def as_dict(self, group: str) -> dict[str, Any]:
        """The AWS ``MetricFilter`` shape (creationTime in epoch ms, as the API sends it)."""
        return {
            "filterName": self.name,
            "filterPattern": self.pattern.source,
            "metricTransformations": [self.transformation.as_dict()],
            "creationTime": self.created_ms,
            "logGroupName": group,
        }


def build_metric_filter(
    name: str, pattern_text: str, transformations: Sequence[Mapping[str, Any]], created_ms: int
) -> MetricFilter:
    """Validate and compile a PutMetricFilter definition (FilterDefinitionError/PatternError)."""
    try:
        pattern = compile_pattern(pattern_text)
    except PatternError as exc:
        raise PatternError("Invalid metric filter pattern") from exc
    if len(transformations) != 1:
        raise FilterDefinitionError(
            "1 validation error detected: Value at 'metricTransformations' failed to satisfy "
            "constraint: Member must have length less than or equal to 1"
        )
    t = transformations[0]
    dims = tuple((str(k), str(v)) for k, v in (t.get("dimensions") or {}).items())
    default = t.get("defaultValue")
    unit = t.get("unit")
    if unit is not None and unit not in STANDARD_UNITS:
        raise FilterDefinitionError(f"Invalid unit: {unit}")
    if dims and not pattern.supports_dimensions:
        raise FilterDefinitionError("The specified filter pattern does not support dimensions")
    if len(dims) > MAX_DIMENSIONS:
        raise FilterDefinitionError("The maximum number of dimensions allowed is 3")
    if dims and default is not None:
        raise FilterDefinitionError("Metric filters with dimensions cannot have a default value")
    transformation = MetricTransformation(
        metric_name=str(t["metricName"]),
        namespace=str(t["metricNamespace"]),
        value=str(t["metricValue"]),
        default_value=None if default is None else float(default),
        dimensions=dims,
        unit=unit,
    )
    value_of = _extractor(transformation.value, pattern, numeric=True)
    dimension_of = tuple((k, _extractor(v, pattern, numeric=False)) for k, v in dims)
    return MetricFilter(name, pattern, transformation, created_ms, value_of, dimension_of)


def _extractor(spec: str, pattern: FilterPattern, *, numeric: bool) -> Extractor:
    """Compile a metricValue or dimension value into a function of the match."""
    spec = spec.strip()
    if numeric and (constant := parse_number(spec)) is not None:
        return lambda m: constant
    convert: Callable[[Any], Any] = scalar_number if numeric else scalar_text
    what = "metric value" if numeric else "dimension value"
    if spec.startswith("$.") or spec.startswith("$["):
        if pattern.kind != "json":
            raise FilterDefinitionError(f"Invalid {what}: {spec} requires a JSON filter pattern")
        try:
            get = selector_getter(spec)
        except PatternError as exc:
            raise FilterDefinitionError(f"Invalid {what}: {spec}") from exc
        return lambda m: None if (node := get(m.doc)) is MISSING else convert(node)
    if spec.startswith("$") and len(spec) > 1:
        if pattern.kind != "space":
            raise FilterDefinitionError(
                f"Invalid {what}: {spec} requires a space-delimited filter pattern"
            )
        # Space-delimited fields are always text: no scalar_number / scalar_text dispatch.
        # A field at a fixed place is read from the line's fields, without the ``$`` dict.
        index = pattern.field_index(spec)
        text_of: Extractor = (
            (lambda m: m.fields[index] if m.fields else None)
            if index is not None
            else (lambda m: m.extracted.get(spec))
        )
        if numeric:
            return lambda m: None if (v := text_of(m)) is None else parse_number(v.strip())
        return text_of
    raise FilterDefinitionError(f"Invalid {what}: {spec}")


def apply_filters(
    filters: Sequence[MetricFilter], events: Sequence[tuple[int, str]], batch: SampleBatch
) -> None:
    """Add the datapoints ``filters`` produce for ``events`` (timestamp ms, message) to batch."""
    joined: str | None = None
    for f in filters:
        t = f.transformation
        unit = t.unit or "None"
        default = t.default_value
        match, value_of, dimension_of = f.pattern.match, f.value_of, f.dimension_of
        slot, add = batch.slot(((t.namespace, t.metric_name, unit, 60),)), batch.add_row
        if f.pattern.required:
            # Most filters match a rare line (a timeout, a cold start): one substring search
            # over the whole batch rules them out instead of a call per line.
            if joined is None:
                joined = "\n".join([message for _, message in events])
            if not f.pattern.may_match_within(joined):
                if default is not None:
                    for ts, _ in events:
                        add(slot, (), ts, (default,))
                continue
        # Without a default, lines that cannot match need no call at all.
        for ts, message in events if default is not None else f.pattern.candidates(events):
            m = match(message)
            if m is None:
                if default is not None:
                    add(slot, (), ts, (default,))
                continue
            value = value_of(m)
            if value is None:
                continue  # a non-numeric value produces no datapoint
            dims = _dimensions(dimension_of, m) if dimension_of else ()
            if dims is not None:
                add(slot, dims, ts, (value,))


def _dimensions(dimension_of: tuple[tuple[str, Extractor], ...], m: Match) -> Dimensions | None:
    pairs = []
    for name, get in dimension_of:
        value = get(m)
        if value is None or value == "":
            return None  # an event without the dimension's field produces no datapoint
        pairs.append((name, value))
    return tuple(sorted(pairs))


def match_test_messages(pattern_text: str, messages: Sequence[str]) -> list[dict[str, Any]]:
    """TestMetricFilter: the matching messages with 1-based numbers and extracted values."""
    pattern = compile_pattern(pattern_text)
    out: list[dict[str, Any]] = []
    for number, message in enumerate(messages, start=1):
        m = pattern.match(message)
        if m is not None:
            out.append(
                {"eventNumber": number, "eventMessage": message, "extractedValues": m.extracted}
            )
    return out

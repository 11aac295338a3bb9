"""Evaluating a metric alarm: a pure function of the alarm, its per-slot datapoints and now.

The caller asks ``evaluation_window`` what to fetch (R slots of the alarm's period ending at
the grid point E = floor(now, 60 s), or floor(now, 10 s) for 10/20/30 s periods; slot i,
newest i = 0, covers [E - (i+1)P, E - iP)), fetches one statistic value per slot, and hands the
(slot start ms, value) pairs to ``evaluate_metric_alarm``. That classifies every slot against
the threshold (or the anomaly band), applies the missing-data algorithm (``missing_data``),
the DynamoDB rule and the low-sample-count percentile rule, and returns an ``Evaluation``.
Its reason text and reason data are built only when read, so the hot path (an unchanged
state) stays cheap; parsed alarm configurations are cached by their configuration values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from heron.monitor.alarms import reason as texts
from heron.monitor.alarms.compiled import (
    BAND_OPERATORS,
    OP_BELOW,
    OP_GE,
    OP_GT,
    OP_LE,
    OP_LT,
    OP_OUTSIDE,
    STATIC_OPERATORS,
    CompiledAlarm,
    compile_alarm,
    needed_samples,
)
from heron.monitor.alarms.missing_data import (
    ALARM,
    BREACHING,
    GOOD,
    INSUFFICIENT_DATA,
    MISSING,
    Decision,
    decide,
)


def evaluation_window(
    alarm: Mapping[str, Any], now_ms: int, *, evaluation_range: int | None = None
) -> tuple[int, int, int]:
    """(start ms, end ms, period s) of the slots to fetch for an evaluation at ``now_ms``."""
    c = compile_alarm(alarm)
    end = now_ms - now_ms % c.grid_ms
    slots = evaluation_range or c.range_slots
    return end - slots * c.period_s * 1000, end, c.period_s


__all__ = [
    "BAND_OPERATORS",
    "STATIC_OPERATORS",
    "CompiledAlarm",
    "Evaluation",
    "compile_alarm",
    "evaluate_metric_alarm",
    "evaluation_interval_s",
    "evaluation_window",
    "needed_samples",
]


def evaluation_interval_s(alarm: Mapping[str, Any]) -> int:
    """How often CloudWatch evaluates the alarm: 10 s (high resolution), 60 s, or 3600 s when
    Period x EvaluationPeriods exceeds a day [AWS-doc]."""
    c = compile_alarm(alarm)
    if c.period_s < 60:
        return 10
    if c.period_s * c.evaluation_periods > 86_400:
        return 3600
    return 60


class Evaluation:
    """The result of one evaluation: new ``state``, ``reason`` text, ``reason_data`` dict,
    ``changed`` (state differs from the alarm's current state) and ``skipped`` (the
    low-sample-count percentile rule withheld the evaluation: nothing should be recorded).

    ``reason`` and ``reason_data`` are computed on first access.
    """

    __slots__ = ("_build", "_data", "_reason", "changed", "skipped", "state")

    def __init__(
        self,
        state: str,
        changed: bool,
        *,
        reason: str | None = None,
        reason_data: dict[str, Any] | None = None,
        build: Callable[[], tuple[str, dict[str, Any]]] | None = None,
        skipped: bool = False,
    ) -> None:
        self.state = state
        self.changed = changed
        self.skipped = skipped
        self._reason = reason
        self._data = reason_data
        self._build = build

    def _materialise(self) -> None:
        if self._build is not None:
            self._reason, self._data = self._build()
            self._build = None

    @property
    def reason(self) -> str:
        """The StateReason text."""
        self._materialise()
        return self._reason or ""

    @property
    def reason_data(self) -> dict[str, Any]:
        """The StateReasonData (a dict; the store serialises it to AWS's JSON string)."""
        self._materialise()
        return self._data if self._data is not None else {}

    def __repr__(self) -> str:
        return f"Evaluation(state={self.state!r}, changed={self.changed}, reason={self.reason!r})"


def _kept(alarm: Mapping[str, Any], state: str, *, skipped: bool = False) -> Evaluation:
    """The alarm stays as it is: its stored reason and data are repeated."""
    raw = alarm.get("StateReasonData")

    def build() -> tuple[str, dict[str, Any]]:
        data: dict[str, Any] = {}
        if raw:
            try:
                loaded = json.loads(raw) if isinstance(raw, str) else dict(raw)
                data = loaded if isinstance(loaded, dict) else {}
            except ValueError:
                data = {}
        return str(alarm.get("StateReason") or texts.INITIAL_REASON), data

    return Evaluation(state, False, build=build, skipped=skipped)


def _slot_values(
    points: Sequence[tuple[int, float]] | None, end: int, period_ms: int, r: int
) -> list[float | None]:
    """Values by slot position, oldest first; None where the slot has no datapoint."""
    slots: list[float | None] = [None] * r
    if points:
        last = r - 1
        for ts, value in points:
            i = (end - ts - 1) // period_ms  # 0 = newest slot
            if 0 <= i <= last and value == value:  # NaN is no datapoint
                slots[last - i] = value
    return slots


def _classify(c: CompiledAlarm, values: list[float | None], bands: list[Any] | None) -> list[int]:
    op, thr = c.op_code, c.threshold
    if op == OP_GT:
        return [MISSING if v is None else (BREACHING if v > thr else GOOD) for v in values]
    if op == OP_GE:
        return [MISSING if v is None else (BREACHING if v >= thr else GOOD) for v in values]
    if op == OP_LT:
        return [MISSING if v is None else (BREACHING if v < thr else GOOD) for v in values]
    if op == OP_LE:
        return [MISSING if v is None else (BREACHING if v <= thr else GOOD) for v in values]
    codes = []
    for v, band in zip(values, bands or [None] * len(values), strict=True):
        if v is None or band is None:
            codes.append(MISSING)  # no band for the slot: nothing to compare with
            continue
        low, high = band
        if op == OP_OUTSIDE:
            hit = v < low or v > high
        elif op == OP_BELOW:
            hit = v < low
        else:
            hit = v > high
        codes.append(BREACHING if hit else GOOD)
    return codes


def evaluate_metric_alarm(
    alarm: Mapping[str, Any],
    datapoints: Sequence[tuple[int, float]],
    *,
    now_ms: int,
    sample_counts: Sequence[tuple[int, float]] | None = None,
    bands: Sequence[tuple[int, float, float]] | None = None,
    evaluation_range: int | None = None,
    premature_rule: str = "heron",
) -> Evaluation:
    """Evaluate ``alarm`` at ``now_ms`` on ``datapoints`` (slot start ms, value) as AWS does.

    ``sample_counts`` (slot start ms, SampleCount) feed the low-sample-count percentile rule;
    ``bands`` (slot start ms, lower, upper) are the anomaly band for the band operators;
    ``evaluation_range`` overrides R (default ``N + max(2, N // 3)``); ``premature_rule`` picks
    the reading of the premature-alarm rule (``"heron"`` or ``"localstack"``).
    """
    c = compile_alarm(alarm)
    current = alarm.get("StateValue") or INSUFFICIENT_DATA
    end = now_ms - now_ms % c.grid_ms
    period_ms = c.period_s * 1000
    r = evaluation_range or c.range_slots
    values = _slot_values(datapoints, end, period_ms, r)
    band_slots = _slot_values_pairs(bands, end, period_ms, r) if c.anomaly else None
    codes = _classify(c, values, band_slots)
    decision = decide(
        codes,
        c.evaluation_periods,
        c.datapoints_to_alarm,
        c.treat_missing,
        premature_rule=premature_rule,
    )
    counts = _slot_values(sample_counts, end, period_ms, r) if sample_counts else None
    if c.min_samples is not None and counts is not None:
        needed = c.min_samples
        for i in decision.window:
            count = counts[i]
            if count is not None and 0 < count < needed:
                return _kept(alarm, current, skipped=True)
    if decision.state is None:
        return _kept(alarm, current)
    state = decision.state

    def build() -> tuple[str, dict[str, Any]]:
        return _explain(c, decision, state, codes, values, counts, band_slots, now_ms, end, r)

    return Evaluation(state, state != current, build=build)


def _slot_values_pairs(
    bands: Sequence[tuple[int, float, float]] | None, end: int, period_ms: int, r: int
) -> list[Any]:
    slots: list[Any] = [None] * r
    for ts, low, high in bands or ():
        i = (end - ts - 1) // period_ms
        if 0 <= i < r:
            slots[r - 1 - i] = (low, high)
    return slots


def _explain(
    c: CompiledAlarm,
    decision: Decision,
    state: str,
    codes: list[int],
    values: list[float | None],
    counts: list[float | None] | None,
    band_slots: list[Any] | None,
    now_ms: int,
    end: int,
    r: int,
) -> tuple[str, dict[str, Any]]:
    """StateReason and StateReasonData for a decided evaluation."""
    period_ms = c.period_s * 1000
    n = c.evaluation_periods

    def slot_ts(i: int) -> int:
        return end - (r - i) * period_ms

    # Missing slots treated as breaching / not breaching: the newest missing ones.
    filled_slots = [i for i in range(r - 1, -1, -1) if codes[i] == MISSING][: decision.filled]
    filled_as = "Breaching" if c.treat_missing == "breaching" else "NonBreaching"
    window = decision.window
    if state == INSUFFICIENT_DATA:
        reason = texts.insufficient_data_reason(n)
    elif not window:
        reason = texts.no_data_reason(n, filled_as)
    else:
        wanted = BREACHING if state == ALARM else GOOD
        crossing = [i for i in reversed(window) if codes[i] == wanted]
        reason = texts.threshold_reason(
            alarm_state=state == ALARM,
            operator=c.operator,
            threshold=c.threshold,
            points=[(slot_ts(i), values[i] or 0.0) for i in crossing],
            out_of=n if decision.filled else len(window),
            evaluation_periods=n,
            datapoints_to_alarm=c.datapoints_to_alarm,
            filled=decision.filled,
            filled_as=filled_as,
            bands=[band_slots[i] for i in crossing] if band_slots is not None else (),
        )
    used = sorted([*window, *filled_slots])
    start = slot_ts(used[0]) if used else end - n * period_ms
    evaluated = [
        (slot_ts(i), counts[i] if counts is not None else None, values[i]) for i in reversed(used)
    ]
    data = texts.state_reason_data(
        query_ms=now_ms,
        start_ms=start,
        unit=c.unit,
        statistic=c.statistic,
        period_s=c.period_s,
        recent=[values[i] or 0.0 for i in window],
        threshold=None if c.anomaly else c.threshold,
        evaluated=evaluated,
        bands=[band_slots[i] for i in window] if band_slots is not None else None,
    )
    return reason, data

"""When alarms are evaluated, with what data, and what follows a state change.

Cadence follows CloudWatch (cloudwatch.md §1.3): alarms with a period of 60 s or more are
evaluated every minute on a sliding window, high-resolution alarms (10/20/30 s) every 10 s, and
multi-day alarms hourly. Because the sliding window ends at the boundary just passed, evaluating
right after each boundary (plus a small settle delay for datapoints still in flight) is also
evaluating "as soon as a period closes": a breach is recorded within ``settle_s`` of the close.
Composite alarms are evaluated when created or updated and whenever an alarm they reference
changes state.

``tick(now)`` does one round and never reads the clock itself: everything below it gets ``now``
passed in. Alarms watching the same metric, period, statistic and unit share one read per tick,
and a store with ``series_many`` answers all of a round's reads in one call, so nothing here
costs the ingest path anything per alarm.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import logging
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

from heron.awsapi.errors import AwsError
from heron.monitor.alarms.actions import AlarmActions, Publisher
from heron.monitor.alarms.composite import evaluate_composite, parse_alarm_rule
from heron.monitor.alarms.evaluate import (
    Evaluation,
    compile_alarm,
    evaluate_metric_alarm,
    evaluation_interval_s,
    evaluation_window,
)
from heron.monitor.alarms.store import AlarmStore, Transition
from heron.monitor.contracts import MetricId, MetricQueries
from heron.monitor.metrics.metric_data import run_queries
from heron.monitor.metrics.metric_queries import QueryPlan, plan_queries
from heron.types import Clock

log = logging.getLogger(__name__)

#: Evaluation cadences in seconds: high resolution, standard, multi-day.
HIGH_RES, STANDARD, HOURLY = 10, 60, 3600
#: Wait after a boundary before evaluating, for datapoints of the closed period still arriving.
DEFAULT_SETTLE_S = 1.0
#: How often a composite may be re-evaluated within one cascade (AWS stops at cycles).
_MAX_COMPOSITE_PASSES = 4
_HISTORY_EXPIRY_S = 3600.0

Points = list[tuple[int, float]]
_GroupKey = tuple[MetricId, int, str, str | None]


class _FetchPlan(NamedTuple):
    """A single-metric alarm's reads, derived from one configuration (``stamp``)."""

    stamp: Any
    series: tuple[int, ...]  # numbered group keys: the statistic's, then SampleCount's if needed
    grid: tuple[int, int]  # (evaluation grid ms, window length ms)


@runtime_checkable
class BatchQueries(Protocol):
    """A metric store that answers many ``series`` reads in one call (``MetricStore``)."""

    def series_many(
        self, requests: Sequence[tuple[MetricId, int, int, int, str, str | None]]
    ) -> list[tuple[list[int], list[float]]]:
        """``series`` for every request, in request order."""


def cadence(alarm: Mapping[str, Any]) -> int:
    """How often a metric alarm is evaluated (seconds); 0 for composite alarms (on events)."""
    if "AlarmRule" in alarm:
        return 0
    return evaluation_interval_s(alarm)


def alarm_children(alarm: Mapping[str, Any]) -> list[str]:
    """Names of the alarms a composite alarm's rule references (ARNs reduced to names)."""
    return list(parse_alarm_rule(str(alarm["AlarmRule"])).children)


class AlarmScheduler:
    """Evaluates alarms on CloudWatch's cadence, records transitions and runs their actions."""

    def __init__(
        self,
        store: AlarmStore,
        metrics: MetricQueries,
        publisher: Publisher,
        clock: Clock,
        *,
        settle_s: float = DEFAULT_SETTLE_S,
        time_scale: float = 1.0,
    ) -> None:
        self.store = store
        #: Heron seconds per real second (``clock`` runs this fast); sleeps are divided by it.
        self.time_scale = time_scale
        self.metrics = metrics
        self.clock = clock
        self.settle_s = settle_s
        self.actions = AlarmActions(store, publisher, clock=clock)
        self.evaluations = 0
        self._lock = threading.RLock()
        self._last: dict[int, int] = {}
        self._version = -1
        self._by_cadence: dict[int, list[str]] = {}
        self._composites: list[str] = []
        self._parents: dict[str, list[str]] = {}
        self._plans: dict[tuple[str, float], QueryPlan] = {}
        self._fetch_plans: dict[str, _FetchPlan] = {}
        # Group keys numbered once, so a round hashes small ints instead of metric identities.
        self._key_ids: dict[_GroupKey, int] = {}
        self._group_keys: list[_GroupKey] = []
        self._composites_started = False
        self._last_expiry = float("-inf")

    # -- timing ----------------------------------------------------------------------------

    def next_due(self, now: float) -> float:
        """The instant the next evaluation round is due (``now`` when one is overdue)."""
        self._regroup()
        # Wake at least every 10 s so an alarm created meanwhile meets its first boundary.
        due = (int(now // HIGH_RES) + 1) * HIGH_RES + self.settle_s
        for step in self._by_cadence:
            boundary = int(now // step) * step
            if self._last.get(step, -1) < boundary * 1000:
                at = boundary + self.settle_s
            else:
                at = boundary + step + self.settle_s
            due = min(due, at)
        return max(now, due)

    async def run(self, stop: asyncio.Event) -> None:
        """Evaluate on schedule until ``stop`` is set (the tick runs in a worker thread)."""
        while not stop.is_set():
            now = self.clock()
            delay = (self.next_due(now) - now) / self.time_scale
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                if stop.is_set():
                    return
            try:
                await asyncio.to_thread(self.tick, self.clock())
            except Exception:  # the next round retries; alarms must keep being evaluated
                log.exception("alarm evaluation round failed")

    # -- evaluation rounds -----------------------------------------------------------------

    def tick(self, now: float) -> list[Transition]:
        """Evaluate every alarm whose cadence boundary has passed since its last round."""
        with self._lock:
            self._regroup()
            due: list[str] = []
            for step, names in self._by_cadence.items():
                boundary_ms = int(now // step) * step * 1000
                if self._last.get(step, -1) < boundary_ms:
                    self._last[step] = boundary_ms
                    due.extend(names)
            if not self._composites_started:
                # After a start nothing has evaluated composites yet; later, events drive them.
                self._composites_started = True
                due.extend(self._by_cadence_composites())
            transitions = self._evaluate(due, now) if due else []
            if now - self._last_expiry >= _HISTORY_EXPIRY_S:
                self._last_expiry = now
                self.store.expire_history(now)
            return transitions

    def evaluate_now(self, names: Iterable[str], now: float | None = None) -> list[Transition]:
        """Evaluate the named alarms at once (after a Put), then cascade to composites."""
        at = self.clock() if now is None else now
        with self._lock:
            self._regroup()
            return self._evaluate(list(names), at)

    def set_state(
        self, name: str, state: str, reason: str, reason_data: str | None, now: float | None = None
    ) -> Transition | None:
        """SetAlarmState: change the state now (actions run, composites follow).

        A metric alarm goes back to its computed state at its next evaluation, as on AWS.
        """
        at = self.clock() if now is None else now
        with self._lock:
            self._regroup()
            transition = self.store.set_state(name, state, reason, reason_data, now=at)
            if transition is None:
                return None
            self.actions.run(transition)
            self._cascade([transition], at)
            return transition

    # -- internals -------------------------------------------------------------------------

    def _regroup(self) -> None:
        """Rebuild the cadence groups and the composite parent index after config changes."""
        if self._version == self.store.version:
            return
        alarms = self.store.snapshot()
        by_cadence: dict[int, list[str]] = defaultdict(list)
        parents: dict[str, list[str]] = defaultdict(list)
        for name, alarm in alarms.items():
            step = cadence(alarm)
            if step:
                by_cadence[step].append(name)
                continue
            by_cadence[0].append(name)
            try:
                children = alarm_children(alarm)
            except Exception:  # a stored rule that no longer parses must not stop the rest
                log.exception("cannot parse the rule of composite alarm %s", name)
                continue
            for child in children:
                parents[child].append(name)
        composites = by_cadence.pop(0, [])
        self._by_cadence = dict(by_cadence)
        self._composites = composites
        self._parents = dict(parents)
        self._plans = {k: v for k, v in self._plans.items() if k[0] in alarms}
        # A Put may keep the configuration timestamp (same clock instant): plan afresh.
        self._fetch_plans.clear()
        self._key_ids.clear()
        self._group_keys.clear()
        self._version = self.store.version

    def _by_cadence_composites(self) -> list[str]:
        return list(self._composites)

    def _evaluate(self, names: Sequence[str], now: float) -> list[Transition]:
        alarms = self.store.snapshot()
        chosen = [alarms[n] for n in dict.fromkeys(names) if n in alarms]
        metric_alarms = [a for a in chosen if "AlarmRule" not in a]
        composites = [a for a in chosen if "AlarmRule" in a]
        transitions: list[Transition] = []
        now_ms = int(now * 1000)
        # Composites first, on the children's states as they stand; changes made by this round's
        # metric alarms then reach them through the cascade, with the child named as the trigger.
        for alarm in composites:
            transition = self._evaluate_composite(alarm, now)
            if transition is not None:
                transitions.append(transition)
        for metric_alarm, result in self._evaluate_metric_alarms(metric_alarms, now_ms):
            transition = self._apply(metric_alarm, result, now)
            if transition is not None:
                transitions.append(transition)
        return transitions + self._cascade(transitions, now)

    def _evaluate_metric_alarms(
        self, alarms: Sequence[Mapping[str, Any]], now_ms: int
    ) -> Iterable[tuple[Mapping[str, Any], Evaluation]]:
        windows: dict[int, tuple[int, int]] = {}
        spans: dict[tuple[int, int], tuple[int, int]] = {}
        plans: list[tuple[Mapping[str, Any], tuple[int, int, int]]] = []
        single: list[tuple[Mapping[str, Any], _FetchPlan, int, int]] = []
        # Pass 1: which (metric, period, statistic, unit) series over which span each alarm needs;
        # the per-alarm parts come from a plan cached per configuration, the window per grid.
        for alarm in alarms:
            if "Metrics" in alarm:
                plans.append((alarm, evaluation_window(alarm, now_ms)))
                continue
            plan = self._fetch_plan(alarm)
            span = spans.get(plan.grid)
            if span is None:
                grid_ms, range_ms = plan.grid
                end = now_ms - now_ms % grid_ms
                span = spans[plan.grid] = (end - range_ms, end)
            start, end = span
            for key in plan.series:
                known = windows.get(key)
                if known is None:
                    windows[key] = span
                elif known[0] > start or known[1] < end:
                    windows[key] = (min(known[0], start), max(known[1], end))
            single.append((alarm, plan, start, end))
        # Pass 2: every distinct series, in one batched store call where the store offers one.
        groups = self._group_keys
        by_key = self._fetch({groups[i]: span for i, span in windows.items()})
        fetched = {i: by_key[groups[i]] for i in windows}
        # Alarms on the same series and window share one (read-only) slice.
        slices: dict[tuple[int, int, int], Points] = {}
        for alarm, plan, start, end in single:
            points = _shared_slice(slices, fetched, plan.series[0], start, end)
            counts = (
                _shared_slice(slices, fetched, plan.series[1], start, end)
                if len(plan.series) > 1
                else None
            )
            self.evaluations += 1
            yield alarm, evaluate_metric_alarm(alarm, points, now_ms=now_ms, sample_counts=counts)
        for alarm, window in plans:
            try:
                points = self._math_points(alarm, window, now_ms)
            except (AwsError, ValueError):
                log.warning("metric math of alarm %s failed", alarm["AlarmName"], exc_info=True)
                continue
            self.evaluations += 1
            yield alarm, evaluate_metric_alarm(alarm, points, now_ms=now_ms)

    def _fetch_plan(self, alarm: Mapping[str, Any]) -> _FetchPlan:
        """The alarm's series keys and window shape, computed once per configuration."""
        name = alarm["AlarmName"]
        stamp = alarm.get("AlarmConfigurationUpdatedTimestamp")
        cached = self._fetch_plans.get(name)
        if cached is not None and cached.stamp == stamp:
            return cached
        start, end, period = evaluation_window(alarm, 0)
        # The window at 0 is [-range, 0): its length; the grid is the alarm's evaluation grid.
        grid_ms = compile_alarm(alarm).grid_ms
        keys = [_group_key(alarm, period, _statistic(alarm))]
        if _needs_sample_counts(alarm):
            keys.append(_group_key(alarm, period, "SampleCount"))
        series = tuple(self._key_id(k) for k in keys)
        plan = self._fetch_plans[name] = _FetchPlan(stamp, series, (grid_ms, end - start))
        return plan

    def _key_id(self, key: _GroupKey) -> int:
        """The number of a group key (numbered on first sight)."""
        number = self._key_ids.get(key)
        if number is None:
            number = self._key_ids[key] = len(self._group_keys)
            self._group_keys.append(key)
        return number

    def _fetch(
        self, windows: Mapping[_GroupKey, tuple[int, int]]
    ) -> dict[_GroupKey, tuple[list[int], list[float]]]:
        """Each group's series over its span: one ``series_many`` call, else one call each."""
        keys = list(windows)
        if isinstance(self.metrics, BatchQueries) and keys:
            requests = [(k[0], *windows[k], k[1], k[2], k[3]) for k in keys]
            try:
                return dict(zip(keys, self.metrics.series_many(requests), strict=True))
            except ValueError:  # one bad group: read them singly so the others still count
                log.warning("batched alarm read failed; reading series one by one", exc_info=True)
        fetched: dict[_GroupKey, tuple[list[int], list[float]]] = {}
        for key in keys:
            metric, period, statistic, unit = key
            start, end = windows[key]
            try:
                fetched[key] = self.metrics.series(
                    metric,
                    start_ms=start,
                    end_ms=end,
                    period_s=period,
                    statistic=statistic,
                    unit=unit,
                )
            except ValueError:
                log.warning("alarm series %s could not be read", key, exc_info=True)
                fetched[key] = ([], [])
        return fetched

    def _math_points(
        self, alarm: Mapping[str, Any], window: tuple[int, int, int], now_ms: int
    ) -> Points:
        key = (str(alarm["AlarmName"]), float(alarm["AlarmConfigurationUpdatedTimestamp"]))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = plan_queries(alarm["Metrics"])
        results = run_queries(plan, _metric_fetch(self.metrics), window[0], window[1], now_ms)
        threshold_id = alarm.get("ThresholdMetricId")
        for result in results:
            if result.query.id != threshold_id:
                series = result.series
                return list(zip(series.timestamps.tolist(), series.values.tolist(), strict=True))
        return []

    def _evaluate_composite(
        self, alarm: Mapping[str, Any], now: float, trigger: str | None = None
    ) -> Transition | None:
        """Evaluate a composite alarm; ``trigger`` names the child whose change caused it."""
        states: dict[str, str] = {}
        stamps: dict[str, int] = {}
        for name, other in self.store.snapshot().items():
            states[name] = other["StateValue"]
            stamps[name] = round(float(other["StateTransitionedTimestamp"]) * 1000)
        self.evaluations += 1
        result = evaluate_composite(
            alarm, states, now_ms=int(now * 1000), trigger=trigger, timestamps=stamps
        )
        return self._apply(alarm, result, now)

    def _apply(self, alarm: Mapping[str, Any], result: Evaluation, now: float) -> Transition | None:
        """Record an evaluation's state change (if any) and run the new state's actions."""
        if result.state == alarm["StateValue"]:
            return None
        reason_data = (
            json.dumps(result.reason_data, separators=(",", ":"))
            if result.reason_data is not None
            else None
        )
        transition = self.store.set_state(
            alarm["AlarmName"],
            result.state,
            result.reason,
            reason_data,
            now=now,
            config_timestamp=alarm["AlarmConfigurationUpdatedTimestamp"],
        )
        if transition is not None:
            try:
                self.actions.run(transition)
            except Exception:  # the state change stands even if an action could not be recorded
                log.exception("actions of alarm %s failed", alarm["AlarmName"])
        return transition

    def _cascade(self, changed: Sequence[Transition], now: float) -> list[Transition]:
        """Re-evaluate the composites above changed alarms, and theirs in turn."""
        out: list[Transition] = []
        queue = deque(t.alarm["AlarmName"] for t in changed)
        passes: dict[str, int] = defaultdict(int)
        while queue:
            child = queue.popleft()
            for parent in self._parents.get(child, ()):
                if passes[parent] >= _MAX_COMPOSITE_PASSES:
                    continue  # a cycle: AWS stops evaluating it too
                passes[parent] += 1
                alarm = self.store.snapshot().get(parent)
                if alarm is None:
                    continue
                transition = self._evaluate_composite(alarm, now, trigger=child)
                if transition is not None:
                    out.append(transition)
                    queue.append(parent)
        return out


def _statistic(alarm: Mapping[str, Any]) -> str:
    return str(alarm.get("ExtendedStatistic") or alarm.get("Statistic"))


def _needs_sample_counts(alarm: Mapping[str, Any]) -> bool:
    stat = str(alarm.get("ExtendedStatistic") or "")
    return stat.startswith("p") and alarm.get("EvaluateLowSampleCountPercentile") == "ignore"


def _group_key(alarm: Mapping[str, Any], period: int, statistic: str) -> _GroupKey:
    dims = tuple(sorted((d["Name"], d["Value"]) for d in alarm.get("Dimensions") or []))
    metric = MetricId(str(alarm["Namespace"]), str(alarm["MetricName"]), dims)
    return metric, period, statistic, alarm.get("Unit")


def _shared_slice(
    slices: dict[tuple[int, int, int], Points],
    fetched: Mapping[int, tuple[list[int], list[float]]],
    key: int,
    start: int,
    end: int,
) -> Points:
    """``_slice`` of a fetched series, computed once per (series, window) in a round."""
    at = (key, start, end)
    points = slices.get(at)
    if points is None:
        points = slices[at] = _slice(fetched[key], start, end)
    return points


def _slice(series: tuple[list[int], list[float]], start: int, end: int) -> Points:
    """The points with ``start <= timestamp < end`` of an ascending series."""
    timestamps, values = series
    lo = bisect.bisect_left(timestamps, start)
    hi = bisect.bisect_left(timestamps, end)
    return list(zip(timestamps[lo:hi], values[lo:hi], strict=True))


def _metric_fetch(
    metrics: MetricQueries,
) -> Callable[[Mapping[str, Any], int, int], tuple[list[int], list[float]]]:
    def fetch(stat: Mapping[str, Any], start_ms: int, end_ms: int) -> tuple[list[int], list[float]]:
        metric = stat["Metric"]
        dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions") or []))
        return metrics.series(
            MetricId(metric["Namespace"], metric["MetricName"], dims),
            start_ms=start_ms,
            end_ms=end_ms,
            period_s=int(stat["Period"]),
            statistic=str(stat["Stat"]),
            unit=stat.get("Unit"),
        )

    return fetch

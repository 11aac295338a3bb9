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
and a store with ``series_many`` answers all of a round's reads in one call (``metric_reads``),
so nothing here costs the ingest path anything per alarm. Between rounds ``run`` sleeps until
the next one is due; a configuration change (an alarm put or deleted) wakes it to reschedule.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from heron.monitor.alarms.actions import AlarmActions, Publisher
from heron.monitor.alarms.composite import evaluate_composite, parse_alarm_rule
from heron.monitor.alarms.evaluate import Evaluation, evaluation_interval_s
from heron.monitor.alarms.metric_reads import MetricReads
from heron.monitor.alarms.store import AlarmStore, Transition
from heron.monitor.contracts import MetricQueries
from heron.types import Clock
from heron.wakeups import Wakeable

log = logging.getLogger(__name__)

#: Evaluation cadences in seconds: high resolution, standard, multi-day.
HIGH_RES, STANDARD, HOURLY = 10, 60, 3600
#: Wait after a boundary before evaluating, for datapoints of the closed period still arriving.
DEFAULT_SETTLE_S = 1.0
#: How often a composite may be re-evaluated within one cascade (AWS stops at cycles).
_MAX_COMPOSITE_PASSES = 4
_HISTORY_EXPIRY_S = 3600.0


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
        self._reads = MetricReads(metrics)
        self._composites_started = False
        self._last_expiry = float("-inf")

    # -- timing ----------------------------------------------------------------------------

    def next_due(self, now: float) -> float:
        """The instant the next evaluation round is due (``now`` when one is overdue)."""
        self._regroup()
        # With no alarm, only the hourly history expiry; ``run`` is woken by a new alarm.
        due = self._last_expiry + _HISTORY_EXPIRY_S
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
        changed = Wakeable()
        self.store.on_change(changed.threadsafe_wake())  # alarms are put from API threads
        with changed.woken_by(stop):
            await self._run(stop, changed)

    async def _run(self, stop: asyncio.Event, changed: Wakeable) -> None:
        while not stop.is_set():
            now = self.clock()
            delay = (self.next_due(now) - now) / self.time_scale
            if delay > 0:
                woken = await changed.sleep(delay)
                if stop.is_set():
                    return
                if woken:  # a new alarm may be due sooner: reschedule
                    continue
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
        self._reads.forget(alarms)
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
        for metric_alarm, result in self._reads.evaluate(metric_alarms, now_ms):
            self.evaluations += 1
            transition = self._apply(metric_alarm, result, now)
            if transition is not None:
                transitions.append(transition)
        return transitions + self._cascade(transitions, now)

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

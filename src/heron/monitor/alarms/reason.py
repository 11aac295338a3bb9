"""AWS's StateReason text and StateReasonData JSON for alarm state changes (cloudwatch.md §1.8, §1.9).

Numbers are rendered as Java doubles (``21.0``, ``1.0E7``), datapoint times in reasons as
``dd/MM/yy HH:mm:ss`` UTC, JSON timestamps as ``yyyy-MM-dd'T'HH:mm:ss.SSS+0000``. Datapoints in
reason text are listed newest first. Texts marked [AWS-observed] in the reference are reproduced
exactly; the partly-missing and OK-side wordings are [Inferred] from the same family.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

#: Reason given to a newly created metric alarm before its first evaluation [AWS-observed].
INITIAL_REASON = "Unchecked: Initial alarm creation"
#: StateReason is capped at 1023 characters (the SetAlarmState constraint).
MAX_REASON = 1023

_PHRASES = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def java_double(value: float) -> str:
    """``value`` as Java's ``Double.toString`` prints it (``21.0``, ``0.5``, ``1.0E7``, ``1.5E-4``)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if str(value).startswith("-") else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = repr(value)
        if "e" in text or "E" in text:  # repr chose exponent form inside Java's plain range
            text = format(Decimal(text), "f")
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    power = len(text) - 1 + exponent
    mantissa = text[0] + "." + (text[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{power}"


@lru_cache(maxsize=65536)
def iso_timestamp(ms: int) -> str:
    """Epoch ms as AWS's JSON timestamp, ``2026-11-27T12:00:00.000+0000``."""
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}+0000"


@lru_cache(maxsize=65536)
def reason_timestamp(ms: int) -> str:
    """Epoch ms as a datapoint time inside reason text, ``27/11/26 12:00:00``."""
    return time.strftime("%d/%m/%y %H:%M:%S", time.gmtime(ms // 1000))


def long_timestamp(ms: int) -> str:
    """Epoch ms as in composite reasons, ``Friday 22 July, 2022 15:57:45 UTC`` (day padded [Inferred])."""
    t = time.gmtime(ms // 1000)
    return (
        f"{_DAYS[t.tm_wday]} {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]}, {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} UTC"
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _was(count: int) -> str:
    return "was" if count == 1 else "were"


def cap(text: str) -> str:
    """Text cut to AWS's 1023-character StateReason limit."""
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def _points(points: Sequence[tuple[int, float]]) -> str:
    return ", ".join(f"{java_double(v)} ({reason_timestamp(ts)})" for ts, v in points)


def _bounds(values: Sequence[float]) -> str:
    return "[" + ", ".join(java_double(v) for v in values) + "]"


def threshold_reason(
    *,
    alarm_state: bool,
    operator: str,
    threshold: float | None,
    points: Sequence[tuple[int, float]],
    out_of: int,
    evaluation_periods: int,
    datapoints_to_alarm: int,
    filled: int = 0,
    filled_as: str = "",
    bands: Sequence[tuple[float, float]] = (),
) -> str:
    """A ``Threshold Crossed`` reason.

    ``points`` are the (timestamp ms, value) datapoints that crossed in the direction of the new
    state (breaching for ALARM, not breaching for OK), newest first; ``out_of`` how many
    datapoints were considered; ``filled`` missing datapoints treated as ``filled_as``
    (``Breaching``/``NonBreaching``); ``bands`` the (lower, upper) band of each point for the
    anomaly operators.
    """
    count = len(points)
    negation = "" if alarm_state else "not "
    if bands:
        lower, upper = _bounds([b[0] for b in bands]), _bounds([b[1] for b in bands])
        if operator == "LessThanLowerThreshold":
            phrase = f"{negation}less than the lower thresholds {lower}"
        elif operator == "GreaterThanUpperThreshold":
            phrase = f"{negation}greater than the upper thresholds {upper}"
        else:
            phrase = (
                f"{negation}less than the lower thresholds {lower} "
                f"or greater than the upper thresholds {upper}"
            )
        head = "Thresholds Crossed"
    else:
        phrase = f"{negation}{_PHRASES[operator]} the threshold ({java_double(threshold or 0.0)})"
        head = "Threshold Crossed"
    listed = f" [{_points(points)}]" if points else ""
    if evaluation_periods == 1 and not filled and not bands:
        # Current AWS words single-period alarms without the "out of" and minimum clauses.
        return cap(f"{head}: {_plural(count, 'datapoint')}{listed} {_was(count)} {phrase}.")
    if alarm_state:
        minimum, transition = datapoints_to_alarm, "OK -> ALARM"
    else:
        minimum, transition = evaluation_periods - datapoints_to_alarm + 1, "ALARM -> OK"
    treated = ""
    if filled:
        treated = (
            f" and {_plural(filled, 'missing datapoint')} {_was(filled)} treated as [{filled_as}]"
        )
    return cap(
        f"{head}: {count} out of the last {_plural(out_of, 'datapoint')}{listed} "
        f"{_was(count)} {phrase}{treated} "
        f"(minimum {_plural(minimum, 'datapoint')} for {transition} transition)."
    )


def no_data_reason(periods: int, filled_as: str) -> str:
    """Every slot missing, treated as breaching or not [AWS-observed]."""
    return (
        f"Threshold Crossed: no datapoints were received for {_plural(periods, 'period')} and "
        f"{_plural(periods, 'missing datapoint')} {_was(periods)} treated as [{filled_as}]."
    )


def insufficient_data_reason(periods: int) -> str:
    """Every slot missing with TreatMissingData ``missing`` [AWS-observed wording]."""
    return f"Insufficient Data: {_plural(periods, 'datapoint')} {_was(periods)} unknown."


def state_reason_data(
    *,
    query_ms: int,
    start_ms: int,
    unit: str | None,
    statistic: str | None,
    period_s: int,
    recent: Sequence[float],
    threshold: float | None,
    evaluated: Sequence[tuple[int, float | None, float | None]],
    bands: Sequence[tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """StateReasonData of a metric alarm, keys in AWS's order.

    ``recent`` are the values used, oldest first; ``evaluated`` the (timestamp ms, sample
    count, value) of each evaluated slot, newest first, ``value`` None for a missing slot that
    was treated as breaching or not (AWS then writes only the timestamp). ``bands`` switches
    ``threshold`` to ``recentLowerThresholds``/``recentUpperThresholds``.
    """
    data: dict[str, Any] = {
        "version": "1.0",
        "queryDate": iso_timestamp(query_ms),
        "startDate": iso_timestamp(start_ms),
    }
    if unit is not None:
        data["unit"] = unit
    if statistic is not None:
        data["statistic"] = statistic
    data["period"] = period_s
    data["recentDatapoints"] = list(recent)
    if bands is not None:
        data["recentLowerThresholds"] = [b[0] for b in bands]
        data["recentUpperThresholds"] = [b[1] for b in bands]
    elif threshold is not None:
        data["threshold"] = threshold
    points: list[dict[str, Any]] = []
    for ts, samples, value in evaluated:
        point: dict[str, Any] = {"timestamp": iso_timestamp(ts)}
        if value is not None:
            if samples is not None:
                point["sampleCount"] = samples
            point["value"] = value
        points.append(point)
    data["evaluatedDatapoints"] = points
    return data


def composite_created_reason(arn: str, state: str) -> str:
    """First evaluation of a composite alarm [AWS-observed]."""
    return f"{arn} was created and its alarm rule evaluates to {state}"


def composite_updated_reason(arn: str, state: str) -> str:
    """Re-evaluation after a configuration update [Inferred from the creation wording]."""
    return f"{arn} was updated and its alarm rule evaluates to {state}"


def composite_child_reason(child_arn: str, child_state: str, at_ms: int) -> str:
    """A child's transition re-evaluated the composite [AWS-observed]."""
    return f"{child_arn} transitioned to {child_state} at {long_timestamp(at_ms)}"


def composite_reason_data(triggering: Sequence[tuple[str, str, int | None]]) -> dict[str, Any]:
    """``{"triggeringAlarms": [{"arn", "state": {"value", "timestamp"}}]}`` (no version key)."""
    alarms: list[dict[str, Any]] = []
    for arn, value, at_ms in triggering:
        state: dict[str, Any] = {"value": value}
        if at_ms is not None:
            state["timestamp"] = iso_timestamp(at_ms)
        alarms.append({"arn": arn, "state": state})
    return {"triggeringAlarms": alarms}


def to_json(data: dict[str, Any]) -> str:
    """StateReasonData as AWS's compact JSON string."""
    return json.dumps(data, separators=(",", ":"))

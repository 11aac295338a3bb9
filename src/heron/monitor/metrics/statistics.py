"""CloudWatch statistic names: parsing ``Sum``, ``p99.9``, ``TM(10%:90%)``, ``tc99``, ``IQM`` ...

``parse_statistic`` turns a statistic string into a ``Statistic`` (or raises
``StatisticError``); the query side evaluates a ``Statistic`` over merged buckets. Forms accepted
(CloudWatch "statistics definitions"):

* the basic five: ``SampleCount``, ``Sum``, ``Average``, ``Minimum``, ``Maximum``;
* ``pNN`` / ``pNN.NN`` — percentile, 0 <= NN <= 100;
* ``TM(a:b)``, ``WM(a:b)``, ``TC(a:b)``, ``TS(a:b)``, ``PR(a:b)`` — either bound may be omitted;
  with ``%`` both bounds are percentiles (0..100), without ``%`` they are absolute values
  (lower exclusive, upper inclusive); mixing the two forms is refused;
* ``tmNN``, ``wmNN``, ``tcNN``, ``tsNN`` — shorthand for ``XX(:NN%)``;
* ``IQM`` — ``TM(25%:75%)``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: The five statistics every datapoint can answer exactly.
BASIC_STATISTICS = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")

_NUM = r"(?:\d+(?:\.\d+)?|\.\d+)"
_PERCENTILE = re.compile(rf"^p({_NUM})$")
_SHORTHAND = re.compile(rf"^(tm|wm|tc|ts)({_NUM})$")
_RANGE = re.compile(rf"^(TM|WM|TC|TS|PR)\((-?{_NUM}%?)?:(-?{_NUM}%?)?\)$")


class StatisticError(ValueError):
    """A statistic string CloudWatch would not accept."""


@dataclass(frozen=True, slots=True)
class Statistic:
    """One parsed statistic.

    ``kind`` is one of the basic five, ``"p"``, ``"TM"``, ``"WM"``, ``"TC"``, ``"TS"`` or
    ``"PR"``. For ``"p"`` the percentile is ``high``. For the range kinds ``low``/``high`` are
    the bounds (``None`` = open) and ``percent`` says whether they are percentiles.
    """

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    percent: bool = False

    @property
    def basic(self) -> bool:
        """True for the five statistics that need no percentile buckets."""
        return self.kind in BASIC_STATISTICS


def _number(text: str, original: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StatisticError(f"Invalid statistic {original}")
    return value


def _percent_bound(text: str, original: str) -> float:
    value = _number(text, original)
    if not 0.0 <= value <= 100.0:
        raise StatisticError(f"Invalid statistic {original}")
    return value


def parse_statistic(text: str) -> Statistic:
    """Parse a statistic string; raise ``StatisticError`` when CloudWatch would refuse it."""
    if text in BASIC_STATISTICS:
        return Statistic(text, text)
    if text == "IQM":
        return Statistic(text, "TM", 25.0, 75.0, True)
    m = _PERCENTILE.match(text)
    if m:
        return Statistic(text, "p", None, _percent_bound(m.group(1), text), True)
    m = _SHORTHAND.match(text)
    if m:
        return Statistic(text, m.group(1).upper(), None, _percent_bound(m.group(2), text), True)
    m = _RANGE.match(re.sub(r"\s+", "", text) if "(" in text else text)
    if not m:
        raise StatisticError(f"Invalid statistic {text}")
    kind, low_text, high_text = m.group(1), m.group(2), m.group(3)
    if low_text is None and high_text is None:
        raise StatisticError(f"Invalid statistic {text}")
    marks = {b.endswith("%") for b in (low_text, high_text) if b is not None}
    if len(marks) > 1:
        raise StatisticError(f"Invalid statistic {text}")
    percent = marks.pop()
    parse = _percent_bound if percent else _number
    low = parse(low_text.rstrip("%"), text) if low_text is not None else None
    high = parse(high_text.rstrip("%"), text) if high_text is not None else None
    if low is not None and high is not None and low > high:
        raise StatisticError(f"Invalid statistic {text}")
    return Statistic(text, kind, low, high, percent)


def is_percentile(text: str) -> bool:
    """True for ``p0.0``..``p100`` — the only extended form GetMetricStatistics accepts."""
    try:
        return parse_statistic(text).kind == "p"
    except StatisticError:
        return False

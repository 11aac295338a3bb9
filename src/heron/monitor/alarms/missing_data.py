"""CloudWatch's missing-data algorithm: from classified slots to an alarm's next state (§1.5).

Slots run oldest to newest over the evaluation range (R slots, R > N); each is ``MISSING``,
``GOOD`` (not breaching) or ``BREACHING``. ``decide`` returns the new state, or ``None`` for
"keep the current state". All ten documented rows of the reference hold (see
tests/monitor/alarms/test_missing_data_vectors.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MISSING = 0
GOOD = 1
BREACHING = 2

ALARM = "ALARM"
OK = "OK"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
STATES = (OK, ALARM, INSUFFICIENT_DATA)

TREATMENTS = ("breaching", "notBreaching", "ignore", "missing")

#: Premature-alarm readings: the reference's (all real points breaching and the oldest at least
#: M slots old) and LocalStack's (the M-th newest slot breaching, everything older missing).
PREMATURE_RULES = ("heron", "localstack")


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one evaluation.

    ``state`` is None when the alarm keeps its current state. ``window`` holds the slot
    positions (oldest-first indexes) of the real datapoints the decision used, ``breaching``
    how many of them breach, ``filled`` how many missing slots were treated as breaching or
    not, ``premature`` whether the premature-alarm rule decided.
    """

    state: str | None
    window: tuple[int, ...]
    breaching: int
    filled: int = 0
    premature: bool = False


def default_range(evaluation_periods: int) -> int:
    """The evaluation range R for N periods: ``N + max(2, N // 3)`` [Inferred, as LocalStack]."""
    return evaluation_periods + max(2, evaluation_periods // 3)


def _premature(codes: Sequence[int], real: Sequence[int], m: int, rule: str) -> bool:
    """Whether the premature-alarm condition holds (every real point breaches, 0 < k < N)."""
    r = len(codes)
    if rule == "localstack":
        idx = r - m  # the M-th newest slot
        if m <= 1 or idx < 0 or codes[idx] != BREACHING:
            return False
        return all(c == MISSING for c in codes[:idx]) and all(c != GOOD for c in codes[idx:])
    if any(codes[i] != BREACHING for i in real):
        return False
    return r - real[0] >= m  # the oldest breaching slot is at least M slots old (newest = 1)


def decide(
    codes: Sequence[int],
    evaluation_periods: int,
    datapoints_to_alarm: int,
    treat_missing: str,
    *,
    premature_rule: str = "heron",
) -> Decision:
    """Apply CloudWatch's M-of-N rule with TreatMissingData to the classified slots ``codes``."""
    n, m = evaluation_periods, datapoints_to_alarm
    real = [i for i, c in enumerate(codes) if c]
    k = len(real)
    if k == 0:
        if treat_missing == "breaching":
            return Decision(ALARM, (), 0, n)
        if treat_missing == "notBreaching":
            return Decision(OK, (), 0, n)
        if treat_missing == "ignore":
            return Decision(None, (), 0)
        return Decision(INSUFFICIENT_DATA, (), 0)
    if k >= n:
        # Enough real data: the N most recent real datapoints, reaching back into the extra
        # R - N slots when recent ones are missing.
        window = real[-n:]
        b = sum(1 for i in window if codes[i] == BREACHING)
        return Decision(ALARM if b >= m else OK, tuple(window), b)
    b = sum(1 for i in real if codes[i] == BREACHING)
    if treat_missing == "breaching":
        return Decision(ALARM if b + n - k >= m else OK, tuple(real), b, n - k)
    if treat_missing == "notBreaching":
        return Decision(ALARM if b >= m else OK, tuple(real), b, n - k)
    if b >= m:
        return Decision(ALARM, tuple(real), b)
    if _premature(codes, real, m, premature_rule):
        state = ALARM if treat_missing == "missing" else None
        return Decision(state, tuple(real), b, 0, True)
    return Decision(OK, tuple(real), b)

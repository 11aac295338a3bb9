"""Every documented missing-data row of cloudwatch.md §1.5 as a table-driven vector.

Rows are R = 5 slots, oldest left: ``0`` not breaching, ``X`` breaching, ``-`` missing. Each
row is checked twice: on the pure ``decide`` and end to end through ``evaluate_metric_alarm``
with real datapoints placed on the alarm's slot grid.
"""

from __future__ import annotations

from typing import Any

import pytest

from heron.monitor.alarms.evaluate import evaluate_metric_alarm
from heron.monitor.alarms.missing_data import BREACHING, GOOD, MISSING, decide

KEEP = "keep"
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")
NOW = 1_795_000_000_000 + 17_000  # 17 s into a minute: the grid floors it
END = NOW - NOW % 60_000

# (N, M, slots, expected per treatment in TREATMENTS order) [AWS-doc]
VECTORS = [
    (3, 3, "0 - X - X", ("OK", "OK", "OK", "OK")),
    (3, 3, "0 - - - -", ("OK", "OK", "OK", "OK")),
    (3, 3, "- - - - -", ("INSUFFICIENT_DATA", KEEP, "ALARM", "OK")),
    (3, 3, "0 X X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    (3, 3, "- - X - -", ("ALARM", KEEP, "ALARM", "OK")),
    (3, 2, "0 - X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    (3, 2, "0 0 X 0 X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    (3, 2, "0 - X - -", ("OK", "OK", "ALARM", "OK")),
    (3, 2, "- - - - 0", ("OK", "OK", "ALARM", "OK")),
    (3, 2, "- - - X -", ("ALARM", KEEP, "ALARM", "OK")),
]
CASES = [
    pytest.param(n, m, slots, treat, expected, id=f"N{n}M{m} [{slots}] {treat}")
    for n, m, slots, row in VECTORS
    for treat, expected in zip(TREATMENTS, row, strict=True)
]
_CODES = {"0": GOOD, "X": BREACHING, "-": MISSING}
# Values on either side of the threshold 10 (GreaterThanThreshold).
_VALUES = {"0": 3.0, "X": 42.0}


def codes(slots: str) -> list[int]:
    return [_CODES[c] for c in slots.split()]


def alarm(n: int, m: int, treat: str, state: str, **extra: Any) -> dict[str, Any]:
    return {
        "AlarmName": "vector",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:vector",
        "StateValue": state,
        "StateReason": "previous reason",
        "MetricName": "Errors",
        "Namespace": "Heron/Test",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": n,
        "DatapointsToAlarm": m,
        "Threshold": 10.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": treat,
        **extra,
    }


def points(slots: str) -> list[tuple[int, float]]:
    """Datapoints for the slots: oldest slot first, the newest ending at the grid point."""
    marks = slots.split()
    r = len(marks)
    return [
        (END - (r - j) * 60_000 + 5_000, _VALUES[c])  # inside the slot, not on its start
        for j, c in enumerate(marks)
        if c != "-"
    ]


@pytest.mark.parametrize(("n", "m", "slots", "treat", "expected"), CASES)
def test_decide_matches_the_documented_table(
    n: int, m: int, slots: str, treat: str, expected: str
) -> None:
    decision = decide(codes(slots), n, m, treat)
    assert (decision.state or KEEP) == expected


@pytest.mark.parametrize(("n", "m", "slots", "treat", "expected"), CASES)
@pytest.mark.parametrize("current", ["OK", "ALARM", "INSUFFICIENT_DATA"])
def test_evaluation_end_to_end_matches_the_table(
    n: int, m: int, slots: str, treat: str, expected: str, current: str
) -> None:
    result = evaluate_metric_alarm(alarm(n, m, treat, current), points(slots), now_ms=NOW)
    want = current if expected == KEEP else expected
    assert result.state == want
    assert result.changed is (want != current)
    if expected == KEEP:
        assert result.reason == "previous reason"


@pytest.mark.parametrize("rule", ["heron", "localstack"])
@pytest.mark.parametrize(("n", "m", "slots", "treat", "expected"), CASES)
def test_both_premature_readings_pass_every_row(
    rule: str, n: int, m: int, slots: str, treat: str, expected: str
) -> None:
    assert (decide(codes(slots), n, m, treat, premature_rule=rule).state or KEEP) == expected


@pytest.mark.parametrize("slots", ["- - - - X", "- - - X -"])
@pytest.mark.parametrize("treat", ["missing", "ignore"])
def test_recent_breaches_alone_do_not_alarm_prematurely(slots: str, treat: str) -> None:
    decision = decide(codes(slots), 3, 3, treat)
    assert decision.state != "ALARM"
    assert not decision.premature


def test_the_readings_differ_where_the_reference_says() -> None:
    # "- - X - -" with N = 3, M = 2: ours -> ALARM, LocalStack's -> OK (cloudwatch.md §1.5).
    assert decide(codes("- - X - -"), 3, 2, "missing").state == "ALARM"
    assert decide(codes("- - X - -"), 3, 2, "missing", premature_rule="localstack").state == "OK"


def test_a_zero_value_is_a_real_datapoint() -> None:
    # LocalStack's unit test: values [0.0, -, 0.0], N = 1, LessThanThreshold 1 -> ALARM.
    a = alarm(1, 1, "missing", "OK", ComparisonOperator="LessThanThreshold", Threshold=1.0)
    data = [(END - 3 * 60_000, 0.0), (END - 60_000, 0.0)]
    result = evaluate_metric_alarm(a, data, now_ms=NOW, evaluation_range=3)
    assert result.state == "ALARM"


def test_enough_real_data_reaches_back_past_missing_recent_slots() -> None:
    # N = 2: the two newest real points are X (slot 1) and X (slot 2); the newest slot is empty.
    assert decide(codes("0 X X -"), 2, 2, "notBreaching").state == "ALARM"
    assert decide(codes("X 0 X -"), 2, 2, "breaching").state == "OK"


@pytest.mark.parametrize("treat", TREATMENTS)
@pytest.mark.parametrize("slots", ["- - - - -", "- - - X -", "0 - - - -"])
def test_dynamodb_alarms_treat_missing_data_as_ignore(treat: str, slots: str) -> None:
    a = alarm(3, 2, treat, "OK", Namespace="AWS/DynamoDB")
    expected = decide(codes(slots), 3, 2, "ignore").state or "OK"
    assert evaluate_metric_alarm(a, points(slots), now_ms=NOW).state == expected


def test_dynamodb_alarm_keeps_alarm_when_everything_is_missing() -> None:
    a = alarm(3, 3, "breaching", "ALARM", Namespace="AWS/DynamoDB")
    result = evaluate_metric_alarm(a, [], now_ms=NOW)
    assert (result.state, result.changed) == ("ALARM", False)
    b = alarm(3, 3, "notBreaching", "ALARM", Namespace="AWS/DynamoDB")
    assert evaluate_metric_alarm(b, [], now_ms=NOW).state == "ALARM"

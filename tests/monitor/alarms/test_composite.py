"""Composite alarms: the AlarmRule grammar, AWS's parse errors, evaluation, cycles, reasons."""

from __future__ import annotations

from typing import Any

import pytest

from heron.awsapi.errors import AwsError
from heron.monitor.alarms import reason as texts
from heron.monitor.alarms.composite import (
    check_rule,
    evaluate_composite,
    find_cycle,
    parse_alarm_rule,
)

PREFIX = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
NOW = 1_795_780_800_000


def holds(rule: str, **states: str) -> bool:
    return parse_alarm_rule(rule).evaluate(states)


@pytest.mark.parametrize(
    ("rule", "states", "expected"),
    [
        ("TRUE", {}, True),
        ("FALSE", {}, False),
        ("ALARM(a)", {"a": "ALARM"}, True),
        ('ALARM("a")', {"a": "OK"}, False),
        ("OK(a)", {"a": "OK"}, True),
        ("INSUFFICIENT_DATA(a)", {}, True),  # an unknown child counts as INSUFFICIENT_DATA
        (f"ALARM({PREFIX}a)", {"a": "ALARM"}, True),
        (f'ALARM("{PREFIX}my alarm")', {"my alarm": "ALARM"}, True),
        ("ALARM(a) AND NOT ALARM(b)", {"a": "ALARM", "b": "ALARM"}, False),
        ("ALARM(a) AND NOT ALARM(b)", {"a": "ALARM", "b": "OK"}, True),
        # NOT > AND > OR
        ("ALARM(a) OR ALARM(b) AND ALARM(c)", {"a": "ALARM", "b": "OK", "c": "OK"}, True),
        ("(ALARM(a) OR ALARM(b)) AND ALARM(c)", {"a": "ALARM", "b": "OK", "c": "OK"}, False),
        ("NOT ALARM(a) OR ALARM(b)", {"a": "OK", "b": "OK"}, True),
        ("NOT (ALARM(a) OR ALARM(b))", {"a": "OK", "b": "ALARM"}, False),
        ("AT_LEAST(2, ALARM, (a, b, c))", {"a": "ALARM", "b": "ALARM", "c": "OK"}, True),
        ("AT_LEAST(2, ALARM, (a, b, c))", {"a": "ALARM", "b": "OK", "c": "OK"}, False),
        ("AT_LEAST(60%, NOT OK, (a, b, c))", {"a": "ALARM", "b": "OK", "c": "OK"}, False),
        ("AT_LEAST(60%, NOT OK, (a, b, c))", {"a": "ALARM", "b": "OK"}, True),
        ('AT_LEAST(50%, ALARM, ("a b", c))', {"a b": "ALARM"}, True),
        ("((TRUE))", {}, True),
    ],
)
def test_rule_semantics(rule: str, states: dict[str, str], expected: bool) -> None:
    assert holds(rule, **states) is expected


def test_children_in_order_of_first_use_with_arns_reduced() -> None:
    rule = parse_alarm_rule(f'ALARM(b) OR OK("{PREFIX}a") OR AT_LEAST(1, OK, (b, c))')
    assert rule.children == ("b", "a", "c")
    assert rule.refs == ("b", f"{PREFIX}a", "c")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        # [AWS-observed]: CDK rendered an unquoted ARN of an alarm whose name has spaces
        (
            f"(ALARM({PREFIX}SampleQueue Oldest Age Alarm) OR ALARM(x))",
            "Error in AlarmRule [Unsupported token 'Oldest' at char 67, must be: ')']",
        ),
        ("()", "Error in AlarmRule [Unsupported token ')' at char 1]"),
        (" ALARM(a)", "AlarmRule must not contain leading or trailing whitespace or be null"),
        ("ALARM(a) ", "AlarmRule must not contain leading or trailing whitespace or be null"),
        ("ALARM a", "Error in AlarmRule [Unsupported token 'a' at char 6, must be: '(']"),
        ("ALARM(a", "Error in AlarmRule [Unexpected end of AlarmRule, must be: ')']"),
        ("ALARM(a) ALARM(b)", "Error in AlarmRule [Unsupported token 'ALARM' at char 9]"),
        ("ALARM(a) AND", "Error in AlarmRule [Unexpected end of AlarmRule]"),
        ("alarm(a)", "Error in AlarmRule [Unsupported token 'alarm' at char 0]"),
        ('ALARM("a)', "Error in AlarmRule [Unsupported token '\"' at char 6]"),
        (
            "AT_LEAST(4, ALARM, (a, b, c))",
            "Error in AlarmRule [AT_LEAST threshold 4 must be between 1 and the number of listed "
            "alarms (3)]",
        ),
        (
            "AT_LEAST(101%, ALARM, (a))",
            "Error in AlarmRule [AT_LEAST threshold 101% must be between 1 and 100%]",
        ),
        ("AT_LEAST(2, ALARMS, (a))", "Error in AlarmRule [Unsupported token 'ALARMS' at char 12]"),
        (
            "AT_LEAST(1, ALARM, a)",
            "Error in AlarmRule [Unsupported token 'a' at char 19, must be: '(']",
        ),
    ],
)
def test_parse_errors(rule: str, message: str) -> None:
    with pytest.raises(AwsError) as caught:
        parse_alarm_rule(rule)
    assert caught.value.query_code == "ValidationError"
    assert caught.value.message == message


def test_rule_limits() -> None:
    long_rule = "ALARM(" + "a" * 10_240 + ")"
    with pytest.raises(AwsError, match="less than or equal to 10240"):
        parse_alarm_rule(long_rule)
    many = " OR ".join(f"ALARM(a{i})" for i in range(101))
    with pytest.raises(AwsError, match="more than 100 alarms"):
        parse_alarm_rule(many)
    elements = " OR ".join(["TRUE"] * 501)
    with pytest.raises(AwsError, match="more than 500 elements"):
        parse_alarm_rule(elements)
    deep = "NOT " * 150 + "TRUE"
    with pytest.raises(AwsError, match="nests deeper"):
        parse_alarm_rule(deep)


def _composite(name: str, rule: str) -> dict[str, Any]:
    return {"AlarmName": name, "AlarmArn": PREFIX + name, "AlarmRule": rule}


def test_cycles_are_found_through_the_new_rule_only() -> None:
    existing = {
        "m": {"AlarmName": "m"},
        "b": _composite("b", "ALARM(c)"),
        "c": _composite("c", "ALARM(a) OR ALARM(m)"),
    }
    assert find_cycle("a", parse_alarm_rule("ALARM(b)"), existing) == ["a", "b", "c", "a"]
    assert find_cycle("a", parse_alarm_rule("ALARM(m)"), existing) is None
    assert find_cycle("a", parse_alarm_rule("ALARM(a)"), existing) == ["a", "a"]
    # a pre-existing cycle b <-> c not through "x" is not x's doing
    looping = {**existing, "c": _composite("c", "ALARM(b)")}
    assert find_cycle("x", parse_alarm_rule("ALARM(b)"), looping) is None


def test_check_rule_refuses_unknown_children_and_cycles() -> None:
    existing = {"m": {"AlarmName": "m"}, "b": _composite("b", "ALARM(a)")}
    kwargs: dict[str, Any] = {"region": "us-east-1", "account_id": "123456789012"}
    assert check_rule("a", f"ALARM(m) AND OK({PREFIX}m)", existing, **kwargs).children == ("m",)
    with pytest.raises(AwsError) as unknown:
        check_rule("a", "ALARM(m) OR ALARM(nope)", existing, **kwargs)
    assert unknown.value.message == (
        "Could not save the composite alarm as alarms [nope] in the alarm rule do not exist"
    )
    other_region = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:m"
    with pytest.raises(AwsError, match="do not exist"):
        check_rule("a", f"ALARM({other_region})", existing, **kwargs)
    with pytest.raises(AwsError, match="cycle: a -> b -> a"):
        check_rule("a", "ALARM(b)", existing, **kwargs)
    assert check_rule("a", "ALARM(b)", existing, allow_cycles=True, **kwargs).children == ("b",)


def test_first_evaluation_reason_and_data() -> None:
    alarm = {**_composite("c", "ALARM(x) OR ALARM(y)"), "StateValue": "INSUFFICIENT_DATA"}
    result = evaluate_composite(
        alarm, {"x": "OK", "y": "OK"}, now_ms=NOW, timestamps={"x": NOW - 1000}
    )
    assert (result.state, result.changed) == ("OK", True)
    assert result.reason == f"{PREFIX}c was created and its alarm rule evaluates to OK"
    assert result.reason_data == {
        "triggeringAlarms": [
            {"arn": PREFIX + "x", "state": {"value": "OK", "timestamp": texts.iso_timestamp(NOW - 1000)}},
            {"arn": PREFIX + "y", "state": {"value": "OK", "timestamp": texts.iso_timestamp(NOW)}},
        ]
    }  # fmt: skip


def test_child_transition_reason() -> None:
    alarm = {**_composite("c", "ALARM(x) OR ALARM(y)"), "StateValue": "OK"}
    at = 1_658_505_465_394
    result = evaluate_composite(
        alarm, {"x": "ALARM", "y": "OK"}, now_ms=NOW, trigger="x", timestamps={"x": at}
    )
    assert (result.state, result.changed) == ("ALARM", True)
    assert result.reason == (
        f"{PREFIX}x transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC"
    )
    assert result.reason_data == {
        "triggeringAlarms": [
            {"arn": PREFIX + "x", "state": {"value": "ALARM", "timestamp": "2022-07-22T15:57:45.394+0000"}}
        ]
    }  # fmt: skip


def test_unchanged_and_updated() -> None:
    alarm = {**_composite("c", "TRUE"), "StateValue": "ALARM"}
    result = evaluate_composite(alarm, {}, now_ms=NOW)
    assert (result.state, result.changed) == ("ALARM", False)
    assert result.reason == f"{PREFIX}c was updated and its alarm rule evaluates to ALARM"

"""Composite alarms: rule parsing (cached), reference and cycle checks, and evaluation (§1.13).

A composite alarm is ``ALARM`` when its rule holds and ``OK`` otherwise; ``INSUFFICIENT_DATA``
only before its first evaluation [AWS-doc]. A child missing from the given states counts as
``INSUFFICIENT_DATA`` [Inferred]. AWS lets cycles exist and stops evaluating when it meets one;
Heron refuses to create them by default (``check_rule`` with ``allow_cycles=False``), and
``find_cycle`` lets a scheduler stop at one if they were allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from heron.awsapi.errors import AwsError, validation_error
from heron.monitor.alarms import reason as texts
from heron.monitor.alarms.evaluate import Evaluation
from heron.monitor.alarms.rule_parser import (
    MAX_CHILDREN,
    MAX_ELEMENTS,
    MAX_RULE_LENGTH,
    Rule,
    arn_parts,
    parse_rule,
)

__all__ = [
    "Rule",
    "check_rule",
    "evaluate_composite",
    "find_cycle",
    "parse_alarm_rule",
]


def parse_alarm_rule(rule: str) -> Rule:
    """Parse and size-check an AlarmRule; raise AwsError (ValidationError) as AWS does."""
    if len(rule) > MAX_RULE_LENGTH:
        raise validation_error(
            "1 validation error detected: Value at 'alarmRule' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_RULE_LENGTH}"
        )
    parsed = parse_rule(rule)
    if len(parsed.children) > MAX_CHILDREN:  # [Inferred] wording
        raise validation_error(
            f"AlarmRule must not reference more than {MAX_CHILDREN} alarms "
            f"(it references {len(parsed.children)})."
        )
    if parsed.elements > MAX_ELEMENTS:  # [Inferred] wording
        raise validation_error(
            f"AlarmRule must not have more than {MAX_ELEMENTS} elements (it has {parsed.elements})."
        )
    return parsed


def _rule_of(alarm: Mapping[str, Any]) -> Rule | None:
    text = alarm.get("AlarmRule")
    if not isinstance(text, str):
        return None
    try:
        return parse_rule(text)
    except AwsError:
        return None


def find_cycle(name: str, rule: Rule, alarms: Mapping[str, Mapping[str, Any]]) -> list[str] | None:
    """A cycle through composite ``name`` (whose rule would be ``rule``) among ``alarms``.

    Returns the path ``[name, child, ..., name]`` or None. ``alarms`` maps names to alarm
    dicts; composite ones carry ``AlarmRule``; ``name``'s own entry is replaced by ``rule``.
    """

    def children(alarm_name: str) -> tuple[str, ...]:
        if alarm_name == name:
            return rule.children
        alarm = alarms.get(alarm_name)
        parsed = _rule_of(alarm) if alarm is not None else None
        return parsed.children if parsed is not None else ()

    # Iterative depth-first search: chains of composites must not hit recursion limits. A cycle
    # among other alarms that does not pass through ``name`` is not this rule's doing: skipped.
    path = [name]
    stack = [iter(children(name))]
    done: set[str] = set()
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            done.add(path.pop())
            continue
        if child == name:
            return [*path, child]
        if child in done or child in path:
            continue
        path.append(child)
        stack.append(iter(children(child)))
    return None


def check_rule(
    name: str,
    rule_text: str,
    existing: Mapping[str, Mapping[str, Any]],
    *,
    region: str,
    account_id: str,
    allow_cycles: bool = False,
) -> Rule:
    """Parse ``rule_text`` for composite ``name``; every child must exist and, unless
    ``allow_cycles``, the rule must not close a cycle. Raises AwsError (ValidationError)."""
    rule = parse_alarm_rule(rule_text)
    unknown = []
    for ref in rule.refs:
        parts = arn_parts(ref)
        if parts is None:
            target = ref
            if ref.startswith("arn:"):
                unknown.append(ref)
                continue
        elif parts[0] != region or parts[1] != account_id:
            unknown.append(ref)  # another region's or account's alarm cannot be read here
            continue
        else:
            target = parts[2]
        if target != name and target not in existing:
            unknown.append(ref)
    if unknown:  # [Inferred] wording
        raise validation_error(
            "Could not save the composite alarm as alarms ["
            + ", ".join(unknown)
            + "] in the alarm rule do not exist"
        )
    if not allow_cycles:
        cycle = find_cycle(name, rule, existing)
        if cycle is not None:  # [Inferred] wording
            raise validation_error(
                "Could not save the composite alarm as it would create a cycle: "
                + " -> ".join(cycle)
            )
    return rule


def _arn_for(alarm: Mapping[str, Any], child: str) -> str:
    """The ARN of child alarm ``child`` in the composite's region and account."""
    own = str(alarm.get("AlarmArn") or "")
    head, sep, _ = own.rpartition(":alarm:")
    return f"{head}{sep}{child}" if sep else child


def evaluate_composite(
    alarm: Mapping[str, Any],
    states: Mapping[str, str],
    *,
    now_ms: int,
    trigger: str | None = None,
    timestamps: Mapping[str, int] | None = None,
) -> Evaluation:
    """Evaluate composite ``alarm`` given child ``states`` (alarm name -> state value).

    ``trigger`` names the child whose transition caused this evaluation (None on creation or
    configuration update); ``timestamps`` (child name -> epoch ms of its last transition)
    fill the reason's times and the triggering alarms' timestamps (``now_ms`` otherwise).
    """
    rule = parse_rule(str(alarm["AlarmRule"]))
    state = "ALARM" if rule.evaluate(states) else "OK"
    current = alarm.get("StateValue") or "INSUFFICIENT_DATA"
    arn = str(alarm.get("AlarmArn") or alarm.get("AlarmName") or "")
    stamps = timestamps or {}

    def build() -> tuple[str, dict[str, Any]]:
        def entry(child: str) -> tuple[str, str, int | None]:
            return (
                _arn_for(alarm, child),
                states.get(child) or "INSUFFICIENT_DATA",
                stamps.get(child, now_ms),
            )

        if trigger is not None:
            child_state = states.get(trigger) or "INSUFFICIENT_DATA"
            at = stamps.get(trigger, now_ms)
            text = texts.composite_child_reason(_arn_for(alarm, trigger), child_state, at)
            data = texts.composite_reason_data([entry(trigger)])
        else:
            if current == "INSUFFICIENT_DATA":
                text = texts.composite_created_reason(arn, state)
            else:
                text = texts.composite_updated_reason(arn, state)
            data = texts.composite_reason_data([entry(c) for c in rule.children])
        return texts.cap(text), data

    return Evaluation(state, state != current, build=build)

"""``heron alarms list|show|history|set-state|lint``: the monitor's alarms for people without boto3.

Like ``heron metrics`` they talk to a running ``heron up`` through its AWS-compatible API
(botocore, signed with the key pair in ``<data-dir>/credentials``) and print readable tables, or
JSON with ``--json``. ``heron alarms lint FILE...`` needs no running monitor: it reads alarm files
(the seed's ``alarms/*.json`` shape) and says which alarms could never fire on real AWS.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from heron.cli_monitor.client import (
    MonitorError,
    MonitorTarget,
    add_connection_options,
    argument_type,
    make_client,
    run_command,
)
from heron.cli_monitor.render import format_number, parse_positive, table
from heron.monitor.alarms.lint import Finding, lint_alarms

STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
HISTORY_TYPES = ("ConfigurationUpdate", "StateUpdate", "Action")
_SYMBOLS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}
_SEVERITY_BY_TOPIC = {"alerts": "critical", "warnings": "warning"}


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NAIVE_UTC).decode()


def when(value: Any) -> str:
    """A DescribeAlarms timestamp (datetime or epoch seconds) as ``2024-03-14T12:00:00Z``."""
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(float(value), UTC)
    if not isinstance(value, datetime):
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def severity(alarm: Mapping[str, Any]) -> str:
    """``critical`` / ``warning`` from the topic the alarm notifies, else the topic's name."""
    topics = [str(arn).rsplit(":", 1)[-1] for arn in alarm.get("AlarmActions") or []]
    for topic in topics:
        if topic in _SEVERITY_BY_TOPIC:
            return _SEVERITY_BY_TOPIC[topic]
    return topics[0] if topics else "-"


def condition(alarm: Mapping[str, Any]) -> str:
    """What the alarm watches, short: ``AWS/Lambda Errors Sum > 0 (1x300s)``."""
    if "AlarmRule" in alarm:
        rule = str(alarm["AlarmRule"])
        return "rule " + (rule if len(rule) <= 60 else rule[:57] + "...")
    op = _SYMBOLS.get(str(alarm.get("ComparisonOperator")), str(alarm.get("ComparisonOperator")))
    threshold = format_number(float(alarm.get("Threshold", 0.0)))
    if alarm.get("Metrics"):
        label = next(
            (
                str(q.get("Label") or q.get("Expression") or q["Id"])
                for q in alarm["Metrics"]
                if q.get("ReturnData", True) is not False
            ),
            "metric math",
        )
        period = next(
            (int(q["MetricStat"]["Period"]) for q in alarm["Metrics"] if q.get("MetricStat")), 0
        )
        what = label
    else:
        stat = alarm.get("ExtendedStatistic") or alarm.get("Statistic")
        what = f"{alarm.get('Namespace')} {alarm.get('MetricName')} {stat}"
        period = int(alarm.get("Period") or 0)
    m, n = (
        alarm.get("DatapointsToAlarm") or alarm.get("EvaluationPeriods"),
        alarm.get("EvaluationPeriods"),
    )
    return f"{what} {op} {threshold} ({m}/{n} x {period}s)"


def _describe(client: Any, **request: Any) -> list[dict[str, Any]]:
    request.setdefault("AlarmTypes", ["MetricAlarm", "CompositeAlarm"])
    alarms: list[dict[str, Any]] = []
    while True:
        page = client.describe_alarms(**request)
        alarms.extend(page.get("MetricAlarms", []))
        alarms.extend(page.get("CompositeAlarms", []))
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    return sorted(alarms, key=lambda a: str(a["AlarmName"]))


def _one(client: Any, name: str) -> dict[str, Any]:
    found = _describe(client, AlarmNames=[name])
    if not found:
        raise MonitorError(f"no alarm named {name!r}; `heron alarms list` shows the alarm names")
    return found[0]


# -- commands --------------------------------------------------------------------------------


def _list(args: argparse.Namespace, target: MonitorTarget) -> int:
    """Every alarm (or those in --state / with --prefix) with its state and condition."""
    client = make_client(target, "cloudwatch")
    request: dict[str, Any] = {}
    if args.state:
        request["StateValue"] = args.state
    if args.prefix:
        request["AlarmNamePrefix"] = args.prefix
    alarms = _describe(client, **request)
    if args.json:
        print(_json(alarms))
        return 0
    rows = [
        [
            str(a["AlarmName"]),
            str(a["StateValue"]),
            severity(a),
            when(a.get("StateUpdatedTimestamp")),
            condition(a),
        ]
        for a in alarms
    ]
    print(table(["NAME", "STATE", "SEVERITY", "SINCE", "CONDITION"], rows))
    counts = {s: sum(1 for a in alarms if a["StateValue"] == s) for s in STATES}
    print(
        f"{len(alarms)} alarms: " + ", ".join(f"{n} {s}" for s, n in counts.items()),
        file=sys.stderr,
    )
    return 0


def _show(args: argparse.Namespace, target: MonitorTarget) -> int:
    """One alarm in full, with what `lint` says about it."""
    alarm = _one(make_client(target, "cloudwatch"), args.name)
    findings = lint_alarms([alarm])
    if args.json:
        print(_json({"Alarm": alarm, "Lint": [f.as_dict() for f in findings]}))
        return 0
    rows = [
        ("Name", alarm["AlarmName"]),
        ("State", f"{alarm['StateValue']} since {when(alarm.get('StateUpdatedTimestamp'))}"),
        ("Reason", alarm.get("StateReason", "")),
        ("Condition", condition(alarm)),
        ("Severity", severity(alarm)),
        ("Description", alarm.get("AlarmDescription", "-")),
        ("Missing data", alarm.get("TreatMissingData", "missing")),
        ("Actions", "enabled" if alarm.get("ActionsEnabled", True) else "disabled"),
    ]
    for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        if alarm.get(key):
            rows.append((key, ", ".join(alarm[key])))
    if alarm.get("Dimensions"):
        dims = ", ".join(f"{d['Name']}={d['Value']}" for d in alarm["Dimensions"])
        rows.append(("Dimensions", dims))
    rows.append(("Arn", alarm["AlarmArn"]))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    for finding in findings:
        print(f"\nlint: {finding.problem}\n      instead: {finding.advice}")
    return 0


def _history(args: argparse.Namespace, target: MonitorTarget) -> int:
    """An alarm's history, newest first."""
    client = make_client(target, "cloudwatch")
    request: dict[str, Any] = {
        "AlarmName": args.name,
        "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        "MaxRecords": min(args.limit, 100),
    }
    if args.type:
        request["HistoryItemType"] = args.type
    items: list[dict[str, Any]] = []
    while len(items) < args.limit:
        page = client.describe_alarm_history(**request)
        items.extend(page.get("AlarmHistoryItems", []))
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    items = items[: args.limit]
    if args.json:
        print(_json(items))
        return 0
    rows = [
        [when(i.get("Timestamp")), str(i["HistoryItemType"]), str(i["HistorySummary"])]
        for i in items
    ]
    print(table(["TIME", "TYPE", "SUMMARY"], rows))
    if not items:
        print(
            f"no history for {args.name!r}; `heron alarms list` shows the alarm names",
            file=sys.stderr,
        )
    return 0


def _set_state(args: argparse.Namespace, target: MonitorTarget) -> int:
    """SetAlarmState: actions run; a metric alarm returns to its computed state next round."""
    client = make_client(target, "cloudwatch")
    _one(client, args.name)  # a clear message for a name that does not exist
    request: dict[str, Any] = {
        "AlarmName": args.name,
        "StateValue": args.state,
        "StateReason": args.reason,
    }
    if args.reason_data:
        request["StateReasonData"] = args.reason_data
    client.set_alarm_state(**request)
    print(f"{args.name}: state set to {args.state} ({args.reason})")
    return 0


def _lint(args: argparse.Namespace, target: MonitorTarget) -> int:
    """Alarms that can never fire on AWS; exit status 1 when there are any."""
    if args.files:
        alarms = _alarms_from_files(args.files)
        where = ", ".join(args.files)
    else:
        alarms = _describe(make_client(target, "cloudwatch"))
        where = target.endpoint
    findings = lint_alarms(alarms)
    if args.json:
        print(_json([f.as_dict() for f in findings]))
    else:
        print(render_findings(findings))
        flagged = len({f.alarm for f in findings})
        print(
            f"{len(alarms)} alarms from {where}: {flagged} can never fire on AWS", file=sys.stderr
        )
    return 1 if findings else 0


def _alarms_from_files(paths: Sequence[str]) -> list[dict[str, Any]]:
    from heron.monitor.alarms.seed import AlarmFileError, read_alarm_file

    alarms: list[dict[str, Any]] = []
    for text in paths:
        path = Path(text)
        files = sorted(path.glob("*.json")) if path.is_dir() else [path]
        for file in files:
            try:
                alarms.extend(read_alarm_file(file).alarms)
            except AlarmFileError as exc:
                raise MonitorError(str(exc)) from None
    return alarms


def _catalogue(args: argparse.Namespace, target: MonitorTarget) -> int:
    """The catalogue for the current settings as JSON (the shape of alarm files)."""
    from heron.cli import _default_functions
    from heron.monitor.alarms.catalogue import build_catalogue
    from heron.settings import load_settings
    from heron.up import catalogue_target

    config = Path(args.config) if args.config else None
    settings = load_settings(config, default_functions=_default_functions())
    print(_json(build_catalogue(catalogue_target(settings)).document()))
    return 0


def render_findings(findings: Sequence[Finding]) -> str:
    """Findings grouped by alarm: the metric, what is wrong, what to use instead."""
    if not findings:
        return "no findings: every alarm watches a metric AWS publishes"
    lines: list[str] = []
    for finding in findings:
        lines += [
            f"{finding.alarm}: {finding.metric}",
            f"  problem: {finding.problem}",
            f"  instead: {finding.advice}",
        ]
    return "\n".join(lines)


def add_alarm_commands(subparsers: Any) -> None:
    """Register ``heron alarms list|show|history|set-state|lint`` on the top-level subparsers."""
    alarms = subparsers.add_parser("alarms", help="list, inspect, set and lint alarms")
    actions = alarms.add_subparsers(dest="alarms_command", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="every alarm with its state (DescribeAlarms)")
    listing.add_argument("--state", choices=STATES, help="only alarms in this state")
    listing.add_argument("--prefix", help="only alarms whose name starts with this")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_connection_options(listing)
    listing.set_defaults(func=run_command(_list))

    show = actions.add_parser("show", help="one alarm in full, with lint advice")
    show.add_argument("name", help="alarm name, e.g. LambdaErrors")
    show.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_connection_options(show)
    show.set_defaults(func=run_command(_show))

    history = actions.add_parser("history", help="an alarm's history (DescribeAlarmHistory)")
    history.add_argument("name", help="alarm name, e.g. LambdaErrors")
    history.add_argument("--type", choices=HISTORY_TYPES, help="only this kind of item")
    history.add_argument(
        "--limit",
        type=argument_type(parse_positive),
        default=50,
        help="at most this many items, newest first (default 50)",
    )
    history.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_connection_options(history)
    history.set_defaults(func=run_command(_history))

    set_state = actions.add_parser(
        "set-state", help="force an alarm's state to test its actions (SetAlarmState)"
    )
    set_state.add_argument("name", help="alarm name, e.g. LambdaErrors")
    set_state.add_argument("--state", required=True, choices=STATES, help="the new state")
    set_state.add_argument("--reason", required=True, help="why, in words (StateReason)")
    set_state.add_argument("--reason-data", help="optional JSON (StateReasonData)")
    add_connection_options(set_state)
    set_state.set_defaults(func=run_command(_set_state))

    lint = actions.add_parser(
        "lint", help="alarms that can never fire on real AWS, and what to use instead"
    )
    lint.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="alarm JSON files or directories to check offline (default: the running "
        "monitor's alarms)",
    )
    lint.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_connection_options(lint)
    lint.set_defaults(func=run_command(_lint))

    catalogue = actions.add_parser(
        "catalogue",
        help="print the alarm catalogue for these settings as an alarm file (JSON)",
    )
    add_connection_options(catalogue)
    catalogue.set_defaults(func=run_command(_catalogue))

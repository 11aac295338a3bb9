"""``heron logs tail|filter|groups``: FilterLogEvents and DescribeLogGroups, printed compactly."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
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
from heron.cli_monitor.render import (
    TimeSpec,
    event_line,
    format_bytes,
    format_ms,
    parse_positive,
    parse_time,
    table,
)

# Events reach the monitor when their invocation ends, so a poll can turn up events older than
# the newest one already shown; every poll looks back this far and skips what it has printed.
LOOKBACK_MS = 60_000
POLL_INTERVAL_S = 1.0
FILTER_PAGE_MAX = 10_000


class FollowCursor:
    """Where the next ``--follow`` poll starts and which events were already printed."""

    def __init__(self, start_ms: int, lookback_ms: int = LOOKBACK_MS) -> None:
        self._floor = start_ms
        self._lookback = lookback_ms
        self._newest = start_ms
        self._seen: dict[str, int] = {}

    def query_start(self) -> int:
        """The startTime of the next poll: a little before the newest event shown."""
        return max(self._floor, self._newest - self._lookback)

    def fresh(self, events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The events not printed yet, oldest first; remembers them for the next polls."""
        new = [e for e in events if e["eventId"] not in self._seen]
        for event in new:
            self._seen[event["eventId"]] = int(event["timestamp"])
            self._newest = max(self._newest, int(event["timestamp"]))
        start = self.query_start()
        # Events before the next poll's start cannot come back, so forget them.
        self._seen = {k: ts for k, ts in self._seen.items() if ts >= start}
        return sorted(new, key=lambda e: (int(e["timestamp"]), e["eventId"]))


def filter_events(
    client: Any, request: dict[str, Any], limit: int | None = None
) -> Iterator[dict[str, Any]]:
    """FilterLogEvents' events page after page (at most ``limit`` of them)."""
    request = dict(request)
    left = limit
    while left is None or left > 0:
        request["limit"] = FILTER_PAGE_MAX if left is None else min(left, FILTER_PAGE_MAX)
        page = client.filter_log_events(**request)
        events = page.get("events", [])
        yield from events
        if left is not None:
            left -= len(events)
        if not page.get("nextToken"):
            return
        request["nextToken"] = page["nextToken"]


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _print_events(events: Sequence[dict[str, Any]], as_json: bool) -> None:
    for event in events:
        if as_json:
            print(orjson.dumps(event).decode())
        else:
            print(event_line(int(event["timestamp"]), event["logStreamName"], event["message"]))
    sys.stdout.flush()


def _tail(args: argparse.Namespace, target: MonitorTarget) -> int:
    """Recent events of one group, then (with --follow) new ones every second."""
    client = make_client(target, "logs")
    base: dict[str, Any] = {"logGroupName": args.group}
    if args.filter:
        base["filterPattern"] = args.filter
    cursor = FollowCursor(_epoch_ms(args.since.resolve(datetime.now(UTC))))
    polls = 0
    try:
        while True:
            events = list(filter_events(client, {**base, "startTime": cursor.query_start()}))
            _print_events(cursor.fresh(events), args.json)
            polls += 1
            if not args.follow or (args.max_polls is not None and polls >= args.max_polls):
                return 0
            time.sleep(max(0.0, args.poll_interval))
    except KeyboardInterrupt:
        return 0  # Ctrl-C is how a --follow ends


def _filter(args: argparse.Namespace, target: MonitorTarget) -> int:
    """Events matching a filter pattern in a window, oldest first, at most --limit."""
    now = datetime.now(UTC)
    start, end = args.since.resolve(now), args.until.resolve(now)
    if start >= end:
        raise MonitorError(f"--since {args.since.text} must be before --until {args.until.text}")
    client = make_client(target, "logs")
    request = {
        "logGroupName": args.group,
        "filterPattern": args.pattern,
        "startTime": _epoch_ms(start),
        "endTime": _epoch_ms(end),
    }
    # One more than asked tells whether the limit cut the answer short.
    events = list(filter_events(client, request, args.limit + 1))
    _print_events(events[: args.limit], args.json)
    if len(events) > args.limit:
        print(
            f"showing the first {args.limit} matches; raise --limit or narrow --since/--until",
            file=sys.stderr,
        )
    elif not events and not args.json:
        print(f"no events match since {format_ms(_epoch_ms(start))}", file=sys.stderr)
    return 0


def _groups(args: argparse.Namespace, target: MonitorTarget) -> int:
    """Every log group (DescribeLogGroups), paging through nextToken."""
    client = make_client(target, "logs")
    request: dict[str, Any] = {}
    if args.prefix:
        request["logGroupNamePrefix"] = args.prefix
    groups: list[dict[str, Any]] = []
    while True:
        page = client.describe_log_groups(**request)
        groups.extend(page.get("logGroups", []))
        if not page.get("nextToken"):
            break
        request["nextToken"] = page["nextToken"]
    if args.json:
        print(orjson.dumps(groups, option=orjson.OPT_INDENT_2).decode())
        return 0
    rows = [
        [
            g["logGroupName"],
            f"{g['retentionInDays']} days" if g.get("retentionInDays") else "never expire",
            format_bytes(int(g.get("storedBytes", 0))),
            format_ms(int(g["creationTime"]))[:19] + "Z" if "creationTime" in g else "-",
        ]
        for g in groups
    ]
    print(table(["LOG GROUP", "RETENTION", "STORED", "CREATED"], rows))
    return 0


def _since_option(parser: argparse.ArgumentParser, default: str) -> None:
    spec = TimeSpec(default, ago=parse_time(default).ago)
    parser.add_argument(
        "--since",
        type=argument_type(parse_time),
        default=spec,
        help=f"start: an age such as 10m, 1h, 2d, or an ISO 8601 time (default {default})",
    )


def add_logs_commands(subparsers: Any) -> None:
    """Register ``heron logs tail``, ``heron logs filter`` and ``heron logs groups``."""
    logs = subparsers.add_parser("logs", help="read log groups: tail, filter, list")
    actions = logs.add_subparsers(dest="logs_command", required=True, metavar="ACTION")
    json_help = "print each event as one JSON object per line (AWS's event shape)"

    tail = actions.add_parser("tail", help="recent events of a log group, optionally following")
    tail.add_argument("group", help="log group, e.g. /aws/lambda/createUser")
    tail.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    _since_option(tail, "10m")
    tail.add_argument("--filter", metavar="PATTERN", help="only events matching this pattern")
    tail.add_argument("--json", action="store_true", help=json_help)
    tail.add_argument("--max-polls", type=argument_type(parse_positive), help=argparse.SUPPRESS)
    tail.add_argument(
        "--poll-interval", type=float, default=POLL_INTERVAL_S, help=argparse.SUPPRESS
    )
    add_connection_options(tail)
    tail.set_defaults(func=run_command(_tail))

    filt = actions.add_parser("filter", help="events matching a filter pattern")
    filt.add_argument("group", help="log group, e.g. /aws/lambda/createUser")
    filt.add_argument(
        "pattern", help="CloudWatch Logs filter pattern, e.g. ERROR or '{ $.level = \"INFO\" }'"
    )
    _since_option(filt, "1h")
    filt.add_argument(
        "--until",
        type=argument_type(parse_time),
        default=TimeSpec("now", ago=timedelta(0)),
        help="end, written like --since (default now)",
    )
    filt.add_argument(
        "--limit",
        type=argument_type(parse_positive),
        default=100,
        help="at most this many (default 100)",
    )
    filt.add_argument("--json", action="store_true", help=json_help)
    add_connection_options(filt)
    filt.set_defaults(func=run_command(_filter))

    groups = actions.add_parser("groups", help="the log groups (DescribeLogGroups)")
    groups.add_argument("--prefix", help="only groups whose names start with this")
    groups.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_connection_options(groups)
    groups.set_defaults(func=run_command(_groups))

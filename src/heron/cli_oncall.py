"""``heron oncall who|show``: who is on call now, or at a time, and when that changes."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from heron.cli_notify_context import common_options, notify_config, parse_time
from heron.errors import ConfigError
from heron.monitor.notify.config import NotifyConfig


def _schedules(args: argparse.Namespace) -> tuple[NotifyConfig, list[str]]:
    config = notify_config(args)
    names = [args.schedule] if args.schedule else list(config.schedules)
    for n in names:
        if n not in config.schedules:
            raise ConfigError(
                f"no schedule named {n!r}; configured: {', '.join(config.schedules) or 'none'}"
            )
    return config, names


def _cmd_who(args: argparse.Namespace) -> int:
    config, names = _schedules(args)
    now = parse_time(args.at, args.tz)
    if not names:
        print("No on-call schedules are configured ([notify.oncall.NAME] in heron.toml).")
    for n in names:
        sched = config.schedules[n]
        who = sched.who(now)
        local = datetime.fromtimestamp(now, sched.zone).strftime("%a %Y-%m-%d %H:%M %Z")
        print(f"{n}: {who.user if who else 'nobody'} ({who.source if who else 'gap'}) at {local}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    config, names = _schedules(args)
    now = parse_time(args.at, args.tz)
    for n in names:
        sched = config.schedules[n]
        print(f"{n} ({sched.zone.key}):")
        for t, on in sched.changes(now, now + args.days * 86400):
            local = datetime.fromtimestamp(t, sched.zone).strftime("%a %Y-%m-%d %H:%M %Z")
            print(f"  {local}  {on.user if on else '(nobody)'}  {on.source if on else ''}")
    return 0


def add_oncall_commands(subparsers: Any) -> None:
    """Register ``heron oncall ...``."""
    oncall = subparsers.add_parser("oncall", help="who is on call")
    osub = oncall.add_subparsers(dest="oncall_command", required=True, metavar="ACTION")
    p = common_options(osub.add_parser("who", help="who is on call now (or --at TIME)"))
    p.add_argument("--at")
    p.add_argument("--schedule")
    p.set_defaults(func=_cmd_who)
    p = common_options(osub.add_parser("show", help="who is on call and when it changes"))
    p.add_argument("--at")
    p.add_argument("--schedule")
    p.add_argument("--days", type=float, default=7.0)
    p.set_defaults(func=_cmd_show)

"""``heron notify ...`` and ``heron oncall ...``: the inbox, explain, the dead-letter queue,
simulation, incidents, silences, and who is on call.

Commands read (and, for acknowledge/snooze/resolve/silence/replay, write) ``<data-dir>/notify.db``
directly; SQLite lets them run beside ``heron up``. Configuration comes from heron.toml's
``[notify]`` tables. Times are ISO-8601 (``2026-03-06T03:00``, UTC unless an offset or ``--tz``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from heron.errors import ConfigError
from heron.monitor.notify.channels.inbox import Inbox
from heron.monitor.notify.config import NotifyConfig, load_notify_config
from heron.monitor.notify.incidents import IncidentError
from heron.monitor.notify.model import TOPIC_SEVERITY, Alert, Severity
from heron.monitor.notify.notifier import open_context
from heron.monitor.notify.operations import acknowledge, replay, resolve, silence, snooze
from heron.monitor.notify.outbox import DEAD, DEFERRED
from heron.monitor.notify.pipeline import Context, build_pipeline
from heron.monitor.notify.routing import escalation_step, level_target, stamp

__all__ = ["add_notify_commands"]


def _config(args: argparse.Namespace) -> NotifyConfig:
    from heron.settings import load_settings

    path = Path(args.config) if getattr(args, "config", None) else None
    settings = load_settings(path, overrides={"data_dir": getattr(args, "data_dir", None)})
    return load_notify_config(settings.notify)


def _data_dir(args: argparse.Namespace) -> Path:
    from heron.settings import load_settings

    path = Path(args.config) if getattr(args, "config", None) else None
    return load_settings(path, overrides={"data_dir": args.data_dir}).data_dir


def _context(args: argparse.Namespace, *, need: bool = True) -> Context | None:
    db = _data_dir(args) / "notify.db"
    if not db.exists():
        if need:
            print(
                f"heron: no notifications yet ({db} does not exist); run `heron up`",
                file=sys.stderr,
            )
        return None
    return open_context(_config(args), db)


def _time(text: str | None, tz: str | None) -> float:
    if not text or text == "now":
        return time.time()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--at: expected a time like 2026-03-06T03:00, got {text!r}") from None
    if when.tzinfo is None:
        try:
            when = when.replace(tzinfo=ZoneInfo(tz or "UTC"))
        except ZoneInfoNotFoundError:
            raise ConfigError(f"--tz: unknown time zone {tz!r}") from None
    return when.timestamp()


def _print_json(value: Any) -> None:
    print(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


# -- notify ----------------------------------------------------------------------------------


def _cmd_inbox(args: argparse.Namespace) -> int:
    ctx = _context(args)
    if ctx is None:
        return 0
    items = Inbox(ctx.db).items(args.limit)
    waiting = ctx.outbox.rows(DEFERRED)
    if args.json:
        _print_json(
            [
                {f: getattr(i, f) for f in ("id", "at", "recipient", "severity", "title", "body")}
                for i in items
            ]
        )
        return 0
    if not items:
        print("The inbox is empty.")
    for item in reversed(items):
        print(f"{stamp(item.at)}  {item.severity:<8} to {item.recipient:<16} {item.title}")
        if args.full:
            print("    " + item.body.replace("\n", "\n    "))
    if waiting:
        nxt = min(r.due for r in waiting)
        print(f"\n{len(waiting)} notification(s) wait for business hours (next at {stamp(nxt)}).")
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    ctx = _context(args)
    if ctx is None:
        return 1
    entries = ctx.ledger.entries(args.what)
    if not entries:
        print(
            f"heron: nothing recorded for {args.what!r} (an alarm name, message id or #delivery)",
            file=sys.stderr,
        )
        return 1
    deliveries = {e.delivery for e in entries if e.delivery is not None}
    extra = [
        e
        for d in sorted(deliveries)
        for e in ctx.ledger.entries(f"#{d}")
        if e.delivery == d and e.id not in {x.id for x in entries}
    ]
    merged = sorted({e.id: e for e in entries + extra}.values(), key=lambda e: e.id)
    if args.json:
        _print_json(
            [e.__class__.__name__ and {f: getattr(e, f) for f in e.__slots__} for e in merged]
        )
        return 0
    alert_id = None
    for e in merged:
        if e.alert_id != alert_id:
            alert_id = e.alert_id
            print(f"\n{e.alarm} — message {e.alert_id}")
        print("  " + e.line())
    return 0


def _cmd_dlq(args: argparse.Namespace) -> int:
    ctx = _context(args)
    if ctx is None:
        return 0
    rows = ctx.outbox.rows(DEAD)
    if args.dlq_command == "list":
        if not rows:
            print("The dead-letter queue is empty.")
        for r in rows:
            print(f"#{r.id:<6} {r.channel:<16} {r.alarm:<28} {r.attempts} attempts  {r.last_error}")
        return 0
    targets = [r.id for r in rows] if args.all else args.ids
    if not targets:
        print("heron: name delivery ids to replay, or --all", file=sys.stderr)
        return 2
    for ident in targets:
        try:
            row = replay(ctx, int(ident), time.time())
        except (KeyError, ValueError) as exc:
            print(f"heron: {exc}", file=sys.stderr)
            return 1
        print(f"#{row.id} queued again for {row.channel}")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    config = _config(args)
    now = _time(args.at, args.tz)
    topic = args.topic
    with tempfile.TemporaryDirectory() as tmp:
        ctx = open_context(config, Path(tmp) / "simulate.db")
        live = _context(args, need=False)
        if live is not None:  # the real silences apply to a simulation too
            for s in live.silences.current(now):
                ctx.silences.add(
                    s.pattern, s.starts, s.ends, comment=s.comment, created_by=s.created_by, now=now
                )
        alert = Alert(
            id="simulated", topic=topic, topic_arn=f"arn:aws:sns:us-east-1:000000000000:{topic}",
            alarm=args.alarm, state=args.state, old_state="OK" if args.state == "ALARM" else "ALARM",
            severity=TOPIC_SEVERITY.get(topic, Severity.INFO), reason="simulated", at=now,
        )  # fmt: skip
        if args.state == "OK":  # a resolution needs an incident to resolve
            build_pipeline(ctx)([alert.with_(id="opening", state="ALARM", old_state="OK")], now)
        with ctx.db.transaction():
            build_pipeline(ctx)([alert], now)
        print(f"{args.alarm} -> {args.state} on topic {topic!r} at {stamp(now)}:")
        for e in ctx.ledger.entries("simulated"):
            if e.stage in ("observe",):
                continue
            print("  " + e.line()[22:])
        for row in ctx.outbox.for_alarm(args.alarm):
            if row.alert_id != "simulated":
                continue
            who = f" ({row.notice.recipient})" if row.notice.recipient else ""
            print(f"  -> {row.channel}{who}: {row.kind} at {stamp(row.due)} [{row.status}]")
        incident = ctx.incidents.active_for(args.alarm)
        policy = config.escalation
        if incident is not None and incident.next_escalation is not None:
            print("  escalation if nobody acknowledges:")
            for _ in range(args.steps):
                at = incident.next_escalation or now
                step = escalation_step(incident, policy, at)
                if step.next_at is None:
                    print(f"    {stamp(at)}  {step.decision}")
                    break
                paged = level_target(policy, config.schedules, step.level, at)
                name = paged.user if paged else "nobody on call"
                print(f"    {stamp(at)}  page {name}: {step.decision.detail}")
                ctx.incidents.escalate_to(incident.id, at, step.level, step.loop, step.next_at)
                incident = ctx.incidents.get(incident.id)
        ctx.db.close()
    return 0


def _cmd_incidents(args: argparse.Namespace) -> int:
    ctx = _context(args)
    if ctx is None:
        return 0
    for i in ctx.incidents.all(active_only=not args.all):
        nxt = f" next page {stamp(i.next_escalation)}" if i.next_escalation else ""
        print(
            f"#{i.id:<5} {i.status:<12} {i.severity.value:<8} {i.alarm:<28} opened {stamp(i.opened)} level {i.level + 1}{nxt}"
        )
    return 0


def _cmd_incident_action(args: argparse.Namespace) -> int:
    ctx = _context(args)
    if ctx is None:
        return 1
    now = time.time()
    try:
        if args.command_name == "ack":
            incident = acknowledge(ctx, args.id, args.by, now)
        elif args.command_name == "resolve":
            incident = resolve(ctx, args.id, args.by, now)
        else:
            incident = snooze(ctx, args.id, args.by, now + args.minutes * 60, now)
    except IncidentError as exc:
        print(f"heron: {exc}", file=sys.stderr)
        return 1
    print(f"incident #{incident.id} {incident.alarm}: {incident.status}")
    return 0


def _cmd_silence(args: argparse.Namespace) -> int:
    ctx = _context(args, need=args.silence_command != "add")
    if ctx is None:
        if args.silence_command != "add":
            return 0
        db = _data_dir(args)
        db.mkdir(parents=True, exist_ok=True)
        ctx = open_context(_config(args), db / "notify.db")
    now = time.time()
    if args.silence_command == "add":
        starts = _time(args.start, args.tz) if args.start else now
        ends = _time(args.end, args.tz) if args.end else starts + args.minutes * 60
        try:
            s = silence(ctx, args.pattern, starts, ends, args.comment, args.by, now)
        except ValueError as exc:
            print(f"heron: {exc}", file=sys.stderr)
            return 2
        print(f"silence #{s.id} {s.pattern!r} from {stamp(s.starts)} until {stamp(s.ends)}")
    elif args.silence_command == "expire":
        if not ctx.silences.expire(args.id, now):
            print(f"heron: no silence #{args.id} in force", file=sys.stderr)
            return 1
        print(f"silence #{args.id} expired")
    else:
        for s in ctx.silences.all():
            state = "active" if s.active(now) else ("pending" if s.starts > now else "expired")
            print(
                f"#{s.id:<4} {state:<8} {s.pattern:<28} {stamp(s.starts)} -> {stamp(s.ends)}  {s.comment}"
            )
    return 0


# -- oncall ----------------------------------------------------------------------------------


def _schedules(args: argparse.Namespace) -> tuple[NotifyConfig, list[str]]:
    config = _config(args)
    names = [args.schedule] if args.schedule else list(config.schedules)
    for n in names:
        if n not in config.schedules:
            raise ConfigError(
                f"no schedule named {n!r}; configured: {', '.join(config.schedules) or 'none'}"
            )
    return config, names


def _cmd_who(args: argparse.Namespace) -> int:
    config, names = _schedules(args)
    now = _time(args.at, args.tz)
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
    now = _time(args.at, args.tz)
    for n in names:
        sched = config.schedules[n]
        print(f"{n} ({sched.zone.key}):")
        for t, on in sched.changes(now, now + args.days * 86400):
            local = datetime.fromtimestamp(t, sched.zone).strftime("%a %Y-%m-%d %H:%M %Z")
            print(f"  {local}  {on.user if on else '(nobody)'}  {on.source if on else ''}")
    return 0


def add_notify_commands(subparsers: Any) -> None:
    """Register ``heron notify ...`` and ``heron oncall ...``."""

    def common(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--data-dir", help="directory for all state (default ./.heron)")
        p.add_argument("--config", help="config file (default ./heron.toml if present)")
        p.add_argument("--tz", help="time zone for times without an offset (default UTC)")
        return p

    notify = subparsers.add_parser("notify", help="notifications: inbox, explain, dlq, simulate")
    sub = notify.add_subparsers(dest="notify_command", required=True, metavar="ACTION")
    p = common(sub.add_parser("inbox", help="deliveries that landed in the local inbox"))
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--full", action="store_true", help="print each message's body")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_inbox)
    p = common(sub.add_parser("explain", help="the route one alert took, decision by decision"))
    p.add_argument("what", help="alarm name, topic message id, or #delivery-id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_explain)
    dlq = sub.add_parser("dlq", help="the dead-letter queue")
    dsub = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    common(dsub.add_parser("list", help="dead-lettered deliveries")).set_defaults(func=_cmd_dlq)
    p = common(dsub.add_parser("replay", help="queue dead-lettered deliveries again"))
    p.add_argument("ids", nargs="*", type=int)
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=_cmd_dlq)
    p = common(
        sub.add_parser("simulate", help="who would be notified where and when (sends nothing)")
    )
    p.add_argument("--alarm", required=True)
    p.add_argument("--state", default="ALARM", choices=("ALARM", "OK", "INSUFFICIENT_DATA"))
    p.add_argument("--topic", default="alerts", help="alerts (critical) or warnings")
    p.add_argument("--at", help="when (default now)")
    p.add_argument("--steps", type=int, default=4, help="escalation steps to show")
    p.set_defaults(func=_cmd_simulate)
    p = common(sub.add_parser("incidents", help="open incidents (--all for every one)"))
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=_cmd_incidents)
    for name, text in (("ack", "acknowledge"), ("resolve", "resolve"), ("snooze", "snooze")):
        p = common(sub.add_parser(name, help=f"{text} an incident"))
        p.add_argument("id", type=int)
        p.add_argument("--by", default="cli")
        if name == "snooze":
            p.add_argument("--minutes", type=float, default=30.0)
        p.set_defaults(func=_cmd_incident_action, command_name=name)
    sil = sub.add_parser("silence", help="silences and maintenance windows")
    ssub = sil.add_subparsers(dest="silence_command", required=True, metavar="ACTION")
    p = common(ssub.add_parser("add", help="mute alarms matching a pattern"))
    p.add_argument("pattern", help="alarm name or glob, e.g. 'Lambda*'")
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--start", help="when it begins (a maintenance window), default now")
    p.add_argument("--end", help="when it ends (default start + --minutes)")
    p.add_argument("--comment", default="")
    p.add_argument("--by", default="cli")
    p.set_defaults(func=_cmd_silence)
    common(ssub.add_parser("list", help="every silence")).set_defaults(func=_cmd_silence)
    p = common(ssub.add_parser("expire", help="end a silence now"))
    p.add_argument("id", type=int)
    p.set_defaults(func=_cmd_silence)

    oncall = subparsers.add_parser("oncall", help="who is on call")
    osub = oncall.add_subparsers(dest="oncall_command", required=True, metavar="ACTION")
    p = common(osub.add_parser("who", help="who is on call now (or --at TIME)"))
    p.add_argument("--at")
    p.add_argument("--schedule")
    p.set_defaults(func=_cmd_who)
    p = common(osub.add_parser("show", help="who is on call and when it changes"))
    p.add_argument("--at")
    p.add_argument("--schedule")
    p.add_argument("--days", type=float, default=7.0)
    p.set_defaults(func=_cmd_show)

"""``heron notify ...``: the inbox, explain, the dead-letter queue, simulation, incidents,
silences and maintenance windows (topics and subscriptions are in ``cli_notify_subs``,
``heron oncall ...`` in ``cli_oncall``).

Commands read (and, for acknowledge/snooze/resolve/silence/replay, write) ``<data-dir>/notify.db``
directly; SQLite lets them run beside ``heron up``. Configuration comes from heron.toml's
``[notify]`` tables. Times are ISO-8601 (``2026-03-06T03:00``, UTC unless an offset or ``--tz``).
"Now" is the running instance's clock (``clockfile``): Heron time when ``heron up`` runs with
``time_scale`` > 1, so ``--minutes`` are Heron minutes, as the notifier counts them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from heron.cli_notify_context import (
    common_options,
    data_dir,
    instance_now,
    notify_config,
    notify_context,
    parse_time,
    print_json,
)
from heron.cli_notify_subs import add_subscription_commands, open_topics
from heron.cli_oncall import add_oncall_commands
from heron.errors import ConfigError
from heron.monitor.notify.channels.inbox import Inbox
from heron.monitor.notify.incidents import IncidentError
from heron.monitor.notify.maintenance import MaintenanceStore
from heron.monitor.notify.model import TOPIC_SEVERITY, Alert, Severity
from heron.monitor.notify.notifier import open_context
from heron.monitor.notify.operations import acknowledge, replay, resolve, silence, snooze
from heron.monitor.notify.outbox import DEAD, DEFERRED
from heron.monitor.notify.pipeline import build_pipeline
from heron.monitor.notify.routing import escalation_step, level_target, stamp

__all__ = ["add_notify_commands"]

# -- notify ----------------------------------------------------------------------------------


def _cmd_inbox(args: argparse.Namespace) -> int:
    ctx = notify_context(args)
    if ctx is None:
        return 0
    items = Inbox(ctx.db).items(args.limit)
    waiting = ctx.outbox.rows(DEFERRED)
    if args.json:
        print_json(
            [
                {
                    f: getattr(i, f)
                    for f in ("id", "at", "recipient", "severity", "priority", "title", "body")
                }
                for i in items
            ]
        )
        return 0
    if not items:
        print("The inbox is empty.")
    for item in reversed(items):
        print(
            f"{stamp(item.at)}  {item.severity:<8} {item.priority:<6} to {item.recipient:<16}"
            f" {item.title}"
        )
        if args.full:
            print("    " + item.body.replace("\n", "\n    "))
    if waiting:
        nxt = min(r.due for r in waiting)
        print(f"\n{len(waiting)} notification(s) wait for business hours (next at {stamp(nxt)}).")
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    ctx = notify_context(args)
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
        print_json(
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
    ctx = notify_context(args)
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
            row = replay(ctx, int(ident), instance_now(args)())
        except (KeyError, ValueError) as exc:
            print(f"heron: {exc}", file=sys.stderr)
            return 1
        print(f"#{row.id} queued again for {row.channel}")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    config = notify_config(args)
    now = parse_time(args.at, args.tz, instance_now(args))
    topic = args.topic
    with tempfile.TemporaryDirectory() as tmp:
        live = notify_context(args, need=False)
        # The live SNS API subscriptions are destinations too; their deliveries stay in the
        # scratch outbox like every other.
        topics = open_topics(args) if live is not None else None
        ctx = open_context(config, Path(tmp) / "simulate.db", topics=topics)
        if ctx.subscribers is not None:
            ctx.subscribers.refresh()
        if live is not None:  # the real silences and maintenance windows apply here too
            for s in live.silences.current(now):
                ctx.silences.add(
                    s.pattern, s.starts, s.ends, comment=s.comment, created_by=s.created_by, now=now
                )
            for name, spec, by in live.db.all("SELECT name, spec, created_by FROM nt_maintenance"):
                MaintenanceStore(ctx.db).add(name, orjson.loads(spec), by, now)
        topic_arn = (
            topics.topic_arn(topic) if topics else f"arn:aws:sns:us-east-1:000000000000:{topic}"
        )
        alert = Alert(
            id="simulated", topic=topic, topic_arn=topic_arn,
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
        if topics is not None:
            topics.close()
        if live is not None:
            live.db.close()
    return 0


def _cmd_incidents(args: argparse.Namespace) -> int:
    ctx = notify_context(args)
    if ctx is None:
        return 0
    for i in ctx.incidents.all(active_only=not args.all):
        nxt = f" next page {stamp(i.next_escalation)}" if i.next_escalation else ""
        print(
            f"#{i.id:<5} {i.status:<12} {i.severity.value:<8} {i.alarm:<28} opened {stamp(i.opened)} level {i.level + 1}{nxt}"
        )
    return 0


def _cmd_incident_action(args: argparse.Namespace) -> int:
    ctx = notify_context(args)
    if ctx is None:
        return 1
    now = instance_now(args)()
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
    ctx = notify_context(args, need=args.silence_command != "add")
    if ctx is None:
        if args.silence_command != "add":
            return 0
        db = data_dir(args)
        db.mkdir(parents=True, exist_ok=True)
        ctx = open_context(notify_config(args), db / "notify.db")
    now = instance_now(args)()
    if args.silence_command == "add":
        starts = parse_time(args.start, args.tz, lambda: now) if args.start else now
        ends = (
            parse_time(args.end, args.tz, lambda: now) if args.end else starts + args.minutes * 60
        )
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


def _cmd_maintenance(args: argparse.Namespace) -> int:
    adding = args.maintenance_command == "add"
    ctx = notify_context(args, need=not adding)
    if ctx is None:
        if not adding:
            return 0
        db = data_dir(args)
        db.mkdir(parents=True, exist_ok=True)
        ctx = open_context(notify_config(args), db / "notify.db")
    now, store = instance_now(args)(), MaintenanceStore(ctx.db)
    if adding:
        spec = {
            "alarms": args.alarms,
            "days": args.days,
            "ranges": args.ranges,
            "time_zone": args.zone,
            "reason": args.reason or f"maintenance window {args.name}",
        }
        try:
            w = store.add(args.name, spec, args.by, now)
        except ConfigError as exc:
            print(f"heron: {exc}", file=sys.stderr)
            return 2
        state = f"open until {stamp(w.ends(now))}" if w.active(now) else "closed now"
        print(f"maintenance window {w.name!r}: {w.hours}; {', '.join(w.alarms)}; {state}")
    elif args.maintenance_command == "remove":
        if not store.remove(args.name):
            print(
                f"heron: no maintenance window {args.name!r} (those in heron.toml stay)",
                file=sys.stderr,
            )
            return 1
        print(f"maintenance window {args.name!r} removed")
    else:
        for w, where in [(w, "heron.toml") for w in ctx.config.maintenance] + [
            (w, "cli") for w in store.all()
        ]:
            state = f"OPEN until {stamp(w.ends(now))}" if w.active(now) else "closed"
            print(
                f"{w.name:<16} {where:<10} {state:<32} {w.hours}  {', '.join(w.alarms)}"
                f"  ({w.reason})"
            )
    return 0  # fmt: skip


def add_notify_commands(subparsers: Any) -> None:
    """Register ``heron notify ...`` and ``heron oncall ...``."""

    notify = subparsers.add_parser("notify", help="notifications: inbox, explain, dlq, simulate")
    sub = notify.add_subparsers(dest="notify_command", required=True, metavar="ACTION")
    p = common_options(sub.add_parser("inbox", help="deliveries that landed in the local inbox"))
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--full", action="store_true", help="print each message's body")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_inbox)
    p = common_options(
        sub.add_parser("explain", help="the route one alert took, decision by decision")
    )
    p.add_argument("what", help="alarm name, topic message id, or #delivery-id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_explain)
    dlq = sub.add_parser("dlq", help="the dead-letter queue")
    dsub = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    common_options(dsub.add_parser("list", help="dead-lettered deliveries")).set_defaults(
        func=_cmd_dlq
    )
    p = common_options(dsub.add_parser("replay", help="queue dead-lettered deliveries again"))
    p.add_argument("ids", nargs="*", type=int)
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=_cmd_dlq)
    p = common_options(
        sub.add_parser("simulate", help="who would be notified where and when (sends nothing)")
    )
    p.add_argument("--alarm", required=True)
    p.add_argument("--state", default="ALARM", choices=("ALARM", "OK", "INSUFFICIENT_DATA"))
    p.add_argument("--topic", default="alerts", help="alerts (critical) or warnings")
    p.add_argument("--at", help="when (default now)")
    p.add_argument("--steps", type=int, default=4, help="escalation steps to show")
    p.set_defaults(func=_cmd_simulate)
    p = common_options(sub.add_parser("incidents", help="open incidents (--all for every one)"))
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=_cmd_incidents)
    for name, text in (("ack", "acknowledge"), ("resolve", "resolve"), ("snooze", "snooze")):
        p = common_options(sub.add_parser(name, help=f"{text} an incident"))
        p.add_argument("id", type=int)
        p.add_argument("--by", default="cli")
        if name == "snooze":
            p.add_argument("--minutes", type=float, default=30.0)
        p.set_defaults(func=_cmd_incident_action, command_name=name)
    sil = sub.add_parser("silence", help="silences and maintenance windows")
    ssub = sil.add_subparsers(dest="silence_command", required=True, metavar="ACTION")
    p = common_options(ssub.add_parser("add", help="mute alarms matching a pattern"))
    p.add_argument("pattern", help="alarm name or glob, e.g. 'Lambda*'")
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--start", help="when it begins (a maintenance window), default now")
    p.add_argument("--end", help="when it ends (default start + --minutes)")
    p.add_argument("--comment", default="")
    p.add_argument("--by", default="cli")
    p.set_defaults(func=_cmd_silence)
    common_options(ssub.add_parser("list", help="every silence")).set_defaults(func=_cmd_silence)
    p = common_options(ssub.add_parser("expire", help="end a silence now"))
    p.add_argument("id", type=int)
    p.set_defaults(func=_cmd_silence)

    mnt = sub.add_parser("maintenance", help="recurring weekly maintenance windows")
    msub = mnt.add_subparsers(dest="maintenance_command", required=True, metavar="ACTION")
    p = common_options(
        msub.add_parser("add", help="mute matching alarms every week at these times")
    )
    p.add_argument("name")
    p.add_argument("--alarms", nargs="+", default=["*"], help="alarm names or globs")
    p.add_argument("--days", nargs="+", required=True, help="e.g. sun or mon-fri")
    p.add_argument("--ranges", nargs="+", required=True, help="e.g. 02:00-04:00")
    p.add_argument("--zone", default="UTC", help="IANA time zone of the ranges")
    p.add_argument("--reason", default="", help="shown in explain and the ledger")
    p.add_argument("--by", default="cli")
    p.set_defaults(func=_cmd_maintenance)
    common_options(msub.add_parser("list", help="every window")).set_defaults(func=_cmd_maintenance)
    p = common_options(msub.add_parser("remove", help="delete a window added here"))
    p.add_argument("name")
    p.set_defaults(func=_cmd_maintenance)
    add_subscription_commands(sub)
    add_oncall_commands(subparsers)

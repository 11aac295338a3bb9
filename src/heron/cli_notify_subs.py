"""``heron notify topics|subscribe|unsubscribe|subscriptions``: SNS topics and subscriptions.

The commands work on the data directory's topic store (``<data-dir>/notify.db``), the very
tables a running ``heron up`` serves through its SNS API, and they go through the same SNS
operations, so the CLI accepts and refuses exactly what ``Subscribe``/``Unsubscribe`` do, with
the same messages. A running notifier re-reads the subscriptions on every tick: a new
subscription gets the next alert, a pending http/https one its SubscriptionConfirmation within a
second. ``oncall`` subscriptions (endpoint: a ``[notify.oncall.NAME]`` schedule) page whoever is
on call on that schedule, through their own contacts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from heron.awsapi.errors import AwsError
from heron.awsapi.sns_ops import sns_operations
from heron.cli_notify_context import (
    common_options,
    data_dir,
    instance_now,
    notify_config,
    print_json,
)
from heron.monitor.notify.topics import PROTOCOLS, Subscription, TopicStore

__all__ = ["add_subscription_commands"]

#: Exit status for input the SNS API refuses (a malformed ARN, an unknown protocol...).
BAD_INPUT = 2
#: Exit status for a topic or subscription that does not exist.
MISSING = 1


def open_topics(args: argparse.Namespace) -> TopicStore:
    """The data directory's topic store, in the region and account ``heron up`` uses (from the
    settings)."""
    from heron.settings import load_settings

    path = data_dir(args)
    path.mkdir(parents=True, exist_ok=True)
    config_path = getattr(args, "config", None)
    settings = load_settings(
        Path(config_path) if config_path else None, overrides={"data_dir": args.data_dir}
    )
    region, account = str(settings["region"]), str(settings["account_id"])
    return TopicStore(path / "notify.db", region=region, account_id=account,
                      clock=instance_now(args))  # fmt: skip


def _open(args: argparse.Namespace) -> tuple[TopicStore, dict[str, Any]]:
    """The data directory's topic store and SNS operations bound to it (on-call schedules
    from heron.toml)."""
    topics = open_topics(args)
    ops = sns_operations(
        topics, region=topics.region, account_id=topics.account_id,
        schedules=tuple(notify_config(args).schedules),
    )  # fmt: skip
    return topics, ops


def _topic_arn(topics: TopicStore, topic: str) -> str:
    """An ARN as given, or the ARN of the topic called ``topic`` in this region and account."""
    return topic if topic.startswith("arn:") else topics.topic_arn(topic)


def _fail(exc: AwsError) -> int:
    print(f"heron: {exc.message}", file=sys.stderr)
    if exc.code == "InvalidParameter" and "protocol" in exc.message:
        print(f"heron: protocols: {', '.join(PROTOCOLS)}", file=sys.stderr)
    return MISSING if exc.code == "NotFound" else BAD_INPUT


def shown_endpoint(sub: Subscription) -> str:
    """The endpoint as printed: a Slack webhook URL is a secret, so only its host is shown."""
    if sub.protocol != "slack":
        return sub.endpoint
    parts = urlsplit(sub.endpoint)
    return f"{parts.scheme}://{parts.netloc}/… (hidden)"


def _as_json(sub: Subscription) -> dict[str, Any]:
    return {
        "SubscriptionArn": sub.arn,
        "TopicArn": sub.topic_arn,
        "Protocol": sub.protocol,
        "Endpoint": shown_endpoint(sub),
        "PendingConfirmation": sub.pending,
        "RawMessageDelivery": sub.attributes.get("RawMessageDelivery", "false") == "true",
    }


def _cmd_topics(args: argparse.Namespace) -> int:
    topics, ops = _open(args)
    try:
        rows = [topics.attributes(t["TopicArn"]) for t in ops["ListTopics"]({})["Topics"]]
    finally:
        topics.close()
    if args.json:
        print_json(rows)
        return 0
    print(f"{'TOPIC':<52} {'CONFIRMED':>9} {'PENDING':>7}")
    for a in rows:
        print(
            f"{a['TopicArn']:<52} {a['SubscriptionsConfirmed']:>9} {a['SubscriptionsPending']:>7}"
        )
    return 0


def _cmd_subscribe(args: argparse.Namespace) -> int:
    topics, ops = _open(args)
    try:
        request: dict[str, Any] = {
            "TopicArn": _topic_arn(topics, args.topic),
            "Protocol": args.protocol,
            "Endpoint": args.endpoint,
            "ReturnSubscriptionArn": True,
        }
        if args.raw:
            request["Attributes"] = {"RawMessageDelivery": "true"}
        arn = ops["Subscribe"](request)["SubscriptionArn"]
        sub = topics.subscription(arn)
    except AwsError as exc:
        return _fail(exc)
    finally:
        topics.close()
    print(arn)
    if sub is not None and sub.pending:
        print(
            "pending confirmation: the endpoint gets a SubscriptionConfirmation from the running "
            "notifier and receives alerts once it visits the SubscribeURL"
        )
    elif args.protocol == "oncall":
        print(f"alerts on this topic page whoever is on call on schedule {args.endpoint!r}")
    return 0


def _cmd_unsubscribe(args: argparse.Namespace) -> int:
    topics, ops = _open(args)
    try:
        ops["Unsubscribe"]({"SubscriptionArn": args.arn})
    except AwsError as exc:
        return _fail(exc)
    finally:
        topics.close()
    print(f"unsubscribed {args.arn} (deliveries still queued for it are dropped)")
    return 0


def _cmd_subscriptions(args: argparse.Namespace) -> int:
    topics, ops = _open(args)
    try:
        if args.topic:  # through the API's own check of the ARN and the topic
            arn = _topic_arn(topics, args.topic)
            ops["ListSubscriptionsByTopic"]({"TopicArn": arn})
            subs = topics.subscriptions(arn)
        else:
            subs = topics.all_subscriptions()
    except AwsError as exc:
        return _fail(exc)
    finally:
        topics.close()
    if args.json:
        print_json([_as_json(s) for s in subs])
        return 0
    if not subs:
        print("No subscriptions (heron.toml's channels are routes, not subscriptions).")
    for s in subs:
        state = "pending" if s.pending else "confirmed"
        topic = s.topic_arn.rsplit(":", 1)[-1]
        print(f"{topic:<12} {s.protocol:<10} {state:<9} {shown_endpoint(s):<40} {s.arn}")
    return 0


def add_subscription_commands(sub: Any) -> None:
    """Register the topic and subscription commands under ``heron notify``."""
    p = common_options(sub.add_parser("topics", help="SNS topics and their subscription counts"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_topics)
    p = common_options(
        sub.add_parser("subscribe", help="subscribe an endpoint to a topic (SNS Subscribe)")
    )
    p.add_argument("topic", help="topic name (alerts, warnings) or ARN")
    p.add_argument("protocol", help=f"one of {', '.join(PROTOCOLS)}")
    p.add_argument("endpoint", help="URL, email address, ARN, or (oncall) a schedule name")
    p.add_argument("--raw", action="store_true", help="RawMessageDelivery (http/https only)")
    p.set_defaults(func=_cmd_subscribe)
    p = common_options(sub.add_parser("unsubscribe", help="delete a subscription by its ARN"))
    p.add_argument("arn", help="the subscription ARN")
    p.set_defaults(func=_cmd_unsubscribe)
    p = common_options(
        sub.add_parser("subscriptions", help="subscriptions of every topic, or of one")
    )
    p.add_argument("topic", nargs="?", help="topic name or ARN")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_subscriptions)

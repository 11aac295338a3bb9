"""Delivery to subscriptions made through the SNS API (Subscribe), beside heron.toml's channels.

A confirmed subscription is a destination named ``sub:<subscription ARN>``: the route stage adds
the topic's confirmed subscriptions to every alert, and the deliverer asks ``resolve`` for the
channel and sender when a row is due (so an Unsubscribe takes effect for rows still queued).
http/https subscriptions get SNS's SubscriptionConfirmation first and receive nothing until the
endpoint GETs the SubscribeURL (or calls ConfirmSubscription). Email subscriptions go through the
first configured email channel's SMTP server (the local inbox when there is none); lambda and sqs
subscriptions are stored but not delivered (Heron has neither service). An ``oncall``
subscription (endpoint: a schedule's name) is no destination of its own: the route stage pages
whoever is on call on that schedule now, through their contacts, as ``channels = ["oncall"]``
does for the first escalation level.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from heron.monitor.notify.channels import Outcome, Sender
from heron.monitor.notify.channels.email import EmailSender
from heron.monitor.notify.channels.inbox import Inbox
from heron.monitor.notify.channels.keepalive import Endpoints
from heron.monitor.notify.channels.slack import SlackSender
from heron.monitor.notify.channels.webhook import WebhookSender, notification
from heron.monitor.notify.config import SLACK_RATE, Channel, NotifyConfig
from heron.monitor.notify.db import NotifyDB
from heron.monitor.notify.ledger import Ledger
from heron.monitor.notify.links import Linker
from heron.monitor.notify.model import Notice
from heron.monitor.notify.reasons import Decision, Reason, Verdict
from heron.monitor.notify.secrets import Secret
from heron.monitor.notify.topics import Subscription, TopicStore

if TYPE_CHECKING:
    from heron.monitor.notify.channels.outbound import OutboundHttp

#: Destination names of API subscriptions start with this.
SUB_PREFIX = "sub:"
#: Protocols the notifier delivers to as ``sub:`` destinations.
DELIVERED_PROTOCOLS = ("http", "https", "email", "email-json", "slack")
#: The protocol that pages a schedule's on-call person (resolved when an alert is routed).
ONCALL_PROTOCOL = "oncall"
#: How long after a failed SubscriptionConfirmation (no 2xx) it is sent again.
CONFIRM_RETRY_S = 300.0
#: SNS deletes a subscription still unconfirmed 48 hours after it was made.
UNCONFIRMED_TTL_S = 48 * 3600.0


class Subscribers:
    """Each topic's confirmed, deliverable API subscriptions as destinations, read once per tick.

    The pipeline runs inside a notify.db write transaction and must never take TopicStore's
    lock there: a publisher holds that lock while its INSERT waits for the very transaction's
    SQLite lock, so both would wait (for SQLite's 5 s busy timeout). ``refresh`` reads the
    subscriptions before any transaction opens; the stages only look them up.
    """

    def __init__(self, topics: TopicStore) -> None:
        self._topics = topics
        self._by_topic: dict[str, tuple[str, ...]] = {}
        self._oncall: dict[str, tuple[tuple[str, str], ...]] = {}

    def refresh(self) -> None:
        """Re-read the subscriptions (call outside any notify.db transaction)."""
        by_topic: dict[str, list[str]] = {}
        oncall: dict[str, list[tuple[str, str]]] = {}
        for s in self._topics.all_subscriptions():
            if s.pending:
                continue
            if s.protocol in DELIVERED_PROTOCOLS:
                by_topic.setdefault(s.topic_arn, []).append(SUB_PREFIX + s.arn)
            elif s.protocol == ONCALL_PROTOCOL:
                oncall.setdefault(s.topic_arn, []).append((s.arn, s.endpoint))
        self._by_topic = {t: tuple(d) for t, d in by_topic.items()}
        self._oncall = {t: tuple(d) for t, d in oncall.items()}

    def targets(self, topic_arn: str) -> tuple[str, ...]:
        """The destinations of ``topic_arn``'s subscriptions as of the last refresh."""
        return self._by_topic.get(topic_arn, ())

    def oncall(self, topic_arn: str) -> tuple[tuple[str, str], ...]:
        """``(subscription ARN, schedule)`` of ``topic_arn``'s on-call subscriptions."""
        return self._oncall.get(topic_arn, ())


class ApiSubscriptions:
    """Channels and senders for API subscriptions, and their confirmation handshake."""

    def __init__(
        self,
        topics: TopicStore,
        config: NotifyConfig,
        client: OutboundHttp,
        db: NotifyDB,
        links: Linker | None = None,
        *,
        endpoints: Endpoints | None = None,
    ) -> None:
        self.topics = topics
        self._endpoints = endpoints
        self.config = config
        self._client = client
        self._db = db
        self._links = links

    def resolve(self, name: str) -> tuple[Channel, Sender] | None:
        """The channel and sender for destination ``name`` (None once unsubscribed)."""
        sub = self.topics.subscription(name.removeprefix(SUB_PREFIX))
        if sub is None or sub.protocol not in DELIVERED_PROTOCOLS:
            return None
        if sub.protocol in ("http", "https"):
            channel = Channel(name, sub.protocol, url=Secret(sub.endpoint, "subscription"),
                              confirm=False)  # fmt: skip
            raw = sub.attributes.get("RawMessageDelivery", "false").lower() == "true"
            sender: Sender = WebhookSender(
                channel, self._client, self.config.public_url, sub_arn=sub.arn, raw=raw,
                endpoints=self._endpoints,
            )  # fmt: skip
            return channel, sender
        if sub.protocol == "slack":
            channel = Channel(
                name, "slack", url=Secret(sub.endpoint, "subscription"), rate_per_s=SLACK_RATE
            )
            return channel, SlackSender(channel, self._client, self._links)
        transport = next((c for c in self.config.channels.values() if c.protocol == "email"), None)
        if transport is None:  # nowhere to send mail from: the local inbox keeps it
            return Channel(name, "inbox"), Inbox(self._db)
        channel = replace(transport, name=name, to=(sub.endpoint,))
        if sub.protocol == "email":
            return channel, EmailSender(channel, self._links)
        public_url = self.config.public_url

        def envelope(notice: Notice, key: str, now: float) -> str:
            topic_arn = notice.alerts[0].topic_arn if notice.alerts else sub.topic_arn
            body, _ = notification(notice, key, topic_arn, name, now, public_url, sub.arn)
            return json.dumps(body, indent=2)

        return channel, EmailSender(channel, self._links, json_body=envelope)

    def send_confirmations(self, ledger: Ledger, now: float) -> int:
        """Send SubscriptionConfirmation to pending http/https subscriptions that are due, and
        delete those left unconfirmed for 48 hours, as SNS does; how many were sent.

        Like SNS, a confirmation the endpoint accepted (2xx) is not sent again; Subscribe with
        the same endpoint asks again. One that failed is retried every ``CONFIRM_RETRY_S``.
        """
        for sub in self.topics.expire_unconfirmed(now, UNCONFIRMED_TTL_S):
            decision = Decision(Verdict.DROP, Reason.CONFIRMATION_EXPIRED)
            ledger.note(sub.arn, "(subscription)", "subscribe", decision, now,
                        channel=SUB_PREFIX + sub.arn)  # fmt: skip
        sent = 0
        for sub in self.topics.confirmations_due(now, CONFIRM_RETRY_S):
            outcome = self._confirm(sub, now)
            self.topics.confirmation_sent(sub.arn, now, delivered=outcome.ok)
            decision = Decision(Verdict.WAIT, Reason.CONFIRMATION_SENT, str(outcome))
            ledger.note(sub.arn, "(subscription)", "subscribe", decision, now,
                        channel=SUB_PREFIX + sub.arn)  # fmt: skip
            sent += 1
        return sent

    def _confirm(self, sub: Subscription, now: float) -> Outcome:
        channel = Channel(SUB_PREFIX + sub.arn, sub.protocol,
                          url=Secret(sub.endpoint, "subscription"), confirm=False)  # fmt: skip
        sender = WebhookSender(
            channel,
            self._client,
            self.config.public_url,
            sub_arn=sub.arn,
            endpoints=self._endpoints,
        )
        return sender.confirm(sub.token, sub.topic_arn, now)

"""HTTP(S) webhooks that receive what SNS sends: the Notification envelope and its headers.

Before the first notification the endpoint gets a ``SubscriptionConfirmation`` whose
``SubscribeURL`` (Heron's ``/notify/confirm``) confirms it with a plain GET — unsigned, as on AWS.
``MessageId`` is derived from the idempotency key, so a re-sent notification has the same id and
the receiver can drop the duplicate. Heron has no AWS signing certificate: ``Signature`` is empty.
"""

from __future__ import annotations

import http.client
import json
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from heron.monitor.notify.channels import Outcome
from heron.monitor.notify.channels.keepalive import Endpoints
from heron.monitor.notify.config import Channel
from heron.monitor.notify.model import Kind, Notice
from heron.monitor.notify.render import priority, subject, text, when
from heron.monitor.notify.secrets import redact

if TYPE_CHECKING:
    from heron.monitor.notify.channels.outbound import OutboundHttp

_AGENT = "Amazon Simple Notification Service Agent"


def message_id(key: str) -> str:
    """The SNS MessageId of the delivery with idempotency key ``key``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"heron:{key}"))


def subscription_arn(topic_arn: str, channel: str) -> str:
    """The subscription ARN a configured channel has on ``topic_arn``."""
    return f"{topic_arn}:{uuid.uuid5(uuid.NAMESPACE_URL, f'heron-sub:{channel}')}"


def _body(notice: Notice) -> str:
    if notice.kind in (Kind.ALERT, Kind.RESOLUTION) and len(notice.alerts) == 1:
        original = notice.alerts[0].message
        if original:
            return original  # the CloudWatch alarm JSON, exactly as published
    return json.dumps(
        {"heron": notice.kind.value, "text": text(notice), "keys": list(notice.keys)},
        separators=(",", ":"),
    )


def notification(
    notice: Notice,
    key: str,
    topic_arn: str,
    channel: str,
    now: float,
    public_url: str,
    sub_arn: str = "",
) -> tuple[dict[str, Any], dict[str, str]]:
    """The Notification envelope and the request headers."""
    mid = message_id(key)
    sub = sub_arn or subscription_arn(topic_arn, channel)
    level = priority(notice.severity.value)
    envelope = {
        "Type": "Notification",
        "MessageId": mid,
        "TopicArn": topic_arn,
        "Subject": subject(notice),
        "Message": _body(notice),
        "Timestamp": when(now).replace("Z", ".000Z"),
        "SignatureVersion": "1",
        "Signature": "",
        "SigningCertURL": f"{public_url}/notify/SimpleNotificationService.pem",
        # Unsigned, as on AWS (the ARN's random part is the secret); works for API subscriptions.
        "UnsubscribeURL": f"{public_url}/notify/unsubscribe?{urlencode({'SubscriptionArn': sub})}",
        # As SNS carries a published message's attributes: filterable by the receiver.
        "MessageAttributes": {
            "priority": {"Type": "String", "Value": level},
            "severity": {"Type": "String", "Value": notice.severity.value},
        },
    }
    headers = _headers("Notification", mid, topic_arn, sub, key)
    headers["x-heron-priority"] = level  # raw delivery drops the envelope, not the priority
    return envelope, headers


def confirmation(
    token: str, topic_arn: str, channel: str, now: float, public_url: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The SubscriptionConfirmation envelope and headers."""
    mid = message_id(f"confirm:{channel}:{token}")
    query = urlencode({"Action": "ConfirmSubscription", "TopicArn": topic_arn, "Token": token})
    envelope = {
        "Type": "SubscriptionConfirmation",
        "MessageId": mid,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": f"You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the "
        "subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": f"{public_url}/notify/confirm?{query}",
        "Timestamp": when(now).replace("Z", ".000Z"),
        "SignatureVersion": "1",
        "Signature": "",
        "SigningCertURL": f"{public_url}/notify/SimpleNotificationService.pem",
    }
    return envelope, _headers("SubscriptionConfirmation", mid, topic_arn, "", "")


def _headers(kind: str, mid: str, topic_arn: str, sub: str, key: str) -> dict[str, str]:
    headers = {
        "content-type": "text/plain; charset=UTF-8",
        "user-agent": _AGENT,
        "x-amz-sns-message-type": kind,
        "x-amz-sns-message-id": mid,
        "x-amz-sns-topic-arn": topic_arn,
    }
    if sub:
        headers["x-amz-sns-subscription-arn"] = sub
    if key:
        headers["x-heron-idempotency-key"] = key
    return headers


def classify(status: int, body: str) -> Outcome:
    """An HTTP answer as an Outcome (SNS retries 5xx and 429; other 4xx are client errors)."""
    if 200 <= status < 300:
        return Outcome(True, status=status)
    detail = redact(body.strip()[:200]) or "error"
    if status == 429 or status >= 500 or status == 408:
        return Outcome(False, detail, status=status)
    return Outcome(False, detail, permanent=True, status=status)


class WebhookSender:
    """POSTs SNS envelopes to one endpoint."""

    def __init__(
        self,
        channel: Channel,
        client: OutboundHttp,
        public_url: str,
        *,
        sub_arn: str = "",
        raw: bool = False,
        endpoints: Endpoints | None = None,
    ) -> None:
        """``sub_arn`` names an API subscription; ``raw`` is its RawMessageDelivery;
        ``endpoints`` serves plain ``http://`` URLs with lean keep-alive connections."""
        assert channel.url is not None
        self._channel = channel
        self._http = client
        self._public_url = public_url
        self._sub_arn = sub_arn
        self._raw = raw
        self._fast = endpoints.get(channel.url.reveal()) if endpoints is not None else None

    def _post(self, envelope: dict[str, Any] | str, headers: dict[str, str]) -> Outcome:
        assert self._channel.url is not None
        body = envelope if isinstance(envelope, str) else json.dumps(envelope)
        if self._fast is not None:
            try:
                reply = self._fast.post(body.encode(), headers, self._channel.timeout_s)
            except (OSError, http.client.HTTPException) as exc:
                return Outcome(False, redact(f"{type(exc).__name__}: {exc}"))
            status, text, retry_after = reply.status, reply.text, reply.headers.get("retry-after")
        else:
            import httpx  # here, not at the top, so idle instances never load it

            try:
                response = self._http.client.post(
                    self._channel.url.reveal(),
                    content=body.encode(),
                    headers=headers,
                    timeout=self._channel.timeout_s,
                )
            except httpx.HTTPError as exc:
                return Outcome(False, redact(f"{type(exc).__name__}: {exc}"))
            status, text = response.status_code, response.text
            retry_after = response.headers.get("retry-after")
        outcome = classify(status, text)
        if status == 429:
            try:
                wait = float(retry_after or "")
            except ValueError:
                return outcome
            return Outcome(False, outcome.error, retry_after=wait, status=429)
        return outcome

    def send(self, notice: Notice, key: str, now: float) -> Outcome:
        """Deliver a Notification."""
        topic_arn = notice.alerts[0].topic_arn if notice.alerts else "arn:aws:sns:::heron"
        envelope, headers = notification(
            notice, key, topic_arn, self._channel.name, now, self._public_url, self._sub_arn
        )
        if self._raw:  # RawMessageDelivery: the message itself, headers unchanged (as SNS does)
            return self._post(envelope["Message"], headers)
        return self._post(envelope, headers)

    def confirm(self, token: str, topic_arn: str, now: float) -> Outcome:
        """Send the SubscriptionConfirmation."""
        envelope, headers = confirmation(
            token, topic_arn, self._channel.name, now, self._public_url
        )
        return self._post(envelope, headers)

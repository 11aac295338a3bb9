"""A minimal SNS over the topic store: topics (CreateTopic, DeleteTopic, GetTopicAttributes,
ListTopics), subscriptions (Subscribe, ConfirmSubscription, Unsubscribe, ListSubscriptions,
ListSubscriptionsByTopic, Get/SetSubscriptionAttributes) and Publish.

Errors use SNS's Query codes and its terse messages (``Invalid parameter: TopicArn``,
``Topic does not exist``). As on AWS, http/https subscriptions stay pending (Subscribe answers
``pending confirmation``) until the endpoint confirms with the token the notifier POSTs to it;
email, email-json and Heron's ``slack`` (an incoming-webhook URL) are confirmed at once, and so
is Heron's ``oncall``, whose endpoint names an on-call schedule: whoever is on call on it when an
alert arrives is paged through their own contact methods.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from heron.awsapi.errors import AwsError
from heron.monitor.notify.topics import (
    PROTOCOLS,
    Subscription,
    TopicConflict,
    TopicNotFound,
    TopicStore,
)

Handler = Callable[[dict[str, Any]], dict[str, Any]]

_PAGE = 100
_MAX_MESSAGE_BYTES = 256 * 1024
_MAX_SUBJECT = 100
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$|^[A-Za-z0-9_-]{1,251}\.fifo$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SCHEDULE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def invalid_parameter(what: str) -> AwsError:
    """SNS's InvalidParameter: ``Invalid parameter: <what>``."""
    return AwsError("InvalidParameter", f"Invalid parameter: {what}", query_code="InvalidParameter")


def not_found(message: str) -> AwsError:
    """SNS's NotFound (HTTP 404)."""
    return AwsError("NotFound", message, status=404, query_code="NotFound")


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def _page_offset(token: Any) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(str(token).encode()).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_parameter("NextToken") from None


class _Sns:
    """The handlers, bound to one topic store."""

    def __init__(
        self,
        topics: TopicStore,
        region: str,
        account_id: str,
        schedules: Collection[str] | None = None,
    ) -> None:
        self.topics = topics
        self.region = region
        self.account_id = account_id
        self.schedules = schedules

    def _topic_arn(self, request: Mapping[str, Any], member: str = "TopicArn") -> str:
        arn = request.get(member)
        if not isinstance(arn, str) or not arn.startswith("arn:aws:sns:") or arn.count(":") != 5:
            raise invalid_parameter(member)
        return arn

    def create_topic(self, request: dict[str, Any]) -> dict[str, Any]:
        """The topic's ARN; creating an existing topic again returns the same ARN."""
        name = request.get("Name")
        if not isinstance(name, str) or not _TOPIC_NAME.match(name):
            raise invalid_parameter("Topic Name")
        attributes = {str(k): str(v) for k, v in (request.get("Attributes") or {}).items()}
        tags = {t["Key"]: t["Value"] for t in request.get("Tags") or []}
        try:
            return {"TopicArn": self.topics.create_topic(name, attributes, tags)}
        except TopicConflict:
            raise invalid_parameter(
                "Attributes Reason: Topic already exists with different attributes"
            ) from None

    def delete_topic(self, request: dict[str, Any]) -> dict[str, Any]:
        """Delete a topic (deleting one that does not exist succeeds, as on AWS)."""
        self.topics.delete_topic(self._topic_arn(request))
        return {}

    def get_topic_attributes(self, request: dict[str, Any]) -> dict[str, Any]:
        """The topic's attributes."""
        try:
            return {"Attributes": self.topics.attributes(self._topic_arn(request))}
        except TopicNotFound:
            raise not_found("Topic does not exist") from None

    def list_topics(self, request: dict[str, Any]) -> dict[str, Any]:
        """Topic ARNs, 100 per page."""
        offset = _page_offset(request.get("NextToken"))
        arns = self.topics.topics()
        out: dict[str, Any] = {"Topics": [{"TopicArn": a} for a in arns[offset : offset + _PAGE]]}
        if offset + _PAGE < len(arns):
            out["NextToken"] = _page_token(offset + _PAGE)
        return out

    def subscribe(self, request: dict[str, Any]) -> dict[str, Any]:
        """Subscribe an endpoint; confirmed at once, so the ARN is always returned."""
        arn = self._topic_arn(request)
        protocol = request.get("Protocol")
        if not isinstance(protocol, str) or protocol not in PROTOCOLS:
            raise invalid_parameter(f"Amazon SNS does not support this protocol string: {protocol}")
        endpoint = request.get("Endpoint")
        if not isinstance(endpoint, str) or not _endpoint_ok(protocol, endpoint):
            raise invalid_parameter(_ENDPOINT_ERRORS.get(protocol, "Endpoint"))
        if protocol == "oncall" and self.schedules is not None and endpoint not in self.schedules:
            known = ", ".join(sorted(self.schedules)) or "none"
            raise invalid_parameter(
                f"Endpoint Reason: no on-call schedule named {endpoint!r} "
                f"([notify.oncall.NAME] in heron.toml; configured: {known})"
            )
        attributes = {str(k): str(v) for k, v in (request.get("Attributes") or {}).items()}
        for name, value in attributes.items():
            _check_attribute(protocol, name, value)
        try:
            sub_arn = self.topics.subscribe(arn, protocol, endpoint, attributes)
        except TopicNotFound:
            raise not_found("Topic does not exist") from None
        sub = self.topics.subscription(sub_arn)
        if sub is not None and sub.pending and not request.get("ReturnSubscriptionArn"):
            return {"SubscriptionArn": "pending confirmation"}
        return {"SubscriptionArn": sub_arn}

    def confirm_subscription(self, request: dict[str, Any]) -> dict[str, Any]:
        """Confirm a pending subscription with the token its endpoint received."""
        arn = self._topic_arn(request)
        token = request.get("Token")
        if not isinstance(token, str) or not token:
            raise invalid_parameter("Token")
        if not self.topics.exists(arn):
            raise not_found("Topic does not exist")
        sub_arn = self.topics.confirm_subscription(arn, token)
        if sub_arn is None:
            raise invalid_parameter("Token")
        return {"SubscriptionArn": sub_arn}

    def _subscription(self, request: Mapping[str, Any]) -> Subscription:
        arn = request.get("SubscriptionArn")
        if not isinstance(arn, str) or not arn.startswith("arn:aws:sns:") or arn.count(":") != 6:
            raise invalid_parameter("SubscriptionArn")
        sub = self.topics.subscription(arn)
        if sub is None:
            raise not_found("Subscription does not exist")
        return sub

    def unsubscribe(self, request: dict[str, Any]) -> dict[str, Any]:
        """Delete a subscription; queued deliveries to it are dropped."""
        self.topics.unsubscribe(self._subscription(request).arn)
        return {}

    def list_subscriptions(self, request: dict[str, Any]) -> dict[str, Any]:
        """Every subscription, 100 per page."""
        return _sub_page(self.topics.all_subscriptions(), request.get("NextToken"))

    def get_subscription_attributes(self, request: dict[str, Any]) -> dict[str, Any]:
        """The subscription's attributes, as SNS names them."""
        sub = self._subscription(request)
        return {
            "Attributes": {
                "SubscriptionArn": sub.arn,
                "TopicArn": sub.topic_arn,
                "Owner": sub.owner,
                "Protocol": sub.protocol,
                "Endpoint": sub.endpoint,
                "PendingConfirmation": str(sub.pending).lower(),
                "ConfirmationWasAuthenticated": "false",
                "RawMessageDelivery": "false",
                **dict(sub.attributes),
            }
        }

    def set_subscription_attributes(self, request: dict[str, Any]) -> dict[str, Any]:
        """Set RawMessageDelivery (the one attribute Heron's delivery honours)."""
        sub = self._subscription(request)
        name, value = request.get("AttributeName"), request.get("AttributeValue", "")
        _check_attribute(sub.protocol, str(name), str(value))
        self.topics.set_subscription_attribute(sub.arn, str(name), str(value).lower())
        return {}

    def list_subscriptions_by_topic(self, request: dict[str, Any]) -> dict[str, Any]:
        """The topic's subscriptions, 100 per page."""
        arn = self._topic_arn(request)
        try:
            subs = self.topics.subscriptions(arn)
        except TopicNotFound:
            raise not_found("Topic does not exist") from None
        return _sub_page(subs, request.get("NextToken"))

    def publish(self, request: dict[str, Any]) -> dict[str, Any]:
        """Store a message in the topic's outbox; its MessageId."""
        if request.get("PhoneNumber"):
            raise invalid_parameter("PhoneNumber Reason: SMS is not supported by Heron")
        member = "TopicArn" if request.get("TopicArn") else "TargetArn"
        if request.get("TopicArn") and request.get("TargetArn"):
            raise invalid_parameter("TopicArn or TargetArn Reason: Only one of them may be given")
        arn = self._topic_arn(request, member)
        message = request.get("Message")
        if not isinstance(message, str) or not message:
            raise invalid_parameter("Empty message")
        if len(message.encode()) > _MAX_MESSAGE_BYTES:
            raise invalid_parameter("Message too long")
        subject = request.get("Subject")
        if subject is not None and (
            not subject
            or len(subject) > _MAX_SUBJECT
            or not subject.isascii()
            or any(c in subject for c in "\r\n")
            or not subject[0].isprintable()
        ):
            raise invalid_parameter("Subject")
        attributes = _message_attributes(request.get("MessageAttributes") or {})
        try:
            message_id = self.topics.publish(arn, message, subject=subject, attributes=attributes)
        except TopicNotFound:
            raise not_found("Topic does not exist") from None
        return {"MessageId": message_id}


def _sub_page(subs: list[Subscription], token: Any) -> dict[str, Any]:
    """One page of subscriptions; pending ones show ``PendingConfirmation`` as on AWS."""
    offset = _page_offset(token)
    out: dict[str, Any] = {
        "Subscriptions": [
            {
                "SubscriptionArn": "PendingConfirmation" if s.pending else s.arn,
                "Owner": s.owner,
                "Protocol": s.protocol,
                "Endpoint": s.endpoint,
                "TopicArn": s.topic_arn,
            }
            for s in subs[offset : offset + _PAGE]
        ]
    }
    if offset + _PAGE < len(subs):
        out["NextToken"] = _page_token(offset + _PAGE)
    return out


#: Subscription attributes Heron stores; RawMessageDelivery applies to http/https (and sqs).
_SETTABLE = ("RawMessageDelivery",)


def _check_attribute(protocol: str, name: str, value: str) -> None:
    if name not in _SETTABLE:
        raise invalid_parameter(f"AttributeName Reason: Heron supports only {', '.join(_SETTABLE)}")
    if protocol not in ("http", "https", "sqs"):
        raise invalid_parameter(
            f"Attributes Reason: Delivery protocol [{protocol}] does not support raw message "
            "delivery."
        )
    if value.lower() not in ("true", "false"):
        raise invalid_parameter(
            "Attributes Reason: RawMessageDelivery: Invalid value ["
            + value
            + "]. Must be true or false."
        )


_ENDPOINT_ERRORS = {
    "email": "Email address",
    "email-json": "Email address",
    "sqs": "SQS endpoint ARN",
    "lambda": "Lambda endpoint ARN",
    "slack": "Slack incoming-webhook URL (https://...)",
    "oncall": "Endpoint Reason: an on-call schedule name (letters, digits, '.', '_', '-')",
}


def _endpoint_ok(protocol: str, endpoint: str) -> bool:
    if protocol in ("email", "email-json"):
        return bool(_EMAIL.match(endpoint))
    if protocol in ("http", "https"):
        return endpoint.lower().startswith(f"{protocol}://") and len(endpoint) > len(protocol) + 3
    if protocol == "slack":  # like heron.toml's slack channels: http(s)
        return endpoint.lower().startswith(("https://", "http://")) and "." in endpoint
    if protocol == "sqs":
        return endpoint.startswith("arn:aws:sqs:") and endpoint.count(":") == 5
    if protocol == "lambda":
        return endpoint.startswith("arn:aws:lambda:") and ":function:" in endpoint
    if protocol == "oncall":
        return bool(_SCHEDULE.match(endpoint))
    return False


def _message_attributes(raw: Mapping[str, Any]) -> dict[str, Any]:
    """MessageAttributes as stored: name -> {DataType, StringValue | BinaryValue (base64)}."""
    out: dict[str, Any] = {}
    for name, value in raw.items():
        kind = value.get("DataType") if isinstance(value, Mapping) else None
        if not kind or str(kind).split(".", 1)[0] not in ("String", "Number", "Binary"):
            raise invalid_parameter(
                f"The message attribute '{name}' has an invalid message attribute type, the set "
                "of supported type prefixes is Binary, Number, and String."
            )
        entry: dict[str, Any] = {"DataType": kind}
        if value.get("StringValue") is not None:
            entry["StringValue"] = value["StringValue"]
        elif value.get("BinaryValue") is not None:
            blob = value["BinaryValue"]
            data = blob if isinstance(blob, bytes) else str(blob).encode()
            entry["BinaryValue"] = base64.b64encode(data).decode()
        else:
            raise invalid_parameter(
                f"The message attribute '{name}' must contain non-empty message attribute value "
                f"for message attribute type '{kind}'."
            )
        out[str(name)] = entry
    return out


def sns_operations(
    topics: TopicStore,
    *,
    region: str,
    account_id: str,
    schedules: Collection[str] | None = None,
) -> dict[str, Handler]:
    """SNS's operations keyed by name, bound to ``topics``; ``schedules`` (heron.toml's on-call
    schedule names) lets Subscribe refuse an ``oncall`` endpoint that names none of them."""
    ops = _Sns(topics, region, account_id, schedules)
    return {
        "CreateTopic": ops.create_topic,
        "DeleteTopic": ops.delete_topic,
        "GetTopicAttributes": ops.get_topic_attributes,
        "ListTopics": ops.list_topics,
        "Subscribe": ops.subscribe,
        "ListSubscriptionsByTopic": ops.list_subscriptions_by_topic,
        "ConfirmSubscription": ops.confirm_subscription,
        "Unsubscribe": ops.unsubscribe,
        "ListSubscriptions": ops.list_subscriptions,
        "GetSubscriptionAttributes": ops.get_subscription_attributes,
        "SetSubscriptionAttributes": ops.set_subscription_attributes,
        "Publish": ops.publish,
    }

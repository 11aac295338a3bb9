"""A minimal SNS: CreateTopic, DeleteTopic, GetTopicAttributes, ListTopics, Subscribe,
ListSubscriptionsByTopic and Publish over the topic store.

Errors use SNS's Query codes and its terse messages (``Invalid parameter: TopicArn``,
``Topic does not exist``). Subscriptions are confirmed at once (AWS leaves http/https/email
subscriptions pending until the endpoint confirms; there is nobody to confirm locally).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from typing import Any

from heron.awsapi.errors import AwsError
from heron.monitor.notify.topics import PROTOCOLS, TopicConflict, TopicNotFound, TopicStore

Handler = Callable[[dict[str, Any]], dict[str, Any]]

_PAGE = 100
_MAX_MESSAGE_BYTES = 256 * 1024
_MAX_SUBJECT = 100
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$|^[A-Za-z0-9_-]{1,251}\.fifo$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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

    def __init__(self, topics: TopicStore, region: str, account_id: str) -> None:
        self.topics = topics
        self.region = region
        self.account_id = account_id

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
        attributes = {str(k): str(v) for k, v in (request.get("Attributes") or {}).items()}
        try:
            return {"SubscriptionArn": self.topics.subscribe(arn, protocol, endpoint, attributes)}
        except TopicNotFound:
            raise not_found("Topic does not exist") from None

    def list_subscriptions_by_topic(self, request: dict[str, Any]) -> dict[str, Any]:
        """The topic's subscriptions, 100 per page."""
        arn = self._topic_arn(request)
        offset = _page_offset(request.get("NextToken"))
        try:
            subs = self.topics.subscriptions(arn)
        except TopicNotFound:
            raise not_found("Topic does not exist") from None
        page = subs[offset : offset + _PAGE]
        out: dict[str, Any] = {
            "Subscriptions": [
                {
                    "SubscriptionArn": s.arn,
                    "Owner": s.owner,
                    "Protocol": s.protocol,
                    "Endpoint": s.endpoint,
                    "TopicArn": s.topic_arn,
                }
                for s in page
            ]
        }
        if offset + _PAGE < len(subs):
            out["NextToken"] = _page_token(offset + _PAGE)
        return out

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


_ENDPOINT_ERRORS = {
    "email": "Email address",
    "email-json": "Email address",
    "sqs": "SQS endpoint ARN",
    "lambda": "Lambda endpoint ARN",
}


def _endpoint_ok(protocol: str, endpoint: str) -> bool:
    if protocol in ("email", "email-json"):
        return bool(_EMAIL.match(endpoint))
    if protocol in ("http", "https"):
        return endpoint.lower().startswith(f"{protocol}://") and len(endpoint) > len(protocol) + 3
    if protocol == "sqs":
        return endpoint.startswith("arn:aws:sqs:") and endpoint.count(":") == 5
    if protocol == "lambda":
        return endpoint.startswith("arn:aws:lambda:") and ":function:" in endpoint
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


def sns_operations(topics: TopicStore, *, region: str, account_id: str) -> dict[str, Handler]:
    """SNS's operations keyed by name, bound to ``topics``."""
    ops = _Sns(topics, region, account_id)
    return {
        "CreateTopic": ops.create_topic,
        "DeleteTopic": ops.delete_topic,
        "GetTopicAttributes": ops.get_topic_attributes,
        "ListTopics": ops.list_topics,
        "Subscribe": ops.subscribe,
        "ListSubscriptionsByTopic": ops.list_subscriptions_by_topic,
        "Publish": ops.publish,
    }

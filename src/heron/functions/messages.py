"""sendMessage: store a direct message once, push it to the recipient's sockets, notify them.

Served on two routes: HTTP ``POST /messages`` (caller from the Lambda authorizer) and the WebSocket
route ``sendMessage`` (caller from the Connections record of the sending socket, written on
``$connect``). One transaction writes the idempotency guard ``(sender, clientMessageId)``, the
message and the recipient's notification, so a retry finds the guard, returns the same message
with 200 instead of 201, and pushes nothing twice. Delivery posts to every live socket of the
recipient; a 410 deletes *that* socket's record (never the sender's).
"""

from __future__ import annotations

import json
from typing import Any

from heron.errors import GoneError, TransactionCanceledError
from heron.functions import deps
from heron.functions.connections_client import ConnectionsApiError
from heron.functions.http import (
    BadRequest,
    Conflict,
    NotFound,
    Unauthorized,
    caller_id,
    json_body,
    json_response,
    received_at_ms,
    reject_unknown_fields,
    request_context,
)
from heron.functions.instrument import bind, instrumented, metrics
from heron.functions.records import (
    PREVIEW_CHARS,
    conversation_id,
    failed_condition,
    idempotency_key,
    is_user_id,
    iso_timestamp,
    message_sk,
    message_view,
    new_id,
    notification_id,
)
from heron.tables.base import WriteOp, attribute_not_exists
from heron.types import Event, Item

MAX_TEXT_CHARS = 4000
MAX_CLIENT_MESSAGE_ID = 64
FIELDS = frozenset({"action", "to", "text", "clientMessageId"})


def _validate(body: dict[str, Any]) -> tuple[str, str, str]:
    reject_unknown_fields(body, FIELDS)
    if "action" in body and body["action"] != "sendMessage":
        raise BadRequest('action must be "sendMessage"', field="action")
    to, text, client_id = body.get("to"), body.get("text"), body.get("clientMessageId")
    if not isinstance(to, str) or not to:
        raise BadRequest("to must be the recipient's userId", field="to")
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT_CHARS:
        raise BadRequest(f"text must be 1-{MAX_TEXT_CHARS} characters", field="text")
    if not text.strip():
        raise BadRequest("text must not be blank", field="text")
    if _has_surrogates(text):
        raise BadRequest("text must be valid Unicode", field="text")
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_MESSAGE_ID:
        raise BadRequest(
            f"clientMessageId must be 1-{MAX_CLIENT_MESSAGE_ID} characters", field="clientMessageId"
        )
    if not client_id.isprintable() or _has_surrogates(client_id):
        raise BadRequest("clientMessageId must be printable", field="clientMessageId")
    return to, text, client_id


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _fingerprint(to: str, text: str) -> str:
    """What a retry must repeat exactly; a different payload under the same id is refused."""
    import hashlib  # here, not at the top: getMessages never needs OpenSSL (see functions.auth)

    return hashlib.sha256(json.dumps([to, text]).encode("utf-8")).hexdigest()


def _sender(event: Event) -> str:
    """The sending user: the authorizer's userId on HTTP, the socket's recorded owner on WS."""
    connection_id = request_context(event).get("connectionId")
    if isinstance(connection_id, str) and connection_id:
        record = deps.connection_records().get({"connectionId": connection_id}, consistent=True)
        owner = record.get("userId") if record else None
        if not isinstance(owner, str):
            raise Unauthorized("This connection is not signed in; reconnect with ?token=")
        return owner
    return caller_id(event)


def _is_websocket(event: Event) -> bool:
    return "connectionId" in request_context(event)


@instrumented("message_sent")
def send_message(event: Event, context: Any) -> dict[str, Any]:
    """POST /messages and WS ``sendMessage``: 201 with the message, or 200 for a retry."""
    sender = _sender(event)
    bind(user_id=sender)
    to, text, client_id = _validate(json_body(event))
    if not is_user_id(to):
        raise NotFound("No such recipient", field="to", code="RecipientNotFound")
    recipient = deps.users().get({"userId": to})
    if recipient is None or "username" not in recipient:
        raise NotFound("No such recipient", field="to", code="RecipientNotFound")

    now = deps.clock()()
    received_ms = received_at_ms(event) or int(now * 1000)
    now_ms = int(now * 1000)
    message_id = new_id()
    bind(messageId=message_id)
    conversation = conversation_id(sender, to)
    stamp = iso_timestamp(now)
    message: Item = {
        "conversationId": conversation,
        "sk": message_sk(now_ms, message_id),
        "messageId": message_id,
        "senderId": sender,
        "recipientId": to,
        "text": text,
        "clientMessageId": client_id,
        "createdAt": stamp,
    }
    notice_id = notification_id(now_ms, new_id())
    notification: Item = {
        "userId": to,
        "sk": notice_id,
        "notificationId": notice_id,
        "type": "message",
        "unreadUserId": to,
        "senderId": sender,
        "messageId": message_id,
        "conversationId": conversation,
        "preview": text[:PREVIEW_CHARS],
        "createdAt": stamp,
    }
    guard: Item = {
        **idempotency_key(sender, client_id),
        "messageConversationId": conversation,
        "messageSk": message["sk"],
        "fingerprint": _fingerprint(to, text),
        "createdAt": stamp,
    }
    names = deps.names()
    try:
        deps.database().transact_write(
            [
                WriteOp("put", names.messages, item=guard, condition=attribute_not_exists("sk")),
                WriteOp("put", names.messages, item=message),
                WriteOp("put", names.notifications, item=notification),
            ]
        )
    except TransactionCanceledError as exc:
        if failed_condition(exc, 0):
            return _replay(event, sender, to, text, client_id)
        raise
    metrics().add_metric("MessagesSent", "Count", 1)
    metrics().add_metric("NotificationsCreated", "Count", 1)
    deliver(to, message, received_ms)
    return _response(event, 201, message)


def _replay(event: Event, sender: str, to: str, text: str, client_id: str) -> dict[str, Any]:
    """Answer a retry with the message the first attempt stored, delivering nothing."""
    bind(action="message_replayed")
    guard = deps.messages().get(idempotency_key(sender, client_id), consistent=True)
    if guard is None:
        raise Conflict("Retry raced with another send; try again", field="clientMessageId")
    if guard.get("fingerprint") != _fingerprint(to, text):
        raise Conflict(
            "clientMessageId was already used for a different message",
            field="clientMessageId",
            code="IdempotencyConflict",
        )
    stored = deps.messages().get(
        {"conversationId": guard["messageConversationId"], "sk": guard["messageSk"]},
        consistent=True,
    )
    if stored is None:
        raise Conflict("The original message no longer exists", field="clientMessageId")
    bind(messageId=stored.get("messageId"))
    return _response(event, 200, stored)


def _response(event: Event, status: int, message: Item) -> dict[str, Any]:
    if _is_websocket(event):
        # The route response becomes a frame on the sender's socket.
        return json_response(status, {"type": "ack", "message": message_view(message)})
    return json_response(status, {"message": message_view(message)})


def deliver(recipient: str, message: Item, received_ms: int) -> tuple[int, int]:
    """Push ``message`` to every live socket of ``recipient``; return (delivered, failed)."""
    table = deps.connection_records()
    client = deps.connections()
    clock = deps.clock()
    frame = json.dumps(
        {"type": "message", "message": message_view(message)},
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    delivered = failed = 0
    start: dict[str, Any] | None = None
    while True:
        page = table.query(recipient, index="userId-index", start_key=start)
        for item in page.items:
            connection_id = str(item["connectionId"])
            try:
                client.post_to_connection(connection_id, frame)
            except GoneError:
                failed += 1
                # The socket died without a $disconnect. Forget the connection we failed to
                # reach; the sender's own connection has nothing to do with it.
                table.delete({"connectionId": connection_id})
                continue
            except (ConnectionsApiError, OSError):
                failed += 1
                continue
            delivered += 1
            latency_ms = max(0.0, clock() * 1000 - received_ms)
            metrics().add_metric("MessageLatency", "Milliseconds", round(latency_ms, 3))
        if page.last_key is None:
            break
        start = page.last_key
    # Emitted even when zero, so a failure rate has a denominator and alarms see data.
    metrics().add_metric("FailedDeliveries", "Count", failed)
    return delivered, failed

"""The shapes of Heron's items: ids, keys, timestamps, and the views of items clients may see.

Users items: ``{userId, username, displayName, email, createdAt, updatedAt, version, tokenHash}``
plus guard items keyed ``USERNAME#<name>`` and ``TOKEN#<sha256>``. Messages items live in
partition ``DM#<smaller id>#<larger id>`` with sort key ``<epoch ms, 13 digits>#<messageId>``;
idempotency guards in partition ``SENT#<sender>#<clientMessageId>``. Notifications are keyed by
the recipient's ``userId`` and ``sk`` = notificationId = ``<epoch ms, 13 digits>-<hex>``;
``unreadUserId`` is set only while unread (the sparse ``unread-index``).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from heron.errors import TransactionCanceledError
from heron.types import Item

_USER_ID = re.compile(r"^[0-9a-f]{32}$")
_NOTIFICATION_ID = re.compile(r"^[0-9]{13}-[0-9a-f]{32}$")

PUBLIC_USER_FIELDS = ("userId", "username", "displayName", "createdAt")
PRIVATE_USER_FIELDS = (*PUBLIC_USER_FIELDS, "email", "updatedAt", "version")
MESSAGE_FIELDS = (
    "messageId",
    "conversationId",
    "senderId",
    "recipientId",
    "text",
    "clientMessageId",
    "createdAt",
)
NOTIFICATION_FIELDS = (
    "notificationId",
    "type",
    "senderId",
    "messageId",
    "conversationId",
    "preview",
    "createdAt",
    "readAt",
)
#: Characters of a message copied into its notification.
PREVIEW_CHARS = 100


def new_id() -> str:
    """A new random id (32 lowercase hex characters)."""
    return uuid.uuid4().hex


def is_user_id(value: Any) -> bool:
    """Whether ``value`` has the shape of a userId (so it can never name a guard item)."""
    return isinstance(value, str) and _USER_ID.match(value) is not None


def is_notification_id(value: Any) -> bool:
    """Whether ``value`` has the shape of a notificationId."""
    return isinstance(value, str) and _NOTIFICATION_ID.match(value) is not None


def iso_timestamp(epoch_seconds: float) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, the format of every ``*At`` attribute."""
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def conversation_id(a: str, b: str) -> str:
    """The Messages partition of the direct conversation between ``a`` and ``b`` (order-free)."""
    low, high = sorted((a, b))
    return f"DM#{low}#{high}"


def message_sk(epoch_ms: int, message_id: str) -> str:
    """A message's sort key: time first, so a partition reads in send order."""
    return f"{epoch_ms:013d}#{message_id}"


def notification_id(epoch_ms: int, unique: str) -> str:
    """A notification's id (and sort key): time first, URL-safe."""
    return f"{epoch_ms:013d}-{unique}"


def idempotency_key(sender: str, client_message_id: str) -> dict[str, str]:
    """The Messages-table key of the guard recording ``(sender, clientMessageId)``."""
    return {"conversationId": f"SENT#{sender}#{client_message_id}", "sk": "-"}


def _pick(item: Item, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: item[name] for name in fields if name in item}


def public_profile(item: Item) -> dict[str, Any]:
    """What anyone signed in may see of a user."""
    return _pick(item, PUBLIC_USER_FIELDS)


def private_view(item: Item) -> dict[str, Any]:
    """What a user sees of their own record (everything but the token hash)."""
    return _pick(item, PRIVATE_USER_FIELDS)


def message_view(item: Item) -> dict[str, Any]:
    """A message as clients see it."""
    return _pick(item, MESSAGE_FIELDS)


def notification_view(item: Item) -> dict[str, Any]:
    """A notification as its recipient sees it, with ``read`` spelled out."""
    view = _pick(item, NOTIFICATION_FIELDS)
    view["read"] = "unreadUserId" not in item
    return view


def failed_condition(exc: TransactionCanceledError, index: int) -> bool:
    """Whether op ``index`` of a cancelled transaction failed its condition (not, say, a conflict)."""
    return len(exc.reasons) > index and exc.reasons[index] == "ConditionalCheckFailed"

"""listNotifications and markNotificationRead: the caller's notifications, newest first.

``GET /notifications?unread=true&limit=&cursor=`` reads the sparse ``unread-index`` (only unread
items carry ``unreadUserId``) or the whole partition; ``POST /notifications/{notificationId}/read``
removes ``unreadUserId``. Notifications are keyed by their owner, so another user's id is simply
not found.
"""

from __future__ import annotations

from typing import Any

from heron.errors import ConditionFailedError
from heron.functions import deps
from heron.functions.http import (
    BadRequest,
    NotFound,
    caller_id,
    json_response,
    path_param,
    query_param,
)
from heron.functions.instrument import bind, instrumented
from heron.functions.paging import decode_cursor, encode_cursor, parse_limit
from heron.functions.records import is_notification_id, iso_timestamp, notification_view
from heron.tables.base import attribute_exists
from heron.types import Event

UNREAD_INDEX = "unread-index"
_TABLE_KEYS = frozenset({"userId", "sk"})
_INDEX_KEYS = frozenset({"userId", "sk", "unreadUserId"})


def _unread_only(raw: str | None) -> bool:
    if raw is None or raw == "false":
        return False
    if raw == "true":
        return True
    raise BadRequest('unread must be "true" or "false"', field="unread")


@instrumented("notifications_listed")
def list_notifications(event: Event, context: Any) -> dict[str, Any]:
    """Return ``{"notifications": [...], "cursor": str | None}``."""
    caller = caller_id(event)
    unread = _unread_only(query_param(event, "unread"))
    limit = parse_limit(query_param(event, "limit"))
    raw_cursor = query_param(event, "cursor")
    table = deps.notifications()
    if unread:
        start = decode_cursor(raw_cursor, {"userId": caller, "unreadUserId": caller}, _INDEX_KEYS)
        page = table.query(caller, index=UNREAD_INDEX, forward=False, limit=limit, start_key=start)
    else:
        start = decode_cursor(raw_cursor, {"userId": caller}, _TABLE_KEYS)
        page = table.query(caller, forward=False, limit=limit, start_key=start)
    return json_response(
        200,
        {
            "notifications": [notification_view(item) for item in page.items],
            "cursor": encode_cursor(page.last_key),
        },
    )


@instrumented("notification_read")
def mark_notification_read(event: Event, context: Any) -> dict[str, Any]:
    """Mark one of your notifications read (idempotent); 404 for unknown or someone else's."""
    caller = caller_id(event)
    notice_id = path_param(event, "notificationId")
    if not is_notification_id(notice_id):
        raise NotFound("No such notification", field="notificationId")
    bind(notificationId=notice_id)
    table = deps.notifications()
    key = {"userId": caller, "sk": notice_id}
    item = table.get(key, consistent=True)
    if item is None:
        raise NotFound("No such notification", field="notificationId")
    if "unreadUserId" in item:
        try:
            item = table.update(
                key,
                {"readAt": iso_timestamp(deps.clock()())},
                remove=["unreadUserId"],
                condition=attribute_exists("userId"),
            )
        except ConditionFailedError:
            raise NotFound("No such notification", field="notificationId") from None
    return json_response(200, notification_view(item))

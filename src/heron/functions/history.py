"""getConversation: a page of the caller's direct conversation with another user, newest first.

``GET /conversations/{userId}/messages?limit=50&cursor=...``; the cursor is the opaque
``LastEvaluatedKey`` of the previous page and only works for the same conversation.
"""

from __future__ import annotations

from typing import Any

from heron.functions import deps
from heron.functions.http import NotFound, caller_id, json_response, path_param, query_param
from heron.functions.instrument import instrumented
from heron.functions.paging import decode_cursor, encode_cursor, parse_limit
from heron.functions.records import conversation_id, is_user_id, message_view
from heron.types import Event

_KEY_ATTRIBUTES = frozenset({"conversationId", "sk"})


@instrumented("conversation_read")
def get_conversation(event: Event, context: Any) -> dict[str, Any]:
    """Return ``{"messages": [...], "cursor": str | None}``."""
    caller = caller_id(event)
    other = path_param(event, "userId")
    if not is_user_id(other):
        raise NotFound("No such user", field="userId")
    limit = parse_limit(query_param(event, "limit"))
    conversation = conversation_id(caller, other)
    start = decode_cursor(
        query_param(event, "cursor"), {"conversationId": conversation}, _KEY_ATTRIBUTES
    )
    page = deps.messages().query(conversation, forward=False, limit=limit, start_key=start)
    return json_response(
        200,
        {
            "messages": [message_view(item) for item in page.items],
            "cursor": encode_cursor(page.last_key),
        },
    )

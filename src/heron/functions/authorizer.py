"""The HTTP API's Lambda authorizer (payload format 2.0, simple responses).

API Gateway calls it with the request's identity source (``$request.header.Authorization``) and
caches the answer; on ``isAuthorized`` it injects ``context`` into the route's event as
``requestContext.authorizer.lambda``, which is where handlers read ``userId``.
"""

from __future__ import annotations

from typing import Any

from heron.functions import deps
from heron.functions.auth import authenticate, bearer_token
from heron.functions.http import header
from heron.functions.instrument import bind, instrumented
from heron.types import Event


def presented_token(event: Event) -> str | None:
    """The bearer token from the Authorization header, else from the first identity source."""
    token = bearer_token(header(event, "authorization"))
    if token is None:
        sources = event.get("identitySource")
        if isinstance(sources, list) and sources and isinstance(sources[0], str):
            token = bearer_token(sources[0])
    return token


@instrumented("authorized")
def handler(event: Event, context: Any) -> dict[str, Any]:
    """Allow the request when it carries a live token; the context names the caller."""
    principal = authenticate(deps.users(), presented_token(event))
    if principal is None:
        return {"isAuthorized": False, "context": {}}
    bind(user_id=principal.user_id)
    return {
        "isAuthorized": True,
        "context": {"userId": principal.user_id, "username": principal.username},
    }

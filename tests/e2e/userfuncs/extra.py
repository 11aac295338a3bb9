"""Handlers a user declares in heron.toml, used by the end-to-end tests."""

import time
from typing import Any


def ping(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer with the request's path parameters and the remaining time."""
    return {"pong": True, "remaining": context.get_remaining_time_in_millis()}


def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Sleep longer than the function's timeout."""
    time.sleep(30)
    return {"statusCode": 200}

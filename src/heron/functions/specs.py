"""Heron's Lambda functions as declared: code, sizing and the routes each one serves.

``handler`` strings are ``"<module>.<attribute>"`` import paths (everything before the last dot is
the module, the last part the callable), e.g. ``"heron.functions.users.create_user"``; on AWS the
same string is the function's Handler setting.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from heron.errors import ConfigError
from heron.types import FunctionSpec

_PKG = "heron.functions"

DEFAULT_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="createUser",
        handler=f"{_PKG}.users.create_user",
        memory_mb=128,
        timeout_s=5.0,
        http_routes=("POST /users",),
        authorized=False,
    ),
    FunctionSpec(
        name="getUser",
        handler=f"{_PKG}.users.get_user",
        memory_mb=128,
        timeout_s=3.0,
        http_routes=("GET /users/{userId}",),
    ),
    FunctionSpec(
        name="updateUser",
        handler=f"{_PKG}.users.update_user",
        memory_mb=128,
        timeout_s=5.0,
        http_routes=("PUT /users/{userId}", "PATCH /users/{userId}"),
    ),
    FunctionSpec(
        name="deleteUser",
        handler=f"{_PKG}.users.delete_user",
        memory_mb=128,
        timeout_s=10.0,
        http_routes=("DELETE /users/{userId}",),
    ),
    FunctionSpec(
        name="sendMessage",
        handler=f"{_PKG}.messages.send_message",
        memory_mb=256,
        timeout_s=10.0,
        http_routes=("POST /messages",),
        ws_routes=("sendMessage",),
    ),
    FunctionSpec(
        name="getConversation",
        handler=f"{_PKG}.history.get_conversation",
        memory_mb=128,
        timeout_s=5.0,
        http_routes=("GET /conversations/{userId}/messages",),
    ),
    FunctionSpec(
        name="listNotifications",
        handler=f"{_PKG}.notifications.list_notifications",
        memory_mb=128,
        timeout_s=5.0,
        http_routes=("GET /notifications",),
    ),
    FunctionSpec(
        name="markNotificationRead",
        handler=f"{_PKG}.notifications.mark_notification_read",
        memory_mb=128,
        timeout_s=3.0,
        http_routes=("POST /notifications/{notificationId}/read",),
    ),
    FunctionSpec(
        name="connectionHandler",
        handler=f"{_PKG}.connection_handler.handler",
        memory_mb=128,
        timeout_s=5.0,
        ws_routes=("$connect", "$disconnect", "$default"),
        authorized=False,
    ),
    FunctionSpec(
        name="authorizer",
        handler=f"{_PKG}.authorizer.handler",
        memory_mb=128,
        timeout_s=3.0,
        authorized=False,
    ),
)


def load_handler(path: str) -> Callable[[dict[str, Any], Any], Any]:
    """Import the callable a ``"module.attr"`` handler string names; ConfigError if it cannot."""
    module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise ConfigError(f"handler {path!r} must look like 'package.module.function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"handler {path!r}: cannot import {module_name}: {exc}") from exc
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise ConfigError(f"handler {path!r}: {module_name} has no callable {attribute!r}")
    handler_fn: Callable[[dict[str, Any], Any], Any] = handler
    return handler_fn

"""DEFAULT_FUNCTIONS: every function is importable, sized sensibly, and routes are unique."""

from __future__ import annotations

import pytest

from heron.errors import ConfigError
from heron.functions.specs import DEFAULT_FUNCTIONS, load_handler

NAMES = [spec.name for spec in DEFAULT_FUNCTIONS]


def test_the_seed_functions_and_the_extra_ones_are_declared() -> None:
    assert NAMES == [
        "createUser",
        "getUser",
        "updateUser",
        "deleteUser",
        "sendMessage",
        "getConversation",
        "listNotifications",
        "markNotificationRead",
        "connectionHandler",
        "authorizer",
    ]


@pytest.mark.parametrize("spec", DEFAULT_FUNCTIONS, ids=NAMES)
def test_every_handler_string_imports_a_callable_with_sane_sizing(spec: object) -> None:
    from heron.types import FunctionSpec

    assert isinstance(spec, FunctionSpec)
    assert callable(load_handler(spec.handler))
    assert 128 <= spec.memory_mb <= 256
    assert 3 <= spec.timeout_s <= 10


def test_routes_are_unique_and_only_sign_up_and_websocket_skip_the_authorizer() -> None:
    http = [r for s in DEFAULT_FUNCTIONS for r in s.http_routes]
    ws = [r for s in DEFAULT_FUNCTIONS for r in s.ws_routes]
    assert len(http) == len(set(http)) and len(ws) == len(set(ws))
    open_http = {s.name for s in DEFAULT_FUNCTIONS if s.http_routes and not s.authorized}
    assert open_http == {"createUser"}
    by_name = {s.name: s for s in DEFAULT_FUNCTIONS}
    assert by_name["connectionHandler"].ws_routes == ("$connect", "$disconnect", "$default")
    assert by_name["sendMessage"].ws_routes == ("sendMessage",)
    assert by_name["authorizer"].http_routes == () and by_name["authorizer"].ws_routes == ()


@pytest.mark.parametrize(
    "path", ["nodots", "heron.functions.nope.handler", "heron.functions.users.nope", "."]
)
def test_a_bad_handler_string_is_a_config_error(path: str) -> None:
    with pytest.raises(ConfigError):
        load_handler(path)

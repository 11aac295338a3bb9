"""The harness can fail: crashes become 500s and errors, and a refusal that writes is caught."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fuzz_invoker import InProcessInvoker
from fuzz_plans import HttpPlan, check_http
from fuzz_strategies import Ref
from fuzz_world import FuzzWorld, world_fixture  # noqa: F401 (the world fixture)

from heron.errors import FunctionNotFoundError
from heron.functions import deps
from heron.types import Event, FunctionSpec


def explode(event: Event, context: Any) -> Any:
    raise ValueError("kaboom")


def unserialisable(event: Event, context: Any) -> Any:
    return {"statusCode": 200, "body": object()}


def dawdle(event: Event, context: Any) -> Any:
    time.sleep(0.3)
    return {"statusCode": 200}


def echo(event: Event, context: Any) -> Any:
    return {
        "event": event,
        "function": context.function_name,
        "left": context.get_remaining_time_in_millis(),
    }


def refuse_after_writing(event: Event, context: Any) -> Any:
    deps.users().put({"userId": "sneaky", "note": "written by a refusal"})
    return {"statusCode": 400, "body": '{"error": "BadRequest"}'}


def _invoker(handler: str, timeout_s: float = 3.0) -> InProcessInvoker:
    return InProcessInvoker([FunctionSpec("fn", f"{__name__}.{handler}", timeout_s=timeout_s)])


async def test_a_handler_exception_is_a_function_error_with_its_stack() -> None:
    result = await _invoker("explode").invoke("fn", {})
    assert result.error is not None
    assert (result.error.error_type, result.error.message) == ("ValueError", "kaboom")
    assert any("explode" in line for line in result.error.stack_trace)


async def test_an_unserialisable_result_is_a_marshal_error() -> None:
    result = await _invoker("unserialisable").invoke("fn", {})
    assert result.error is not None
    assert result.error.error_type == "Runtime.MarshalError"


async def test_the_function_timeout_applies() -> None:
    result = await _invoker("dawdle", timeout_s=0.05).invoke("fn", {})
    assert result.error is not None
    assert result.error.error_type == "Sandbox.Timedout"


async def test_the_event_and_context_look_like_the_runtimes() -> None:
    result = await _invoker("echo").invoke("fn", {"tuple": (1, 2), "n": 1})
    assert result.payload["event"] == {"tuple": [1, 2], "n": 1}  # crossed a JSON boundary
    assert result.payload["function"] == "fn"
    assert 0 < result.payload["left"] <= 3000


async def test_an_unknown_function_is_not_found() -> None:
    with pytest.raises(FunctionNotFoundError):
        await _invoker("echo").invoke("nope", {})


def _get_alice() -> HttpPlan:
    return HttpPlan(
        "GET", ("users", Ref("alice.id")), headers=[("authorization", Ref("alice.bearer"))]
    )


def test_a_crashing_handler_is_a_500_and_fails_the_check(
    world: FuzzWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check_http(world, _get_alice()).status_code == 200
    monkeypatch.setitem(world.invoker._handlers, "getUser", explode)
    with pytest.raises(AssertionError, match="kaboom"):
        check_http(world, _get_alice())
    response = world.client.get(
        f"/users/{world.users['alice'].user_id}",
        headers={"authorization": f"Bearer {world.users['alice'].token}"},
    )
    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}


def test_a_refusal_that_writes_fails_the_check(
    world: FuzzWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(world.invoker._handlers, "getUser", refuse_after_writing)
    with pytest.raises(AssertionError, match="changed the tables"):
        check_http(world, _get_alice())

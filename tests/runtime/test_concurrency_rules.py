"""Lambda's concurrency rules: declarations are validated, throttles carry AWS's reasons."""

from __future__ import annotations

import pytest

from heron.errors import ConfigError
from heron.runtime.concurrency import (
    ACCOUNT_LIMIT,
    RESERVED_LIMIT,
    throttle_reason,
    unreserved_in_flight,
    validate_functions,
)
from heron.types import FunctionSpec


def spec(name: str, **kwargs: object) -> FunctionSpec:
    return FunctionSpec(name=name, handler="m.h", **kwargs)  # type: ignore[arg-type]


def test_unreserved_pool_is_account_minus_reservations() -> None:
    limits = validate_functions([spec("a", reserved_concurrency=3), spec("b")], 10)
    assert limits.unreserved_pool == 7


def test_reserved_function_throttles_at_its_reservation_only() -> None:
    limits = validate_functions([spec("a", reserved_concurrency=2), spec("b")], 10)
    assert throttle_reason("a", {"a": 1, "b": 8}, limits) is None
    assert throttle_reason("a", {"a": 2, "b": 0}, limits) == RESERVED_LIMIT


def test_unreserved_functions_share_what_is_left() -> None:
    limits = validate_functions([spec("a", reserved_concurrency=2), spec("b"), spec("c")], 5)
    assert throttle_reason("b", {"a": 2, "b": 1, "c": 1}, limits) is None
    assert throttle_reason("c", {"a": 0, "b": 2, "c": 1}, limits) == ACCOUNT_LIMIT
    assert unreserved_in_flight({"a": 2, "b": 2, "c": 1}, limits) == 3


def test_zero_reservation_disables_the_function() -> None:
    limits = validate_functions([spec("off", reserved_concurrency=0)], 10)
    assert throttle_reason("off", {}, limits) == RESERVED_LIMIT


@pytest.mark.parametrize(
    ("functions", "account", "fragment"),
    [
        ([spec("a"), spec("a")], 10, "declared twice"),
        ([spec("a", reserved_concurrency=6), spec("b", reserved_concurrency=5)], 10, "adds up"),
        ([spec("a", memory_mb=0)], 10, "memory_mb"),
        ([spec("a", timeout_s=0)], 10, "timeout_s"),
        ([spec("a", reserved_concurrency=1, provisioned_concurrency=2)], 10, "exceeds"),
        ([spec("a", reserved_concurrency=-1)], 10, "negative"),
        ([spec("a", provisioned_concurrency=-1)], 10, "negative"),
        ([spec("a")], 0, "account_concurrency"),
    ],
)
def test_bad_declarations_are_refused_with_the_reason(
    functions: list[FunctionSpec], account: int, fragment: str
) -> None:
    with pytest.raises(ConfigError, match=fragment):
        validate_functions(functions, account)

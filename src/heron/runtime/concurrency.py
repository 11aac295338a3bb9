"""Lambda's concurrency rules as pure functions: validate the declared limits, decide throttles.

Concurrency is the number of in-flight invocations. A function with reserved concurrency may run
at most that many and takes them out of the account's pool; every other function shares what is
left (the *unreserved* pool, account limit minus the sum of reservations).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from heron.errors import ConfigError
from heron.types import FunctionSpec

#: Throttle reason when the shared (unreserved) pool is exhausted.
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"
#: Throttle reason when a function with reserved concurrency is at its reservation.
RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"


@dataclass(frozen=True, slots=True)
class ConcurrencyLimits:
    """The account limit and each function's reservation (functions without one are absent)."""

    account: int
    reserved: Mapping[str, int]

    @property
    def unreserved_pool(self) -> int:
        """Concurrency shared by functions without a reservation."""
        return self.account - sum(self.reserved.values())


def validate_functions(functions: Sequence[FunctionSpec], account: int) -> ConcurrencyLimits:
    """Check the declarations against Lambda's rules; the limits, or ConfigError naming the problem."""
    if account < 1:
        raise ConfigError(f"account_concurrency must be at least 1, got {account}")
    seen: set[str] = set()
    reserved: dict[str, int] = {}
    for spec in functions:
        where = f"function {spec.name!r}"
        if not spec.name:
            raise ConfigError("a function has an empty name")
        if spec.name in seen:
            raise ConfigError(f"{where} is declared twice")
        seen.add(spec.name)
        if spec.memory_mb < 1:
            raise ConfigError(f"{where}: memory_mb must be positive, got {spec.memory_mb}")
        if not spec.timeout_s > 0:
            raise ConfigError(f"{where}: timeout_s must be positive, got {spec.timeout_s}")
        if spec.provisioned_concurrency < 0:
            raise ConfigError(f"{where}: provisioned_concurrency must not be negative")
        if spec.reserved_concurrency is not None:
            if spec.reserved_concurrency < 0:
                raise ConfigError(f"{where}: reserved_concurrency must not be negative")
            if spec.provisioned_concurrency > spec.reserved_concurrency:
                raise ConfigError(
                    f"{where}: provisioned_concurrency ({spec.provisioned_concurrency}) exceeds "
                    f"reserved_concurrency ({spec.reserved_concurrency})"
                )
            reserved[spec.name] = spec.reserved_concurrency
    total = sum(reserved.values())
    if total > account:
        raise ConfigError(
            f"reserved concurrency adds up to {total}, more than account_concurrency {account}"
        )
    return ConcurrencyLimits(account=account, reserved=reserved)


def unreserved_in_flight(in_flight: Mapping[str, int], limits: ConcurrencyLimits) -> int:
    """In-flight invocations of functions without a reservation (AWS's UnreservedConcurrentExecutions)."""
    return sum(n for name, n in in_flight.items() if name not in limits.reserved)


def throttle_reason(
    function: str, in_flight: Mapping[str, int], limits: ConcurrencyLimits
) -> str | None:
    """Why one more invocation of ``function`` must be throttled now, or None if it may run."""
    reservation = limits.reserved.get(function)
    if reservation is not None:
        return RESERVED_LIMIT if in_flight.get(function, 0) >= reservation else None
    if unreserved_in_flight(in_flight, limits) >= limits.unreserved_pool:
        return ACCOUNT_LIMIT
    return None

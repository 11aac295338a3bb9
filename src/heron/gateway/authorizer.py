"""The HTTP API Lambda authorizer (payload 2.0, simple responses) with per-identity caching.

Identity source is ``$request.header.Authorization``. A request without it gets 401 and the
authorizer is not invoked; ``{"isAuthorized": false}`` gets 403; a failing or malformed authorizer
gets 500. Allow and deny results are cached per identity-source value for the configured TTL, as
API Gateway does, so a cached denial is also served without invoking the function.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from heron.errors import FunctionNotFoundError, TooManyRequestsError
from heron.runtime.invoker import Invoker
from heron.types import Clock, Event

IDENTITY_HEADER = "authorization"


class AuthVerdict(enum.Enum):
    """What the gateway does with the request after asking the authorizer."""

    ALLOW = "allow"
    DENY = "deny"  # 403 Forbidden
    UNAUTHORIZED = "unauthorized"  # 401, identity source missing
    ERROR = "error"  # 500, the authorizer failed or answered nonsense


@dataclass(frozen=True, slots=True)
class AuthOutcome:
    """The verdict, the context to inject on ALLOW, and why (for the access log on ERROR)."""

    verdict: AuthVerdict
    context: dict[str, Any] | None = None
    error: str | None = None
    cached: bool = False


def interpret_simple_response(payload: Any) -> AuthOutcome:
    """Read a simple-response authorizer result ``{"isAuthorized": bool, "context": {...}}``."""
    if not isinstance(payload, dict) or not isinstance(payload.get("isAuthorized"), bool):
        return AuthOutcome(AuthVerdict.ERROR, error="AuthorizerConfigurationException")
    context = payload.get("context")
    if context is not None and not isinstance(context, dict):
        return AuthOutcome(AuthVerdict.ERROR, error="AuthorizerConfigurationException")
    if payload["isAuthorized"]:
        return AuthOutcome(AuthVerdict.ALLOW, context=context or {})
    return AuthOutcome(AuthVerdict.DENY)


class AuthorizerCache:
    """Authorizer results by identity-source value, expiring after ``ttl_s``, at most ``size`` kept."""

    __slots__ = ("_entries", "size", "ttl_s")

    def __init__(self, ttl_s: float, size: int) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._entries: dict[str, tuple[float, AuthOutcome]] = {}

    def get(self, key: str, now: float) -> AuthOutcome | None:
        """The cached outcome for ``key`` if it has not expired by ``now``."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, outcome = entry
        if now >= expires_at:
            del self._entries[key]
            return None
        return outcome

    def put(self, key: str, outcome: AuthOutcome, now: float) -> None:
        """Remember an outcome; the oldest entry goes when the cache is full."""
        if self.ttl_s <= 0:
            return
        self._entries.pop(key, None)
        if len(self._entries) >= self.size:
            # dicts keep insertion order, so the first key is the oldest entry.
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (now + self.ttl_s, outcome)

    def __len__(self) -> int:
        return len(self._entries)


class Authorizer:
    """Calls the authorizer function for a request, through the cache."""

    def __init__(
        self,
        function_name: str,
        invoker: Invoker,
        cache: AuthorizerCache,
        timeout_s: float,
        clock: Clock,
    ) -> None:
        self.function_name = function_name
        self._invoker = invoker
        self._cache = cache
        self._timeout_s = timeout_s
        self._clock = clock

    async def authorize(
        self, identity: str | None, build_event: Callable[[list[str]], Event]
    ) -> AuthOutcome:
        """Decide for a request whose identity source is ``identity`` (None when missing)."""
        if not identity:
            return AuthOutcome(AuthVerdict.UNAUTHORIZED)
        now = self._clock()
        cached = self._cache.get(identity, now)
        if cached is not None:
            return AuthOutcome(cached.verdict, cached.context, cached.error, cached=True)
        try:
            async with asyncio.timeout(self._timeout_s):
                result = await self._invoker.invoke(self.function_name, build_event([identity]))
        except TimeoutError:
            return AuthOutcome(AuthVerdict.ERROR, error="Authorizer timed out")
        except (TooManyRequestsError, FunctionNotFoundError) as exc:
            return AuthOutcome(AuthVerdict.ERROR, error=str(exc))
        if result.error is not None:
            return AuthOutcome(
                AuthVerdict.ERROR,
                error=f"Authorizer error: {result.error.error_type}: {result.error.message}",
            )
        outcome = interpret_simple_response(result.payload)
        if outcome.verdict in (AuthVerdict.ALLOW, AuthVerdict.DENY):
            self._cache.put(identity, outcome, now)
        return outcome

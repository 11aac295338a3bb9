"""Dashboard sign-in: the server-side session table, credential checks and a failure throttle.

A session is a random 256-bit id (the cookie value) mapped to its CSRF token and two deadlines:
an idle timeout renewed on use and an absolute lifetime. Nothing about a session can be forged
from the cookie alone, and signing out deletes it server-side. Time is passed in.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

#: A session ends after this long without a request...
IDLE_TIMEOUT_S = 60 * 60.0
#: ...and in any case this long after sign-in.
MAX_LIFETIME_S = 12 * 60 * 60.0
#: Sign-in failures tolerated per window before further attempts are refused for a while.
MAX_FAILURES = 10
FAILURE_WINDOW_S = 60.0
#: Sessions kept at once; the oldest go first (a bound against memory growth).
MAX_SESSIONS = 1000


@dataclass(slots=True)
class Session:
    """One signed-in browser: its id (cookie), CSRF token and deadlines (epoch seconds)."""

    id: str
    csrf: str
    created: float
    expires: float

    def deadline(self) -> float:
        """When the session ends if unused: the idle deadline capped by the absolute lifetime."""
        return min(self.expires, self.created + MAX_LIFETIME_S)


class Lookup(StrEnum):
    """What a session cookie turned out to be."""

    VALID = "valid"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class SessionStore:
    """The server-side session table (in memory: signing in again after a restart is expected)."""

    def __init__(self, *, idle_timeout_s: float = IDLE_TIMEOUT_S) -> None:
        self._idle = idle_timeout_s
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, now: float) -> Session:
        """A new session starting at ``now``."""
        session = Session(
            secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now + self._idle
        )
        with self._lock:
            self._prune(now)
            while len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions.values(), key=lambda s: s.created)
                del self._sessions[oldest.id]
            self._sessions[session.id] = session
        return session

    def lookup(self, session_id: str | None, now: float) -> tuple[Lookup, Session | None]:
        """The session for a cookie value, renewing its idle deadline; expired ones are removed."""
        if not session_id:
            return Lookup.UNKNOWN, None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return Lookup.UNKNOWN, None
            if now >= session.deadline():
                del self._sessions[session_id]
                return Lookup.EXPIRED, None
            session.expires = now + self._idle
            return Lookup.VALID, session

    def delete(self, session_id: str) -> None:
        """End a session (sign out)."""
        with self._lock:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _prune(self, now: float) -> None:
        for sid in [sid for sid, s in self._sessions.items() if now >= s.deadline()]:
            del self._sessions[sid]


def credentials_match(
    username: str, password: str, *, access_key_id: str, secret_access_key: str
) -> bool:
    """Whether a sign-in names the instance's key pair (constant-time for both parts)."""
    user_ok = hmac.compare_digest(username.strip().encode(), access_key_id.encode())
    pass_ok = hmac.compare_digest(password.encode(), secret_access_key.encode())
    return user_ok and pass_ok


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens; a missing one never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


class FailureThrottle:
    """Refuses sign-in attempts after ``MAX_FAILURES`` failures within ``FAILURE_WINDOW_S``."""

    def __init__(self, *, limit: int = MAX_FAILURES, window_s: float = FAILURE_WINDOW_S) -> None:
        self._limit = limit
        self._window = window_s
        self._failures: deque[float] = deque()
        self._lock = threading.Lock()

    def blocked(self, now: float) -> float:
        """Seconds until attempts are accepted again (0 when they are now)."""
        with self._lock:
            self._forget(now)
            if len(self._failures) < self._limit:
                return 0.0
            return self._failures[0] + self._window - now

    def failed(self, now: float) -> None:
        """Record a failed attempt."""
        with self._lock:
            self._forget(now)
            self._failures.append(now)

    def _forget(self, now: float) -> None:
        while self._failures and self._failures[0] <= now - self._window:
            self._failures.popleft()

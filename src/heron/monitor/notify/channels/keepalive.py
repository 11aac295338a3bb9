"""A lean keep-alive HTTP/1.1 client for plain ``http://`` webhook endpoints.

httpx costs about 350 µs of CPU per POST against 80 µs for the standard library's
``http.client``; at a thousand notifications a second that difference is most of a core, so
webhook deliveries to ``http://`` endpoints (local receivers, sidecars) use this pool of
``http.client`` connections. ``https://`` endpoints and endpoints behind a proxy from the
environment keep using httpx (certificate store, proxy support); ``for_url`` decides.
"""

from __future__ import annotations

import http.client
import threading
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Idle connections kept per endpoint (a destination has at most ``IN_FLIGHT`` requests open).
MAX_IDLE = 16
#: Errors meaning a reused idle connection had been closed by the server before this request.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


@dataclass(frozen=True, slots=True)
class Reply:
    """The parts of an HTTP answer a sender looks at."""

    status: int
    text: str
    headers: dict[str, str]


class KeepAlive:
    """Thread-safe POSTs to one ``http://`` URL over a small pool of reused connections."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError("KeepAlive serves plain http:// URLs only")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def post(self, body: bytes, headers: dict[str, str], timeout: float) -> Reply:
        """POST ``body``; raises OSError or http.client.HTTPException when no answer came."""
        conn, reused = self._take(timeout)
        try:
            return self._exchange(conn, body, headers)
        except _STALE:
            conn.close()
            if not reused:
                raise
        except BaseException:
            conn.close()
            raise
        # The server closed an idle connection under us: the request never reached it.
        conn = self._connect(timeout)
        try:
            return self._exchange(conn, body, headers)
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        """Close the idle connections."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def _take(self, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            return self._connect(timeout), False
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn, True

    def _exchange(
        self, conn: http.client.HTTPConnection, body: bytes, headers: dict[str, str]
    ) -> Reply:
        conn.request("POST", self._target, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        reply = Reply(response.status, text, {k.lower(): v for k, v in response.getheaders()})
        if response.will_close:
            conn.close()
        else:
            with self._lock:
                if len(self._idle) < MAX_IDLE:
                    self._idle.append(conn)
                    return reply
            conn.close()
        return reply


def for_url(url: str) -> KeepAlive | None:
    """A KeepAlive for a plain ``http://`` URL reached without a proxy, else None (use httpx)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return None
    if "http" in urllib.request.getproxies() and not urllib.request.proxy_bypass(parts.hostname):
        return None
    return KeepAlive(url)


class Endpoints:
    """One KeepAlive per ``http://`` URL, made on first use and closed together."""

    def __init__(self) -> None:
        self._pools: dict[str, KeepAlive | None] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> KeepAlive | None:
        """The URL's KeepAlive, or None when httpx must serve it (``for_url``)."""
        with self._lock:
            if url not in self._pools:
                self._pools[url] = for_url(url)
            return self._pools[url]

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            if pool is not None:
                pool.close()

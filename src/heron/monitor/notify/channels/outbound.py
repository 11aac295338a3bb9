"""The HTTPS client Slack and webhook notices leave on, made when the first one is sent.

Importing httpx costs an idle ``heron up`` 6-7 MiB: httpx itself, and httpcore pulls in trio
whenever trio is installed (selenium, a test dependency, installs it). Most instances never
send to an https:// endpoint (http:// hooks use ``keepalive``), so they never pay it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


class OutboundHttp:
    """One shared ``httpx.Client``, created on first use from whichever sender thread needs it."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client
        self._owned = client is None
        self._creating = threading.Lock()
        self._closed = False

    @property
    def client(self) -> httpx.Client:
        """The client, created now if this is the first request."""
        client = self._client
        if client is not None and not self._closed:
            return client
        with self._creating:
            if self._closed:
                raise RuntimeError("the outbound HTTP client is closed")
            if self._client is None:
                import httpx

                self._client = httpx.Client()
            return self._client

    def close(self) -> None:
        """Close the client if this object created it; later requests raise RuntimeError."""
        with self._creating:
            self._closed = True
            if self._owned and self._client is not None:
                self._client.close()

"""A stand-in @connections management API on a real socket, for client and end-to-end tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KEY = "local-management-key"


class ManagementApi(BaseHTTPRequestHandler):
    """A stand-in @connections API: 'gone-*' ids are 410, 'busy' is 429, the rest succeed."""

    protocol_version = "HTTP/1.1"  # keep-alive
    seen: list[tuple[str, str, str | None, bytes, int]] = []

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        data = self.rfile.read(length) if length else b""
        port = self.client_address[1]
        self.seen.append(
            (self.command, self.path, self.headers.get("x-heron-management-key"), data, port)
        )
        if self.headers.get("x-heron-management-key") != KEY:
            status, body = 403, b'{"message":"Forbidden"}'
        elif "gone" in self.path:
            status, body = 410, b'{"message":"GoneException"}'
        elif "busy" in self.path:
            status, body = 429, b'{"message":"LimitExceededException"}'
        elif self.command == "GET":
            status, body = 200, json.dumps({"ConnectedAt": "2026-11-05T10:15:02Z"}).encode()
        elif self.command == "DELETE":
            status, body = 204, b""
        else:
            status, body = 200, b""
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _handle

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def running_api() -> Iterator[str]:
    """Serve ``ManagementApi`` on a free port; yields its base URL."""
    ManagementApi.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ManagementApi)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()

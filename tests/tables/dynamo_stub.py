"""A scripted DynamoDB endpoint on a real socket, for what moto cannot do: throttle, bill.

Each request pops the next scripted answer, ``(status, body)``; the target operation of every
request is recorded, so a test sees how many attempts the SDK made.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class DynamoStub:
    """The script, and what was asked of it."""

    def __init__(self) -> None:
        self.answers: deque[tuple[int, dict[str, Any]]] = deque()
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.endpoint = ""

    def answer(self, status: int, body: dict[str, Any], times: int = 1) -> None:
        """Queue an answer ``times`` times."""
        self.answers.extend([(status, body)] * times)

    def error(self, code: str, message: str = "stubbed", times: int = 1, **extra: Any) -> None:
        """Queue an AWS JSON error answer."""
        self.answer(400, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}",
                          "message": message, **extra}, times)  # fmt: skip

    @property
    def operations(self) -> list[str]:
        """The operations requested, in order."""
        return [op for op, _ in self.requests]


@contextmanager
def dynamo_stub() -> Iterator[DynamoStub]:
    """Serve a DynamoStub on 127.0.0.1 and a free port for the block."""
    stub = DynamoStub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            target = self.headers.get("x-amz-target", "").rsplit(".", 1)[-1]
            stub.requests.append((target, body))
            status, answer = stub.answers.popleft() if stub.answers else (200, {})
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/x-amz-json-1.0")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read ``stub.requests`` instead."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    stub.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

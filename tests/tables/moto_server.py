"""A real DynamoDB endpoint for the tables tests: moto's server on a free port, in a child process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

from heron.tables.base import TableSchema
from heron.tables.dynamodb_admin import ensure_tables
from heron.tables.dynamodb_client import DynamoConfig, make_client

#: Key attributes of the test schemas that are numbers (Heron's own are in DEFAULT_KEY_TYPES).
TEST_KEY_TYPES = {"score": "N"}


class MotoServer:
    """``moto_server`` in a child process: its own state, whatever else this process mocks."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.05)

    @property
    def endpoint(self) -> str:
        """The server's endpoint URL."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the server process."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client_for(endpoint: str, **config: Any) -> Any:
    """A botocore DynamoDB client for ``endpoint`` with test credentials."""
    return make_client(
        DynamoConfig(
            endpoint=endpoint, access_key_id="testing", secret_access_key="testing", **config
        )
    )


def create(client: Any, schemas: Sequence[TableSchema], endpoint: str) -> None:
    """Create the tables (idempotent)."""
    ensure_tables(client, schemas, key_types=TEST_KEY_TYPES, endpoint=endpoint)


def truncate(client: Any, schemas: Sequence[TableSchema]) -> None:
    """Delete every item of every table, so each test starts empty without recreating tables."""
    for schema in schemas:
        names = [n for n in (schema.partition_key, schema.sort_key) if n]
        request: dict[str, Any] = {
            "TableName": schema.name,
            "ProjectionExpression": ", ".join(f"#k{i}" for i in range(len(names))),
            "ExpressionAttributeNames": {f"#k{i}": n for i, n in enumerate(names)},
        }
        keys: list[dict[str, Any]] = []
        while True:
            page = client.scan(**request)
            keys += page.get("Items", [])
            if not page.get("LastEvaluatedKey"):
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        for start in range(0, len(keys), 25):
            batch = [{"DeleteRequest": {"Key": k}} for k in keys[start : start + 25]]
            client.batch_write_item(RequestItems={schema.name: batch})


def moto_session() -> Iterator[str]:
    """Generator behind the session fixture: yields the endpoint of a running server."""
    server = MotoServer()
    try:
        yield server.endpoint
    finally:
        server.stop()

"""The whole stack in one process: the real gateway app over the real handlers and a SQLite file.

``FuzzWorld`` owns a ``TestClient`` (entered once, so every request and socket shares one event
loop and the handlers' worker threads keep their SQLite connections), a
``fuzz_invoker.InProcessInvoker`` running the real handlers, and a @connections client that calls
the gateway's own management API, so deliveries reach the sockets the fuzz opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest
from fuzz_invoker import InProcessInvoker
from starlette.exceptions import StarletteDeprecationWarning
from starlette.websockets import WebSocketDisconnect

from heron.errors import GoneError
from heron.functions import deps
from heron.functions.connections_client import MANAGEMENT_KEY_HEADER, ConnectionsApiError
from heron.functions.specs import DEFAULT_FUNCTIONS
from heron.gateway.app import Gateway, create_app
from heron.gateway.config import GatewayConfig
from heron.tables import open_database, schemas_from_env
from heron.tables.base import Database
from heron.tables.metrics import Recorder
from heron.types import LogEvent, MetricDatum, Sample

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its TestClient but works with httpx, which is
    # what the project installs; the import-time deprecation notice is not ours to fix.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient, WebSocketDenialResponse, WebSocketTestSession

__all__ = [
    "FuzzWorld",
    "TestClient",
    "WebSocketDenialResponse",
    "WebSocketDisconnect",
]

MANAGEMENT_KEY = "fuzz-management-key"
Snapshot = dict[str, list[bytes]]


class GatewayConnections:
    """A ``ConnectionsClient`` that calls the gateway's own @connections API in-process.

    Handlers run in worker threads; each call is scheduled on the gateway's event loop (the one
    the invoker last ran on) and waited for, like the real client's blocking HTTP request.
    """

    def __init__(self, app: Any, management_key: str, stage: str) -> None:
        self.app = app
        self.key = management_key
        self.stage = stage
        self.loop: asyncio.AbstractEventLoop | None = None

    def _call(self, method: str, connection_id: str, data: bytes = b"") -> httpx.Response:
        if self.loop is None:
            raise RuntimeError("no invocation has run yet")
        coro = self._request(method, connection_id, data)
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    async def _request(self, method: str, connection_id: str, data: bytes) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            return await client.request(
                method,
                f"/{self.stage}/@connections/{connection_id}",
                content=data,
                headers={MANAGEMENT_KEY_HEADER: self.key},
            )

    def _check(self, connection_id: str, response: httpx.Response) -> None:
        if response.status_code == 410:
            raise GoneError(connection_id)
        if response.status_code >= 300:
            code = response.headers.get("x-amzn-errortype", "Error")
            raise ConnectionsApiError(connection_id, response.status_code, code, response.text)

    def post_to_connection(self, connection_id: str, data: bytes) -> None:
        """Send ``data`` to the socket through the gateway."""
        self._check(connection_id, self._call("POST", connection_id, data))

    def get_connection(self, connection_id: str) -> dict[str, Any]:
        """Describe the socket."""
        response = self._call("GET", connection_id)
        self._check(connection_id, response)
        info: dict[str, Any] = response.json()
        return info

    def delete_connection(self, connection_id: str) -> None:
        """Close the socket."""
        self._check(connection_id, self._call("DELETE", connection_id))


class CountingSink:
    """A TelemetrySink that only counts (the fuzz is about responses and tables, not telemetry)."""

    def __init__(self) -> None:
        self.log_events = 0
        self.datums = 0
        self.samples = 0

    def put_log_events(self, events: Sequence[LogEvent]) -> None:
        self.log_events += len(events)

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        self.datums += len(datums)

    def put_samples(self, samples: Sequence[Sample]) -> None:
        self.samples += len(samples)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class User:
    """A signed-up user the fuzz can act as."""

    user_id: str
    username: str
    token: str


class FuzzWorld:
    """The assembled stack plus helpers: sign-up, table snapshots, waiting for quiet."""

    def __init__(
        self,
        client: TestClient,
        gateway: Gateway,
        invoker: InProcessInvoker,
        database: Database,
        table_names: tuple[str, ...],
    ) -> None:
        self.client = client
        self.gateway = gateway
        self.invoker = invoker
        self.database = database
        self.table_names = table_names
        self.users: dict[str, User] = {}

    def __repr__(self) -> str:
        # Short, so Hypothesis's falsifying-example report stays readable.
        return f"FuzzWorld(users={sorted(self.users)})"

    def signup(self, label: str) -> User:
        """Sign up a fresh user through ``POST /users`` and remember it as ``label``."""
        username = f"{label}-{uuid.uuid4().hex[:12]}"
        response = self.client.post(
            "/users",
            json={"username": username, "displayName": label, "email": f"{label}@example.com"},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        user = User(body["user"]["userId"], username, body["token"])
        self.users[label] = user
        return user

    def send(self, sender: str, recipient: str, text: str) -> None:
        """``sender`` messages ``recipient`` over HTTP (so both have a conversation to read)."""
        response = self.client.post(
            "/messages",
            headers={"authorization": f"Bearer {self.users[sender].token}"},
            json={"to": self.users[recipient].user_id, "text": text, "clientMessageId": text},
        )
        assert response.status_code == 201, response.text

    def ensure_users(self) -> None:
        """Make sure alice and bob exist and have written to each other.

        A fuzzed DELETE may remove either; the next example then gets a fresh pair of them.
        """
        users = self.database.table(self.table_names[0])
        recreated = False
        for label in ("alice", "bob"):
            known = self.users.get(label)
            if known is None or users.get({"userId": known.user_id}) is None:
                self.signup(label)
                recreated = True
        if recreated:
            self.send("alice", "bob", f"hello bob {uuid.uuid4().hex[:8]}")
            self.send("bob", "alice", f"hello alice {uuid.uuid4().hex[:8]}")

    def snapshot(self) -> Snapshot:
        """Every item of every table, each as canonical JSON, sorted (equal iff tables equal)."""
        result: Snapshot = {}
        for name in self.table_names:
            table = self.database.table(name)
            page = table.scan()
            items = list(page.items)
            while page.last_key is not None:
                page = table.scan(start_key=page.last_key)
                items.extend(page.items)
            result[name] = sorted(orjson.dumps(i, option=orjson.OPT_SORT_KEYS) for i in items)
        return result

    def settle(self, timeout_s: float = 10.0) -> None:
        """Wait until no invocation is running (replies can leave before their task ends)."""
        deadline = time.monotonic() + timeout_s
        while self.invoker.in_flight:
            assert time.monotonic() < deadline, "invocations still running"
            time.sleep(0.002)

    def wait_for(self, check: Callable[[], bool], timeout_s: float = 10.0) -> None:
        """Poll ``check`` until it holds."""
        deadline = time.monotonic() + timeout_s
        while not check():
            assert time.monotonic() < deadline, "condition never held"
            time.sleep(0.002)

    def disconnected(self, connection_id: str) -> bool:
        """Whether the ``$disconnect`` of ``connection_id`` has finished."""
        return any(
            call.event.get("requestContext", {}).get("routeKey") == "$disconnect"
            and call.event["requestContext"].get("connectionId") == connection_id
            for call in self.invoker.history
        )

    def last_connection_id(self) -> str:
        """The connection id of the most recent accepted ``$connect``."""
        for call in reversed(self.invoker.history):
            context = call.event.get("requestContext", {})
            payload = call.result.payload
            if (
                context.get("routeKey") == "$connect"
                and isinstance(payload, dict)
                and payload.get("statusCode") == 200
            ):
                return str(context["connectionId"])
        raise AssertionError("no accepted $connect")


def receive(session: WebSocketTestSession, timeout_s: float = 5.0) -> dict[str, Any]:
    """The next ASGI message the app sent on ``session``, failing after ``timeout_s``.

    ``WebSocketTestSession.receive`` waits forever; a missing reply must fail the test instead.
    """

    async def next_message() -> dict[str, Any]:
        with anyio.fail_after(timeout_s):
            message: dict[str, Any] = await session._send_rx.receive()
            return message

    result: dict[str, Any] = session.portal.call(next_message)
    return result


def describe_difference(before: Snapshot, after: Snapshot) -> dict[str, Any]:
    """What changed between two snapshots, per table (for assertion messages)."""
    diff: dict[str, Any] = {}
    for name in before:
        gone = sorted(set(before[name]) - set(after[name]))
        new = sorted(set(after[name]) - set(before[name]))
        if gone or new:
            diff[name] = {"removed": gone[:3], "added": new[:3]}
    return diff


@contextlib.contextmanager
def build_world(data_dir: Path) -> Iterator[FuzzWorld]:
    """Assemble the stack over a SQLite file in ``data_dir``; yields once, tears down after."""
    schemas = schemas_from_env()
    database = open_database("sqlite", data_dir, schemas, recorder=Recorder())
    names = deps.TableNames.from_env()
    config = GatewayConfig(
        management_key=MANAGEMENT_KEY,
        # The fuzz sends far more than 1000 requests a second; throttling would hide the routes.
        throttle_rate=1e9,
        throttle_burst=10**9,
        ws_new_connections_per_s=1e9,
    )
    connections: GatewayConnections | None = None

    def remember_loop(loop: asyncio.AbstractEventLoop) -> None:
        assert connections is not None
        connections.loop = loop

    invoker = InProcessInvoker(
        DEFAULT_FUNCTIONS,
        region=config.region,
        account_id=config.account_id,
        on_invoke=remember_loop,
    )
    app = create_app(DEFAULT_FUNCTIONS, invoker, CountingSink(), config)
    connections = GatewayConnections(app, config.management_key, config.ws_stage)
    deps.use(database=database, connections=connections, names=names)
    try:
        with TestClient(app) as client:
            yield FuzzWorld(
                client=client,
                gateway=app.state.gateway,
                invoker=invoker,
                database=database,
                table_names=(names.users, names.messages, names.notifications, names.connections),
            )
    finally:
        deps.reset()
        database.close()


@pytest.fixture(scope="module", name="world")
def world_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzWorld]:
    """One assembled stack per test module, with alice and bob signed up and acquainted.

    Shared per module: rebuilding the app and the SQLite file per example would cost more than
    the examples; each example instead compares table snapshots around what it sends. (Test
    modules import this fixture: a conftest.py here would shadow ``tests/gateway``'s, which its
    modules import as ``conftest``.)
    """
    with build_world(tmp_path_factory.mktemp("fuzz-data")) as built:
        built.ensure_users()
        yield built

"""Turning drawn plans into wire requests, and the checks every fuzzed exchange must pass.

A plan is what a strategy drew (placeholders included); ``Resolver`` fills in live values from
the world, and ``check_http`` / ``assert_unchanged`` state the fuzz's promises: no 5xx, no
traceback, no function error, and a refused request leaves every table as it was.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from fuzz_strategies import Cursor, JsonBody, Ref
from fuzz_world import FuzzWorld, Snapshot, describe_difference

from heron.functions.records import new_id, notification_id

#: Characters left as they are in a path segment: ``/`` splits it, ``%`` makes odd escapes.
PATH_SAFE = "%/:@!$&'()*+,;=~"


@dataclass(frozen=True)
class HttpPlan:
    """One HTTP request as drawn: method, path segments, query, headers and body."""

    method: str
    segments: tuple[Any, ...]
    query: Any = None
    headers: list[tuple[str, Any]] = field(default_factory=list)
    body: Any = None


class Resolver:
    """Replaces ``Ref``/``Cursor``/``JsonBody`` placeholders with values from the live world."""

    def __init__(self, world: FuzzWorld) -> None:
        self.world = world

    def ref(self, ref: Ref) -> Any:
        label, _, what = ref.name.partition(".")
        user = self.world.users[label]
        if what == "id":
            return user.user_id
        if what == "token":
            return user.token
        if what == "bearer":
            return f"Bearer {user.token}"
        if what == "version":
            item = self.world.database.table(self.world.table_names[0]).get(
                {"userId": user.user_id}
            )
            return int(item["version"]) if item else 1
        if what == "notification":
            table = self.world.database.table(self.world.table_names[2])
            page = table.query(user.user_id, forward=False, limit=1)
            if page.items:
                return str(page.items[0]["sk"])
            return notification_id(1_700_000_000_000, new_id())
        raise AssertionError(f"unknown placeholder {ref.name}")

    def value(self, value: Any) -> Any:
        """``value`` with every placeholder inside it resolved (JSON bodies stay objects)."""
        if isinstance(value, Ref):
            return self.ref(value)
        if isinstance(value, Cursor):
            return self.cursor(value)
        if isinstance(value, JsonBody):
            return JsonBody(self.value(value.value), value.ascii)
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def cursor(self, cursor: Cursor) -> str:
        text = cursor.value if cursor.raw else json.dumps(self.value(cursor.value))
        encoded = base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).decode()
        return encoded if cursor.padded else encoded.rstrip("=")

    def body(self, body: Any) -> bytes | None:
        """The bytes on the wire for a drawn body."""
        body = self.value(body)
        if body is None or isinstance(body, bytes):
            return body
        if isinstance(body, JsonBody):
            text = json.dumps(body.value, ensure_ascii=body.ascii)
            return text.encode("utf-8", "surrogatepass")
        raise AssertionError(f"unknown body {body!r}")

    def header_value(self, value: Any) -> bytes:
        value = self.value(value)
        if isinstance(value, int):
            value = f'"{value}"'  # a resolved version, as an If-Match entity tag
        return str(value).encode("latin-1")

    def headers(self, headers: list[tuple[str, Any]]) -> list[tuple[bytes, bytes]]:
        return [(name.encode("latin-1"), self.header_value(value)) for name, value in headers]

    def path(self, segments: tuple[Any, ...]) -> str:
        return "/" + "/".join(quote(str(self.value(s)), safe=PATH_SAFE) for s in segments)

    def query(self, query: Any) -> str:
        if query is None:
            return ""
        if isinstance(query, str):
            return "?" + query if query else ""
        pairs = [(str(k), str(v)) for k, v in self.value(query)]
        encoded = urlencode(pairs, encoding="utf-8", errors="surrogatepass")
        return "?" + encoded if encoded else ""


def send_http(world: FuzzWorld, plan: HttpPlan) -> httpx.Response:
    """Resolve ``plan`` and send it through the app."""
    resolver = Resolver(world)
    url = "http://testserver" + resolver.path(plan.segments) + resolver.query(plan.query)
    return world.client.request(
        plan.method, url, headers=resolver.headers(plan.headers), content=resolver.body(plan.body)
    )


def assert_unchanged(world: FuzzWorld, before: Snapshot, what: str) -> None:
    """Every item of every table is as it was in ``before``."""
    after = world.snapshot()
    assert after == before, f"{what} changed the tables: {describe_difference(before, after)}"


def assert_no_function_errors(world: FuzzWorld) -> None:
    """No handler raised (an unhandled exception is a 500 on HTTP, an error frame on WS)."""
    errors = world.invoker.errors
    assert not errors, [
        (e.function, e.result.error.error_type, e.result.error.message, e.result.error.stack_trace)
        for e in errors
        if e.result.error is not None
    ]


def check_http(world: FuzzWorld, plan: HttpPlan) -> httpx.Response:
    """Send ``plan`` and hold the response to the fuzz's promises; return it."""
    world.ensure_users()
    world.invoker.history.clear()
    before = world.snapshot()
    response = send_http(world, plan)
    world.settle()
    where = f"{plan.method} {Resolver(world).path(plan.segments)}"
    # Function errors first: they carry the stack trace that explains a 500.
    assert_no_function_errors(world)
    assert response.status_code < 500, (where, response.status_code, response.text)
    assert b"Traceback" not in response.content, (where, response.text)
    if response.status_code >= 400:
        assert_unchanged(world, before, f"refused {where} ({response.status_code})")
    return response

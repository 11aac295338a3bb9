"""Handlers with dependencies built from the process contract: a real SQLite file, real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from function_events import FakeConnections, body_of, http_event
from functions_harness import Heron
from stub_management_api import KEY, ManagementApi, running_api

from heron.functions import deps, history, messages
from heron.functions.connections_client import HttpConnectionsClient
from heron.tables import reset_database_cache


@pytest.fixture
def from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with running_api() as url:
        monkeypatch.setenv("HERON_TABLES_BACKEND", "sqlite")
        monkeypatch.setenv("HERON_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("HERON_CONNECTIONS_ENDPOINT", url)
        monkeypatch.setenv("HERON_MANAGEMENT_KEY", KEY)
        deps.reset()  # forget what the autouse fixture injected: build everything from env
        try:
            yield url
        finally:
            connections = deps._STATE.connections
            if isinstance(connections, HttpConnectionsClient):
                connections.close()
            deps.reset()
            reset_database_cache()


def test_a_conversation_lands_in_the_sqlite_file_and_is_pushed_over_http(
    from_env: str, tmp_path: Path
) -> None:
    heron = Heron(deps.database(), FakeConnections(), time.time)  # type: ignore[arg-type]
    alice, bob = heron.signup("alice"), heron.signup("bob")
    heron.connect(bob, "bob-socket=")
    event = http_event(
        "POST",
        "POST /messages",
        "/messages",
        user=alice.user_id,
        body={"to": bob.user_id, "text": "over sqlite", "clientMessageId": "c1"},
        time_ms=int(time.time() * 1000),
    )
    assert heron.call(messages.send_message, event)["statusCode"] == 201

    assert (tmp_path / "tables.db").exists()
    posts = [s for s in ManagementApi.seen if s[0] == "POST"]
    assert [p[1] for p in posts] == ["/@connections/bob-socket%3D"]
    assert json.loads(posts[0][3])["message"]["text"] == "over sqlite"

    page = body_of(
        heron.call(
            history.get_conversation,
            http_event(
                "GET",
                "GET /conversations/{userId}/messages",
                f"/conversations/{alice.user_id}/messages",
                user=bob.user_id,
            ),
        )
    )
    assert [m["text"] for m in page["messages"]] == ["over sqlite"]

"""Generated ``$connect`` attempts and frames: no crash, proper closes, refusals change nothing.

Every example ends by closing its socket and waiting for ``$disconnect`` to finish, so no
invocation from one example can touch the tables while the next compares its snapshots.
"""

from __future__ import annotations

import contextlib
import string
from dataclasses import dataclass, field
from typing import Any

import orjson
from fuzz_plans import Resolver, assert_no_function_errors, assert_unchanged
from fuzz_strategies import (
    FIELDS,
    JsonBody,
    bearers,
    deep_json,
    header_names,
    header_texts,
    huge_text,
    json_values,
    queries,
    tokens,
    user_ids,
    weighted,
    weird_text,
)
from fuzz_world import (
    FuzzWorld,
    WebSocketDenialResponse,
    WebSocketDisconnect,
    describe_difference,
    receive,
    world_fixture,  # noqa: F401 (the world fixture)
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heron.gateway.connections import MESSAGE_TOO_BIG

FUZZ = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
FRAME_LIMIT = 32 * 1024
#: Close codes a refused or closed socket may end with (RFC 6455 §7.4.1, and 1008 for a denial).
PROPER_CLOSE_CODES = {1000, 1001, 1008, 1009, 1011}


@dataclass(frozen=True)
class ConnectPlan:
    """One upgrade attempt: path, query, headers and subprotocols."""

    path: str
    query: Any
    headers: list[tuple[str, Any]] = field(default_factory=list)
    subprotocols: list[str] | None = None


connect_headers = st.lists(
    st.one_of(
        st.tuples(header_names, header_texts),
        st.tuples(st.just("authorization"), st.one_of(bearers, header_texts)),
    ),
    max_size=4,
)
connect_queries = weighted(
    (3, st.builds(lambda token: [("token", token)], tokens)),
    (3, queries),
    (1, st.builds(lambda t, junk: [("token", t), ("token", junk)], tokens, weird_text)),
)
connect_plans = st.builds(
    ConnectPlan,
    weighted((6, st.just("/ws")), (1, st.sampled_from(["/ws/", "/WS", "/local", "/users", "/"]))),
    connect_queries,
    connect_headers,
    st.one_of(st.none(), st.lists(st.text(alphabet=string.ascii_letters, min_size=1), max_size=2)),
)


def _open_and_check(world: FuzzWorld, plan: ConnectPlan) -> None:
    """Attempt the upgrade; hold whatever happens to the fuzz's promises."""
    resolver = Resolver(world)
    url = plan.path + resolver.query(plan.query)
    headers = dict(resolver.headers(plan.headers))
    before = world.snapshot()
    try:
        with world.client.websocket_connect(
            url, headers=headers, subprotocols=plan.subprotocols
        ) as ws:
            connection_id = world.last_connection_id()
            assert world.database.table(world.table_names[3]).get(
                {"connectionId": connection_id}
            ), "an accepted socket has a Connections record"
            # Usable: a frame gets its answer.
            ws.send_text('{"action": "nope"}')
            reply = orjson.loads(receive(ws)["text"])
            assert reply["error"] == "UnknownAction", reply
            ws.close(1000)
            world.wait_for(lambda: world.disconnected(connection_id))
    except WebSocketDenialResponse as denial:
        assert 400 <= denial.status_code < 500, (url, denial.status_code, denial.text)
        assert b"Traceback" not in denial.content
    except WebSocketDisconnect as closed:
        assert closed.code in PROPER_CLOSE_CODES, (url, closed.code)
    world.settle()
    assert_no_function_errors(world)
    # Refused: nothing written. Accepted: its record is gone again after $disconnect.
    assert_unchanged(world, before, f"$connect {url}")


@settings(FUZZ, max_examples=300)
@given(plan=connect_plans)
def test_generated_connects_never_crash_and_refusals_change_nothing(
    world: FuzzWorld, plan: ConnectPlan
) -> None:
    world.ensure_users()
    world.invoker.history.clear()
    _open_and_check(world, plan)


message_fields = ("action", "to", "text", "clientMessageId")
send_messages = st.fixed_dictionaries(
    {"action": st.just("sendMessage")},
    optional={name: FIELDS[name] for name in message_fields[1:]},
)
complete_sends = st.fixed_dictionaries(
    {
        "action": st.just("sendMessage"),
        "to": weighted((3, user_ids), (1, FIELDS["to"])),
        "text": FIELDS["text"],
        "clientMessageId": FIELDS["clientMessageId"],
    }
)
text_frames = weighted(
    (4, st.builds(JsonBody, complete_sends, st.just(True))),
    (2, st.builds(JsonBody, send_messages, st.just(True))),
    (1, st.builds(JsonBody, json_values, st.just(True))),
    (1, st.builds(JsonBody, st.dictionaries(st.text(max_size=8), json_values), st.just(True))),
    (1, st.text(alphabet=st.characters(codec="utf-8"), max_size=80)),
    (1, deep_json),
    (1, deep_json.map(lambda text: '{"action": "sendMessage", "to": ' + text)),
    (1, huge_text),
)
frames = weighted(
    (4, text_frames),
    (1, st.binary(max_size=200)),
    # A well-formed sendMessage, but in a binary frame (which routes to $default).
    (
        1,
        st.builds(
            lambda body: ("binary", body), st.builds(JsonBody, complete_sends, st.booleans())
        ),
    ),
)


def _wire(resolver: Resolver, frame: Any) -> str | bytes:
    """A drawn frame as sent: JSON bodies are ASCII-escaped so they are valid text frames."""
    if isinstance(frame, tuple):
        _, json_body = frame
        data = resolver.body(json_body)
        assert data is not None
        return data
    if isinstance(frame, JsonBody):
        data = resolver.body(frame)
        assert data is not None
        return data.decode("ascii")
    return frame if isinstance(frame, bytes) else str(resolver.value(frame))


def _answer(ws: Any) -> dict[str, Any]:
    """The reply to the frame just sent, skipping messages delivered to this socket meanwhile."""
    while True:
        message = receive(ws)
        if message["type"] == "websocket.close":
            return message
        assert message["type"] == "websocket.send", message
        text = message.get("text")
        assert text is not None, f"binary reply {message!r}"
        assert "Traceback" not in text, text
        parsed = orjson.loads(text)
        assert isinstance(parsed, dict), parsed
        if parsed.get("type") != "message":
            return {"type": "reply", "body": parsed}


def _send_and_check(world: FuzzWorld, ws: Any, connection_id: str, wire: str | bytes) -> bool:
    """Send one frame and check its outcome; False once the gateway has closed the socket."""
    world.settle()
    before = world.snapshot()
    if isinstance(wire, bytes):
        ws.send_bytes(wire)
        size = len(wire)
    else:
        ws.send_text(wire)
        size = len(wire.encode())
    answer = _answer(ws)
    if answer["type"] == "websocket.close":
        assert size > FRAME_LIMIT, f"closed after a {size}-byte frame"
        assert answer["code"] == MESSAGE_TOO_BIG, answer
        world.wait_for(lambda: world.disconnected(connection_id))
        after = world.snapshot()
        connections = world.table_names[3]
        kept = [i for i in before[connections] if connection_id.encode() not in i]
        expected = {**before, connections: kept}
        assert after == expected, describe_difference(expected, after)
        return False
    assert size <= FRAME_LIMIT, f"a {size}-byte frame was not refused"
    body = answer["body"]
    world.settle()
    assert_no_function_errors(world)
    if body.get("type") != "ack":
        assert "error" in body or "message" in body, body
        assert_unchanged(world, before, f"refused frame {wire[:80]!r} ({body})")
    return True


def _connect(world: FuzzWorld, stack: contextlib.ExitStack, label: str) -> tuple[Any, str]:
    """Open a socket as ``label``; its session and connection id."""
    token = world.users[label].token
    ws = stack.enter_context(world.client.websocket_connect(f"/ws?token={token}"))
    return ws, world.last_connection_id()


def _close(world: FuzzWorld, ws: Any, connection_id: str, code: int = 1000) -> None:
    """Close from the client side and wait until ``$disconnect`` has run."""
    ws.close(code)
    world.wait_for(lambda: world.disconnected(connection_id))


@settings(FUZZ, max_examples=200)
@given(
    drawn=st.lists(frames, min_size=1, max_size=5),
    bob_online=st.booleans(),
    close_code=st.integers(1000, 4999),
)
def test_generated_frames_on_a_live_socket(
    world: FuzzWorld, drawn: list[Any], bob_online: bool, close_code: int
) -> None:
    world.ensure_users()
    world.invoker.history.clear()
    resolver = Resolver(world)
    with contextlib.ExitStack() as stack:
        # With bob online, accepted sends are pushed to his socket through @connections.
        bob = _connect(world, stack, "bob") if bob_online else None
        ws, connection_id = _connect(world, stack, "alice")
        open_ = True
        for frame in drawn:
            open_ = _send_and_check(world, ws, connection_id, _wire(resolver, frame))
            if not open_:
                break
        if open_:
            # Still usable after everything it was sent.
            assert _send_and_check(world, ws, connection_id, '{"action": "ping"}')
            _close(world, ws, connection_id, close_code)
        if bob is not None:
            _close(world, *bob)
    world.settle()
    assert_no_function_errors(world)


def test_deleting_a_user_closes_their_socket_with_a_normal_close(world: FuzzWorld) -> None:
    world.ensure_users()
    world.invoker.history.clear()
    carol = world.signup("carol")
    with contextlib.ExitStack() as stack:
        ws, connection_id = _connect(world, stack, "carol")
        response = world.client.delete(
            f"/users/{carol.user_id}", headers={"authorization": f"Bearer {carol.token}"}
        )
        assert response.status_code == 204, response.text
        assert receive(ws) == {"type": "websocket.close", "code": 1000, "reason": ""}
        _close(world, ws, connection_id)
    world.settle()
    assert_no_function_errors(world)
    connections = world.database.table(world.table_names[3])
    assert connections.get({"connectionId": connection_id}) is None

"""The lean http:// client webhooks use: connections reused, a connection the server closed
while idle replaced without losing or repeating the request, https and proxies left to httpx."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from heron.monitor.notify.channels.keepalive import Endpoints, KeepAlive, for_url

from .support import LocalServer, QuietHandler


class KeepAliveServer(LocalServer):
    """HTTP/1.1 with keep-alive; ``drop_after_reply`` closes the connection silently after
    answering (no ``Connection: close``), as a server's idle timeout does."""

    def __init__(self) -> None:
        self.requests: list[tuple[int, bytes]] = []
        self.drop_after_reply = False
        outer = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                drop = outer.drop_after_reply  # read before answering: the client moves on after
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.requests.append((self.client_address[1], body))
                status = 429 if body == b"slow down" else 200
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "7")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                self.wfile.flush()
                if drop:
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True

        self.serve(Handler)

    @property
    def url(self) -> str:
        return self.address("/hook?x=1")


@pytest.fixture
def server() -> Iterator[KeepAliveServer]:
    s = KeepAliveServer()
    yield s
    s.close()


def test_connections_are_reused_and_answers_read(server: KeepAliveServer) -> None:
    pool = KeepAlive(server.url)
    first = pool.post(b"one", {"content-type": "text/plain"}, 5)
    second = pool.post(b"slow down", {}, 5)
    pool.close()
    assert (first.status, first.text) == (200, "ok")
    assert (second.status, second.headers["retry-after"]) == (429, "7")
    assert [b for _, b in server.requests] == [b"one", b"slow down"]
    assert server.requests[0][0] == server.requests[1][0]  # one connection, kept alive


def test_a_connection_closed_while_idle_is_replaced_and_the_request_sent_once(
    server: KeepAliveServer,
) -> None:
    pool = KeepAlive(server.url)
    server.drop_after_reply = True
    assert pool.post(b"one", {}, 5).status == 200
    server.drop_after_reply = False
    assert pool.post(b"two", {}, 5).status == 200  # the idle connection was dead
    pool.close()
    assert [b for _, b in server.requests] == [b"one", b"two"]
    assert server.requests[0][0] != server.requests[1][0]


def test_an_unreachable_endpoint_raises_for_the_sender_to_record() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nobody listens
    pool = KeepAlive(f"http://127.0.0.1:{port}/hook")
    with pytest.raises(OSError):
        pool.post(b"x", {}, 2)


def test_https_and_proxied_endpoints_stay_with_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert for_url("https://hooks.example.com/x") is None
    assert isinstance(for_url("http://127.0.0.1:9/x"), KeepAlive)
    monkeypatch.setenv("http_proxy", "http://proxy.internal:3128")
    assert for_url("http://hooks.example.com/x") is None
    monkeypatch.setenv("no_proxy", "hooks.example.com")
    assert isinstance(for_url("http://hooks.example.com/x"), KeepAlive)
    with pytest.raises(ValueError):
        KeepAlive("https://hooks.example.com/x")
    endpoints = Endpoints()
    assert endpoints.get("http://hooks.example.com/x") is endpoints.get(
        "http://hooks.example.com/x"
    )
    endpoints.close()

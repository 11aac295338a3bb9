"""The @connections clients: stdlib HTTP against a real local server, boto3 against botocore's Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from stub_management_api import KEY, ManagementApi, running_api

from heron.errors import ConfigError, GoneError
from heron.functions.connections_client import (
    Boto3ConnectionsClient,
    ConnectionsApiError,
    HttpConnectionsClient,
    connections_from_env,
)


@pytest.fixture
def server() -> Iterator[str]:
    with running_api() as url:
        yield url


def test_post_sends_the_bytes_with_the_key_to_the_encoded_path(server: str) -> None:
    client = HttpConnectionsClient(server, KEY)
    client.post_to_connection("R1km/xc2=", b'{"hi":1}')
    method, path, key, data, _ = ManagementApi.seen[0]
    assert (method, path, key, data) == ("POST", "/@connections/R1km%2Fxc2%3D", KEY, b'{"hi":1}')
    client.close()


def test_a_base_path_in_the_endpoint_is_kept(server: str) -> None:
    client = HttpConnectionsClient(server + "/prod", KEY)
    client.delete_connection("abc")
    assert ManagementApi.seen[0][:2] == ("DELETE", "/prod/@connections/abc")
    client.close()


def test_gone_is_a_gone_error_and_other_refusals_carry_their_code(server: str) -> None:
    client = HttpConnectionsClient(server, KEY)
    with pytest.raises(GoneError) as gone:
        client.post_to_connection("gone-1", b"x")
    assert gone.value.connection_id == "gone-1"
    with pytest.raises(ConnectionsApiError) as busy:
        client.post_to_connection("busy", b"x")
    assert (busy.value.status, busy.value.code) == (429, "LimitExceededException")
    intruder = HttpConnectionsClient(server, "wrong")
    with pytest.raises(ConnectionsApiError) as forbidden:
        intruder.post_to_connection("a", b"x")
    assert forbidden.value.status == 403
    intruder.close()
    client.close()


def test_get_connection_returns_the_description(server: str) -> None:
    client = HttpConnectionsClient(server, KEY)
    assert client.get_connection("abc") == {"ConnectedAt": "2026-11-05T10:15:02Z"}
    client.close()


def test_one_keep_alive_connection_serves_many_requests(server: str) -> None:
    client = HttpConnectionsClient(server, KEY)
    for i in range(5):
        client.post_to_connection(f"c{i}", b"x")
    with pytest.raises(GoneError):
        client.post_to_connection("gone", b"x")
    client.post_to_connection("after", b"x")
    assert len({port for *_, port in ManagementApi.seen}) == 1
    client.close()


def test_a_dead_endpoint_raises_os_error() -> None:
    client = HttpConnectionsClient("http://127.0.0.1:9", KEY, timeout=1)
    with pytest.raises(OSError):
        client.post_to_connection("a", b"x")


def test_the_environment_picks_local_http_then_boto3() -> None:
    local = connections_from_env({"HERON_CONNECTIONS_ENDPOINT": "http://127.0.0.1:8080"})
    assert isinstance(local, HttpConnectionsClient)
    with pytest.raises(ConfigError):
        connections_from_env({})
    with pytest.raises(ConfigError):
        connections_from_env({"HERON_CONNECTIONS_ENDPOINT": "ftp://x"})


def _stubbed() -> tuple[Boto3ConnectionsClient, Any]:
    boto3 = pytest.importorskip("boto3")
    from botocore.stub import Stubber

    raw = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url="https://abc.execute-api.us-east-1.amazonaws.com/prod",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return Boto3ConnectionsClient("unused", client=raw), Stubber(raw)


def test_boto3_gone_exception_becomes_gone_error_despite_being_a_client_error() -> None:
    client, stubber = _stubbed()
    stubber.add_client_error(
        "post_to_connection", service_error_code="GoneException", http_status_code=410
    )
    stubber.add_client_error(
        "post_to_connection", service_error_code="LimitExceededException", http_status_code=429
    )
    stubber.add_response("post_to_connection", {}, {"ConnectionId": "ok", "Data": b"x"})
    with stubber:
        with pytest.raises(GoneError):
            client.post_to_connection("dead", b"x")
        with pytest.raises(ConnectionsApiError) as limited:
            client.post_to_connection("busy", b"x")
        assert (limited.value.status, limited.value.code) == (429, "LimitExceededException")
        client.post_to_connection("ok", b"x")

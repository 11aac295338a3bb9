"""``heron up --tables dynamodb`` and ``heron tables create`` against the session's moto server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from heron.cli import main

from .moto_server import client_for

#: Regions of their own on the session's moto server, apart from the contract suite's tables.
CLI_REGION = "eu-west-1"
UP_REGION = "eu-central-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_tables_create_is_idempotent_with_progress(
    moto_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["tables", "create", "--endpoint", moto_endpoint, "--region", CLI_REGION]) == 0
    out = capsys.readouterr().out
    assert (
        "table Connections: created (key connectionId, index userId-index, TTL on expiresAt)" in out
    )
    assert "done: 4 created, 0 already existed" in out
    assert main(["tables", "create", "--endpoint", moto_endpoint, "--region", CLI_REGION]) == 0
    assert "done: 0 created, 4 already existed" in capsys.readouterr().out
    client = client_for(moto_endpoint, region=CLI_REGION)
    assert sorted(client.list_tables()["TableNames"]) == [
        "Connections", "Messages", "Notifications", "Users",
    ]  # fmt: skip
    index = client.describe_table(TableName="Notifications")["Table"]["GlobalSecondaryIndexes"][0]
    assert index["IndexName"] == "unread-index"
    client.close()


def test_tables_create_explains_unreachable_endpoints_and_missing_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HERON_DYNAMODB_MAX_ATTEMPTS", "1")
    dead = f"http://127.0.0.1:{free_port()}"
    assert main(["tables", "create", "--endpoint", dead]) == 1
    assert f"Cannot reach DynamoDB at {dead}" in capsys.readouterr().err
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(["tables", "create", "--region", CLI_REGION]) == 1
    assert "no AWS credentials for DynamoDB at AWS (eu-west-1)" in capsys.readouterr().err


def start_up(tmp: Path, endpoint: str) -> tuple[subprocess.Popen[bytes], str]:
    port, monitor_port = free_port(), free_port()
    log = (tmp / "heron.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "heron.cli", "up", "--port", str(port), "--monitor-port",
         str(monitor_port), "--data-dir", str(tmp / "data"), "--tables", "dynamodb",
         "--dynamodb-endpoint", endpoint],
        cwd=tmp, env=dict(os.environ, HERON_DYNAMODB_REGION=UP_REGION), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"heron up exited: {(tmp / 'heron.log').read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{monitor_port}/health", timeout=1).status_code == 200:
                return process, f"http://127.0.0.1:{port}"
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"heron up never became healthy: {(tmp / 'heron.log').read_text()}")


def sign_up(base: str, name: str) -> tuple[str, str]:
    r = httpx.post(
        f"{base}/users",
        json={"username": name, "displayName": name.title(), "email": f"{name}@example.com"},
        timeout=20,
    )
    assert r.status_code == 201, r.text
    return r.json()["user"]["userId"], r.json()["token"]


def scan(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.scan(TableName=table)["Items"]
    return items


@pytest.mark.slow
def test_heron_up_serves_the_api_from_dynamodb(moto_endpoint: str, tmp_path: Path) -> None:
    process, base = start_up(tmp_path, moto_endpoint)
    try:
        ada, token = sign_up(base, "ada")
        bob, _ = sign_up(base, "bob")
        me = httpx.get(f"{base}/users/{ada}", headers={"authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["username"] == "ada"
        sent = httpx.post(
            f"{base}/messages",
            headers={"authorization": f"Bearer {token}"},
            json={"to": bob, "text": "hello over dynamodb", "clientMessageId": "m1"},
            timeout=20,
        )
        assert sent.status_code == 201, sent.text
        history = httpx.get(
            f"{base}/conversations/{bob}/messages", headers={"authorization": f"Bearer {token}"}
        )
        assert [m["text"] for m in history.json()["messages"]] == ["hello over dynamodb"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # Everything went to DynamoDB, nothing to a SQLite file.
    client = client_for(moto_endpoint, region=UP_REGION)
    users = {i["userId"]["S"] for i in scan(client, "Users")}
    assert {ada, bob} <= users
    texts = [i["text"]["S"] for i in scan(client, "Messages") if "text" in i]
    assert texts == ["hello over dynamodb"]
    assert len(scan(client, "Notifications")) == 1
    assert not (tmp_path / "data" / "tables.db").exists()
    client.close()

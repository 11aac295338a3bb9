"""Shared fixtures: the template from the default settings, and a moto server to deploy to."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from heron.deploy.synth import synthesize
from heron.deploy.target import target_from_settings
from heron.functions.specs import DEFAULT_FUNCTIONS
from heron.settings import load_settings


def default_target(alarms_dir: str = "", **kwargs: Any) -> Any:
    """The deployment of the default functions (no heron.toml; user alarms from ``alarms_dir``)."""
    settings = load_settings(
        None, default_functions=DEFAULT_FUNCTIONS, environ={"HERON_ALARMS_DIR": alarms_dir}
    )
    return target_from_settings(settings, **kwargs)


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """The template for stage ``prod`` (built once per session: it is read-only)."""
    return synthesize(default_target())


REGION = "eu-west-1"
SERVER = Path(__file__).with_name("moto_cfn.py")


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/moto-api/", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the moto server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Test credentials only, and no heron.toml / alarm files from the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("HERON_ALARMS_DIR", "")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

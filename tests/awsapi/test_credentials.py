"""The key pair file: created once (0600), reused, and usable by boto3 and the aws CLI."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import boto3
import pytest

from heron.awsapi.credentials import load_or_create_credentials
from heron.errors import ConfigError

from .conftest import LiveAws


def test_created_once_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / ".heron"
    first = load_or_create_credentials(data_dir)
    path = data_dir / "credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((data_dir / "config").stat().st_mode) == 0o600
    assert first.access_key_id.startswith("AKIAHERON") and len(first.access_key_id) == 20
    assert first.access_key_id.isupper() and first.access_key_id.isalnum()
    assert len(first.secret_access_key) == 40
    text = path.read_text()
    assert "[heron]" in text and first.secret_access_key in text
    assert load_or_create_credentials(data_dir) == first
    assert load_or_create_credentials(tmp_path / "other") != first


def test_unusable_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text("[default]\naws_access_key_id = x\n")
    with pytest.raises(ConfigError, match=r"no \[heron\] profile"):
        load_or_create_credentials(tmp_path)


def test_boto3_profile_from_the_files(
    aws: LiveAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = load_or_create_credentials(tmp_path)
    # The live server has its own pair; point the profile's file at that pair's values instead.
    path = tmp_path / "credentials"
    path.write_text(
        path.read_text()
        .replace(creds.access_key_id, aws.credentials.access_key_id)
        .replace(creds.secret_access_key, aws.credentials.secret_access_key)
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_PROFILE", "heron")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    session = boto3.Session(profile_name="heron")
    assert session.region_name == "us-east-1"
    response = session.client("cloudwatch", endpoint_url=aws.url).list_metrics()
    assert response["NextToken"] == "page-2"
    # Region comes from the credentials file alone too (botocore merges its profile keys).
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "absent"))
    assert boto3.Session(profile_name="heron").region_name == "us-east-1"


@pytest.mark.skipif(
    shutil.which("aws") is None, reason="the aws CLI is not installed on this machine"
)
def test_aws_cli_against_the_server(aws: LiveAws, tmp_path: Path) -> None:
    creds = load_or_create_credentials(tmp_path)
    path = tmp_path / "credentials"
    path.write_text(
        path.read_text()
        .replace(creds.access_key_id, aws.credentials.access_key_id)
        .replace(creds.secret_access_key, aws.credentials.secret_access_key)
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key != "PYTHONPATH"
    }
    env |= {"AWS_SHARED_CREDENTIALS_FILE": str(path), "AWS_PROFILE": "heron"}
    result = subprocess.run(
        [
            "aws",
            "--endpoint-url",
            aws.url,
            "cloudwatch",
            "list-metrics",
            "--namespace",
            "Heron",
            "--no-paginate",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Metrics"][0]["MetricName"] == "Latency"
    assert aws.ops.last("ListMetrics") == {"Namespace": "Heron"}

"""The monitor API's one access key pair, created on first start and kept in the data directory.

The pair is written as an AWS shared-credentials file (profile ``heron``, with ``region`` beside
the keys, which botocore-based tools such as boto3 and the aws CLI read from there) plus a sibling
``config`` file carrying ``[profile heron]`` for SDKs that read the region only from a config file.
"""

from __future__ import annotations

import configparser
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from heron.errors import ConfigError

PROFILE = "heron"
DEFAULT_REGION = "us-east-1"
CREDENTIALS_FILE = "credentials"
CONFIG_FILE = "config"
_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


@dataclass(frozen=True, slots=True)
class Credentials:
    """An access key id and its secret, as the SigV4 verifier needs them."""

    access_key_id: str
    secret_access_key: str
    region: str = DEFAULT_REGION


def new_credentials(region: str = DEFAULT_REGION) -> Credentials:
    """A fresh pair shaped like AWS's: ``AKIAHERON`` + 11 characters, and a 40-character secret."""
    key_id = "AKIAHERON" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(11))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
    return Credentials(key_id, secret, region)


def load_or_create_credentials(data_dir: Path, region: str = DEFAULT_REGION) -> Credentials:
    """Read ``<data_dir>/credentials`` (profile ``heron``), creating it (mode 0600) if absent."""
    path = data_dir / CREDENTIALS_FILE
    if path.exists():
        return read_credentials(path, region)
    data_dir.mkdir(parents=True, exist_ok=True)
    creds = new_credentials(region)
    _write_private(path, credentials_text(creds))
    config_path = data_dir / CONFIG_FILE
    if not config_path.exists():
        _write_private(config_path, config_text(creds))
    return creds


def read_credentials(path: Path, region: str = DEFAULT_REGION) -> Credentials:
    """Parse the ``heron`` profile of a shared-credentials file; a clear error if it is unusable."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read AWS credentials file {path}: {exc}") from None
    if not parser.has_section(PROFILE):
        raise ConfigError(f"AWS credentials file {path} has no [{PROFILE}] profile")
    section = parser[PROFILE]
    key_id = section.get("aws_access_key_id", "").strip()
    secret = section.get("aws_secret_access_key", "").strip()
    if not key_id or not secret:
        raise ConfigError(
            f"AWS credentials file {path}: profile [{PROFILE}] needs aws_access_key_id and "
            "aws_secret_access_key"
        )
    return Credentials(key_id, secret, section.get("region", region).strip() or region)


def credentials_text(creds: Credentials) -> str:
    """The shared-credentials file for ``creds`` (region included: botocore reads it there)."""
    return (
        "# Heron's monitor API (CloudWatch and CloudWatch Logs compatible). Use with\n"
        "#   AWS_SHARED_CREDENTIALS_FILE=<this file> AWS_PROFILE=heron \\\n"
        "#   aws --endpoint-url http://127.0.0.1:<monitor-port> cloudwatch list-metrics\n"
        "# (SDKs that read the region only from a config file: AWS_CONFIG_FILE=<dir>/config).\n"
        f"[{PROFILE}]\n"
        f"aws_access_key_id = {creds.access_key_id}\n"
        f"aws_secret_access_key = {creds.secret_access_key}\n"
        f"region = {creds.region}\n"
    )


def config_text(creds: Credentials) -> str:
    """The sibling AWS config file naming the region for profile ``heron``."""
    return f"[profile {PROFILE}]\nregion = {creds.region}\noutput = json\n"


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` readable by its owner only; never follows an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)

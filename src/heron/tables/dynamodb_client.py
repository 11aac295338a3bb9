"""Build the DynamoDB client: endpoint, region, credentials and the SDK's retry behaviour.

Settings come from ``heron.toml``/``HERON_DYNAMODB_*`` in the ``heron`` process and from the
same variables in a function's environment. Credentials follow the AWS SDK chain (environment,
profile, container or instance role). For a local endpoint (DynamoDB Local, moto) the role
lookups are skipped and, when nothing else is configured, placeholder keys are used: local
servers accept any signature. Functions under ``heron up`` get the parent's resolved keys in
their environment, as Lambda hands a function its role's keys.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from heron.errors import ConfigError

RETRY_MODES = ("standard", "adaptive")
DEFAULT_REGION = "us-east-1"
#: Placeholder keys for local endpoints that do not check signatures.
LOCAL_ACCESS_KEY = "heron-local"
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 10.0
_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@dataclass(frozen=True, slots=True)
class DynamoConfig:
    """Where DynamoDB is and how to talk to it; empty endpoint means AWS's regional one."""

    endpoint: str = ""
    region: str = DEFAULT_REGION
    retry_mode: str = "standard"
    max_attempts: int = 3
    access_key_id: str = ""
    secret_access_key: str = ""
    session_token: str = ""

    def __post_init__(self) -> None:
        if self.endpoint and urlsplit(self.endpoint).scheme not in ("http", "https"):
            raise ConfigError(
                f"dynamodb_endpoint must be an http(s) URL such as http://127.0.0.1:8000, "
                f"got {self.endpoint!r}"
            )
        if self.retry_mode not in RETRY_MODES:
            raise ConfigError(
                f"dynamodb_retry_mode must be one of {RETRY_MODES}, got {self.retry_mode!r}"
            )
        if self.max_attempts < 1:
            raise ConfigError(f"dynamodb_max_attempts must be at least 1, got {self.max_attempts}")
        if not self.region:
            raise ConfigError("the DynamoDB region must not be empty")

    @property
    def local(self) -> bool:
        """True when the endpoint is on this machine (DynamoDB Local, moto)."""
        return is_loopback(self.endpoint)

    @property
    def where(self) -> str:
        """The endpoint as a person reads it in an error message."""
        return self.endpoint or f"AWS ({self.region})"

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> DynamoConfig:
        """The configuration the resolved settings describe (``dynamodb_*`` and ``region``)."""
        return cls(
            endpoint=str(values.get("dynamodb_endpoint") or ""),
            region=str(values.get("dynamodb_region") or values.get("region") or DEFAULT_REGION),
            retry_mode=str(values.get("dynamodb_retry_mode") or "standard"),
            max_attempts=int(values.get("dynamodb_max_attempts") or 3),
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DynamoConfig:
        """The configuration a function's environment describes (credentials from the chain)."""
        try:
            attempts = int(env.get("HERON_DYNAMODB_MAX_ATTEMPTS") or 3)
        except ValueError:
            raise ConfigError("HERON_DYNAMODB_MAX_ATTEMPTS must be an integer") from None
        return cls(
            endpoint=env.get("HERON_DYNAMODB_ENDPOINT") or "",
            region=env.get("HERON_DYNAMODB_REGION")
            or env.get("AWS_REGION")
            or env.get("AWS_DEFAULT_REGION")
            or DEFAULT_REGION,
            retry_mode=env.get("HERON_DYNAMODB_RETRY_MODE") or "standard",
            max_attempts=attempts,
        )


def is_loopback(endpoint: str) -> bool:
    """True for an endpoint URL whose host is this machine."""
    host = urlsplit(endpoint).hostname if endpoint else None
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_credentials(config: DynamoConfig) -> tuple[str, str, str]:
    """(access key, secret key, session token) for ``config``, or a ConfigError saying how."""
    if config.access_key_id:
        return config.access_key_id, config.secret_access_key, config.session_token
    import botocore.session  # type: ignore[import-untyped]

    session = botocore.session.get_session()
    if config.local:
        # No instance-metadata or container lookups (each waits on a timeout) for a local server.
        resolver = session.get_component("credential_provider")
        for method in ("iam-role", "container-role"):
            resolver.remove(method)
    found = session.get_credentials()
    if found is None:
        if config.local:
            return LOCAL_ACCESS_KEY, LOCAL_ACCESS_KEY, ""
        raise ConfigError(
            f"no AWS credentials for DynamoDB at {config.where}: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or point dynamodb_endpoint at a local server"
        )
    frozen = found.get_frozen_credentials()
    return frozen.access_key, frozen.secret_key, frozen.token or ""


def make_client(config: DynamoConfig) -> Any:
    """A botocore DynamoDB client with the SDK's ``standard``/``adaptive`` retries.

    The credentials are looked up now, so a missing key is a clear ConfigError instead of a
    failure on the first request.
    """
    import botocore.session
    from botocore.config import Config  # type: ignore[import-untyped]

    access, secret, token = resolve_credentials(config)
    keys = {"aws_access_key_id": access, "aws_secret_access_key": secret}
    if token:
        keys["aws_session_token"] = token
    client_config = Config(
        retries={"mode": config.retry_mode, "total_max_attempts": config.max_attempts},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        max_pool_connections=32,
    )
    return botocore.session.get_session().create_client(
        "dynamodb",
        region_name=config.region,
        endpoint_url=config.endpoint or None,
        config=client_config,
        **keys,
    )


def child_environment(config: DynamoConfig) -> dict[str, str]:
    """The variables a function's environment needs to open the same DynamoDB, keys included."""
    access, secret, token = resolve_credentials(config)
    env = {
        "HERON_DYNAMODB_ENDPOINT": config.endpoint,
        "HERON_DYNAMODB_REGION": config.region,
        "HERON_DYNAMODB_RETRY_MODE": config.retry_mode,
        "HERON_DYNAMODB_MAX_ATTEMPTS": str(config.max_attempts),
    }
    env.update(zip(_CREDENTIAL_VARIABLES, (access, secret, token), strict=True))
    if not token:
        del env["AWS_SESSION_TOKEN"]
    return env

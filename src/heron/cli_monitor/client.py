"""Reach the monitor's AWS-compatible API with botocore, and turn its failures into next steps.

The endpoint and the data directory resolve like every other ``heron`` command (flag, then
``HERON_*`` variable, then ``heron.toml``, then default); the key pair is the one ``heron up``
wrote to ``<data-dir>/credentials``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heron.awsapi.credentials import CREDENTIALS_FILE, Credentials, read_credentials
from heron.errors import ConfigError
from heron.settings import load_settings

CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 30.0
_AUTH_CODES = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "IncompleteSignatureException",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
}


class MonitorError(Exception):
    """A failure to show the user as one line (already phrased with the next step)."""


@dataclass(frozen=True, slots=True)
class MonitorTarget:
    """Where the monitor listens and where its key pair is kept."""

    endpoint: str
    credentials_path: Path


def argument_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse ``type`` that shows ``parse``'s ValueError message, not 'invalid value'."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """The options every monitor command shares: --data-dir, --endpoint, --config."""
    parser.add_argument(
        "--data-dir", help="data directory of the running `heron up` (default ./.heron)"
    )
    parser.add_argument(
        "--endpoint",
        help="monitor URL (default http://<host>:<monitor_port> from the settings)",
    )
    parser.add_argument("--config", help="config file (default ./heron.toml if present)")


def connect_host(host: str) -> str:
    """The address to dial for a bind address: a wildcard bind is reached on loopback."""
    if host in {"", "0.0.0.0"}:
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def resolve_target(args: argparse.Namespace) -> MonitorTarget:
    """The monitor endpoint and credentials file for these command-line options."""
    config = Path(args.config) if getattr(args, "config", None) else None
    settings = load_settings(config, overrides={"data_dir": getattr(args, "data_dir", None)})
    endpoint = getattr(args, "endpoint", None) or (
        f"http://{connect_host(str(settings['host']))}:{settings['monitor_port']}"
    )
    if not endpoint.startswith(("http://", "https://")):
        raise MonitorError(f"--endpoint {endpoint!r} must be a URL such as http://127.0.0.1:4566")
    return MonitorTarget(endpoint.rstrip("/"), settings.data_dir / CREDENTIALS_FILE)


def load_credentials(target: MonitorTarget) -> Credentials:
    """The key pair ``heron up`` wrote, or a MonitorError saying where it looked."""
    path = target.credentials_path
    if not path.exists():
        raise MonitorError(
            f"no credentials at {path.absolute()}; `heron up` creates them in its data directory on first "
            "start (pass --data-dir if it runs with another one)"
        )
    try:
        return read_credentials(path)
    except ConfigError as exc:
        raise MonitorError(str(exc)) from None


def make_client(target: MonitorTarget, service: str) -> Any:
    """A botocore client for ``service`` ("cloudwatch" or "logs"), failing fast when unreachable."""
    import botocore.session  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    creds = load_credentials(target)
    # One attempt and a short connect timeout: a local monitor that refuses once is not running,
    # and botocore's default retries would only delay saying so.
    config = Config(
        retries={"total_max_attempts": 1},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
    )
    return botocore.session.get_session().create_client(
        service,
        endpoint_url=target.endpoint,
        region_name=creds.region,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        config=config,
    )


def explain(exc: Exception, target: MonitorTarget) -> MonitorError | None:
    """The user-facing message for a botocore failure, or None if ``exc`` is not one."""
    from botocore import exceptions as bce

    if isinstance(exc, bce.ConnectTimeoutError | bce.EndpointConnectionError):
        return MonitorError(
            f"cannot reach the monitor at {target.endpoint}; is `heron up` running? "
            "(start it with `make run`)"
        )
    if isinstance(exc, bce.ReadTimeoutError | bce.ConnectionClosedError):
        return MonitorError(
            f"the monitor at {target.endpoint} did not answer ({exc}); check `heron up`'s output"
        )
    if isinstance(exc, bce.ClientError):
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "Error")), str(error.get("Message", exc))
        if code in _AUTH_CODES:
            return MonitorError(
                f"the monitor at {target.endpoint} refused the key in {target.credentials_path}: "
                f"{message} ({code}); pass the --data-dir that `heron up` uses"
            )
        hint = ""
        if code == "ResourceNotFoundException" and "log group" in message:
            hint = "; `heron logs groups` lists the log groups"
        return MonitorError(f"{message} ({code}){hint}")
    if isinstance(exc, bce.BotoCoreError):
        return MonitorError(f"talking to the monitor at {target.endpoint} failed: {exc}")
    return None


def run_command(body: Callable[[argparse.Namespace, MonitorTarget], int]) -> Callable[..., int]:
    """Wrap a command: resolve the target, run it, print failures as ``heron: ...`` and exit 1."""

    def command(args: argparse.Namespace) -> int:
        target: MonitorTarget | None = None
        try:
            target = resolve_target(args)
            return body(args, target)
        except MonitorError as exc:
            print(f"heron: {exc}", file=sys.stderr)
            return 1
        except BrokenPipeError:
            # `heron logs tail | head`: the reader has what it wanted; point stdout at devnull
            # so the interpreter's final flush does not raise a second time.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except Exception as exc:
            known = explain(exc, target) if target is not None else None
            if known is None:
                raise
            print(f"heron: {known}", file=sys.stderr)
            return 1

    command.__doc__ = body.__doc__
    return command

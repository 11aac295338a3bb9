"""The notifier function's resources: configuration, secrets, subscriptions, tick, links, state.

The ``[notify]`` table of heron.toml travels as JSON in ``HERON_NOTIFY_CONFIG``. Secrets never go
into the template: a channel's ``url`` or ``password`` must be a ``${ENV_VAR}`` reference, and
each variable becomes a ``NoEcho`` template parameter passed to the function's environment
(``*_file`` keys have no file to read on Lambda and are refused). The function subscribes to
every topic, runs once a minute for escalations and digests (``notifier_handler``), serves the
signed incident links on the HTTP API (``notifier_links``), and keeps its state in a private S3
bucket (``notifier_state``) with reserved concurrency 1, so there is one writer at a time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from heron.deploy.apis import HTTP_API
from heron.deploy.names import DeployError, logical_id
from heron.deploy.notifier_handler import CONFIG_ENV, PUBLIC_URL_ENV, STATE_ENV, TOPIC_ENV
from heron.deploy.notifier_state import BUCKET_ENV, PREFIX
from heron.deploy.target import NOTIFIER_HANDLER
from heron.deploy.topics import topic_logical_id
from heron.types import FunctionSpec

#: Channel keys that hold secrets.
SECRET_KEYS = ("url", "password")
_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_ANY_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
NOTIFIER_SPEC_MEMORY, NOTIFIER_TIMEOUT_S = 256, 60.0
#: The signed-link routes (``heron.monitor.notify.link_routes``); the signature is the credential.
LINK_ROUTES = ("GET /notify/link/{id}/{action}", "POST /notify/link/{id}/{action}")
#: The bucket holding the notifier's SQLite state and link key.
STATE_BUCKET = "NotifyStateBucket"
#: Days S3 keeps a replaced state object (versioning: a bad save can be rolled back).
STATE_VERSIONS_DAYS = 7


def notifier_spec(name: str) -> FunctionSpec:
    """The notifier as a function: SNS and a schedule invoke it, and the HTTP API's link routes."""
    return FunctionSpec(
        name=name,
        handler=NOTIFIER_HANDLER,
        memory_mb=NOTIFIER_SPEC_MEMORY,
        timeout_s=NOTIFIER_TIMEOUT_S,
        # One writer: an invocation restores, changes and saves the state before the next starts.
        reserved_concurrency=1,
        http_routes=LINK_ROUTES,
        authorized=False,
    )


def state_bucket_resource() -> dict[str, Any]:
    """The private, encrypted, versioned bucket the notifier keeps its state in (kept on delete)."""
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {
                "Rules": [
                    {
                        "Id": "old-states",
                        "Status": "Enabled",
                        "NoncurrentVersionExpiration": {"NoncurrentDays": STATE_VERSIONS_DAYS},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                    }
                ]
            },
        },
    }


def state_statements() -> tuple[dict[str, Any], ...]:
    """The notifier role's access to its state: read and write objects under ``notify/`` only."""
    return (
        {
            "Sid": "NotifyStateObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": {"Fn::Sub": f"${{{STATE_BUCKET}.Arn}}/{PREFIX}*"},
        },
        {
            # Without ListBucket S3 answers 403 for a missing object instead of 404, and the
            # first invocation could not tell "no state yet" from "access denied".
            "Sid": "NotifyStateList",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": {"Fn::GetAtt": [STATE_BUCKET, "Arn"]},
        },
    )


def secret_variables(notify: Mapping[str, Any]) -> list[str]:
    """The ``${VAR}`` names the configuration reads; DeployError for a literal or file secret."""
    found: list[str] = []
    channels = notify.get("channels") or {}
    for name, channel in channels.items() if isinstance(channels, Mapping) else ():
        if not isinstance(channel, Mapping):
            continue
        for key, value in channel.items():
            where = f"notify.channels.{name}.{key}"
            if key.endswith("_file"):
                raise DeployError(
                    f"{where}: Lambda has no file to read; use {key.removesuffix('_file')} ="
                    " '${ENV_VAR}' and pass the value as a template parameter"
                )
            if key in SECRET_KEYS and isinstance(value, str) and not _REFERENCE.match(value):
                raise DeployError(
                    f"{where}: a literal secret would be stored in the template in clear;"
                    " write '${ENV_VAR}' and pass the value as a template parameter (value hidden)"
                )

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.extend(v for v in _ANY_REFERENCE.findall(value) if v not in found)
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(notify)
    return found


def secret_parameter(variable: str) -> str:
    """The template parameter that carries environment variable ``variable``."""
    return logical_id("Notify", variable.replace("_", " ").title())


def notifier_environment(notify: Mapping[str, Any], topics: tuple[str, ...]) -> dict[str, Any]:
    """The notifier's environment: config, topic ARNs, state, links' URL and secret parameters."""
    env: dict[str, Any] = {
        CONFIG_ENV: json.dumps(notify, separators=(",", ":"), sort_keys=True),
        STATE_ENV: "/tmp/heron-notify",
        BUCKET_ENV: {"Ref": STATE_BUCKET},
        PUBLIC_URL_ENV: {
            "Fn::Sub": f"https://${{{HTTP_API}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"
        },
    }
    for topic in topics:
        env[TOPIC_ENV[topic]] = {"Ref": topic_logical_id(topic)}
    for variable in secret_variables(notify):
        env[variable] = {"Ref": secret_parameter(variable)}
    return env


def notifier_events(topics: tuple[str, ...]) -> dict[str, Any]:
    """SAM events: one SNS subscription per topic, and the one-minute tick."""
    events: dict[str, Any] = {
        logical_id(topic): {
            "Type": "SNS",
            "Properties": {"Topic": {"Ref": topic_logical_id(topic)}},
        }
        for topic in topics
    }
    events["Tick"] = {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}
    return events


def secret_parameters(notify: Mapping[str, Any]) -> dict[str, Any]:
    """One ``NoEcho`` parameter per secret the configuration reads."""
    return {
        secret_parameter(v): {
            "Type": "String",
            "NoEcho": True,
            "Description": f"Value of ${{{v}}} for the notifier ([notify] in heron.toml)",
        }
        for v in secret_variables(notify)
    }

"""The notifier function's resources: its configuration, secrets, topic subscriptions and tick.

The ``[notify]`` table of heron.toml travels as JSON in ``HERON_NOTIFY_CONFIG``. Secrets never go
into the template: a channel's ``url`` or ``password`` must be a ``${ENV_VAR}`` reference, and
each variable becomes a ``NoEcho`` template parameter passed to the function's environment
(``*_file`` keys have no file to read on Lambda and are refused). The function subscribes to
every topic and runs once a minute for escalations and digests (``notifier_handler``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from heron.deploy.names import DeployError, logical_id
from heron.deploy.notifier_handler import CONFIG_ENV, STATE_ENV, TOPIC_ENV
from heron.deploy.target import NOTIFIER_HANDLER
from heron.deploy.topics import topic_logical_id
from heron.types import FunctionSpec

#: Channel keys that hold secrets.
SECRET_KEYS = ("url", "password")
_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_ANY_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
NOTIFIER_SPEC_MEMORY, NOTIFIER_TIMEOUT_S = 256, 60.0


def notifier_spec(name: str) -> FunctionSpec:
    """The notifier as a function declaration (no routes; SNS and a schedule invoke it)."""
    return FunctionSpec(
        name=name,
        handler=NOTIFIER_HANDLER,
        memory_mb=NOTIFIER_SPEC_MEMORY,
        timeout_s=NOTIFIER_TIMEOUT_S,
        authorized=False,
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
    """The notifier's environment: config JSON, topic ARNs, state dir and secret parameters."""
    env: dict[str, Any] = {
        CONFIG_ENV: json.dumps(notify, separators=(",", ":"), sort_keys=True),
        STATE_ENV: "/tmp",
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

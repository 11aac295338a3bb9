"""The ``alerts`` and ``warnings`` SNS topics and their subscriptions.

Alarms name topics by their last ARN segment (``arn:aws:sns:region:account:alerts``); the stack
creates one topic per name, called ``<prefix>-<name>``. The notifier function subscribes to both
(its SAM ``SNS`` events create the subscriptions and invoke permissions); an optional e-mail
address (parameter ``AlarmEmail``) is subscribed directly as a backstop that does not depend on
the notifier working.
"""

from __future__ import annotations

from typing import Any

from heron.deploy.names import check_name, logical_id
from heron.monitor.notify.topics import DEFAULT_TOPICS

HAS_EMAIL = "HasAlarmEmail"


def topic_logical_id(name: str) -> str:
    """``alerts`` -> ``AlertsTopic``."""
    return logical_id(name, "Topic")


def topic_resources(prefix: str, names: tuple[str, ...] = DEFAULT_TOPICS) -> dict[str, Any]:
    """One ``AWS::SNS::Topic`` per name, plus the conditional e-mail backstop subscription."""
    out: dict[str, Any] = {}
    for name in names:
        tid = topic_logical_id(name)
        out[tid] = {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "TopicName": check_name("topic name", f"{prefix}-{name}"),
                "DisplayName": f"Heron {name}",
                "Tags": [{"Key": "heron:topic", "Value": name}],
            },
        }
        out[logical_id(name, "EmailSubscription")] = {
            "Type": "AWS::SNS::Subscription",
            "Condition": HAS_EMAIL,
            "Properties": {
                "TopicArn": {"Ref": tid},
                "Protocol": "email",
                "Endpoint": {"Ref": "AlarmEmail"},
            },
        }
    return out


def topic_refs(names: tuple[str, ...] = DEFAULT_TOPICS) -> dict[str, Any]:
    """Topic name -> the intrinsic that gives its ARN."""
    return {name: {"Ref": topic_logical_id(name)} for name in names}

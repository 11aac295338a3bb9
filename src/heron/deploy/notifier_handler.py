"""The notifier's Lambda entry point: Heron's own routing behind the deployed SNS topics.

The ``alerts`` and ``warnings`` topics invoke ``handler`` with each alarm message (an SNS event);
an EventBridge schedule invokes it every minute with no records, for what time alone makes due
(escalations, business-hours digests, retries). Each invocation runs the same pipeline
``heron up`` runs (``heron.monitor.notify``): dedup, silences, flapping, incidents, business
hours, on-call and escalation, then delivery to Slack, e-mail or webhooks.

State store: SQLite under ``HERON_NOTIFY_STATE_DIR`` (default ``/tmp``), which on Lambda lives
only as long as one execution environment. That is enough to route each alarm message, but
incidents, acknowledgements, escalation timers and deferred digests are lost when Lambda recycles
the environment. A durable deployment needs the notify stores on DynamoDB (a ``NotifyState``
table keyed by record kind and id); that backend is not implemented yet (see docs/deploy.md).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from heron.monitor.notify.config import load_notify_config
from heron.monitor.notify.model import alert_from_message
from heron.monitor.notify.notifier import Notifier
from heron.monitor.notify.reasons import Decision, Reason, Verdict
from heron.monitor.notify.topics import DEFAULT_TOPICS, TopicStore

log = logging.getLogger("heron.notify")
#: Environment: the ``[notify]`` table as JSON, and the deployed ARN of each topic.
CONFIG_ENV = "HERON_NOTIFY_CONFIG"
STATE_ENV = "HERON_NOTIFY_STATE_DIR"
TOPIC_ENV = {name: f"HERON_TOPIC_{name.upper()}" for name in DEFAULT_TOPICS}

_cached: dict[str, Notifier] = {}


def topic_name(arn: str, environ: Mapping[str, str]) -> str:
    """The Heron topic (``alerts``/``warnings``) a deployed topic ARN stands for."""
    for name, var in TOPIC_ENV.items():
        if environ.get(var) == arn:
            return name
    return arn.rsplit(":", 1)[-1]


def _published(sns: Mapping[str, Any], default: float) -> float:
    stamp = sns.get("Timestamp")
    if not isinstance(stamp, str):
        return default
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default


def build_notifier(environ: Mapping[str, str]) -> Notifier:
    """The notifier for this execution environment, from the environment variables."""
    raw = json.loads(environ.get(CONFIG_ENV) or "{}")
    config = load_notify_config(raw, environ)
    state = Path(environ.get(STATE_ENV) or "/tmp")
    state.mkdir(parents=True, exist_ok=True)
    topics = TopicStore(state / "heron-topics.db")
    return Notifier(topics, config, state / "heron-notify.db")


def accept(
    notifier: Notifier, sns: Mapping[str, Any], environ: Mapping[str, str], now: float
) -> bool:
    """Run one SNS record through the pipeline once (SNS may deliver it twice); True if new."""
    arn = str(sns.get("TopicArn", ""))
    region, account = [*arn.split(":"), "", "", "", "", ""][3:5]
    name = topic_name(arn, environ)
    local_arn = f"arn:aws:sns:{region}:{account}:{name}"
    message_id = str(sns.get("MessageId") or "")
    alert = alert_from_message(
        message_id, local_arn, str(sns.get("Message", "")), sns.get("Subject"),
        _published(sns, now),
    )  # fmt: skip
    db = notifier.ctx.db
    with db.transaction():
        if db.one("SELECT 1 FROM nt_processed WHERE message_id=?", (message_id,)):
            notifier.ctx.ledger.record(
                alert, "intake", Decision(Verdict.DROP, Reason.ALREADY_PROCESSED), now
            )
            return False
        notifier.pipeline([alert], now)
        db.execute("INSERT INTO nt_processed VALUES (?, ?)", (message_id, now))
    return True


def handle(event: Mapping[str, Any], environ: Mapping[str, str], now: float) -> dict[str, int]:
    """Accept the event's SNS records, then tick: escalate, release digests, deliver."""
    key = environ.get(STATE_ENV) or "/tmp"
    notifier = _cached.get(key)
    if notifier is None:
        notifier = _cached[key] = build_notifier(environ)
    accepted = 0
    for record in event.get("Records") or []:
        if isinstance(record, Mapping) and isinstance(record.get("Sns"), Mapping):
            accepted += accept(notifier, record["Sns"], environ, now)
    notifier.tick(now)
    return {"accepted": accepted}


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Lambda entry point (SNS and scheduled events)."""
    result = handle(event, os.environ, time.time())
    log.info("notifier: %s", result)
    return result


def close_all() -> None:
    """Close every cached notifier (tests; Lambda never calls this)."""
    while _cached:
        _, notifier = _cached.popitem()
        notifier.close()

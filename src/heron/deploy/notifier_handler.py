"""The notifier's Lambda entry point: Heron's own routing behind the deployed SNS topics.

The ``alerts`` and ``warnings`` topics invoke ``handler`` with each alarm message (an SNS event);
an EventBridge schedule invokes it every minute with no records, for what time alone makes due
(escalations, business-hours digests, retries); the HTTP API invokes it for the signed
Acknowledge / Resolve / Snooze links (``notifier_links``). Each invocation runs the same pipeline
``heron up`` runs (``heron.monitor.notify``): dedup, silences, flapping, incidents, business
hours, on-call and escalation, then delivery to Slack, e-mail or webhooks.

State: SQLite under ``HERON_NOTIFY_STATE_DIR``. With ``HERON_NOTIFY_STATE_BUCKET`` set (the
template sets it) the file is restored from S3 before and saved after every invocation that
changed it, conditionally on the version it started from (``notifier_state``), so incidents,
acks, escalation timers and digests outlive the execution environment. Without it the state
lives only as long as the directory does.
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

from heron.deploy.notifier_links import handle_link, is_http_event
from heron.deploy.notifier_state import DB_FILE, DurableState, durable_state
from heron.monitor.notify.config import load_notify_config
from heron.monitor.notify.model import alert_from_message
from heron.monitor.notify.notifier import Notifier
from heron.monitor.notify.reasons import Decision, Reason, Verdict
from heron.monitor.notify.topics import DEFAULT_TOPICS, TopicStore

log = logging.getLogger("heron.notify")
#: Environment: the ``[notify]`` table as JSON, and the deployed ARN of each topic.
CONFIG_ENV = "HERON_NOTIFY_CONFIG"
STATE_ENV = "HERON_NOTIFY_STATE_DIR"
#: The links' base URL when ``[notify]`` names none (the template sets the HTTP API's URL).
PUBLIC_URL_ENV = "HERON_NOTIFY_PUBLIC_URL"
TOPIC_ENV = {name: f"HERON_TOPIC_{name.upper()}" for name in DEFAULT_TOPICS}


class _Environment:
    """One execution environment's notifier and, on AWS, its durable state."""

    def __init__(self, environ: Mapping[str, str], directory: Path) -> None:
        self.environ, self.directory = environ, directory
        self.durable: DurableState | None = durable_state(environ, directory)
        self.notifier: Notifier | None = None
        self.keyed = False

    def ready(self) -> Notifier:
        """The notifier over the newest durable state (restored first when the copy is stale)."""
        if self.durable is not None:
            if not self.keyed:
                self.durable.ensure_link_key()
                self.keyed = True
            fetched = self.durable.fetch()
            if fetched is not None:
                self.close()  # its database file is about to be replaced
                self.durable.install(fetched)
        if self.notifier is None:
            self.notifier = build_notifier(self.environ)
        if self.durable is not None:
            self.durable.begin()
        return self.notifier

    def save(self) -> None:
        """Save what this invocation changed (StaleStateError when another writer got there first)."""
        if self.durable is not None:
            self.durable.save()

    def reset(self) -> None:
        """After a failure: distrust the local copy, so the next invocation restores it."""
        if self.durable is not None:
            self.durable.forget()
            self.close()

    def close(self) -> None:
        """Close the notifier (the durable state keeps its place)."""
        if self.notifier is not None:
            notifier, self.notifier = self.notifier, None
            notifier.close()


_cached: dict[str, _Environment] = {}


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
    if environ.get(PUBLIC_URL_ENV) and isinstance(raw, dict) and "public_url" not in raw:
        raw["public_url"] = environ[PUBLIC_URL_ENV]
    config = load_notify_config(raw, environ)
    state = Path(environ.get(STATE_ENV) or "/tmp")
    state.mkdir(parents=True, exist_ok=True)
    topics = TopicStore(state / "heron-topics.db")
    return Notifier(topics, config, state / DB_FILE)


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


def handle(event: Mapping[str, Any], environ: Mapping[str, str], now: float) -> dict[str, Any]:
    """Act on a link request, or accept the SNS records and tick; then save the state."""
    key = environ.get(STATE_ENV) or "/tmp"
    env = _cached.get(key)
    if env is None:
        directory = Path(key)
        directory.mkdir(parents=True, exist_ok=True)
        env = _cached[key] = _Environment(environ, directory)
    env.environ = environ
    try:
        notifier = env.ready()
        result: dict[str, Any]
        if is_http_event(event):
            result = handle_link(notifier, event, now)
        else:
            accepted = 0
            for record in event.get("Records") or []:
                if isinstance(record, Mapping) and isinstance(record.get("Sns"), Mapping):
                    accepted += accept(notifier, record["Sns"], environ, now)
            notifier.tick(now)
            result = {"accepted": accepted}
        env.save()
    except BaseException:
        # Whatever this invocation changed locally is not durable: start from S3 next time.
        env.reset()
        raise
    return result


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (SNS, scheduled and HTTP API events)."""
    result = handle(event, os.environ, time.time())
    log.info("notifier: %s", result.get("statusCode", result))
    return result


def close_all() -> None:
    """Close every cached notifier (tests; Lambda never calls this)."""
    while _cached:
        _, env = _cached.popitem()
        env.close()
        if env.durable is not None:
            env.durable.forget()

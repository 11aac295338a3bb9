"""Slack with a bot token: ``chat.postMessage``, so an incident's later messages can be threaded.

The first message of an incident is posted to the channel and its ``ts`` remembered (per Heron
channel and incident thread, in ``nt_slack_threads``); the resolution, escalation pages and
flapping notices of that incident are posted with ``thread_ts`` (the resolution also broadcast to
the channel). Slack's Web API answers HTTP 200 with ``{"ok": false, "error": "..."}`` for most
failures; ``ratelimited`` comes as HTTP 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heron.monitor.notify.channels import Outcome
from heron.monitor.notify.channels.slack import payload
from heron.monitor.notify.config import Channel
from heron.monitor.notify.db import NotifyDB
from heron.monitor.notify.links import Linker, message_links
from heron.monitor.notify.model import Kind, Notice
from heron.monitor.notify.secrets import redact

if TYPE_CHECKING:
    from heron.monitor.notify.channels.outbound import OutboundHttp

#: Slack ``error`` codes worth retrying; every other code needs a person to fix something.
RETRYABLE = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def classify_api(status: int, body: Any, retry_after: str | None) -> Outcome:
    """A Web API answer as an Outcome."""
    if status == 429:
        try:
            wait = float(retry_after) if retry_after is not None else 1.0
        except ValueError:
            wait = 1.0
        return Outcome(False, "ratelimited", retry_after=wait, status=status)
    if status >= 500 or status == 408:
        return Outcome(False, f"HTTP {status}", status=status)
    if not isinstance(body, dict):
        return Outcome(False, "not a Slack API answer", status=status)
    if body.get("ok") is True:
        return Outcome(True, status=status)
    error = str(body.get("error") or "unknown_error")[:200]
    return Outcome(False, error, permanent=error not in RETRYABLE, status=status)


class SlackApiSender:
    """Posts notices with ``chat.postMessage`` and threads an incident's follow-ups."""

    def __init__(
        self, channel: Channel, client: OutboundHttp, db: NotifyDB, links: Linker | None = None
    ) -> None:
        assert channel.token is not None
        self._channel = channel
        self._http = client
        self._db = db
        self._links = links

    def thread_ts(self, thread: str) -> str | None:
        """The ts of the incident's first message in this channel, if one was posted."""
        row = self._db.one(
            "SELECT ts FROM nt_slack_threads WHERE channel=? AND thread=?",
            (self._channel.name, thread),
        )
        return None if row is None else str(row[0])

    def send(self, notice: Notice, key: str, now: float) -> Outcome:
        """Post the message (a thread reply when the incident already has a message here)."""
        c = self._channel
        assert c.token is not None
        body: dict[str, Any] = {
            "channel": c.slack_channel,
            **payload(notice, message_links(self._links, notice, c.name, now)),
        }
        parent = self.thread_ts(notice.thread) if notice.thread else None
        if parent is not None:
            body["thread_ts"] = parent
            if notice.kind is Kind.RESOLUTION:
                body["reply_broadcast"] = True  # the channel sees the all-clear too
        import httpx  # here, not at the top, so idle instances never load it

        try:
            response = self._http.client.post(
                f"{c.api_url}/chat.postMessage",
                json=body,
                headers={
                    "authorization": f"Bearer {c.token.reveal()}",
                    "x-heron-idempotency-key": key,
                },
                timeout=c.timeout_s,
            )
        except httpx.HTTPError as exc:
            return Outcome(False, redact(f"{type(exc).__name__}: {exc}"))
        try:
            answer: Any = response.json()
        except ValueError:
            answer = None
        outcome = classify_api(response.status_code, answer, response.headers.get("retry-after"))
        ts = answer.get("ts") if isinstance(answer, dict) else None
        if outcome.ok and notice.thread and parent is None and isinstance(ts, str):
            self._db.execute(
                "INSERT OR IGNORE INTO nt_slack_threads VALUES (?,?,?,?)",
                (c.name, notice.thread, ts, str(answer.get("channel") or c.slack_channel)),
            )
        return outcome

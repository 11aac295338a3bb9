"""Slack incoming webhooks: a Block Kit card with a severity colour bar, and Slack's error codes.

Slack answers ``200 ok`` or a plain-text error code. 429 carries ``Retry-After``; 5xx is worth
retrying; ``invalid_payload``, ``no_text`` and the like need a fixed payload, and
``invalid_token``, ``channel_not_found``, ``no_service``... a new webhook, so they are permanent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heron.monitor.notify.channels import Outcome
from heron.monitor.notify.config import Channel
from heron.monitor.notify.links import Linker, message_links
from heron.monitor.notify.model import Kind, Notice
from heron.monitor.notify.render import Links, facts, priority_label, subject, when
from heron.monitor.notify.secrets import redact

if TYPE_CHECKING:
    from heron.monitor.notify.channels.outbound import OutboundHttp

COLOURS = {"critical": "#D00000", "warning": "#F2A900", "info": "#439FE0"}
RESOLVED_COLOUR = "#2EB67D"
#: Block Kit limits (docs.slack.dev): header 150 chars, section text 3,000, 10 fields.
MAX_HEADER, MAX_TEXT, MAX_FIELDS, MAX_DIGEST_LINES = 150, 3000, 10, 25


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def payload(notice: Notice, links: Links = ()) -> dict[str, Any]:
    """The message body: fallback text, a header block, a coloured attachment of blocks, and
    URL buttons for the incident's signed action links."""
    colour = RESOLVED_COLOUR if notice.kind is Kind.RESOLUTION else COLOURS[notice.severity.value]
    title = subject(notice)
    prio = priority_label(notice.severity.value)
    inner: list[dict[str, Any]] = []
    if notice.recipient:
        inner.append(_section(f"*Paging {notice.recipient}*"))
    if notice.note:
        inner.append(_section(notice.note))
    if notice.kind is Kind.DIGEST:
        lines = [f"• *{a.alarm}* {a.state} since {when(a.at)}: {a.reason}" for a in notice.alerts]
        shown = lines[:MAX_DIGEST_LINES]
        if len(lines) > len(shown):
            shown.append(f"…and {len(lines) - len(shown)} more (see `heron notify inbox`/explain)")
        if shown:
            inner.append(_section(_cut("\n".join(shown), MAX_TEXT)))
        if notice.resolved:
            names = ", ".join(a.alarm for a in notice.resolved[:MAX_DIGEST_LINES])
            inner.append(_section(_cut(f"Fired and resolved meanwhile: {names}", MAX_TEXT)))
        inner.append({"type": "context", "elements": [_mrkdwn(f"*Priority:* {prio}")]})
    else:
        for alert in notice.alerts[:1]:
            fields = [
                _mrkdwn(_cut(f"*{name}*\n{value}", 2000))
                for name, value in [("Priority", prio), *facts(alert)]
            ]
            inner.append({"type": "section", "fields": fields[:MAX_FIELDS]})
            if alert.description:
                inner.append(
                    {
                        "type": "context",
                        "elements": [{"type": "mrkdwn", "text": _cut(alert.description, 2000)}],
                    }
                )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, MAX_HEADER)}}
    ]
    if links:
        # URL buttons open a confirmation page; nothing acts until its button is pressed.
        buttons = [
            {"type": "button", "text": {"type": "plain_text", "text": label}, "url": url,
             "action_id": f"heron-{i}"}
            for i, (label, url) in enumerate(links)
        ]  # fmt: skip
        blocks.append({"type": "actions", "elements": buttons})
    return {
        "text": _cut(title, MAX_TEXT),
        "blocks": blocks,
        "attachments": [{"color": colour, "blocks": inner or [_section(title)]}],
    }


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, MAX_TEXT)}}


def classify(status: int, body: str, retry_after: str | None) -> Outcome:
    """Slack's answer as an Outcome."""
    code = body.strip()[:200]
    if 200 <= status < 300:
        return Outcome(True, status=status)
    if status == 429:
        try:
            wait = float(retry_after) if retry_after is not None else 1.0
        except ValueError:
            wait = 1.0
        return Outcome(False, code or "rate_limited", retry_after=wait, status=status)
    if status >= 500 or status == 408:
        return Outcome(False, code or "server error", status=status)
    # 4xx: a payload to fix or a webhook to re-provision; retrying the same request cannot help.
    return Outcome(False, code or "client error", permanent=True, status=status)


class SlackSender:
    """Posts notices to one incoming webhook (see ``slack_api.SlackApiSender`` for bot tokens)."""

    def __init__(self, channel: Channel, client: OutboundHttp, links: Linker | None = None) -> None:
        assert channel.url is not None
        self._channel = channel
        self._http = client
        self._links = links

    def send(self, notice: Notice, key: str, now: float) -> Outcome:
        """POST the card; transport errors are retryable Outcomes (never raised)."""
        assert self._channel.url is not None
        body = payload(notice, message_links(self._links, notice, self._channel.name, now))
        import httpx  # here, not at the top, so idle instances never load it

        try:
            response = self._http.client.post(
                self._channel.url.reveal(),
                json=body,
                headers={"x-heron-idempotency-key": key},
                timeout=self._channel.timeout_s,
            )
        except httpx.HTTPError as exc:
            return Outcome(False, redact(f"{type(exc).__name__}: {exc}"))
        return classify(response.status_code, response.text, response.headers.get("retry-after"))

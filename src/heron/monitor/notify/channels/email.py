"""Email over SMTP: text and HTML parts, a ``[CRITICAL]``/``[WARNING]`` subject, threading.

Every message of an incident carries ``References: <incident thread>``; the first alert uses the
thread id as its Message-ID, and later ones (the resolution) reply to it with ``In-Reply-To``, so
mail clients show one conversation. SMTP 4xx replies and connection failures are retried; 5xx
replies (a rejected recipient, a refused message) are permanent.
"""

from __future__ import annotations

import hashlib
import html
import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formatdate

from heron.monitor.notify.channels import Outcome
from heron.monitor.notify.config import Channel
from heron.monitor.notify.links import Linker, message_links
from heron.monitor.notify.model import Kind, Notice
from heron.monitor.notify.render import Links, facts, priority, priority_label, subject, text, when
from heron.monitor.notify.secrets import redact

_COLOURS = {"critical": "#D00000", "warning": "#F2A900", "info": "#439FE0"}
#: Priority headers mail clients understand: Outlook's ``Importance``, the older ``X-Priority``
#: (1 highest, 3 normal, 5 lowest) and RFC 2156's ``Priority``.
PRIORITY_HEADERS = {
    "high": {"Importance": "High", "X-Priority": "1 (Highest)", "Priority": "urgent"},
    "normal": {"Importance": "Normal", "X-Priority": "3 (Normal)", "Priority": "normal"},
    "low": {"Importance": "Low", "X-Priority": "5 (Lowest)", "Priority": "non-urgent"},
}


def message_id(key: str) -> str:
    """A stable Message-ID for an idempotency key (a re-send is recognisably the same mail)."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@heron>"


def build(
    channel: Channel, notice: Notice, key: str, now: float, links: Links = ()
) -> EmailMessage:
    """The MIME message for ``notice``, with the incident's signed action links when given."""
    msg = EmailMessage()
    msg["Subject"] = subject(notice)
    msg["From"] = channel.sender
    msg["To"] = ", ".join(channel.to)
    msg["Date"] = format_datetime(datetime.fromtimestamp(now, UTC)) if now else formatdate()
    root = f"<{notice.thread}>" if notice.thread else ""
    first = notice.kind is Kind.ALERT or (notice.kind is Kind.PAGE and not notice.note)
    if root and first:
        msg["Message-ID"] = root
    else:
        msg["Message-ID"] = message_id(key)
        if root:
            msg["In-Reply-To"] = root
            msg["References"] = root
    msg["X-Heron-Idempotency-Key"] = key
    msg["X-Heron-Severity"] = notice.severity.value
    for header, value in PRIORITY_HEADERS[priority(notice.severity.value)].items():
        msg[header] = value
    msg.set_content(text(notice, links))
    msg.add_alternative(_html(notice, links), subtype="html")
    return msg


def _html(notice: Notice, links: Links = ()) -> str:
    colour = "#2EB67D" if notice.kind is Kind.RESOLUTION else _COLOURS[notice.severity.value]
    e = html.escape
    parts = [
        f'<div style="border-left:6px solid {colour};padding:8px 12px;font-family:sans-serif">',
        f"<h2>{e(subject(notice))}</h2>",
    ]
    parts.append(f"<p>Priority: <b>{priority_label(notice.severity.value)}</b></p>")
    if notice.recipient:
        parts.append(f"<p><b>Paging {e(notice.recipient)}</b></p>")
    if notice.note:
        parts.append(f"<p>{e(notice.note)}</p>")
    if notice.kind is Kind.DIGEST:
        items = "".join(
            f"<li><b>{e(a.alarm)}</b> {e(a.state)} since {when(a.at)}: {e(a.reason)}</li>"
            for a in notice.alerts
        )
        parts.append(f"<ul>{items}</ul>")
        if notice.resolved:
            done = "".join(f"<li>{e(a.alarm)}</li>" for a in notice.resolved)
            parts.append(f"<p>Fired and resolved meanwhile:</p><ul>{done}</ul>")
    else:
        for alert in notice.alerts:
            rows = "".join(
                f"<tr><th align='left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in facts(alert)
            )
            parts.append(f"<table>{rows}</table>")
    if links:
        anchors = " | ".join(f'<a href="{e(url)}">{e(label)}</a>' for label, url in links)
        parts.append(f"<p>{anchors}</p>")
    parts.append("</div>")
    return "\n".join(parts)


class EmailSender:
    """Sends notices through one SMTP server."""

    def __init__(
        self,
        channel: Channel,
        links: Linker | None = None,
        *,
        json_body: Callable[[Notice, str, float], str] | None = None,
    ) -> None:
        """``json_body`` makes an ``email-json`` sender: that text is the whole (plain) body."""
        self._channel = channel
        self._links = links
        self._json_body = json_body

    def send(self, notice: Notice, key: str, now: float) -> Outcome:
        """Deliver by SMTP; failures are Outcomes, with SMTP 5xx permanent."""
        c = self._channel
        msg = build(c, notice, key, now, message_links(self._links, notice, c.name, now))
        if self._json_body is not None:  # SNS's email-json: the notification JSON, no HTML
            msg.clear_content()
            msg.set_content(self._json_body(notice, key, now))
        try:
            with smtplib.SMTP(c.host, c.port, timeout=c.timeout_s) as smtp:
                if c.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if c.user and c.password is not None:
                    smtp.login(c.user, c.password.reveal())
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = redact(f"recipients refused: {exc.recipients}")
            return Outcome(False, detail, permanent=all(c >= 500 for c in codes), status=codes[0])
        except smtplib.SMTPResponseException as exc:
            detail = redact(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}")
            return Outcome(False, detail, permanent=exc.smtp_code >= 500, status=exc.smtp_code)
        except (OSError, smtplib.SMTPException) as exc:
            return Outcome(False, redact(f"{type(exc).__name__}: {exc}"))
        if refused:
            return Outcome(True, redact(f"some recipients refused: {sorted(refused)}"), status=250)
        return Outcome(True, status=250)

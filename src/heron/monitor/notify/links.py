"""Signed acknowledge / resolve / snooze links for Slack and email messages.

A link names an incident, an action, who it was sent to, the snooze length and an expiry, and
carries an HMAC-SHA256 of those fields made with a per-instance key (random, created once in the
data directory with mode 0600, never logged). Opening the link (GET) only shows a confirmation
page; the page's button POSTs, so link prefetchers and chat unfurlers never act on an incident.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from heron.monitor.notify.model import Notice
from heron.monitor.notify.routing import stamp

#: The actions a link can perform.
ACTIONS = ("ack", "resolve", "snooze")
#: The key file, beside notify.db.
KEY_FILE = "notify-links.key"
_LABELS = {"ack": "Acknowledge", "resolve": "Resolve", "snooze": "Snooze"}


def load_or_create_key(data_dir: Path) -> bytes:
    """The instance's link-signing key, created (0600) on first use."""
    path = data_dir / KEY_FILE
    for _ in range(2):
        with contextlib.suppress(FileNotFoundError):
            text = path.read_text().strip()
            if len(text) >= 64:
                return bytes.fromhex(text)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it meanwhile: read theirs
            continue
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
    return bytes.fromhex(path.read_text().strip())


@dataclass(frozen=True, slots=True)
class LinkRequest:
    """What a link asks for; every field is covered by the signature."""

    incident: int
    action: str
    expires: int
    by: str = ""
    minutes: int = 0

    def payload(self) -> bytes:
        """The signed bytes."""
        fields = (str(self.incident), self.action, str(self.minutes), str(self.expires), self.by)
        return "\n".join(fields).encode()

    def describe(self) -> str:
        """``acknowledge incident #4`` and the like."""
        verb = {"ack": "acknowledge", "resolve": "resolve", "snooze": "snooze"}[self.action]
        extra = f" for {self.minutes} minutes" if self.action == "snooze" else ""
        return f"{verb} incident #{self.incident}{extra}"


def sign(key: bytes, request: LinkRequest) -> str:
    """The request's HMAC-SHA256 signature (hex)."""
    return hmac.new(key, request.payload(), hashlib.sha256).hexdigest()


def check(key: bytes, request: LinkRequest, signature: str, now: float) -> str | None:
    """None when the link may act now, else why not (forged, altered or expired)."""
    if request.action not in ACTIONS:
        return f"unknown action {request.action!r}"
    if not hmac.compare_digest(sign(key, request), signature):
        return (
            "the link's signature does not match: it was altered, or it was not issued by "
            "this Heron instance"
        )
    if now >= request.expires:
        return f"the link expired at {stamp(request.expires)}; use `heron notify` instead"
    return None


def parse(incident: str, action: str, query: Mapping[str, str]) -> tuple[LinkRequest, str] | str:
    """``(request, signature)`` from a link's path and query, or what is malformed."""
    try:
        ident, expires = int(incident), int(query.get("e", ""))
        minutes = int(query.get("m", "0"))
    except ValueError:
        return "the link is incomplete or malformed (incident, expiry or minutes)"
    signature = query.get("sig", "")
    if not signature:
        return "the link carries no signature"
    return LinkRequest(ident, action, expires, query.get("by", ""), minutes), signature


@dataclass(frozen=True, slots=True)
class Linker:
    """Makes signed links under ``base_url`` that stay valid for ``expiry_s``."""

    key: bytes = field(repr=False)
    base_url: str
    expiry_s: float = 86400.0
    snooze_min: int = 60

    def url(self, incident: int, action: str, by: str, now: float) -> str:
        """One signed link."""
        minutes = self.snooze_min if action == "snooze" else 0
        request = LinkRequest(incident, action, int(now + self.expiry_s), by, minutes)
        query = {"by": by, "m": str(minutes), "e": str(request.expires)}
        query["sig"] = sign(self.key, request)
        return f"{self.base_url}/notify/link/{incident}/{action}?{urlencode(query)}"

    def links(self, incident: int | None, by: str, now: float) -> tuple[tuple[str, str], ...]:
        """(label, url) for each action on ``incident`` (none without an incident)."""
        if incident is None:
            return ()
        out = []
        for action in ACTIONS:
            label = _LABELS[action]
            if action == "snooze":
                label += f" {self.snooze_min} min"
            out.append((label, self.url(incident, action, by, now)))
        return tuple(out)


#: Notice kinds whose messages carry action links (they announce an open incident).
LINKED_KINDS = ("alert", "page", "flapping")


def notice_links(
    linker: Linker | None, kind: str, incident: int | None, by: str, now: float
) -> tuple[tuple[str, str], ...]:
    """The links one message gets: none without a linker, an incident, or for other kinds."""
    if linker is None or kind not in LINKED_KINDS:
        return ()
    return linker.links(incident, by, now)


def message_links(
    linker: Linker | None, notice: Notice, channel: str, now: float
) -> tuple[tuple[str, str], ...]:
    """The signed links a message about ``notice`` carries (signed for its recipient/channel)."""
    incident = notice.alerts[0].incident if len(notice.alerts) == 1 else None
    return notice_links(linker, notice.kind.value, incident, notice.recipient or channel, now)

"""Identifiers and timestamps written the way API Gateway writes them.

Request ids, connection ids and message ids on AWS look like ``"LV7fzho-PHcEJPw="``: 16 characters
of URL-safe base64 ending in ``=``. Handlers use connection ids in @connections URLs, so the
URL-safe alphabet matters (no ``/``), and the trailing ``=`` is kept so clients that URL-encode it
(``%3D``) exercise the same code path as on AWS.
"""

from __future__ import annotations

import base64
import os
import time

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def new_id() -> str:
    """Return a fresh AWS-style opaque id (16 characters of URL-safe base64, ``=``-terminated)."""
    # 11 random bytes encode to 15 characters plus one "=" of padding: the AWS shape exactly.
    return base64.urlsafe_b64encode(os.urandom(11)).decode("ascii")


def clf_time(epoch_s: float) -> str:
    """Format a time as Common Log Format, as in ``requestContext.time``: ``12/Mar/2020:19:03:58 +0000``."""
    t = time.gmtime(epoch_s)
    # strftime's %b follows the process locale; API Gateway always writes English month names.
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year:04d}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def iso_time(epoch_s: float, *, millis: bool = False) -> str:
    """Format a time as ISO-8601 UTC with a ``Z`` suffix (``2024-03-14T12:00:00Z``)."""
    t = time.gmtime(epoch_s)
    base = (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    )
    if millis:
        return f"{base}.{int(epoch_s * 1000) % 1000:03d}Z"
    return base + "Z"


def epoch_ms(epoch_s: float) -> int:
    """Convert seconds since the epoch to whole milliseconds, as in ``timeEpoch``."""
    return int(epoch_s * 1000)

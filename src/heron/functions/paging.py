"""Page sizes and opaque cursors for list endpoints.

A cursor is the base64url of the JSON ``LastEvaluatedKey`` of the previous page. It is opaque to
clients but not trusted: ``decode_cursor`` checks that it points into the partition being read,
so a cursor can never be used to read someone else's items.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from heron.functions.http import BadRequest
from heron.types import Key

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
#: Longest cursor accepted; real ones are a few hundred characters.
MAX_CURSOR_CHARS = 2048


def parse_limit(raw: str | None) -> int:
    """The ``?limit=`` value: 1-100, default 50; anything else is a 400 naming ``limit``."""
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or len(raw) > 4:
        raise BadRequest("limit must be an integer from 1 to 100", field="limit")
    limit = int(raw)
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest("limit must be an integer from 1 to 100", field="limit")
    return limit


def encode_cursor(last_key: Key | None) -> str | None:
    """The cursor for the page after ``last_key`` (None when there is no next page)."""
    if last_key is None:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(
    raw: str | None, expected: Mapping[str, Any], allowed: frozenset[str]
) -> Key | None:
    """The start key a cursor encodes; refused unless it names exactly the ``allowed`` key
    attributes, all non-empty strings, and agrees with every ``expected`` one."""
    if raw is None or raw == "":
        return None
    refusal = BadRequest("cursor is not valid for this request", field="cursor")
    if len(raw) > MAX_CURSOR_CHARS or not raw.isascii():
        raise refusal
    try:
        padded = raw + "=" * (-len(raw) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (binascii.Error, ValueError, RecursionError):
        # RecursionError: 2 KB of "[" decodes to JSON nested past Python's recursion limit.
        raise refusal from None
    if not isinstance(key, dict) or set(key) != allowed:
        raise refusal
    # Every key attribute of Heron's tables is a string; anything else is forged.
    if any(not isinstance(v, str) or not v for v in key.values()):
        raise refusal
    if any(key.get(name) != value for name, value in expected.items()):
        raise refusal
    return key

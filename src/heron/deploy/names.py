"""CloudFormation naming rules: logical ids, and the name limits AWS enforces per resource type.

Every check raises ``DeployError`` with the offending name, its kind and the rule, so a bad name
is reported before anything is uploaded or created.
"""

from __future__ import annotations

import re

from heron.errors import HeronError


class DeployError(HeronError):
    """A template or deployment that cannot work; the message says what and why."""


#: kind -> (pattern, maximum length, the rule in words).
_RULES: dict[str, tuple[str, int, str]] = {
    "logical id": (r"[A-Za-z0-9]+", 255, "letters and digits only"),
    "stack name": (r"[A-Za-z][-A-Za-z0-9]*", 128, "a letter, then letters, digits and '-'"),
    "stage name": (r"[A-Za-z0-9_-]+", 128, "letters, digits, '-' and '_'"),
    "function name": (r"[A-Za-z0-9_-]+", 64, "letters, digits, '-' and '_'"),
    "table name": (r"[A-Za-z0-9_.-]{3,}", 255, "3 or more of letters, digits, '_', '-', '.'"),
    "topic name": (r"[A-Za-z0-9_-]+", 256, "letters, digits, '-' and '_'"),
    "alarm name": (r"[^\x00-\x1f]+", 255, "printable characters"),
    "log group name": (r"[.\-_/#A-Za-z0-9]+", 512, "letters, digits and . - _ / #"),
    "dashboard name": (r"[A-Za-z0-9_-]+", 255, "letters, digits, '-' and '_'"),
    "metric filter name": (r"[^:*]+", 512, "no ':' or '*'"),
}


def check_name(kind: str, name: str) -> str:
    """Return ``name`` if it is a valid ``kind`` name, else raise DeployError saying why."""
    pattern, limit, rule = _RULES[kind]
    if not isinstance(name, str) or not name:
        raise DeployError(f"{kind} must not be empty")
    if len(name) > limit:
        raise DeployError(
            f"{kind} {name!r} is {len(name)} characters; CloudFormation allows {limit}"
        )
    if not re.fullmatch(pattern, name):
        raise DeployError(f"{kind} {name!r} is not allowed: use {rule}")
    return name


def logical_id(*parts: str) -> str:
    """A CloudFormation logical id from name parts: ``("get-user", "Role")`` -> ``GetUserRole``."""
    words = [w for part in parts for w in re.split(r"[^A-Za-z0-9]+", part) if w]
    out = "".join(w[0].upper() + w[1:] for w in words)
    return check_name("logical id", out)

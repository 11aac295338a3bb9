"""API tokens: minting, hashing, and resolving a presented token to its user with one GetItem.

A token is shown to its owner once, at sign-up. Only its SHA-256 is stored, twice: as ``tokenHash``
on the user item, and as the key of a guard item ``{"userId": "TOKEN#<sha256>", "ownerId": ...}``
in the Users table, so the authorizer resolves a token with a single read and deleting the user
(which deletes the guard in the same transaction) revokes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from heron.tables.base import Table

TOKEN_PREFIX = "TOKEN#"
USERNAME_PREFIX = "USERNAME#"
#: Longest token accepted for hashing; ours are 43 characters, anything far longer is junk.
MAX_TOKEN_CHARS = 512


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid token belongs to."""

    user_id: str
    username: str


# hashlib and secrets are imported where they are used: they load OpenSSL's libcrypto, 3.7 MiB
# of RSS in every execution environment that imports this module, and most of them (getUser,
# updateUser) never hash a token.


def mint_token() -> str:
    """A new random API token (256 bits, URL-safe)."""
    import secrets

    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest a token is stored as."""
    import hashlib

    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_key(digest: str) -> dict[str, str]:
    """The Users-table key of the guard item for a token digest."""
    return {"userId": TOKEN_PREFIX + digest}


def username_key(username: str) -> dict[str, str]:
    """The Users-table key of the guard item reserving a username."""
    return {"userId": USERNAME_PREFIX + username}


def bearer_token(value: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value, or None when it is not one."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def authenticate(users: Table, token: str | None) -> Principal | None:
    """Resolve ``token`` to its owner, or None when it is missing, malformed, unknown or revoked."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    guard = users.get(token_key(token_hash(token)), consistent=True)
    if guard is None:
        return None
    owner, username = guard.get("ownerId"), guard.get("username")
    if not isinstance(owner, str) or not isinstance(username, str):
        return None
    return Principal(user_id=owner, username=username)

"""The user handlers: sign up (createUser), read (getUser), edit (updateUser), delete (deleteUser).

Sign-up writes three items in one transaction: the user, a ``USERNAME#<name>`` guard that makes
the username unique, and a ``TOKEN#<sha256>`` guard the authorizer reads. Edits are optimistic:
every user item carries ``version``, and an update only applies if the version is still the one
it read (or the one the client asserted with ``If-Match`` or ``"version"``), so a concurrent edit
is refused with 409/412 instead of being silently overwritten.
"""

from __future__ import annotations

import re
from typing import Any

from heron.errors import ConditionFailedError, GoneError, TransactionCanceledError
from heron.functions import deps
from heron.functions.auth import mint_token, token_hash, token_key, username_key
from heron.functions.connections_client import ConnectionsApiError
from heron.functions.http import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    caller_id,
    header,
    json_body,
    json_response,
    path_param,
    reject_unknown_fields,
)
from heron.functions.instrument import add_secret, bind, instrumented
from heron.functions.records import (
    failed_condition,
    is_user_id,
    iso_timestamp,
    new_id,
    private_view,
    public_profile,
)
from heron.tables.base import WriteOp, all_of, attribute_exists, attribute_not_exists, equals
from heron.types import Event, Item

USERNAME = re.compile(r"^[a-z0-9_.-]{3,32}$")
MAX_DISPLAY_NAME = 64
MAX_EMAIL = 254
CREATE_FIELDS = frozenset({"username", "displayName", "email"})
UPDATE_FIELDS = frozenset({"displayName", "email", "version"})


def validate_username(value: Any) -> str:
    """A username: 3-32 characters of ``a-z 0-9 _ . -``."""
    if not isinstance(value, str) or USERNAME.match(value) is None:
        raise BadRequest(
            "username must be 3-32 characters of a-z, 0-9, '_', '.' or '-'", field="username"
        )
    return value


def validate_display_name(value: Any) -> str:
    """A display name: 1-64 characters after trimming, no control characters."""
    if not isinstance(value, str):
        raise BadRequest("displayName must be a string", field="displayName")
    trimmed = value.strip()
    if not 1 <= len(trimmed) <= MAX_DISPLAY_NAME:
        raise BadRequest("displayName must be 1-64 characters", field="displayName")
    if any(not ch.isprintable() for ch in trimmed) or _has_surrogates(trimmed):
        raise BadRequest("displayName must not contain control characters", field="displayName")
    return trimmed


def validate_email(value: Any) -> str:
    """An email address, syntax-checked and normalized (no DNS lookups)."""
    if not isinstance(value, str) or not value or len(value) > MAX_EMAIL or _has_surrogates(value):
        raise BadRequest("email must be a valid email address", field="email")
    # Imported here: only sign-up and edits pay its import time, not every user handler.
    import email_validator

    try:
        result = email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise BadRequest(f"email is not valid: {exc}", field="email") from None
    return str(result.normalized)


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _target_user(event: Event) -> str:
    user_id = path_param(event, "userId")
    if not is_user_id(user_id):
        raise NotFound("No such user", field="userId")
    return user_id


def _require_self(event: Event) -> str:
    caller = caller_id(event)
    target = _target_user(event)
    if caller != target:
        raise Forbidden("You can only change your own user", field="userId")
    return caller


def _etag(version: int) -> str:
    return f'"{version}"'


@instrumented("user_created")
def create_user(event: Event, context: Any) -> dict[str, Any]:
    """POST /users: open sign-up; returns the user and its API token (shown only this once)."""
    body = json_body(event)
    reject_unknown_fields(body, CREATE_FIELDS)
    username = validate_username(body.get("username"))
    display_name = validate_display_name(body.get("displayName"))
    email = validate_email(body.get("email"))

    now = deps.clock()()
    user_id, token = new_id(), mint_token()
    add_secret(token)
    digest = token_hash(token)
    stamp = iso_timestamp(now)
    user: Item = {
        "userId": user_id,
        "username": username,
        "displayName": display_name,
        "email": email,
        "createdAt": stamp,
        "updatedAt": stamp,
        "version": 1,
        "tokenHash": digest,
    }
    users = deps.names().users
    absent = attribute_not_exists("userId")
    try:
        deps.database().transact_write(
            [
                WriteOp("put", users, item=user, condition=absent),
                WriteOp(
                    "put",
                    users,
                    item={**username_key(username), "ownerId": user_id},
                    condition=absent,
                ),
                WriteOp(
                    "put",
                    users,
                    item={**token_key(digest), "ownerId": user_id, "username": username},
                    condition=absent,
                ),
            ]
        )
    except TransactionCanceledError as exc:
        if failed_condition(exc, 1):
            raise Conflict(
                f"username {username} is taken", field="username", code="UsernameTaken"
            ) from None
        raise
    bind(user_id=user_id)
    return json_response(
        201,
        {"user": private_view(user), "token": token},
        {"location": f"/users/{user_id}", "etag": _etag(1)},
    )


@instrumented("user_fetched")
def get_user(event: Event, context: Any) -> dict[str, Any]:
    """GET /users/{userId}: your own record in full, anyone else's public profile."""
    caller = caller_id(event)
    target = _target_user(event)
    own = caller == target
    item = deps.users().get({"userId": target}, consistent=own)
    if item is None or "username" not in item:
        raise NotFound("No such user", field="userId")
    if own:
        return json_response(200, private_view(item), {"etag": _etag(int(item["version"]))})
    return json_response(200, public_profile(item))


def _asserted_version(event: Event, body: dict[str, Any]) -> tuple[int | None, bool]:
    """The version the client says it read, and whether it came from If-Match (412 vs 409)."""
    raw_header = header(event, "if-match")
    from_header: int | None = None
    if raw_header is not None:
        text = raw_header.strip().removeprefix("W/").strip('"')
        if not text.isascii() or not text.isdigit() or len(text) > 18:
            raise BadRequest('If-Match must be the user\'s version, e.g. "3"', field="If-Match")
        from_header = int(text)
    from_body: int | None = None
    if "version" in body:
        value = body["version"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BadRequest("version must be a positive integer", field="version")
        from_body = value
    if from_header is not None and from_body is not None and from_header != from_body:
        raise BadRequest("If-Match and version disagree", field="version")
    if from_header is not None:
        return from_header, True
    return from_body, False


@instrumented("user_updated")
def update_user(event: Event, context: Any) -> dict[str, Any]:
    """PUT/PATCH /users/{userId}: change your displayName and/or email, never losing an update."""
    user_id = _require_self(event)
    body = json_body(event)
    reject_unknown_fields(body, UPDATE_FIELDS)
    changes: dict[str, Any] = {}
    if "displayName" in body:
        changes["displayName"] = validate_display_name(body["displayName"])
    if "email" in body:
        changes["email"] = validate_email(body["email"])
    if not changes:
        raise BadRequest("Nothing to update: send displayName and/or email", field="displayName")
    asserted, via_header = _asserted_version(event, body)
    stale: type[Conflict] | type[PreconditionFailed] = (
        PreconditionFailed if via_header else Conflict
    )

    users = deps.users()
    current = users.get({"userId": user_id}, consistent=True)
    if current is None or "username" not in current:
        raise NotFound("No such user", field="userId")
    version = int(current["version"])
    if asserted is not None and asserted != version:
        raise stale(
            f"user is at version {version}, not {asserted}", field="version", code="VersionConflict"
        )
    changes["version"] = version + 1
    changes["updatedAt"] = iso_timestamp(deps.clock()())
    try:
        updated = users.update(
            {"userId": user_id},
            changes,
            condition=all_of(attribute_exists("userId"), equals("version", version)),
        )
    except ConditionFailedError:
        # Someone else's update landed between our read and our write; theirs wins, ours is refused.
        raise stale(
            "user was changed concurrently; read it again and retry",
            field="version",
            code="VersionConflict",
        ) from None
    return json_response(200, private_view(updated), {"etag": _etag(int(updated["version"]))})


@instrumented("user_deleted")
def delete_user(event: Event, context: Any) -> dict[str, Any]:
    """DELETE /users/{userId}: delete yourself, revoke your token and close your sockets."""
    user_id = _require_self(event)
    current = deps.users().get({"userId": user_id}, consistent=True)
    if current is None or "username" not in current:
        raise NotFound("No such user", field="userId")
    users = deps.names().users
    try:
        deps.database().transact_write(
            [
                WriteOp(
                    "delete",
                    users,
                    key={"userId": user_id},
                    condition=equals("version", current["version"]),
                ),
                WriteOp("delete", users, key=username_key(str(current["username"]))),
                WriteOp("delete", users, key=token_key(str(current["tokenHash"]))),
            ]
        )
    except TransactionCanceledError as exc:
        if failed_condition(exc, 0):
            raise Conflict(
                "user was changed concurrently; retry", field="userId", code="VersionConflict"
            ) from None
        raise
    closed = close_connections(user_id)
    bind(closedConnections=closed)
    return json_response(204)


def close_connections(user_id: str) -> int:
    """Close every open socket of ``user_id`` and drop its Connections items; return how many."""
    table = deps.connection_records()
    client = deps.connections()
    closed = 0
    start: dict[str, Any] | None = None
    while True:
        page = table.query(user_id, index="userId-index", start_key=start)
        for item in page.items:
            connection_id = str(item["connectionId"])
            try:
                client.delete_connection(connection_id)
                closed += 1
            except GoneError:
                pass
            except (ConnectionsApiError, OSError):
                # The record goes regardless: the socket's user no longer exists, and the
                # gateway drops sockets at their 2-hour limit anyway.
                pass
            table.delete({"connectionId": connection_id})
        if page.last_key is None:
            return closed
        start = page.last_key

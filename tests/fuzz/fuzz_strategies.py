"""Hypothesis strategies for requests, sockets and frames, with placeholders for live values.

Tokens, user ids and notification ids only exist once the world is built, so strategies draw
``Ref("alice.token")``-style placeholders that ``fuzz_plans.Resolver`` fills in per example.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any, NamedTuple

from hypothesis import strategies as st


class Ref(NamedTuple):
    """A live value: ``<user>.id``, ``.token``, ``.bearer``, ``.notification`` or ``.version``."""

    name: str


@dataclass(frozen=True)
class Cursor:
    """A ``?cursor=`` made the way the handlers make them: base64url of a JSON value.

    ``raw`` cursors encode ``value`` (a str) as is, for text that is not JSON at all.
    """

    value: Any
    padded: bool
    raw: bool = False


@dataclass(frozen=True)
class JsonBody:
    """A body that is ``value`` as JSON (``ascii`` escapes non-ASCII, else raw UTF-8 bytes)."""

    value: Any
    ascii: bool


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Draw from one of ``choices`` with the given weights (``one_of`` drops repeated branches)."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda index: table[index])


USERS = ("alice", "bob")
user_ids = st.sampled_from([Ref(f"{u}.id") for u in USERS])
tokens = st.sampled_from([Ref(f"{u}.token") for u in USERS])
bearers = st.sampled_from([Ref(f"{u}.bearer") for u in USERS])
notification_refs = st.sampled_from([Ref(f"{u}.notification") for u in USERS])
hex_ids = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)

#: Any code point, lone surrogates included (JSON can carry them as ``\ud800`` escapes).
any_char = st.one_of(st.characters(), st.characters(categories=["Cs"]))
weird_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=any_char, max_size=30),
    st.sampled_from(["", " ", "\t\n", "\x00", "\u202e", "\ufeff", "\ud800", "a\udfffb", "😀" * 3]),
)
huge_text = st.builds(
    lambda char, size: char * size,
    st.sampled_from(["x", "é", "😀", " ", "\x00", "9"]),
    st.sampled_from([33, 65, 101, 4001, 40_000, 300_000]),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 1, 2**31, 2**63, 2**64 + 1, -(2**70)]),
    st.floats(allow_nan=True, allow_infinity=True),
    weird_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
#: Nesting deep enough to hit Python's recursion limit in a naive parser.
deep_json = st.builds(
    lambda opener, depth: opener * depth,
    st.sampled_from(["[", '{"a":']),
    st.sampled_from([50, 999, 1100, 1500, 5000]),
)

usernames = st.from_regex(r"[a-z0-9_.\-]{3,32}", fullmatch=True)
emails = st.one_of(
    st.emails(),
    st.sampled_from(["a@b", "@x.com", "x@", "a@b..com", "ü@ü.de", "a@[127.0.0.1]", "a b@c.de"]),
)
versions = st.one_of(st.integers(min_value=-2, max_value=5), st.just(Ref("alice.version")))
visible_chars = st.characters(categories=["L", "N", "P", "S", "Zs"])
client_ids = st.one_of(
    st.text(alphabet=visible_chars, min_size=1, max_size=64),
    st.sampled_from(["id-1", "#", "x" * 64]),
)
actions = weighted(
    (4, st.just("sendMessage")), (1, json_values), (1, st.sampled_from(["$connect", "$default"]))
)


def field_values(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's value: mostly plausible, often the wrong type, length or Unicode."""
    wrong = st.one_of(json_values, weird_text, huge_text, user_ids, tokens)
    return weighted((3, valid), (1, wrong))


FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "username": field_values(usernames),
    "displayName": field_values(st.text(alphabet=visible_chars, min_size=1, max_size=70)),
    "email": field_values(emails),
    "version": field_values(versions),
    "to": field_values(st.one_of(user_ids, hex_ids)),
    "text": field_values(st.text(min_size=1, max_size=60)),
    "clientMessageId": field_values(client_ids),
    "action": actions,
}


def shaped_objects(fields: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects with the route's field names (some missing) and sometimes unknown ones."""
    complete = st.fixed_dictionaries({name: FIELDS[name] for name in fields})
    partial = st.fixed_dictionaries({}, optional={name: FIELDS[name] for name in fields})
    extra = st.dictionaries(st.text(max_size=10), json_values, max_size=2)
    with_extra = st.builds(lambda a, b: {**b, **a}, partial, extra)
    return weighted((3, complete), (2, partial), (1, with_extra))


def bodies(fields: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """Request bodies: nothing, random bytes, any JSON, route-shaped JSON, huge or deep text."""
    json_bodies = st.builds(JsonBody, st.one_of(json_values, shaped_objects(fields)), st.booleans())
    shaped = st.builds(JsonBody, shaped_objects(fields), st.booleans())
    return weighted(
        (1, st.none()),
        (1, st.binary(max_size=300)),
        (1, json_bodies),
        (5, shaped),
        (1, deep_json.map(str.encode)),
        (1, st.sampled_from([b"\xff\xfe{", b'{"text": "\\ud800"}', b"null", b"[]", b"{}", b" \n"])),
        (1, st.just(b'{"username": "' + b"a" * 300_000 + b'"}')),
    )


content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "text/plain",
            "application/octet-stream",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/vnd.api+json",
        ]
    ),
    st.text(alphabet=string.printable.strip(), max_size=20),
)
header_names = st.one_of(
    st.sampled_from(
        [
            "Content-Type",
            "if-match",
            "cookie",
            "user-agent",
            "x-forwarded-for",
            "x-forwarded-proto",
            "host",
            "x-heron-management-key",
            "origin",
            "accept",
        ]
    ),
    # RFC 9110 token characters: what a real HTTP server lets through as a header name.
    st.text(
        alphabet=string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~", min_size=1, max_size=24
    ),
)
#: Field values a server accepts: visible ASCII, space, tab and obs-text (0x80-0xFF).
header_texts = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=60,
)
authorizations = st.one_of(
    bearers,
    tokens,
    st.builds(lambda t: f"Bearer {t}", st.text(alphabet=string.ascii_letters + "-_", max_size=50)),
    st.sampled_from(
        ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer  x", "Bearer " + "a" * 600]
    ),
    header_texts,
)
if_matches = st.one_of(
    st.just(Ref("alice.version")),
    st.sampled_from(['"1"', 'W/"2"', "*", '"0"', '"999999999999999999999"', "\u00b9", '"-1"']),
    header_texts,
)


def headers(*, content_type: bool = True) -> st.SearchStrategy[list[tuple[str, Any]]]:
    """A header list: random names and values, and usually Authorization and Content-Type.

    Mostly a live user's bearer token, so requests get past the authorizer to the handlers.
    """
    random_headers = st.lists(st.tuples(header_names, header_texts), max_size=3)
    auth = weighted((6, bearers), (1, st.none()), (2, authorizations))
    ctype = weighted((1, st.none()), (2, st.just("application/json")), (1, content_types))
    if_match = weighted((2, st.none()), (1, if_matches))

    def assemble(
        extra: list[tuple[str, Any]], authorization: Any, kind: Any, match: Any
    ) -> list[tuple[str, Any]]:
        named = [("authorization", authorization), ("if-match", match)]
        if content_type:
            named.append(("content-type", kind))
        return [*extra, *((name, value) for name, value in named if value is not None)]

    return st.builds(assemble, random_headers, auth, ctype, if_match)


odd_segments = st.one_of(
    st.text(max_size=20),
    st.text(alphabet="%/.~-_+ {}#?", max_size=8),
    st.sampled_from(
        ["", ".", "..", "%2F", "%00", "%ZZ", "USERNAME%23alice", "TOKEN%23x", "%40connections"]
    ),
)
#: A ``{userId}`` path parameter: mostly a live user's id, else any id or odd text.
user_segments = weighted((4, user_ids), (1, hex_ids), (1, notification_refs), (2, odd_segments))
#: A ``{notificationId}`` path parameter.
notification_segments = weighted((4, notification_refs), (1, hex_ids), (2, odd_segments))
path_segments = st.one_of(user_ids, hex_ids, notification_refs, odd_segments)
cursor_keys = st.fixed_dictionaries(
    {},
    optional={
        "userId": st.one_of(user_ids, weird_text),
        "sk": st.one_of(notification_refs, weird_text),
        "unreadUserId": st.one_of(user_ids, weird_text),
        "conversationId": st.one_of(st.just("DM#a#b"), weird_text),
    },
)
#: Within the handlers' 2,048-character cursor limit, yet nested deeper than Python's recursion
#: limit (weighted up: a cursor is parsed JSON, and nesting bombs are what JSON parsers choke on).
deep_cursors = st.builds(
    Cursor,
    st.builds(lambda depth: "[" * depth, st.sampled_from([1100, 1500])),
    st.booleans(),
    st.just(True),
)
cursors = weighted(
    (1, st.builds(Cursor, json_values, st.booleans())),
    (2, st.builds(Cursor, cursor_keys, st.booleans())),
    (2, deep_cursors),
    (1, st.text(alphabet=string.ascii_letters + string.digits + "-_=+/", max_size=40)),
    (1, st.text(max_size=10)),
)


query_values: dict[str, st.SearchStrategy[Any]] = {
    "limit": weighted(
        (3, st.integers(1, 100).map(str)),
        (
            1,
            st.one_of(
                st.integers(-5, 200).map(str), weird_text, st.sampled_from(["1e2", "\u00b2"])
            ),
        ),
    ),
    "cursor": cursors,
    "unread": weighted((3, st.sampled_from(["true", "false"])), (1, weird_text)),
    "token": st.one_of(tokens, weird_text),
}
#: The list endpoints' parameters, each present or not, plausible more often than not.
shaped_queries = st.fixed_dictionaries({}, optional=query_values).map(lambda q: list(q.items()))
query_pairs = st.lists(
    st.one_of(
        *[st.tuples(st.just(key), values) for key, values in query_values.items()],
        st.tuples(st.text(max_size=6), weird_text),
    ),
    max_size=4,
)
#: A raw query string (sent as is) or key/value pairs (URL-encoded after resolving refs).
queries = weighted(
    (1, st.none()),
    (1, st.text(alphabet=string.printable.replace("#", "").strip(), max_size=40)),
    (1, query_pairs),
    (3, shaped_queries),
)
methods = st.one_of(
    st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]),
    st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=8),
)

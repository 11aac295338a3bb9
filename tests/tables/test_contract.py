"""The Table contract: every backend (memory, SQLite, DynamoDB) must pass every test here."""

from __future__ import annotations

from typing import Any

import pytest

from heron.errors import (
    ConditionFailedError,
    TableValidationError,
    ThrottledError,
    TransactionCanceledError,
)
from heron.tables import CoreDatabase
from heron.tables.base import (
    SortKeyCondition,
    WriteOp,
    all_of,
    attribute_exists,
    attribute_not_exists,
    equals,
    not_equals,
)
from heron.tables.dynamodb import DynamoDatabase
from heron.tables.metrics import Recorder

from .fakes import FakeClock

#: Provisioned-throughput buckets are Heron's local emulation; on the dynamodb backend the
#: service throttles (moto never does), so these run on memory and SQLite only.
THROTTLE = pytest.mark.emulated(
    "DynamoDB throttles provisioned tables itself; see test_dynamodb_retries"
)


def everything(db: CoreDatabase, table: str) -> list[dict[str, Any]]:
    """Every item of a table, through paged scans."""
    items: list[dict[str, Any]] = []
    start = None
    while True:
        page = db.table(table).scan(limit=7, start_key=start)
        items += page.items
        if page.last_key is None:
            return items
        start = page.last_key


# --- put / get / update / delete ------------------------------------------------------------


def test_put_then_get_returns_an_equal_copy(db: CoreDatabase) -> None:
    users = db.table("Users")
    item = {"userId": "u1", "username": "ada", "tags": ["a", 1, None, True], "n": {"x": 1.5}}
    assert users.put(item) is None
    got = users.get({"userId": "u1"})
    assert got is not None and got == item
    got["username"] = "changed"
    item["username"] = "changed too"
    assert users.get({"userId": "u1"}, consistent=True)["username"] == "ada"  # type: ignore[index]


def test_get_of_a_missing_item_is_none(db: CoreDatabase) -> None:
    assert db.table("Users").get({"userId": "nobody"}) is None


def test_put_replaces_and_returns_the_old_item(db: CoreDatabase) -> None:
    users = db.table("Users")
    users.put({"userId": "u1", "username": "ada", "age": 3})
    old = users.put({"userId": "u1", "username": "bob"})
    assert old == {"userId": "u1", "username": "ada", "age": 3}
    assert users.get({"userId": "u1"}) == {"userId": "u1", "username": "bob"}


def test_update_creates_sets_and_removes(db: CoreDatabase) -> None:
    users = db.table("Users")
    created = users.update({"userId": "u2"}, {"username": "cy", "age": 1})
    assert created == {"userId": "u2", "username": "cy", "age": 1}
    updated = users.update({"userId": "u2"}, {"age": 2}, remove=["username", "absent"])
    assert updated == {"userId": "u2", "age": 2}
    assert users.get({"userId": "u2"}) == updated


def test_update_cannot_touch_key_attributes(db: CoreDatabase) -> None:
    users = db.table("Users")
    users.put({"userId": "u1", "username": "ada"})
    with pytest.raises(TableValidationError, match="part of the key"):
        users.update({"userId": "u1"}, {"userId": "u9"})
    with pytest.raises(TableValidationError, match="part of the key"):
        users.update({"userId": "u1"}, {}, remove=["userId"])
    with pytest.raises(TableValidationError):
        users.update({"userId": "u1"}, {"a": 1}, remove=["a"])
    assert users.get({"userId": "u1"}) == {"userId": "u1", "username": "ada"}


def test_delete_returns_the_old_item_and_is_idempotent(db: CoreDatabase) -> None:
    users = db.table("Users")
    users.put({"userId": "u1", "username": "ada"})
    assert users.delete({"userId": "u1"}) == {"userId": "u1", "username": "ada"}
    assert users.get({"userId": "u1"}) is None
    assert users.delete({"userId": "u1"}) is None


def test_number_keys_are_numbers_not_strings(db: CoreDatabase) -> None:
    scores = db.table("Scores")
    scores.put({"game": "g", "score": 10})
    assert scores.get({"game": "g", "score": 10}) == {"game": "g", "score": 10}
    assert scores.get({"game": "g", "score": 10.0}) is not None
    assert scores.get({"game": "g", "score": "10"}) is None


# --- conditions ---------------------------------------------------------------------------


def test_conditional_put_fails_and_changes_nothing(db: CoreDatabase) -> None:
    users = db.table("Users")
    users.put({"userId": "u1", "username": "ada"}, condition=attribute_not_exists("userId"))
    with pytest.raises(ConditionFailedError):
        users.put({"userId": "u1", "username": "eve"}, condition=attribute_not_exists("userId"))
    assert users.get({"userId": "u1"}) == {"userId": "u1", "username": "ada"}
    assert users.query("eve", index="username-index").items == []


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        (attribute_exists("username"), True),
        (attribute_exists("missing"), False),
        (attribute_not_exists("missing"), True),
        (equals("age", 3), True),
        (equals("age", 3.0), True),
        (equals("age", "3"), False),
        (equals("flag", 1), False),  # True is a BOOL, not the number 1
        (equals("flag", True), True),
        (not_equals("age", 4), True),
        (not_equals("age", 3), False),
        (not_equals("missing", 3), True),
        (equals("tags", ["a", {"b": 1}]), True),
        (all_of(attribute_exists("age"), equals("username", "ada")), True),
        (all_of(attribute_exists("age"), equals("username", "bob")), False),
    ],
)
def test_conditions_on_update(db: CoreDatabase, condition: Any, holds: bool) -> None:
    users = db.table("Users")
    original = {"userId": "u1", "username": "ada", "age": 3, "flag": True, "tags": ["a", {"b": 1}]}
    users.put(original)
    if holds:
        users.update({"userId": "u1"}, {"touched": True}, condition=condition)
        assert users.get({"userId": "u1"})["touched"] is True  # type: ignore[index]
    else:
        with pytest.raises(ConditionFailedError):
            users.update({"userId": "u1"}, {"touched": True}, condition=condition)
        assert users.get({"userId": "u1"}) == original


def test_conditions_on_a_missing_item(db: CoreDatabase) -> None:
    users = db.table("Users")
    with pytest.raises(ConditionFailedError):
        users.update({"userId": "u1"}, {"a": 1}, condition=attribute_exists("userId"))
    with pytest.raises(ConditionFailedError):
        users.delete({"userId": "u1"}, condition=equals("username", "ada"))
    assert users.get({"userId": "u1"}) is None


def test_conditional_delete(db: CoreDatabase) -> None:
    users = db.table("Users")
    users.put({"userId": "u1", "username": "ada"})
    with pytest.raises(ConditionFailedError):
        users.delete({"userId": "u1"}, condition=equals("username", "bob"))
    assert users.get({"userId": "u1"}) is not None
    users.delete({"userId": "u1"}, condition=equals("username", "ada"))
    assert users.get({"userId": "u1"}) is None


# --- query ----------------------------------------------------------------------------------


def put_messages(db: CoreDatabase, count: int, conversation: str = "c1") -> list[str]:
    messages = db.table("Messages")
    keys = [f"2024-03-14T12:00:{i:02d}.000Z#m{i}" for i in range(count)]
    for sk in reversed(keys):  # insertion order must not matter
        messages.put({"conversationId": conversation, "sk": sk, "text": sk[-3:]})
    return keys


def test_query_orders_by_sort_key_both_ways(db: CoreDatabase) -> None:
    keys = put_messages(db, 5)
    put_messages(db, 3, conversation="other")
    messages = db.table("Messages")
    assert [i["sk"] for i in messages.query("c1").items] == keys
    assert [i["sk"] for i in messages.query("c1", forward=False).items] == keys[::-1]
    assert messages.query("nobody").items == []


@pytest.mark.parametrize("forward", [True, False])
@pytest.mark.parametrize("limit", [1, 2, 3, 10])
def test_query_pages_cover_everything_once(db: CoreDatabase, forward: bool, limit: int) -> None:
    keys = put_messages(db, 10)
    messages = db.table("Messages")
    seen: list[str] = []
    start = None
    for _ in range(20):
        page = messages.query("c1", forward=forward, limit=limit, start_key=start)
        assert len(page.items) <= limit
        seen += [i["sk"] for i in page.items]
        if page.last_key is None:
            break
        assert page.last_key == {"conversationId": "c1", "sk": seen[-1]}
        start = page.last_key
    assert seen == (keys if forward else keys[::-1])


def test_a_full_last_page_has_no_last_key(db: CoreDatabase) -> None:
    put_messages(db, 4)
    page = db.table("Messages").query("c1", limit=4)
    assert len(page.items) == 4
    assert page.last_key is None


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (SortKeyCondition("eq", 20), [20]),
        (SortKeyCondition("lt", 20), [-5, 2.5, 3]),
        (SortKeyCondition("le", 20), [-5, 2.5, 3, 20]),
        (SortKeyCondition("gt", 20), [100]),
        (SortKeyCondition("ge", 3), [3, 20, 100]),
        (SortKeyCondition("between", 2.5, 20), [2.5, 3, 20]),
        (SortKeyCondition("gt", "0"), []),  # a string bound never matches number keys
    ],
)
def test_query_numeric_sort_conditions(
    db: CoreDatabase, condition: SortKeyCondition, expected: list[float]
) -> None:
    scores = db.table("Scores")
    for score in (100, 3, -5, 20, 2.5):
        scores.put({"game": "g", "score": score})
    assert [i["score"] for i in scores.query("g", sort=condition).items] == expected
    backwards = scores.query("g", sort=condition, forward=False).items
    assert [i["score"] for i in backwards] == expected[::-1]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (SortKeyCondition("begins_with", "b"), ["b", "ba", "bz"]),
        (SortKeyCondition("begins_with", "ba"), ["ba"]),
        (SortKeyCondition("begins_with", ""), ["a", "b", "ba", "bz", "c", "é"]),
        (SortKeyCondition("begins_with", "é"), ["é"]),
        (SortKeyCondition("between", "b", "bz"), ["b", "ba", "bz"]),
        (SortKeyCondition("lt", "b"), ["a"]),
        (SortKeyCondition("gt", 5), []),
    ],
)
def test_query_string_sort_conditions(
    db: CoreDatabase, condition: SortKeyCondition, expected: list[str]
) -> None:
    messages = db.table("Messages")
    for sk in ("c", "ba", "a", "é", "bz", "b"):
        messages.put({"conversationId": "c1", "sk": sk})
    assert [i["sk"] for i in messages.query("c1", sort=condition).items] == expected


def test_query_rejects_bad_requests(db: CoreDatabase) -> None:
    messages = db.table("Messages")
    with pytest.raises(TableValidationError):
        messages.query("c1", limit=0)
    with pytest.raises(TableValidationError):
        messages.query(["c1"])
    with pytest.raises(TableValidationError):
        messages.query("c1", sort=SortKeyCondition("between", "z", "a"))
    with pytest.raises(TableValidationError):
        messages.query("c1", sort=SortKeyCondition("begins_with", 3))
    with pytest.raises(TableValidationError):
        messages.query("c1", index="nope")
    with pytest.raises(TableValidationError):
        messages.query("c1", start_key={"sk": "x"})
    with pytest.raises(TableValidationError):
        db.table("Users").query("u1", sort=SortKeyCondition("eq", "x"))


def test_pages_stop_at_one_megabyte(db: CoreDatabase) -> None:
    messages = db.table("Messages")
    blob = "x" * 200_000
    for i in range(12):
        messages.put({"conversationId": "big", "sk": f"{i:02d}", "blob": blob})
    first = messages.query("big")
    assert len(first.items) == 5  # 5 x ~200 KB fit in 1 MB, the sixth would not
    assert first.last_key == {"conversationId": "big", "sk": "04"}
    rest = messages.query("big", start_key=first.last_key, limit=100)
    assert [i["sk"] for i in rest.items] == ["05", "06", "07", "08", "09"]


# --- global secondary indexes ------------------------------------------------------------------


def test_gsi_query_finds_items_by_index_key(db: CoreDatabase) -> None:
    users = db.table("Users")
    users.put({"userId": "u1", "username": "ada"})
    users.put({"userId": "u2", "username": "bob"})
    users.put({"userId": "u3", "username": "ada"})
    users.put({"userId": "u4"})  # no username: not in the index
    found = users.query("ada", index="username-index")
    assert [i["userId"] for i in found.items] == ["u1", "u3"]
    users.update({"userId": "u1"}, {"username": "ann"})
    assert [i["userId"] for i in users.query("ada", index="username-index").items] == ["u3"]
    assert [i["userId"] for i in users.query("ann", index="username-index").items] == ["u1"]


def test_gsi_rejects_consistent_reads_and_bad_key_types(db: CoreDatabase) -> None:
    users = db.table("Users")
    with pytest.raises(TableValidationError):
        users.query("ada", index="username-index", consistent=True)
    with pytest.raises(TableValidationError, match="Index Key"):
        users.put({"userId": "u1", "username": ["not", "a", "key"]})
    assert users.get({"userId": "u1"}) is None


def test_sparse_unread_index(db: CoreDatabase) -> None:
    notes = db.table("Notifications")
    for i in range(4):
        item = {"userId": "u1", "sk": f"t{i}#n{i}", "text": f"note {i}"}
        if i != 1:
            item["unreadUserId"] = "u1"
        notes.put(item)
    unread = notes.query("u1", index="unread-index", forward=False)
    assert [i["sk"] for i in unread.items] == ["t3#n3", "t2#n2", "t0#n0"]
    notes.update({"userId": "u1", "sk": "t2#n2"}, {}, remove=["unreadUserId"])
    unread = notes.query("u1", index="unread-index", forward=False)
    assert [i["sk"] for i in unread.items] == ["t3#n3", "t0#n0"]
    assert len(notes.query("u1").items) == 4


def test_gsi_paging_with_equal_index_keys(db: CoreDatabase) -> None:
    connections = db.table("Connections")
    expected = []
    for i in range(7):
        connections.put({"connectionId": f"c{i}", "userId": "u1", "connectedAt": i // 3})
        expected.append(f"c{i}")
    seen: list[str] = []
    start = None
    while True:
        page = connections.query("u1", index="userId-index", limit=2, start_key=start)
        seen += [i["connectionId"] for i in page.items]
        if page.last_key is None:
            break
        assert set(page.last_key) == {"connectionId", "userId", "connectedAt"}
        start = page.last_key
    assert seen == expected


def test_gsi_sort_condition(db: CoreDatabase) -> None:
    scores = db.table("Scores")
    for game, score in (("g1", 5), ("g2", 7), ("g3", 9)):
        scores.put({"game": game, "score": score, "player": "p"})
    page = scores.query("p", index="player-index", sort=SortKeyCondition("ge", 7))
    assert [i["game"] for i in page.items] == ["g2", "g3"]


# --- TTL ---------------------------------------------------------------------------------------


def test_expired_items_are_invisible_and_swept(db: CoreDatabase, clock: FakeClock) -> None:
    connections = db.table("Connections")
    now = clock()
    connections.put({"connectionId": "old", "userId": "u1", "connectedAt": 1, "expiresAt": now - 1})
    connections.put(
        {"connectionId": "new", "userId": "u1", "connectedAt": 2, "expiresAt": now + 60}
    )
    connections.put({"connectionId": "odd", "userId": "u1", "connectedAt": 3, "expiresAt": "soon"})
    assert connections.get({"connectionId": "old"}) is None
    assert connections.get({"connectionId": "new"}) is not None
    listed = connections.query("u1", index="userId-index").items
    assert [i["connectionId"] for i in listed] == ["new", "odd"]
    assert sorted(i["connectionId"] for i in everything(db, "Connections")) == ["new", "odd"]
    # An expired item counts as absent for conditions too.
    connections.put(
        {"connectionId": "old", "userId": "u2", "connectedAt": 9},
        condition=attribute_not_exists("connectionId"),
    )
    connections.delete({"connectionId": "old"})
    connections.put({"connectionId": "gone", "userId": "u1", "connectedAt": 4, "expiresAt": now})
    clock.advance(61)
    assert connections.get({"connectionId": "new"}) is None
    assert db.sweep_expired() == 2  # "gone" and "new"; "odd" has no numeric TTL
    assert db.sweep_expired() == 0
    assert [i["connectionId"] for i in everything(db, "Connections")] == ["odd"]


# --- transactions ----------------------------------------------------------------------------


def test_transact_write_applies_every_op(db: CoreDatabase) -> None:
    db.table("Users").put({"userId": "u1", "username": "ada", "n": 1})
    db.table("Users").put({"userId": "gone"})
    db.transact_write(
        [
            WriteOp(
                "put", "Users", item={"userId": "u2"}, condition=attribute_not_exists("userId")
            ),
            WriteOp(
                "update", "Users", key={"userId": "u1"}, changes={"n": 2}, remove=("username",)
            ),
            WriteOp("delete", "Users", key={"userId": "gone"}),
            WriteOp("put", "Messages", item={"conversationId": "c", "sk": "1"}),
        ]
    )
    users = db.table("Users")
    assert users.get({"userId": "u2"}) == {"userId": "u2"}
    assert users.get({"userId": "u1"}) == {"userId": "u1", "n": 2}
    assert users.get({"userId": "gone"}) is None
    assert db.table("Messages").get({"conversationId": "c", "sk": "1"}) is not None


def test_transact_write_is_all_or_nothing(db: CoreDatabase) -> None:
    users = db.table("Users")
    users.put({"userId": "u1", "username": "ada"})
    users.put({"userId": "u3", "username": "cy"})
    with pytest.raises(TransactionCanceledError) as caught:
        db.transact_write(
            [
                WriteOp("put", "Users", item={"userId": "u2"}),
                WriteOp("delete", "Users", key={"userId": "u1"}),
                WriteOp("check", "Users", key={"userId": "u3"}, condition=equals("username", "x")),
            ]
        )
    assert caught.value.reasons == [None, None, "ConditionalCheckFailed"]
    assert users.get({"userId": "u2"}) is None
    assert users.get({"userId": "u1"}) == {"userId": "u1", "username": "ada"}


def test_transact_write_validation(db: CoreDatabase) -> None:
    with pytest.raises(TableValidationError, match="multiple operations on one item"):
        db.transact_write(
            [
                WriteOp("put", "Users", item={"userId": "u1"}),
                WriteOp("delete", "Users", key={"userId": "u1"}),
            ]
        )
    with pytest.raises(TableValidationError):
        db.transact_write([])
    with pytest.raises(TableValidationError):
        db.transact_write(
            [WriteOp("put", "Users", item={"userId": "u1"}), WriteOp("put", "Nope", item={})]
        )
    with pytest.raises(TableValidationError):
        db.transact_write([WriteOp("check", "Users", key={"userId": "u1"})])
    with pytest.raises(TableValidationError):
        db.transact_write("not ops")  # type: ignore[arg-type]
    db.transact_write(WriteOp("put", "Users", item={"userId": f"g{i}"}) for i in range(2))
    db.table("Users").delete({"userId": "g0"})
    db.table("Users").delete({"userId": "g1"})
    assert db.table("Users").get({"userId": "u1"}) is None


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        {"username": "no key"},
        {"userId": ""},
        {"userId": ["list"]},
        {"userId": True},
        {"userId": None},
        {"userId": "u1", "bad": float("nan")},
        {"userId": "u1", "bad": {1: "int map key"}},
        {"userId": "u1", "bad": object()},
        {"userId": "u1", "bad": 2**70},
        {"userId": "u1", "": 1},
        {"userId": "u1", "big": "x" * (400 * 1024)},
        "not a dict",
    ],
)
def test_bad_items_are_rejected_and_change_nothing(db: CoreDatabase, item: Any) -> None:
    users = db.table("Users")
    users.put({"userId": "u1", "username": "ada"})
    with pytest.raises(TableValidationError):
        users.put(item)
    assert everything(db, "Users") == [{"userId": "u1", "username": "ada"}]


@pytest.mark.parametrize(
    "key",
    [{}, {"userId": "u1", "extra": 1}, {"id": "u1"}, {"userId": 1.5j}, {"userId": ""}, "u1"],
)
def test_bad_keys_are_rejected(db: CoreDatabase, key: Any) -> None:
    users = db.table("Users")
    for call in (users.get, users.delete, lambda k: users.update(k, {"a": 1})):
        with pytest.raises(TableValidationError):
            call(key)
    with pytest.raises(TableValidationError):
        db.table("Messages").get({"conversationId": "c"})  # sort key missing
    assert everything(db, "Users") == []


def test_an_oversized_update_changes_nothing(db: CoreDatabase) -> None:
    users = db.table("Users")
    users.put({"userId": "u1", "a": "x" * 300_000})
    with pytest.raises(TableValidationError, match="maximum allowed size"):
        users.update({"userId": "u1"}, {"b": "y" * 200_000})
    assert users.get({"userId": "u1"}) == {"userId": "u1", "a": "x" * 300_000}


def test_unknown_table(db: CoreDatabase) -> None:
    with pytest.raises(TableValidationError, match="not found"):
        db.table("Nope")


# --- throttling ----------------------------------------------------------------------------------


@THROTTLE
def test_provisioned_writes_throttle_and_refill(db: CoreDatabase, clock: FakeClock) -> None:
    limited = db.table("Limited")  # 2 WCU/s, 2 s burst: a full bucket holds 4 units
    for i in range(4):
        limited.put({"id": f"i{i}"})
    with pytest.raises(ThrottledError):
        limited.put({"id": "i4"})
    assert limited.get({"id": "i4"}) is None
    clock.advance(0.5)  # refills 1 unit
    limited.put({"id": "i4"})
    with pytest.raises(ThrottledError):
        limited.delete({"id": "i0"})
    assert limited.get({"id": "i0"}) is not None
    clock.advance(100)  # refills to the cap, not beyond
    for i in range(4):
        limited.put({"id": f"j{i}"})
    with pytest.raises(ThrottledError):
        limited.put({"id": "j4"})


@THROTTLE
def test_provisioned_reads_throttle(db: CoreDatabase, clock: FakeClock) -> None:
    limited = db.table("Limited")
    limited.put({"id": "a"})
    for _ in range(8):  # 2 RCU/s x 2 s = 4 units = 8 eventually consistent reads
        limited.get({"id": "a"})
    with pytest.raises(ThrottledError):
        limited.get({"id": "a"})
    clock.advance(1)
    assert limited.get({"id": "a"}, consistent=True) == {"id": "a"}


@THROTTLE
def test_failed_conditional_writes_still_spend_capacity(db: CoreDatabase) -> None:
    limited = db.table("Limited")
    limited.put({"id": "a"})
    for _ in range(3):
        with pytest.raises(ConditionFailedError):
            limited.put({"id": "a"}, condition=attribute_not_exists("id"))
    with pytest.raises(ThrottledError):
        limited.put({"id": "b"})


@THROTTLE
def test_gsi_writes_draw_on_the_index_bucket(db: CoreDatabase, clock: FakeClock) -> None:
    limited = db.table("Limited")
    limited.put({"id": "a", "tag": "t"})  # 1 table unit + 1 index unit
    limited.put({"id": "b"})  # table only
    limited.put({"id": "c"})
    limited.put({"id": "d"})  # table bucket now empty
    with pytest.raises(ThrottledError):
        limited.put({"id": "e"})
    clock.advance(2)  # both buckets refill fully
    for i in range(4):
        limited.put({"id": f"t{i}", "tag": "t"})
    with pytest.raises(ThrottledError):
        limited.put({"id": "t9", "tag": "t"})


def test_on_demand_tables_never_throttle(db: CoreDatabase) -> None:
    users = db.table("Users")
    for i in range(300):
        users.put({"userId": f"u{i}"})
    for i in range(300):
        users.get({"userId": f"u{i}"})


@THROTTLE
def test_throttled_transactions_write_nothing(db: CoreDatabase) -> None:
    ops = [
        WriteOp("put", "Limited", item={"id": "x"}),
        WriteOp("put", "Users", item={"userId": "u"}),
    ]
    with pytest.raises(ThrottledError):  # transactional puts cost 2 of the bucket's 4 units
        for i in range(3):
            db.transact_write([WriteOp("put", "Limited", item={"id": f"x{i}"})])
    with pytest.raises(ThrottledError):
        db.transact_write(ops)
    assert db.table("Users").get({"userId": "u"}) is None
    assert db.table("Limited").get({"id": "x2"}) is None


# --- telemetry ------------------------------------------------------------------------------------


def test_every_operation_records_one_table_operation(db: CoreDatabase, recorder: Recorder) -> None:
    users = db.table("Users")
    recorder.drain()
    users.put({"userId": "u1", "username": "ada"})
    users.get({"userId": "u1"}, consistent=True)
    users.get({"userId": "missing"})
    with pytest.raises(ConditionFailedError):
        users.put({"userId": "u1"}, condition=attribute_not_exists("userId"))
    with pytest.raises(TableValidationError):
        users.get({"nope": 1})
    users.query("ada", index="username-index")
    users.delete({"userId": "u1"})
    ops = recorder.drain()
    assert [(o.operation, o.outcome) for o in ops] == [
        ("PutItem", "ok"),
        ("GetItem", "ok"),
        ("GetItem", "ok"),
        ("PutItem", "condition_failed"),
        ("GetItem", "user_error"),
        ("Query", "ok"),
        ("DeleteItem", "ok"),
    ]
    put, strong, miss, failed, bad, query, delete = ops
    # A failed condition reports no capacity from any backend: it is computed everywhere.
    assert (failed.write_units, failed.index_write_units) == (1.0, ())
    assert (bad.read_units, bad.write_units) == (0.0, 0.0)
    assert (strong.consistent, miss.consistent, query.index) == (True, False, "username-index")
    assert all(o.table == "Users" and o.latency_ms >= 0 for o in ops)
    if isinstance(db, DynamoDatabase):
        return  # the rest is what the service reports (test_dynamodb_capacity checks that)
    assert (put.write_units, put.index_write_units) == (1.0, (("username-index", 1.0),))
    assert strong.read_units == 1.0
    assert miss.read_units == 0.5
    assert query.read_units == 0.5
    assert (delete.write_units, delete.index_write_units) == (1.0, (("username-index", 1.0),))


def test_transactions_record_one_operation_per_table(db: CoreDatabase, recorder: Recorder) -> None:
    recorder.drain()
    db.transact_write(
        [
            WriteOp("put", "Users", item={"userId": "u1"}),
            WriteOp("put", "Messages", item={"conversationId": "c", "sk": "1"}),
            WriteOp("put", "Messages", item={"conversationId": "c", "sk": "2"}),
        ]
    )
    ops = {o.table: o for o in recorder.drain()}
    assert ops["Users"].write_units == 2.0
    assert ops["Messages"].write_units == 4.0
    assert {o.operation for o in ops.values()} == {"TransactWriteItems"}


@THROTTLE
def test_throttled_operations_record_no_consumption(db: CoreDatabase, recorder: Recorder) -> None:
    limited = db.table("Limited")
    for i in range(4):
        limited.put({"id": f"{i}"})
    recorder.drain()
    with pytest.raises(ThrottledError):
        limited.put({"id": "x"})
    (op,) = recorder.drain()
    assert (op.outcome, op.write_units) == ("throttled", 0.0)

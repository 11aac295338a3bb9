"""What only a real service does: throttling (retried by the SDK), billing, refusals.

Against a scripted DynamoDB endpoint on a real socket (``dynamo_stub``), since moto never
throttles and reports placeholder capacity.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from heron.errors import (
    ConditionFailedError,
    TableError,
    TableValidationError,
    ThrottledError,
    TransactionCanceledError,
)
from heron.tables.base import WriteOp, attribute_not_exists
from heron.tables.dynamodb import DynamoDatabase
from heron.tables.metrics import Recorder
from heron.tables.schema import default_schemas

from .dynamo_stub import DynamoStub, dynamo_stub
from .moto_server import client_for


@pytest.fixture
def stub() -> Iterator[DynamoStub]:
    with dynamo_stub() as running:
        yield running


def database(stub: DynamoStub, recorder: Recorder, attempts: int = 3) -> DynamoDatabase:
    client = client_for(stub.endpoint, max_attempts=attempts)
    return DynamoDatabase(client, default_schemas(), recorder=recorder, endpoint=stub.endpoint)


def test_throttling_is_retried_by_the_sdk_then_succeeds(
    stub: DynamoStub, recorder: Recorder
) -> None:
    stub.error("ProvisionedThroughputExceededException")
    stub.answer(200, {"Item": {"userId": {"S": "u1"}}})
    db = database(stub, recorder)
    assert db.table("Users").get({"userId": "u1"}) == {"userId": "u1"}
    assert stub.operations == ["GetItem", "GetItem"]
    (op,) = recorder.drain()
    assert op.outcome == "ok"
    db.close()


def test_throttling_past_the_retries_is_a_throttled_error(
    stub: DynamoStub, recorder: Recorder
) -> None:
    stub.error("ProvisionedThroughputExceededException", "Rate of requests exceeds", times=2)
    db = database(stub, recorder, attempts=2)
    with pytest.raises(ThrottledError, match="Rate of requests exceeds"):
        db.table("Users").put({"userId": "u1"})
    assert stub.operations == ["PutItem", "PutItem"]
    (op,) = recorder.drain()
    assert (op.outcome, op.write_units) == ("throttled", 0.0)
    db.close()


def test_capacity_is_what_the_service_reports(stub: DynamoStub, recorder: Recorder) -> None:
    stub.answer(
        200,
        {
            "ConsumedCapacity": {
                "TableName": "Users",
                "CapacityUnits": 5.0,
                "Table": {"CapacityUnits": 3.0},
                "GlobalSecondaryIndexes": {"username-index": {"CapacityUnits": 2.0}},
            }
        },
    )
    stub.answer(
        200,
        {
            "Items": [{"userId": {"S": "u1"}, "username": {"S": "ada"}}],
            "ConsumedCapacity": {
                "TableName": "Users",
                "CapacityUnits": 0.5,
                "GlobalSecondaryIndexes": {"username-index": {"CapacityUnits": 0.5}},
            },
        },
    )
    db = database(stub, recorder)
    users = db.table("Users")
    users.put({"userId": "u1", "username": "ada"})
    page = users.query("ada", index="username-index")
    assert page.items == [{"userId": "u1", "username": "ada"}] and page.consumed_capacity == 0.5
    put, query = recorder.drain()
    assert (put.write_units, put.index_write_units) == (3.0, (("username-index", 2.0),))
    assert (query.index, query.read_units) == ("username-index", 0.5)
    sent = stub.requests[0][1]
    assert sent["ReturnConsumedCapacity"] == "INDEXES" and sent["ReturnValues"] == "ALL_OLD"
    db.close()


def test_a_failed_condition_is_billed_on_the_stored_item(
    stub: DynamoStub, recorder: Recorder
) -> None:
    stored = {"userId": {"S": "u1"}, "blob": {"S": "x" * 3000}}
    stub.error("ConditionalCheckFailedException", "The conditional request failed", Item=stored)
    db = database(stub, recorder)
    with pytest.raises(ConditionFailedError):
        db.table("Users").put({"userId": "u1"}, condition=attribute_not_exists("userId"))
    sent = stub.requests[0][1]
    assert sent["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    assert "attribute_not_exists(#n0)" in sent["ConditionExpression"]
    (op,) = recorder.drain()
    assert (op.outcome, op.write_units) == ("condition_failed", 3.0)  # 3 KB item
    db.close()


def test_cancelled_transactions_carry_reasons_and_throttled_ones_are_throttled(
    stub: DynamoStub, recorder: Recorder
) -> None:
    reasons = [{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": "failed"}]
    stub.error("TransactionCanceledException", "Transaction cancelled", CancellationReasons=reasons)
    throttled = [{"Code": "ThrottlingError"}, {"Code": "None"}]
    stub.error("TransactionCanceledException", "cancelled", CancellationReasons=throttled, times=3)
    db = database(stub, recorder)
    ops = [
        WriteOp("put", "Users", item={"userId": "a"}),
        WriteOp("put", "Messages", item={"conversationId": "c", "sk": "1"}),
    ]
    with pytest.raises(TransactionCanceledError) as caught:
        db.transact_write(ops)
    assert caught.value.reasons == [None, "ConditionalCheckFailed"]
    with pytest.raises(ThrottledError):
        db.transact_write(ops)
    first = [o for o in recorder.drain() if o.outcome == "condition_failed"]
    assert {o.table: o.write_units for o in first} == {"Users": 2.0, "Messages": 2.0}
    entries = stub.requests[0][1]["TransactItems"]
    assert [next(iter(e)) for e in entries] == ["Put", "Put"]
    db.close()


@pytest.mark.parametrize(
    ("code", "error", "message"),
    [
        ("ValidationException", TableValidationError, "bad"),
        ("UnrecognizedClientException", TableError, "refused the AWS credentials"),
        ("ResourceNotFoundException", TableError, "heron tables create"),
    ],
)
def test_service_errors_map_to_table_errors(
    stub: DynamoStub, recorder: Recorder, code: str, error: type[Exception], message: str
) -> None:
    stub.error(code, "bad")
    db = database(stub, recorder, attempts=1)
    with pytest.raises(error, match=message):
        db.table("Users").get({"userId": "u1"})
    (op,) = recorder.drain()
    assert op.outcome == ("user_error" if error is TableValidationError else "system_error")
    db.close()


def test_a_server_error_is_retried_then_reported(stub: DynamoStub, recorder: Recorder) -> None:
    stub.answer(500, {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                      "message": "boom"}, times=2)  # fmt: skip
    db = database(stub, recorder, attempts=2)
    with pytest.raises(TableError, match="boom"):
        db.table("Users").delete({"userId": "u1"})
    assert len(stub.operations) == 2
    db.close()


def test_nothing_is_sent_for_bad_input(stub: DynamoStub, recorder: Recorder) -> None:
    db = database(stub, recorder)
    users = db.table("Users")
    for bad in ({"userId": ""}, {"userId": "u", "x": float("nan")}, {"nope": 1}):
        with pytest.raises(TableValidationError):
            users.put(bad)
    with pytest.raises(TableValidationError):
        db.transact_write([WriteOp("put", "Users", item={"userId": "u"}),
                           WriteOp("delete", "Users", key={"userId": "u"})])  # fmt: skip
    assert stub.requests == []
    db.close()

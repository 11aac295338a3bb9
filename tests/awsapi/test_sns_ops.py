"""SNS over the Query protocol with boto3's own sns client: topics, subscriptions, publish, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .alarm_server import ACCOUNT, REGION, AlarmApi, alarm_api

PREFIX = f"arn:aws:sns:{REGION}:{ACCOUNT}:"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlarmApi]:
    with alarm_api(tmp_path_factory.mktemp("sns"), tmp_path_factory.mktemp("models")) as running:
        yield running


@pytest.fixture
def sns(api: AlarmApi) -> Any:
    return api.client("sns")


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response: Any = exc.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_default_topics_exist_and_create_topic_is_idempotent(sns: Any) -> None:
    arns = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert f"{PREFIX}alerts" in arns and f"{PREFIX}warnings" in arns
    first = sns.create_topic(Name="pager", Attributes={"DisplayName": "Pager"})["TopicArn"]
    again = sns.create_topic(Name="pager")["TopicArn"]
    assert first == again == f"{PREFIX}pager"
    attributes = sns.get_topic_attributes(TopicArn=first)["Attributes"]
    assert attributes["TopicArn"] == first
    assert attributes["DisplayName"] == "Pager"
    assert attributes["Owner"] == ACCOUNT


def test_create_topic_errors(sns: Any) -> None:
    with pytest.raises(ClientError) as bad_name:
        sns.create_topic(Name="has space")
    assert _error(bad_name) == ("InvalidParameter", "Invalid parameter: Topic Name", 400)
    sns.create_topic(Name="shaped", Attributes={"DisplayName": "A"})
    with pytest.raises(sns.exceptions.InvalidParameterException) as conflict:
        sns.create_topic(Name="shaped", Attributes={"DisplayName": "B"})
    assert "already exists with different attributes" in _error(conflict)[1]


def test_list_topics_pages_by_one_hundred(sns: Any) -> None:
    for i in range(120):
        sns.create_topic(Name=f"page-{i:03d}")
    first = sns.list_topics()
    assert len(first["Topics"]) == 100 and "NextToken" in first
    second = sns.list_topics(NextToken=first["NextToken"])
    assert "NextToken" not in second
    arns = [t["TopicArn"] for t in first["Topics"] + second["Topics"]]
    assert len(arns) == len(set(arns)) >= 122
    assert sorted(arns) == arns


def test_subscribe_confirms_email_at_once_https_after_handshake_and_lists(sns: Any) -> None:
    topic = sns.create_topic(Name="subs")["TopicArn"]
    email = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    hook = sns.subscribe(
        TopicArn=topic, Protocol="https", Endpoint="https://hooks.example.com/x",
        ReturnSubscriptionArn=True,
    )  # fmt: skip
    assert email["SubscriptionArn"].startswith(topic + ":")
    assert hook["SubscriptionArn"].startswith(topic + ":")  # ReturnSubscriptionArn=True
    pending = sns.subscribe(
        TopicArn=topic, Protocol="https", Endpoint="https://hooks.example.com/x"
    )
    assert pending["SubscriptionArn"] == "pending confirmation"
    again = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    assert again["SubscriptionArn"] == email["SubscriptionArn"]
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert subs == [
        {
            "SubscriptionArn": email["SubscriptionArn"],
            "Owner": ACCOUNT,
            "Protocol": "email",
            "Endpoint": "ops@example.com",
            "TopicArn": topic,
        },
        {
            "SubscriptionArn": "PendingConfirmation",  # until the endpoint confirms (as on AWS)
            "Owner": ACCOUNT,
            "Protocol": "https",
            "Endpoint": "https://hooks.example.com/x",
            "TopicArn": topic,
        },
    ]


def test_subscribe_errors(sns: Any) -> None:
    topic = sns.create_topic(Name="suberr")["TopicArn"]
    with pytest.raises(ClientError) as protocol:
        sns.subscribe(TopicArn=topic, Protocol="carrier-pigeon", Endpoint="x")
    assert _error(protocol) == (
        "InvalidParameter",
        "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon",
        400,
    )
    with pytest.raises(ClientError) as email:
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="not-an-address")
    assert _error(email) == ("InvalidParameter", "Invalid parameter: Email address", 400)
    with pytest.raises(sns.exceptions.NotFoundException) as missing:
        sns.subscribe(TopicArn=f"{PREFIX}nope", Protocol="email", Endpoint="a@b.co")
    assert _error(missing) == ("NotFound", "Topic does not exist", 404)
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.list_subscriptions_by_topic(TopicArn=f"{PREFIX}nope")


def test_publish_stores_the_message_durably(api: AlarmApi, sns: Any) -> None:
    topic = sns.create_topic(Name="outbox")["TopicArn"]
    result = sns.publish(
        TopicArn=topic,
        Message=json.dumps({"hello": "world"}),
        Subject="Greeting",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
    )
    [stored] = api.topics.published(topic)
    assert stored.message_id == result["MessageId"]
    assert stored.subject == "Greeting"
    assert json.loads(stored.message) == {"hello": "world"}
    assert stored.attributes == {"kind": {"DataType": "String", "StringValue": "test"}}
    assert stored.status == "pending"


def test_publish_errors(sns: Any) -> None:
    topic = sns.create_topic(Name="puberr")["TopicArn"]
    with pytest.raises(sns.exceptions.NotFoundException) as missing:
        sns.publish(TopicArn=f"{PREFIX}nope", Message="x")
    assert _error(missing) == ("NotFound", "Topic does not exist", 404)
    with pytest.raises(sns.exceptions.InvalidParameterException) as arn:
        sns.publish(TopicArn="not-an-arn", Message="x")
    assert _error(arn) == ("InvalidParameter", "Invalid parameter: TopicArn", 400)
    with pytest.raises(ClientError) as empty:
        sns.publish(TopicArn=topic, Message="")
    assert _error(empty)[1] == "Invalid parameter: Empty message"
    with pytest.raises(ClientError) as subject:
        sns.publish(TopicArn=topic, Message="x", Subject="s" * 101)
    assert _error(subject)[1] == "Invalid parameter: Subject"
    with pytest.raises(ClientError) as big:
        sns.publish(TopicArn=topic, Message="x" * (256 * 1024 + 1))
    assert _error(big)[1] == "Invalid parameter: Message too long"


def test_delete_topic_removes_it_and_is_idempotent(sns: Any) -> None:
    topic = sns.create_topic(Name="doomed")["TopicArn"]
    sns.delete_topic(TopicArn=topic)
    sns.delete_topic(TopicArn=topic)
    assert topic not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_topic_attributes(TopicArn=topic)

"""The topic store: default topics, idempotent creation, subscriptions, the durable outbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.monitor.notify.topics import TopicConflict, TopicNotFound, TopicStore

ACCOUNT = "123456789012"


def _open(path: Path) -> TopicStore:
    return TopicStore(path / "notify.db", region="eu-west-1", account_id=ACCOUNT, clock=lambda: 5.0)


def test_default_topics_and_idempotent_creation(tmp_path: Path) -> None:
    store = _open(tmp_path)
    assert store.topics() == [
        f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts",
        f"arn:aws:sns:eu-west-1:{ACCOUNT}:warnings",
    ]
    arn = store.create_topic("pager", {"DisplayName": "P"})
    assert store.create_topic("pager") == arn
    assert store.create_topic("pager", {"DisplayName": "P"}) == arn
    with pytest.raises(TopicConflict):
        store.create_topic("pager", {"DisplayName": "Q"})
    assert store.attributes(arn)["DisplayName"] == "P"
    store.close()
    assert _open(tmp_path).topics().count(arn) == 1  # reopening creates nothing twice


def test_subscriptions_are_unique_per_endpoint_and_http_waits_for_confirmation(
    tmp_path: Path,
) -> None:
    store = _open(tmp_path)
    topic = store.topic_arn("alerts")
    first = store.subscribe(topic, "email", "a@example.com")
    assert store.subscribe(topic, "email", "a@example.com") == first
    store.subscribe(topic, "https", "https://example.com/hook")
    subs = store.subscriptions(topic)
    assert [(s.protocol, s.endpoint) for s in subs] == [
        ("email", "a@example.com"),
        ("https", "https://example.com/hook"),
    ]
    assert store.attributes(topic)["SubscriptionsConfirmed"] == "1"
    assert store.attributes(topic)["SubscriptionsPending"] == "1"
    hook = subs[1]
    assert hook.pending and len(hook.token) == 64 and not subs[0].pending
    assert store.confirm_subscription(topic, "wrong") is None
    assert store.confirm_subscription(store.topic_arn("warnings"), hook.token) is None
    assert store.confirm_subscription(topic, hook.token) == hook.arn
    assert store.attributes(topic)["SubscriptionsConfirmed"] == "2"
    assert store.unsubscribe(hook.arn) and not store.unsubscribe(hook.arn)
    assert store.subscription(hook.arn) is None
    with pytest.raises(TopicNotFound):
        store.subscribe(store.topic_arn("nope"), "email", "a@example.com")
    store.delete_topic(topic)
    with pytest.raises(TopicNotFound):
        store.subscriptions(topic)


def test_published_messages_survive_a_reopen_with_their_delivery_status(tmp_path: Path) -> None:
    store = _open(tmp_path)
    alerts, warnings = store.topic_arn("alerts"), store.topic_arn("warnings")
    first = store.publish(alerts, '{"n":1}', subject="ALARM: x")
    store.publish(warnings, '{"n":2}')
    store.publish(alerts, '{"n":3}', attributes={"k": {"DataType": "String", "StringValue": "v"}})
    with pytest.raises(TopicNotFound):
        store.publish(store.topic_arn("nope"), "x")
    store.mark(first, "delivered")
    store.close()
    reopened = _open(tmp_path)
    messages = reopened.published(alerts)
    assert [m.message for m in messages] == ['{"n":1}', '{"n":3}']
    assert messages[0].subject == "ALARM: x" and messages[0].status == "delivered"
    assert messages[0].attempts == 1 and messages[0].published == 5.0
    assert messages[1].attributes == {"k": {"DataType": "String", "StringValue": "v"}}
    assert [m.message for m in reopened.pending()] == ['{"n":2}', '{"n":3}']
    assert len(reopened.published()) == 3
    with pytest.raises(ValueError):
        reopened.mark(first, "lost")


def test_publishing_while_the_notifier_works_is_never_held_up(tmp_path: Path) -> None:
    """The pipeline's transaction never waits for TopicStore's lock, which a publisher holds
    while its INSERT waits for that transaction: no 5 s stalls, no 'database is locked'."""
    import threading
    import time as _time

    from .support import FakeClock, Harness, at, config

    h = Harness(tmp_path, config(""), FakeClock(at("2026-03-06 10:00")))
    h.topics.subscribe(h.topics.topic_arn("alerts"), "email", "ops@example.com")
    worst = [0.0]

    def publisher() -> None:
        for i in range(300):
            started = _time.perf_counter()
            h.publish(f"Alarm{i}", "ALARM", "OK")
            worst[0] = max(worst[0], _time.perf_counter() - started)

    thread = threading.Thread(target=publisher)
    thread.start()
    while thread.is_alive():
        h.tick()
    thread.join()
    h.tick()
    assert worst[0] < 1.0
    assert len(h.ctx.db.all("SELECT 1 FROM nt_processed")) == 300
    h.close()


def test_an_unconfirmed_subscription_expires_48_hours_after_it_was_last_asked_for(
    tmp_path: Path,
) -> None:
    now = [1_000.0]
    store = TopicStore(tmp_path / "notify.db", clock=lambda: now[0])
    topic = store.topic_arn("alerts")
    arn = store.subscribe(topic, "https", "https://hooks.example.com/a")
    day = 86_400.0
    assert store.expire_unconfirmed(1_000 + 2 * day - 1, 2 * day) == []
    now[0] = 1_000 + 47 * 3600  # Subscribe again: asks again, and the 48 hours start over
    assert store.subscribe(topic, "https", "https://hooks.example.com/a") == arn
    assert store.expire_unconfirmed(1_000 + 2 * day + 1, 2 * day) == []
    (gone,) = store.expire_unconfirmed(now[0] + 2 * day, 2 * day)
    assert gone.arn == arn and store.subscription(arn) is None
    # A confirmed one never expires.
    other = store.subscribe(topic, "https", "https://hooks.example.com/b")
    pending = store.subscription(other)
    assert pending is not None
    assert store.confirm_subscription(topic, pending.token) == other
    assert store.expire_unconfirmed(now[0] + 10 * day, 2 * day) == []
    store.close()

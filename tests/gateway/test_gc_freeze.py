"""When the gateway freezes idle sockets' objects out of full collections, and when it lets go."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

from heron.gateway.gc_freeze import (
    MIN_CONNECTIONS,
    SERVER_THRESHOLDS,
    GcFreezer,
    gc_action,
    use_server_thresholds,
)


@pytest.mark.parametrize(
    ("open_connections", "frozen_at", "closed_since", "expected"),
    [
        (0, 0, 0, None),
        (MIN_CONNECTIONS - 1, 0, 0, None),  # small servers never freeze
        (MIN_CONNECTIONS, 0, 0, "freeze"),
        (10_000, 0, 0, "freeze"),
        (12_499, 10_000, 0, None),  # not grown by a quarter yet
        (12_500, 10_000, 0, "freeze"),
        (7_501, 10_000, 2_499, None),  # fewer than a quarter of the frozen ones closed
        (7_500, 10_000, 2_500, "unfreeze"),  # mass disconnect
        (10_000, 10_000, 2_500, "unfreeze"),  # churn at a steady count
        (0, 1_000, 1_000, "unfreeze"),
    ],
)
def test_decisions(
    open_connections: int, frozen_at: int, closed_since: int, expected: str | None
) -> None:
    assert gc_action(open_connections, frozen_at, closed_since) == expected


def test_the_freezer_freezes_and_releases_the_process() -> None:
    freezer = GcFreezer()
    try:
        assert freezer.update(10, 0) is None and gc.get_freeze_count() == 0
        assert freezer.update(2_000, 0) == "freeze"
        assert freezer.frozen_at == 2_000 and gc.get_freeze_count() > 0
        assert freezer.update(2_100, 100) is None
        # Churn: a quarter of the frozen sockets replaced; unfrozen, collected, frozen again.
        assert freezer.update(2_000, 500) == "unfreeze"
        assert (freezer.frozen_at, freezer.closed_at_freeze) == (2_000, 500)
        assert gc.get_freeze_count() > 0
        assert freezer.update(100, 2_400) == "unfreeze"  # too few left to freeze again
        assert freezer.frozen_at == 0 and gc.get_freeze_count() == 0
    finally:
        freezer.release()
        gc.unfreeze()


def test_cyclic_garbage_is_collected_after_an_unfreeze() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    freezer = GcFreezer()
    try:
        freezer.update(MIN_CONNECTIONS, 0)
        node = Node()
        freezer.update(MIN_CONNECTIONS * 2, 0)  # collects, then freezes ``node`` while it lives
        ref = weakref.ref(node)
        del node
        gc.collect()
        assert ref() is not None  # frozen: a full collection does not see it
        freezer.update(0, MIN_CONNECTIONS * 2)  # mass disconnect: unfreeze and collect
        assert ref() is None
    finally:
        freezer.release()
        gc.unfreeze()


async def test_the_gateway_tick_freezes_for_its_open_sockets() -> None:
    from gateway_support import FakeInvoker, RecordingSink, make_config

    from heron.gateway.app import Gateway
    from heron.gateway.connections import Connection

    async def send(message: Any) -> None:
        pass

    gateway = Gateway([], FakeInvoker({}), RecordingSink(), make_config(), lambda: 1000.0)
    for n in range(MIN_CONNECTIONS):
        gateway.registry.add(Connection(f"c{n}", send, 1000.0, "127.0.0.1", None))
    try:
        await gateway.tick(1000.0)
        assert gateway.gc.frozen_at == MIN_CONNECTIONS and gc.get_freeze_count() > 0
        for n in range(MIN_CONNECTIONS // 2):
            gateway.registry.remove(f"c{n}")
        assert gateway.registry.removed == MIN_CONNECTIONS // 2
        await gateway.tick(1000.5)
        assert gateway.gc.frozen_at == 0 and gc.get_freeze_count() == 0
    finally:
        gateway.gc.release()
        gc.unfreeze()


def test_server_thresholds_make_young_collections_rarer_and_give_the_old_ones_back() -> None:
    original = gc.get_threshold()
    try:
        assert use_server_thresholds() == original
        assert gc.get_threshold() == SERVER_THRESHOLDS
        assert SERVER_THRESHOLDS[0] > original[0]
    finally:
        gc.set_threshold(*original)

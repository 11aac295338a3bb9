"""Keep idle WebSockets out of Python's full garbage collections.

Every open socket is about 57 objects the cyclic collector tracks (uvicorn's protocol and
transport, the ASGI task and its coroutine frames, the gateway's record). With 10,000 sockets
open, a generation-2 collection walks ~570,000 objects and stops the event loop for 200-400 ms
(measured with ``gc.callbacks`` under ``bench/websocket_connections.py``), and under message
load one came every few seconds: that pause was the message latency's p99.

Those objects live as long as their sockets, so the gateway moves them to the collector's
permanent generation (``gc.freeze``) once the number of open sockets has grown by a quarter since
the last freeze, after a full collection so no garbage is frozen with them. Frozen objects are
still freed by reference counting when a socket closes; only garbage in reference cycles waits.
Once a quarter of the frozen sockets have closed (a mass disconnect, or churn at a steady count),
everything is unfrozen and collected once, which returns that garbage, and what survives is
frozen again at once: one full pause per quarter of the sockets replaced, instead of one every
few seconds of traffic, and at most a quarter of the frozen sockets' memory waiting. Servers
with fewer than ``MIN_CONNECTIONS`` sockets never freeze.

The decision is a pure function of the counts; ``GcFreezer`` applies it to the process.
"""

from __future__ import annotations

import gc
from typing import Literal

#: Below this many open sockets a full collection is short enough to leave alone.
MIN_CONNECTIONS = 1000
#: Freeze again once the open sockets exceed the last freeze's count by this factor ...
GROWTH = 1.25
#: ... and unfreeze once this share of the frozen count has closed since.
RELEASE_SHARE = 0.25

Action = Literal["freeze", "unfreeze"]


def gc_action(open_connections: int, frozen_at: int, closed_since: int) -> Action | None:
    """What to do with ``open_connections`` sockets when the last freeze saw ``frozen_at``
    (0: nothing is frozen) and ``closed_since`` sockets have closed after it."""
    if frozen_at and closed_since >= frozen_at * RELEASE_SHARE:
        return "unfreeze"
    if open_connections >= MIN_CONNECTIONS and open_connections >= frozen_at * GROWTH:
        return "freeze"
    return None


class GcFreezer:
    """Applies ``gc_action`` to this process, given the open count and a running close count."""

    __slots__ = ("closed_at_freeze", "frozen_at")

    def __init__(self) -> None:
        self.frozen_at = 0
        self.closed_at_freeze = 0

    def update(self, open_connections: int, closed_total: int) -> Action | None:
        """Freeze or unfreeze for ``open_connections`` open sockets, ``closed_total`` sockets
        having closed since the process started; the action taken."""
        action = gc_action(open_connections, self.frozen_at, closed_total - self.closed_at_freeze)
        if action == "freeze":
            gc.collect()  # only the objects not frozen yet: garbage must not be frozen
            self._freeze(open_connections, closed_total)
        elif action == "unfreeze":
            self.release()
            if open_connections >= MIN_CONNECTIONS:
                # Everything left was just collected: freeze it again without a second pass.
                self._freeze(open_connections, closed_total)
        return action

    def _freeze(self, open_connections: int, closed_total: int) -> None:
        gc.freeze()
        self.frozen_at = open_connections
        self.closed_at_freeze = closed_total

    def release(self) -> None:
        """Unfreeze everything and collect it once (also on shutdown)."""
        if self.frozen_at:
            gc.unfreeze()
            gc.collect()
            self.frozen_at = 0

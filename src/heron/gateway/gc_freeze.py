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

``use_server_thresholds`` also makes young collections rarer in ``heron up``: the default first
threshold (700 new container objects) suits small scripts, but one PutMetricData request of
1,000 datums decodes into some 5,000 dicts and lists, so it paid for several collections that
found nothing to free. At 10,000, PutMetricData went from 147,000 to 185,000 datapoints/s and
GET /users/{id} from 3,660-3,710 to 3,790-3,890 requests/s (bench/README.md); a young collection
of 10,000 objects takes about a millisecond.
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

#: The collector's thresholds in ``heron up`` (generation 0, 1, 2; Python's default is 700, 10,
#: 10): a full pass still follows every 100 young ones.
SERVER_THRESHOLDS = (10_000, 10, 10)


def use_server_thresholds() -> tuple[int, int, int]:
    """Set ``SERVER_THRESHOLDS`` for this process; the thresholds it had before."""
    before = gc.get_threshold()
    gc.set_threshold(*SERVER_THRESHOLDS)
    return before


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

"""A notifier process for the kill -9 test: delivers the outbox of ``<dir>/notify.db`` to a URL."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from heron.monitor.notify.config import load_notify_config
from heron.monitor.notify.notifier import Notifier
from heron.monitor.notify.topics import TopicStore


def main() -> None:
    data, url = Path(sys.argv[1]), sys.argv[2]
    in_flight = int(sys.argv[3]) if len(sys.argv) > 3 else None
    config = load_notify_config(
        {
            "channels": {"hook": {"protocol": "http", "url": url, "confirm": False}},
            "routes": {"alerts": {"channels": ["hook"]}},
        },
        {},
    )
    topics = TopicStore(data / "notify.db")
    notifier = Notifier(topics, config, data / "notify.db")
    if in_flight is not None:
        notifier.deliverer.in_flight = in_flight
    print("ready", flush=True)
    while True:
        notifier.tick(time.time())
        time.sleep(0.005)


if __name__ == "__main__":
    main()

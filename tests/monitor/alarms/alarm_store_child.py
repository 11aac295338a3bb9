"""Child process for the kill -9 test: creates alarms, moves their state, then waits to be killed."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from alarm_support import FakeClock, metric_alarm

from heron.monitor.alarms.store import AlarmStore


def main() -> None:
    clock = FakeClock()
    store = AlarmStore(Path(sys.argv[1]), clock=clock)
    store.put_alarm(metric_alarm("Durable"), tags=[{"Key": "team", "Value": "core"}])
    for i in range(1, 201):
        clock.now += 60
        state = "ALARM" if i % 2 else "OK"
        store.set_state("Durable", state, f"round {i}", '{"version":"1.0"}')
        print(i, flush=True)
    time.sleep(60)


if __name__ == "__main__":
    main()

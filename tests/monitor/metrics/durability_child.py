"""Child process for the kill -9 test: puts datapoints from several threads, printing each ack."""

from __future__ import annotations

import sys
import threading
import time

from heron.monitor.contracts import MetricId, Sample
from heron.monitor.metrics.store import MetricStore


def main() -> None:
    data_dir, threads = sys.argv[1], int(sys.argv[2])
    store = MetricStore(data_dir, flush_cells=50, flush_interval_s=0.05)
    lock = threading.Lock()
    now_ms = int(time.time() * 1000)

    def worker(w: int) -> None:
        metric = MetricId("Kill", f"W{w}", (("Thread", str(w)),))
        for i in range(1, 1_000_000):
            store.put_samples(
                [
                    Sample(
                        metric.namespace,
                        metric.name,
                        metric.dimensions,
                        now_ms + i % 50 * 1000,
                        (float(i),),
                    )
                ]
            )
            with lock:
                sys.stdout.write(f"{w} {i}\n")
                sys.stdout.flush()

    for w in range(threads):
        threading.Thread(target=worker, args=(w,), daemon=True).start()
    time.sleep(3600)


if __name__ == "__main__":
    main()

"""EMF metrics reach the metric store column-wise (``put_batch``) exactly as Samples would."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from heron.monitor.contracts import Sample
from heron.monitor.logs.store import LogStore
from heron.monitor.metrics.store import MetricStore
from heron.types import LogEvent

NOW_S = 1_800_000_000.0
NOW = int(NOW_S * 1000)
STATS = ["SampleCount", "Sum", "Minimum", "Maximum", "p50"]


class SamplesOnly:
    """A MetricSink with only ``put_samples``: the store's Sample path, as reference."""

    def __init__(self, store: MetricStore) -> None:
        self.store = store

    def put_samples(self, samples: Sequence[Sample]) -> None:
        self.store.put_samples(samples)


values = st.one_of(
    st.integers(-5, 50),
    st.floats(0, 1e6, allow_nan=False),
    st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=4),
)
documents = st.builds(
    lambda fn, route, latency, sent, age, resolution, unit: json.dumps(
        {
            "_aws": {
                "Timestamp": NOW - age,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "App",
                        "Dimensions": [["Route", "Function"], ["Function"]],
                        "Metrics": [
                            {"Name": "Latency", "Unit": unit, "StorageResolution": resolution},
                            {"Name": "Sent", "Unit": "Count"},
                        ],
                    }
                ],
            },
            "Function": fn,
            "Route": route,
            "Latency": latency,
            "Sent": sent,
        }
    ),
    st.sampled_from(["a", "b"]),
    st.sampled_from(["/x", "/y"]),
    values,
    values,
    st.integers(0, 300_000),
    st.sampled_from([1, 60]),
    st.sampled_from(["Milliseconds", "None"]),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(documents, min_size=1, max_size=12), min_size=1, max_size=3))
def test_column_path_stores_what_the_sample_path_stores(batches: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        answers = []
        for name, wrap in (("columns", lambda m: m), ("samples", SamplesOnly)):
            metrics = MetricStore(Path(tmp) / name, clock=lambda: NOW_S)
            logs = LogStore(Path(tmp) / name / "logs.db", clock=lambda: NOW_S, sink=wrap(metrics))
            for lines in batches:
                logs.ingest([LogEvent("g", "s", NOW, line) for line in lines])
            found = {}
            for metric in metrics.list_metrics():
                for period in (1, 60):
                    found[(metric, period)] = metrics.statistics(
                        metric,
                        start_ms=NOW - 400_000,
                        end_ms=NOW + 60_000,
                        period_s=period,
                        statistics=STATS,
                    )
            answers.append(found)
            logs.close()
            metrics.close()
        columns, samples = answers
        assert columns == samples
        assert columns  # every document has at least one valid metric

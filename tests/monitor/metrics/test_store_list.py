"""ListMetrics-style selection: namespace, name, dimension filters, recency, paging."""

from __future__ import annotations

from pathlib import Path

from store_helpers import NOW, FakeClock, open_store, sample

from heron.monitor.contracts import MetricId

NOW_MS = int(NOW * 1000)


def test_filters_match_metrics_containing_the_dimensions(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    metrics = [
        MetricId("App", "Latency", (("Function", "a"),)),
        MetricId("App", "Latency", (("Function", "b"), ("Stage", "prod"))),
        MetricId("App", "Errors", (("Function", "a"),)),
        MetricId("App", "Errors", ()),
        MetricId("Other", "Latency", (("Function", "a"),)),
    ]
    store.put_samples([sample([1.0], NOW_MS, metric=m) for m in metrics])
    assert store.list_metrics() == sorted(
        metrics, key=lambda m: (m.namespace, m.name, m.dimensions)
    )
    assert store.list_metrics(namespace="App", name="Latency") == metrics[:2]
    assert store.list_metrics(dimension_filters=[("Function", "a")]) == [
        metrics[2],
        metrics[0],
        metrics[4],
    ]
    assert store.list_metrics(dimension_filters=[("Stage", None)]) == [metrics[1]]
    assert store.list_metrics(dimension_filters=[("Function", None), ("Stage", "prod")]) == [
        metrics[1]
    ]
    assert store.list_metrics(dimension_filters=[("Function", "")]) == []
    assert store.list_metrics(namespace="Nope") == []


def test_recently_active_and_two_week_visibility(tmp_path: Path) -> None:
    clock = FakeClock()
    store = open_store(tmp_path, clock)
    old, new = MetricId("App", "Old", ()), MetricId("App", "New", ())
    store.put_samples([sample([1.0], NOW_MS, metric=old)])
    clock.now += 4 * 3600
    store.put_samples([sample([1.0], int(clock.now * 1000), metric=new)])
    assert store.list_metrics(namespace="App") == [new, old]
    assert store.list_metrics(active_since_ms=int(clock.now * 1000) - 3 * 3_600_000) == [new]
    clock.now += 14 * 86400 - 3600
    assert store.list_metrics(namespace="App") == [new]
    store.close()
    assert open_store(tmp_path, clock).list_metrics(namespace="App") == [new]


def test_paging_with_after_and_limit(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    metrics = [MetricId("App", f"M{i:04d}", (("K", str(i % 3)),)) for i in range(1203)]
    store.put_samples([sample([1.0], NOW_MS, metric=m) for m in metrics])
    seen: list[MetricId] = []
    after = None
    while True:
        page = store.list_metrics(namespace="App", after=after, limit=500)
        seen += page
        if len(page) < 500:
            break
        after = page[-1]
    assert seen == metrics

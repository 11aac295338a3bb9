"""ResultCache: bounded by datapoints and age, least recently used out first, bound to a key."""

from __future__ import annotations

import threading

import pytest

from heron.monitor.metrics.result_cache import ResultCache

T0 = 1_750_000_000_000


def test_a_snapshot_is_found_only_with_its_key() -> None:
    cache: ResultCache[str] = ResultCache()
    snapshot = cache.put("req", ["a", "b"], 2, T0)
    assert snapshot is not None
    assert cache.get(snapshot, "req", T0) == ["a", "b"]
    assert cache.get(snapshot, "other request", T0) is None
    assert cache.get("no such snapshot", "req", T0) is None


def test_each_put_makes_a_new_snapshot() -> None:
    cache: ResultCache[str] = ResultCache()
    first, second = cache.put("req", ["a"], 1, T0), cache.put("req", ["b"], 1, T0)
    assert first != second and first is not None and second is not None
    assert cache.get(first, "req", T0) == ["a"] and cache.get(second, "req", T0) == ["b"]


def test_least_recently_used_entries_make_room() -> None:
    cache: ResultCache[str] = ResultCache(max_points=10)
    a, b = cache.put("a", ["a"], 4, T0), cache.put("b", ["b"], 4, T0)
    assert a is not None and b is not None
    assert cache.get(a, "a", T0) is not None  # a is now the more recently used
    c = cache.put("c", ["c"], 4, T0)
    assert c is not None
    assert cache.get(b, "b", T0) is None
    assert cache.get(a, "a", T0) == ["a"] and cache.points == 8


def test_results_larger_than_the_bound_are_not_kept() -> None:
    cache: ResultCache[str] = ResultCache(max_points=10)
    kept = cache.put("a", ["a"], 4, T0)
    assert cache.put("huge", ["h"], 11, T0) is None
    assert kept is not None and cache.get(kept, "a", T0) == ["a"]  # nothing was evicted for it


def test_entries_expire_by_age_on_the_callers_clock() -> None:
    cache: ResultCache[str] = ResultCache(max_age_ms=1_000)
    snapshot = cache.put("a", ["a"], 3, T0)
    assert snapshot is not None
    assert cache.get(snapshot, "a", T0 + 1_000) == ["a"]
    assert cache.get(snapshot, "a", T0 + 1_001) is None
    assert len(cache) == 0 and cache.points == 0


def test_discard_and_clear_release_points() -> None:
    cache: ResultCache[str] = ResultCache()
    a, _ = cache.put("a", ["a"], 3, T0), cache.put("b", ["b"], 5, T0)
    assert a is not None
    cache.discard(a)
    cache.discard(a)  # twice is harmless
    assert cache.points == 5
    cache.clear()
    assert cache.points == 0 and len(cache) == 0


@pytest.mark.parametrize("bounds", [{"max_points": -1}, {"max_age_ms": -1}])
def test_negative_bounds_are_refused(bounds: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        ResultCache(**bounds)


def test_concurrent_use_keeps_the_point_count_right() -> None:
    cache: ResultCache[int] = ResultCache(max_points=50)

    def work(n: int) -> None:
        for i in range(300):
            snapshot = cache.put(f"{n}", [i], 1 + i % 7, T0)
            if snapshot is not None and i % 3 == 0:
                cache.discard(snapshot)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 0 <= cache.points <= 50

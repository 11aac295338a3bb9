"""CloudWatch's metric data model: units, limits, and the canonical identity key of a metric.

A metric is (namespace, name, sorted dimensions). Inside the store it is one interned string,
``namespace \\0 name (\\0 dim-name \\1 dim-value)*``, which sorts like the tuple it encodes and
lets dimension filters run as substring tests. Names and values must not contain ``\\0`` or
``\\1`` (the API layer rejects them).
"""

from __future__ import annotations

from heron.types import Dimensions

#: CloudWatch's StandardUnit values; a unit's position is its code inside the store.
UNITS = (
    "None", "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
    "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent",
    "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second",
)  # fmt: skip
UNIT_CODES = {u: i for i, u in enumerate(UNITS)}
#: Series ids are ``metric_id * UNIT_SLOTS + unit_code``.
UNIT_SLOTS = 32

MAX_DIMENSIONS = 30
MAX_VALUES = 150
MAX_DATUMS = 1000
#: CloudWatch rejects values whose magnitude exceeds 2**360 (and NaN/Infinity).
MAX_MAGNITUDE = 2.0**360

_SEP = "\x00"
_KV = "\x01"


def metric_key(namespace: str, name: str, dimensions: Dimensions) -> str:
    """The canonical key of a metric (``dimensions`` already sorted by name)."""
    if not dimensions:
        return f"{namespace}{_SEP}{name}"
    return f"{namespace}{_SEP}{name}{_SEP}" + _SEP.join(f"{k}{_KV}{v}" for k, v in dimensions)


def parse_key(key: str) -> tuple[str, str, Dimensions]:
    """Inverse of ``metric_key``."""
    parts = key.split(_SEP)
    dims = tuple((p.split(_KV, 1)[0], p.split(_KV, 1)[1]) for p in parts[2:])
    return parts[0], parts[1], dims


def key_prefix(namespace: str | None, name: str | None) -> str:
    """The prefix every key of ``namespace`` (and ``name``) starts with."""
    if namespace is None:
        return ""
    if name is None:
        return f"{namespace}{_SEP}"
    return f"{namespace}{_SEP}{name}"


def key_matches(key: str, name: str | None, filters: tuple[tuple[str, str | None], ...]) -> bool:
    """Whether a key has metric name ``name`` and contains every (dimension, value?) filter."""
    if name is not None and key.split(_SEP, 2)[1] != name:
        return False
    if not filters:
        return True
    tail = key + _SEP
    for dim, value in filters:
        needle = f"{_SEP}{dim}{_KV}" if value is None else f"{_SEP}{dim}{_KV}{value}{_SEP}"
        if needle not in tail[tail.index(_SEP) :]:
            return False
    return True


class MetricKeys:
    """``metric_key`` remembered per metric, so a series sent again and again builds its key
    once; at most ``size`` are kept (past it the cache starts over: it only saves work)."""

    __slots__ = ("_keys", "_size")

    def __init__(self, size: int = 100_000) -> None:
        self._keys: dict[tuple[str, str, Dimensions], str] = {}
        self._size = size

    def key(self, namespace: str, name: str, dimensions: Dimensions) -> str:
        """The store key of the metric."""
        ident = (namespace, name, dimensions)
        key = self._keys.get(ident)
        if key is None:
            if len(self._keys) >= self._size:
                self._keys.clear()
            key = self._keys[ident] = metric_key(namespace, name, dimensions)
        return key

"""A stand-in for the metric store's id registry, for tests of the decode workers' rows."""

from __future__ import annotations

import numpy as np

from heron.awsapi.decode_pool import ResolvedRows
from heron.awsapi.plain_put import PlainPut


class Registry:
    """Metric ids for keys, handed out as the metric store does (dense, first come)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.asked: list[str] = []

    def __call__(self, keys: list[str]) -> np.ndarray:
        self.asked.extend(keys)
        return np.array([self.ids.setdefault(k, len(self.ids)) for k in keys], np.int64)

    def put(self, rows: ResolvedRows, namespace: str = "App") -> PlainPut:
        """The rows as the in-process path gives them, to compare."""
        keys = {i: k for k, i in self.ids.items()}
        return PlainPut(
            namespace,
            [keys[m] for m in rows.mids.tolist()],
            rows.units.tolist(),
            rows.times_ms.tolist(),
            rows.values.tolist(),
        )

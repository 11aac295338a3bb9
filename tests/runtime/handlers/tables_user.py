"""A handler that records table operations through a stand-in ``heron.tables.metrics``.

The stand-in keeps this test independent of the real tables layer: the worker only needs a
module of that name with a ``RECORDER`` whose ``drain()`` returns objects with ``as_dict()``.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _Op:
    def __init__(self, table: str, units: float) -> None:
        self.table = table
        self.units = units

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "units": self.units}


class _Recorder:
    def __init__(self) -> None:
        self.ops: list[_Op] = []

    def record(self, table: str, units: float) -> None:
        self.ops.append(_Op(table, units))

    def drain(self) -> list[_Op]:
        ops, self.ops = self.ops, []
        return ops


_metrics = types.ModuleType("heron.tables.metrics")
_metrics.RECORDER = _Recorder()  # type: ignore[attr-defined]
sys.modules["heron.tables.metrics"] = _metrics


def handler(event: Any, context: Any) -> str:
    """Record one write per table named in the event."""
    for table in event["tables"]:
        _metrics.RECORDER.record(table, 1.0)
    return "ok"

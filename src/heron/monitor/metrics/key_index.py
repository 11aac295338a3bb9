"""Sending metric rows between processes with each store key crossing the pipe once.

A decode worker (``heron.awsapi.decode_worker``) answers with rows of store keys. Instead of
the keys, an answer carries the keys this worker had not sent before and, per row, the index of
its key; the parent (``heron.awsapi.decode_pool.KeysReceived``) keeps the same list with each
key's metric id, so it looks up an id only for a key new to it and maps a whole request's rows
to ids with one array index. Light on purpose (no numpy): every worker imports it.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence


class KeysSent:
    """The worker's side: the index of every key it has sent."""

    #: Most keys remembered; past it both sides start over (the answer says so).
    MAX = 100_000

    def __init__(self) -> None:
        self._index: dict[str, int] = {}

    def index(self, keys: Sequence[str]) -> tuple[bool, list[str], bytes]:
        """(start over, keys new to the parent in index order, every key's index packed)."""
        index = self._index
        reset = len(index) + len(keys) > self.MAX
        if reset:
            index.clear()
        new: list[str] = []
        rows = array("I")
        for key in keys:
            found = index.get(key)
            if found is None:
                found = index[key] = len(index)
                new.append(key)
            rows.append(found)
        return reset, new, rows.tobytes()

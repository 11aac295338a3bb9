"""Fakes and schemas shared by the tables tests."""

from __future__ import annotations

from heron.tables.base import IndexSchema, TableSchema
from heron.tables.schema import default_schemas

START = 1_700_000_000.0


class FakeClock:
    """A clock that only moves when the test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


#: A table with numeric sort keys, a GSI keyed by (player, score) and a TTL attribute.
SCORES = TableSchema(
    name="Scores",
    partition_key="game",
    sort_key="score",
    indexes=(IndexSchema("player-index", "player", "score"),),
    ttl_attribute="ttl",
)
#: A provisioned table: 2 RCU / 2 WCU per second with a 2-second burst allowance.
LIMITED = TableSchema(
    name="Limited",
    partition_key="id",
    indexes=(IndexSchema("tag-index", "tag"),),
    provisioned=(2, 2),
    burst_seconds=2.0,
)
SCHEMAS = (*default_schemas(), SCORES, LIMITED)
BACKENDS = ("memory", "sqlite", "dynamodb")

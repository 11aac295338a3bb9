"""DynamoDB-shaped tables: the Table protocol, the SQLite backend and the in-memory backend.

``open_database`` builds a backend explicitly; ``database_from_env`` is what handlers call: it
reads the process contract (HERON_TABLES_BACKEND, HERON_DATA_DIR, USERS_TABLE, ...) and caches
the database per process, so a warm Lambda environment reuses its connection.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from heron.errors import ConfigError
from heron.tables._core import CoreTable
from heron.tables.base import TableSchema
from heron.tables.database import CoreDatabase
from heron.tables.metrics import Recorder
from heron.tables.schema import default_schemas, schemas_from_env
from heron.types import Clock

if TYPE_CHECKING:
    from heron.tables.dynamodb import DynamoDatabase
    from heron.tables.dynamodb_client import DynamoConfig

__all__ = [
    "BACKENDS",
    "CoreDatabase",
    "CoreTable",
    "database_from_env",
    "default_schemas",
    "open_database",
    "reset_database_cache",
    "schemas_from_env",
]

BACKENDS = ("sqlite", "memory", "dynamodb")
#: The SQLite tables file inside the data directory.
TABLES_FILE = "tables.db"
DEFAULT_DATA_DIR = ".heron"

_cache: dict[tuple[object, ...], CoreDatabase | DynamoDatabase] = {}
_cache_lock = threading.Lock()


def open_database(
    backend: str,
    data_dir: Path,
    schemas: Sequence[TableSchema],
    clock: Clock = time.time,
    recorder: Recorder | None = None,
    *,
    dynamodb: DynamoConfig | None = None,
) -> CoreDatabase | DynamoDatabase:
    """Open the ``backend`` database for ``schemas`` (under ``data_dir`` for SQLite).

    ``dynamodb`` says where DynamoDB is (default: the ``HERON_DYNAMODB_*`` environment).
    """
    if backend == "sqlite":
        from heron.tables.sqlite import SqliteDatabase

        return SqliteDatabase(Path(data_dir) / TABLES_FILE, schemas, clock, recorder)
    if backend == "memory":
        from heron.tables.memory import MemoryDatabase

        return MemoryDatabase(schemas, clock, recorder)
    if backend == "dynamodb":
        from heron.tables.dynamodb import DynamoDatabase
        from heron.tables.dynamodb_client import DynamoConfig, make_client

        config = DynamoConfig.from_env(os.environ) if dynamodb is None else dynamodb
        return DynamoDatabase(
            make_client(config), schemas, clock=clock, recorder=recorder, endpoint=config.endpoint
        )
    raise ConfigError(f"Unknown tables backend {backend!r}; expected one of {BACKENDS}")


def database_from_env(env: Mapping[str, str] | None = None) -> CoreDatabase | DynamoDatabase:
    """The process's database as the environment describes it, opened once per process."""
    source = os.environ if env is None else env
    backend = source.get("HERON_TABLES_BACKEND") or "sqlite"
    data_dir = str(Path(source.get("HERON_DATA_DIR") or DEFAULT_DATA_DIR).resolve())
    schemas = schemas_from_env(source)
    dynamodb = None
    if backend == "dynamodb":
        from heron.tables.dynamodb_client import DynamoConfig

        dynamodb = DynamoConfig.from_env(source)
    # The pid is part of the key: a forked child must open its own connection.
    key = (os.getpid(), backend, data_dir, tuple(s.name for s in schemas), dynamodb)
    with _cache_lock:
        db = _cache.get(key)
        if db is None:
            db = _cache[key] = open_database(backend, Path(data_dir), schemas, dynamodb=dynamodb)
        return db


def reset_database_cache() -> None:
    """Close and forget the databases ``database_from_env`` opened (tests, reconfiguration)."""
    with _cache_lock:
        dbs = list(_cache.values())
        _cache.clear()
    for db in dbs:
        if db is not None:
            db.close()

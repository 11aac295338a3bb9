"""open_database and the per-process database_from_env cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from heron.errors import ConfigError
from heron.tables import database_from_env, open_database, reset_database_cache
from heron.tables.base import Database, Table
from heron.tables.memory import MemoryDatabase
from heron.tables.schema import default_schemas
from heron.tables.sqlite import SqliteDatabase


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    reset_database_cache()
    yield
    reset_database_cache()


def test_open_database_backends(tmp_path: Path) -> None:
    sqlite = open_database("sqlite", tmp_path, default_schemas())
    assert isinstance(sqlite, SqliteDatabase)
    assert (tmp_path / "tables.db").exists()
    sqlite.close()
    memory = open_database("memory", tmp_path, default_schemas())
    assert isinstance(memory, MemoryDatabase)
    with pytest.raises(ConfigError, match="Unknown tables backend"):
        open_database("dynamo", tmp_path, default_schemas())


def test_database_from_env_is_cached_per_configuration(tmp_path: Path) -> None:
    env = {"HERON_DATA_DIR": str(tmp_path), "USERS_TABLE": "dev-users"}
    db = database_from_env(env)
    assert isinstance(db, SqliteDatabase)
    assert database_from_env(dict(env)) is db
    db.table("dev-users").put({"userId": "u1"})
    other = database_from_env({**env, "HERON_TABLES_BACKEND": "memory"})
    assert isinstance(other, MemoryDatabase)
    assert other.table("dev-users").get({"userId": "u1"}) is None
    reset_database_cache()
    fresh = database_from_env(env)
    assert fresh is not db
    assert fresh.table("dev-users").get({"userId": "u1"}) == {"userId": "u1"}


def test_backends_satisfy_the_protocols(tmp_path: Path) -> None:
    # mypy checks these assignments: both backends are structurally Database and Table.
    for backend in ("memory", "sqlite"):
        db: Database = open_database(backend, tmp_path, default_schemas())
        table: Table = db.table("Users")
        assert table.schema.name == "Users"
        db.close()

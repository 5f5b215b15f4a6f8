"""SQLite keeps registered clients in memory between transactions (``client_cache``): a cached
client is served only while no other connection has committed, and the repository's own
writes, committed or rolled back, are never hidden by it."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path

import pytest

from authgate.core.models import TokenHash
from authgate.storage.base import StorageUnavailable
from authgate.storage.sql._engine import sqlite_executor
from authgate.storage.sql._engine.client_cache import MAX_CLIENTS, ClientCache
from authgate.storage.sql._engine.sqlite_executor import DirectSqliteExecutor
from authgate.storage.sql._engine.sqlite_storage import (
    SqliteStorage,
    create_sqlite_engine,
    open_sqlite_storage,
)
from authgate.storage.sql.schema import metadata

from . import factories as f


@pytest.fixture
async def path(sqlite_template: Path, tmp_path: Path, now: datetime) -> Path:
    target = tmp_path / "authgate.db"
    shutil.copyfile(sqlite_template, target)
    return target


@pytest.fixture
async def sqlite(path: Path) -> AsyncIterator[SqliteStorage]:
    storage = await open_sqlite_storage(f"sqlite:///{path}")
    async with storage.transaction() as tx:
        await tx.clients.add(f.client())
    yield storage
    await storage.close()


async def _get(storage: SqliteStorage, client_id: str = f.CLIENT_ID) -> object:
    async with storage.transaction() as tx:
        return await tx.clients.get(client_id)


async def _reads(storage: SqliteStorage, client_id: str = f.CLIENT_ID) -> int:
    """How many SELECTs on the clients table one lookup ran."""
    statements: list[str] = []
    async with storage.transaction() as tx:
        driver = tx.connection._conn.connection.driver_connection  # type: ignore[attr-defined]
        driver.set_trace_callback(statements.append)
        try:
            await tx.clients.get(client_id)
        finally:
            driver.set_trace_callback(None)
    return sum("FROM clients" in s for s in statements)


async def test_a_client_read_twice_is_read_from_the_database_once(sqlite: SqliteStorage) -> None:
    assert await _reads(sqlite) == 1
    assert await _reads(sqlite) == 0
    assert await _get(sqlite) == f.client()


async def test_a_client_deleted_by_another_connection_is_gone_at_once(
    sqlite: SqliteStorage, path: Path
) -> None:
    assert await _get(sqlite) is not None
    other = sqlite3.connect(path)
    with other:
        other.execute("DELETE FROM clients WHERE client_id = ?", (f.CLIENT_ID,))
    other.close()
    assert await _get(sqlite) is None


async def test_a_secret_changed_by_another_process_is_seen_at_once(
    sqlite: SqliteStorage, path: Path
) -> None:
    assert (await _get(sqlite)).secret_hash == TokenHash("ab" * 32)  # type: ignore[attr-defined]
    other = await open_sqlite_storage(f"sqlite:///{path}")
    try:
        async with other.transaction() as tx:
            await tx.clients.delete(f.CLIENT_ID)
            await tx.clients.add(f.client(secret_hash=TokenHash("cd" * 32)))
    finally:
        await other.close()
    assert (await _get(sqlite)).secret_hash == TokenHash("cd" * 32)  # type: ignore[attr-defined]


async def test_the_repositorys_own_delete_is_seen_at_once(sqlite: SqliteStorage) -> None:
    assert await _get(sqlite) is not None
    async with sqlite.transaction() as tx:
        assert await tx.clients.delete(f.CLIENT_ID)
        assert await tx.clients.get(f.CLIENT_ID) is None
    assert await _get(sqlite) is None


class Abort(Exception):
    """Rolls a test's transaction back."""


async def _register_then_abort(storage: SqliteStorage) -> None:
    async with storage.transaction() as tx:
        await tx.clients.add(f.client("client-2"))
        assert await tx.clients.get("client-2") is not None  # its own write, uncommitted
        raise Abort


async def _delete_then_abort(storage: SqliteStorage) -> None:
    async with storage.transaction() as tx:
        await tx.clients.delete(f.CLIENT_ID)
        raise Abort


async def test_a_rolled_back_registration_is_not_remembered(sqlite: SqliteStorage) -> None:
    with pytest.raises(Abort):
        await _register_then_abort(sqlite)
    assert await _get(sqlite, "client-2") is None


async def test_a_rolled_back_delete_leaves_the_client_readable(sqlite: SqliteStorage) -> None:
    assert await _get(sqlite) is not None
    with pytest.raises(Abort):
        await _delete_then_abort(sqlite)
    assert await _get(sqlite) == f.client()


async def test_unknown_clients_are_not_remembered(sqlite: SqliteStorage) -> None:
    assert await _reads(sqlite, "nobody") == 1
    assert await _reads(sqlite, "nobody") == 1


async def test_a_new_connection_starts_with_an_empty_cache(sqlite: SqliteStorage) -> None:
    """``data_version`` numbers of two connections are unrelated."""
    assert await _reads(sqlite) == 1
    assert await _reads(sqlite) == 0
    assert sqlite._conn is not None
    sqlite._conn.invalidate()
    assert await _reads(sqlite) == 1


async def test_the_version_is_read_before_the_row(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change committed between the two reads is caught by the next lookup: the row read
    after the version is never older than the version it is filed under. (Without group
    commit: a batch holds the write lock from its start, so no commit can come between.)"""
    sqlite = await open_sqlite_storage(f"sqlite:///{path}", group_commit=False)
    async with sqlite.transaction() as tx:
        await tx.clients.add(f.client())
    read_version = DirectSqliteExecutor.data_version
    renamed = []

    def version_then_rename(self: DirectSqliteExecutor) -> int:
        version = read_version(self)
        if not renamed:
            renamed.append(True)
            other = sqlite3.connect(path)
            with other:
                other.execute("UPDATE clients SET client_name = 'renamed'")
            other.close()
        return version

    monkeypatch.setattr(DirectSqliteExecutor, "data_version", version_then_rename)
    first = await _get(sqlite)
    assert first.client_name == "renamed"  # type: ignore[attr-defined]
    again = await _get(sqlite)
    assert again.client_name == "renamed"  # type: ignore[attr-defined]
    await sqlite.close()


async def test_a_failing_version_read_is_a_storage_error(
    sqlite: SqliteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answered like any other database failure (503), never as a crash."""
    monkeypatch.setattr(sqlite_executor, "_DATA_VERSION", "PRAGMA data_version(")
    with pytest.raises(StorageUnavailable):
        await _get(sqlite)


async def _shared_engine_storage() -> SqliteStorage:
    storage = SqliteStorage(create_sqlite_engine("sqlite://"))
    metadata.create_all(storage.engine)
    return storage


@pytest.mark.parametrize(
    "make",
    [lambda: open_sqlite_storage("sqlite://"), _shared_engine_storage],
    ids=["open_sqlite_storage", "SqliteStorage"],
)
async def test_an_in_memory_database_does_not_cache(
    make: Callable[[], Awaitable[SqliteStorage]],
) -> None:
    """Its one connection is shared with everything that uses the engine."""
    storage = await make()
    try:
        async with storage.transaction() as tx:
            await tx.clients.add(f.client())
        assert await _reads(storage) == 1
        assert await _reads(storage) == 1
    finally:
        await storage.close()


def test_the_cache_forgets_everything_when_the_version_moves() -> None:
    cache = ClientCache()
    assert cache.get("a", 1) is None
    cache.put(f.client("a"), 1)
    assert cache.get("a", 1) == f.client("a")
    assert cache.get("a", 2) is None
    assert cache.get("a", 1) is None  # not back when the number is seen again


def test_a_client_read_at_an_older_version_is_not_stored() -> None:
    cache = ClientCache()
    assert cache.get("a", 2) is None
    cache.put(f.client("a"), 1)
    assert cache.get("a", 2) is None


def test_after_a_write_nothing_is_stored_until_the_transaction_ends() -> None:
    cache = ClientCache()
    cache.get("a", 1)
    cache.put(f.client("a"), 1)
    cache.written()
    assert cache.get("a", 1) is None
    cache.put(f.client("a"), 1)
    assert cache.get("a", 1) is None
    cache.end_transaction()
    assert cache.get("a", 1) is None
    cache.put(f.client("a"), 1)
    assert cache.get("a", 1) == f.client("a")


def test_the_cache_is_bounded() -> None:
    cache = ClientCache()
    cache.get("x", 1)
    for n in range(MAX_CLIENTS):
        cache.put(f.client(f"c{n}"), 1)
    assert cache.get("c0", 1) is not None
    cache.put(f.client("one-more"), 1)
    assert cache.get("c0", 1) is None
    assert cache.get("one-more", 1) is not None

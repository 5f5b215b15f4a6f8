"""PostgreSQL keeps registered clients in memory while it hears the change notices of migration
0010 (``client_notices``): a change committed by anyone empties the cache, nothing is cached
while nobody listens, and reads inside a transaction that began never use the cache."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.storage.sql import SqlStorage, create_engine, open_storage
from authgate.storage.sql import client_notices as notices_module
from authgate.storage.sql.schema import metadata

from . import factories as f

pytestmark = pytest.mark.postgres


@pytest.fixture
async def admin(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(pg_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def pg(pg_url: str, admin: AsyncEngine) -> AsyncIterator[SqlStorage]:
    async with admin.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())
    store = await open_storage(pg_url)
    assert isinstance(store, SqlStorage)
    async with store.transaction() as tx:
        await tx.clients.add(f.client(client_name="first"))
    yield store
    await store.close()


@pytest.fixture
async def listening(pg: SqlStorage) -> AsyncIterator[SqlStorage]:
    task = asyncio.create_task(pg.housekeeping())
    await _until(lambda: _version(pg) is not None)
    yield pg
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def _version(store: SqlStorage) -> int | None:
    assert store._notices is not None
    return store._notices.version(False)


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met within 2 s")


async def _name(store: SqlStorage) -> str | None:
    async with store.transaction() as tx:
        client = await tx.clients.get(f.CLIENT_ID)
    return None if client is None else client.client_name


async def _rename_unannounced(admin: AsyncEngine, name: str) -> None:
    """Change the row without a notice (the trigger off), to see whether the cache answers."""
    async with admin.begin() as conn:
        await conn.execute(text("ALTER TABLE clients DISABLE TRIGGER clients_changed"))
        await conn.execute(text("UPDATE clients SET client_name = :n"), {"n": name})
        await conn.execute(text("ALTER TABLE clients ENABLE TRIGGER clients_changed"))


async def test_a_client_is_served_from_memory_while_listening(
    listening: SqlStorage, admin: AsyncEngine
) -> None:
    assert await _name(listening) == "first"
    await _rename_unannounced(admin, "unannounced")
    assert await _name(listening) == "first"  # from memory: nothing announced a change


async def test_a_change_committed_elsewhere_empties_the_cache(
    listening: SqlStorage, admin: AsyncEngine
) -> None:
    assert await _name(listening) == "first"
    before = _version(listening)
    async with admin.begin() as conn:
        await conn.execute(text("UPDATE clients SET client_name = 'second'"))
    await _until(lambda: _version(listening) != before)
    assert await _name(listening) == "second"


class Boom(Exception):
    pass


async def test_a_rolled_back_change_is_not_announced_and_not_cached(
    listening: SqlStorage,
) -> None:
    async def delete_then_fail() -> None:
        async with listening.transaction() as tx:
            await tx.clients.delete(f.CLIENT_ID)
            assert await tx.clients.get(f.CLIENT_ID) is None  # its own write, not the cache
            raise Boom

    with pytest.raises(Boom):
        await delete_then_fail()
    assert await _name(listening) == "first"


async def test_nothing_is_cached_while_nobody_listens(pg: SqlStorage, admin: AsyncEngine) -> None:
    assert await _name(pg) == "first"
    await _rename_unannounced(admin, "unannounced")
    assert await _name(pg) == "unannounced"


async def test_reads_inside_a_begun_transaction_skip_the_cache(
    listening: SqlStorage, admin: AsyncEngine, now: datetime
) -> None:
    assert await _name(listening) == "first"
    await _rename_unannounced(admin, "unannounced")
    async with listening.transaction() as tx:
        await tx.throttle.hit("k", now, now - now)  # a write: the transaction has begun
        client = await tx.clients.get(f.CLIENT_ID)
    assert client is not None and client.client_name == "unannounced"


async def test_a_lost_listener_stops_the_cache_until_it_listens_again(
    listening: SqlStorage, admin: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notices_module, "RETRY_INTERVAL", 0.05)
    assert await _name(listening) == "first"
    before = _version(listening)
    async with admin.connect() as conn:  # every other backend of this database, listener too
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await _until(lambda: _version(listening) is None)
    await _rename_unannounced(admin, "unannounced")
    assert await _name(listening) == "unannounced"  # not listening: read from the database
    await _until(lambda: _version(listening) not in (None, before))
    await _rename_unannounced(admin, "again")
    assert await _name(listening) == "again"  # a fresh count: the old entries are gone


async def test_migration_0010_adds_one_statement_trigger(
    pg: SqlStorage, admin: AsyncEngine
) -> None:
    async with admin.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT tgname FROM pg_trigger "
                "WHERE tgrelid = 'clients'::regclass AND NOT tgisinternal"
            )
        )
        assert [row[0] for row in found] == ["clients_changed"]

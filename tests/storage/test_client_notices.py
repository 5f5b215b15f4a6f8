"""PostgreSQL keeps registered clients in memory while it hears the change notices of migration
0010 (``client_notices``): a change committed by anyone empties the cache, nothing is cached
while nobody listens, and reads inside a transaction that began never use the cache."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.storage.sql import PostgresStorage, create_engine, open_storage
from authgate.storage.sql._engine import client_notices as notices_module
from authgate.storage.sql.schema import metadata

from . import factories as f

pytestmark = pytest.mark.postgres


@pytest.fixture
async def admin(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(pg_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def pg(pg_url: str, admin: AsyncEngine) -> AsyncIterator[PostgresStorage]:
    async with admin.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())
    store = await open_storage(pg_url)
    assert isinstance(store, PostgresStorage)
    async with store.transaction() as tx:
        await tx.clients.add(f.client(client_name="first"))
    yield store
    await store.close()


@contextlib.asynccontextmanager
async def _housekeeping(store: PostgresStorage) -> AsyncIterator[None]:
    """The storage's housekeeping (the listener) running for the block, as the server runs it."""
    task = asyncio.create_task(store.housekeeping())
    try:
        await _until(lambda: _version(store) is not None)
        yield
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


@pytest.fixture
async def listening(pg: PostgresStorage) -> AsyncIterator[PostgresStorage]:
    async with _housekeeping(pg):
        yield pg


def _version(store: PostgresStorage) -> int | None:
    assert store._notices is not None
    return store._notices.version(False)


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met within 2 s")


async def _name(store: PostgresStorage) -> str | None:
    async with store.transaction() as tx:
        client = await tx.clients.get(f.CLIENT_ID)
    return None if client is None else client.client_name


async def _rename_unannounced(admin: AsyncEngine, name: str) -> None:
    """Change the row without a notice (the trigger off), to see whether the cache answers."""
    async with admin.begin() as conn:
        await conn.execute(text("ALTER TABLE clients DISABLE TRIGGER clients_changed"))
        await conn.execute(text("UPDATE clients SET client_name = :n"), {"n": name})
        await conn.execute(text("ALTER TABLE clients ENABLE ALWAYS TRIGGER clients_changed"))


async def test_a_client_is_served_from_memory_while_listening(
    listening: PostgresStorage, admin: AsyncEngine
) -> None:
    assert await _name(listening) == "first"
    await _rename_unannounced(admin, "unannounced")
    assert await _name(listening) == "first"  # from memory: nothing announced a change


async def test_a_change_committed_elsewhere_empties_the_cache(
    listening: PostgresStorage, admin: AsyncEngine
) -> None:
    assert await _name(listening) == "first"
    before = _version(listening)
    async with admin.begin() as conn:
        await conn.execute(text("UPDATE clients SET client_name = 'second'"))
    await _until(lambda: _version(listening) != before)
    assert await _name(listening) == "second"


class Boom(Exception):
    pass


async def test_a_rolled_back_change_read_inside_its_transaction_is_never_cached(
    listening: PostgresStorage,
) -> None:
    """The cache is empty (a fresh count), so a read that stored its result would store the
    uncommitted name."""

    async def rename_read_fail() -> None:
        async with listening.transaction() as tx:
            await tx.connection.execute(text("UPDATE clients SET client_name = 'uncommitted'"))
            client = await tx.clients.get(f.CLIENT_ID)
            assert client is not None and client.client_name == "uncommitted"  # its own write
            raise Boom

    with pytest.raises(Boom):
        await rename_read_fail()
    assert await _name(listening) == "first"


async def test_nothing_is_cached_while_nobody_listens(
    pg: PostgresStorage, admin: AsyncEngine
) -> None:
    assert await _name(pg) == "first"
    await _rename_unannounced(admin, "unannounced")
    assert await _name(pg) == "unannounced"


async def test_reads_inside_a_begun_transaction_skip_the_cache(
    listening: PostgresStorage, admin: AsyncEngine, now: datetime
) -> None:
    assert await _name(listening) == "first"
    await _rename_unannounced(admin, "unannounced")
    async with listening.transaction() as tx:
        await tx.throttle.hit("k", now, now - now)  # a write: the transaction has begun
        client = await tx.clients.get(f.CLIENT_ID)
    assert client is not None and client.client_name == "unannounced"


async def test_a_lost_listener_stops_the_cache_until_it_listens_again(
    listening: PostgresStorage, admin: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notices_module, "RETRY_INTERVAL", 0.5)
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


async def test_heartbeats_that_do_not_arrive_stop_the_cache(
    pg: PostgresStorage, admin: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As behind a pooler that does not forward notices: the connection answers, notices
    never come."""
    monkeypatch.setattr(notices_module, "PING_INTERVAL", 0.05)
    monkeypatch.setattr(notices_module, "PING_TIMEOUT", 0.2)
    monkeypatch.setattr(notices_module, "RETRY_INTERVAL", 60)
    notices = pg._notices
    assert notices is not None
    async with _housekeeping(pg):

        async def lost_in_the_pooler(channel: str, payload: str) -> None:
            pass

        monkeypatch.setattr(notices, "_notify", lost_in_the_pooler)
        await _until(lambda: _version(pg) is None)
        await _rename_unannounced(admin, "unannounced")
        assert await _name(pg) == "unannounced"


async def test_a_disabled_trigger_stops_the_cache(
    pg: PostgresStorage, admin: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notices_module, "PING_INTERVAL", 0.05)
    monkeypatch.setattr(notices_module, "RETRY_INTERVAL", 0.05)
    async with _housekeeping(pg):
        async with admin.begin() as conn:
            await conn.execute(text("ALTER TABLE clients DISABLE TRIGGER clients_changed"))
        try:
            await _until(lambda: _version(pg) is None)
            await asyncio.sleep(0.2)  # retries keep failing while it is disabled
            assert _version(pg) is None
        finally:
            async with admin.begin() as conn:
                await conn.execute(
                    text("ALTER TABLE clients ENABLE ALWAYS TRIGGER clients_changed")
                )
        await _until(lambda: _version(pg) is not None)


async def test_no_client_stays_in_memory_longer_than_the_maximum_age(
    listening: PostgresStorage, admin: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await _name(listening) == "first"
    await _rename_unannounced(admin, "unannounced")
    assert await _name(listening) == "first"
    monkeypatch.setattr(notices_module, "MAX_AGE", 0.05)
    await asyncio.sleep(0.06)
    assert await _name(listening) == "unannounced"


async def test_migration_0010_adds_one_statement_trigger(
    pg: PostgresStorage, admin: AsyncEngine
) -> None:
    async with admin.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT tgname, tgenabled::text FROM pg_trigger "
                "WHERE tgrelid = 'clients'::regclass AND NOT tgisinternal"
            )
        )
        assert [tuple(row) for row in found] == [("clients_changed", "A")]  # ALWAYS

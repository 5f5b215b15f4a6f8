"""Transactions: commit, rollback, usability after a duplicate, and unavailability."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from authgate.storage.base import DuplicateError, StorageUnavailable
from authgate.storage.sql import PostgresStorage, SqlStorage, create_engine, open_storage

from . import factories as f

UNREACHABLE_POSTGRES = "postgresql://postgres@127.0.0.1:1/authgate"


class Boom(Exception):
    pass


async def test_committed_writes_are_visible_to_later_transactions(storage: SqlStorage) -> None:
    async with storage.transaction() as tx:
        await tx.clients.add(f.client())
    async with storage.transaction() as tx:
        assert await tx.clients.get(f.CLIENT_ID) is not None


async def test_an_exception_rolls_everything_back(storage: SqlStorage, now: datetime) -> None:
    async def write_then_fail() -> None:
        async with storage.transaction() as tx:
            await tx.clients.add(f.client())
            await tx.users.add(f.user())
            await tx.throttle.hit("k", now, timedelta(minutes=1))
            raise Boom

    with pytest.raises(Boom):
        await write_then_fail()

    async with storage.transaction() as tx:
        assert await tx.clients.list() == []
        assert await tx.users.list() == []
        assert await tx.throttle.count("k", now, timedelta(minutes=1)) == 0


async def test_a_duplicate_leaves_the_transaction_usable(storage: SqlStorage) -> None:
    """On PostgreSQL a failed statement would abort the whole transaction; a duplicate must
    not, so callers can report it and carry on alike on every backend."""
    async with storage.transaction() as tx:
        await tx.clients.add(f.client())
        with pytest.raises(DuplicateError):
            await tx.clients.add(f.client())
        await tx.users.add(f.user())

    async with storage.transaction() as tx:
        assert [c.client_id for c in await tx.clients.list()] == [f.CLIENT_ID]
        assert await tx.users.get(f.USER_ID) is not None


async def test_ping_answers(storage: SqlStorage) -> None:
    await storage.ping()


async def test_concurrent_readers_and_writers_do_not_fail(storage: SqlStorage) -> None:
    async def register(i: int) -> None:
        async with storage.transaction() as tx:
            await tx.clients.list()
            await tx.clients.add(f.client(f"c{i:02}"))

    await asyncio.gather(*(register(i) for i in range(20)))

    async with storage.transaction() as tx:
        assert len(await tx.clients.list()) == 20


async def test_unreachable_postgresql_is_unavailable_within_seconds() -> None:
    store = await open_storage(UNREACHABLE_POSTGRES)
    started = time.monotonic()
    try:
        with pytest.raises(StorageUnavailable):
            async with store.transaction():
                pass
        with pytest.raises(StorageUnavailable):
            await store.ping()
    finally:
        await store.close()
    assert time.monotonic() - started < 5


@pytest.mark.postgres
async def test_a_statement_timeout_is_unavailable(pg_url: str) -> None:
    """asyncpg's command timeout bounds a hung database the same way."""
    store = PostgresStorage(create_engine(pg_url), command_timeout=0.2)
    try:
        with pytest.raises(StorageUnavailable):
            async with store.transaction() as tx:
                await tx.connection.execute(text("SELECT pg_sleep(2)"))
    finally:
        await store.close()


async def test_unopenable_sqlite_file_is_unavailable(tmp_path: Path) -> None:
    threads_before = set(threading.enumerate())
    store = await open_storage(f"sqlite:///{tmp_path / 'missing-dir' / 'authgate.db'}")
    try:
        with pytest.raises(StorageUnavailable):
            await store.ping()
        with pytest.raises(StorageUnavailable):
            async with store.transaction():
                pass
    finally:
        await store.close()
        # A thread a failed connect left behind reports to the event loop, which must still
        # be running (SQLite runs on the loop's thread now; the check stays).
        for thread in set(threading.enumerate()) - threads_before:
            await asyncio.to_thread(thread.join, 5)


async def test_memory_database_has_the_schema_and_isolates_transactions(now: datetime) -> None:
    """One shared connection: a rollback must not discard another transaction's work."""
    store = await open_storage("sqlite://")
    entered = asyncio.Event()

    async def write_then_fail() -> None:
        async with store.transaction() as tx:
            await tx.users.add(f.user("u-failed", "mallory"))
            entered.set()
            await asyncio.sleep(0.05)
            raise Boom

    async def failing() -> None:
        with pytest.raises(Boom):
            await write_then_fail()

    async def succeeding() -> None:
        await entered.wait()
        async with store.transaction() as tx:
            await tx.users.add(f.user())

    try:
        await asyncio.gather(failing(), succeeding())
        await store.ping()
        async with store.transaction() as tx:
            assert [u.id for u in await tx.users.list()] == [f.USER_ID]
    finally:
        await store.close()

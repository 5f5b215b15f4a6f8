"""PostgreSQL on asyncpg directly (storage/sql/direct_pg.py): the transaction is one, textual
SQL falls back to SQLAlchemy inside it, a failure rolls everything back, and a dead
connection is a 503 that the pool recovers from. The contract suite covers the statements."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from sqlalchemy import text

from authgate.storage.base import StorageUnavailable
from authgate.storage.sql import SqlStorage, create_engine, open_storage
from authgate.storage.sql.direct_pg import _rowcount

from . import factories as f

pytestmark = pytest.mark.postgres


class Boom(Exception):
    pass


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[SqlStorage]:
    from authgate.storage.sql.schema import metadata

    store = await open_storage(pg_url)
    async with store.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())
    yield store  # type: ignore[misc]
    await store.close()


def test_command_status_row_counts() -> None:
    assert _rowcount("UPDATE 3") == 3
    assert _rowcount("INSERT 0 1") == 1
    assert _rowcount("DELETE 0") == 0
    assert _rowcount("SELECT") == -1


async def test_sqlalchemy_fallback_commits_with_the_transaction(pg: SqlStorage) -> None:
    async with pg.transaction() as tx:
        await tx.clients.add(f.client())
        await tx.connection.execute(  # textual SQL: not prepared, runs through SQLAlchemy
            text("UPDATE clients SET client_name = :name WHERE client_id = :id"),
            {"name": "renamed", "id": f.CLIENT_ID},
        )
    async with pg.transaction() as tx:
        client = await tx.clients.get(f.CLIENT_ID)
    assert client is not None and client.client_name == "renamed"


async def test_an_exception_rolls_back_both_paths(pg: SqlStorage) -> None:
    async def write_then_fail() -> None:
        async with pg.transaction() as tx:
            await tx.clients.add(f.client())
            await tx.connection.execute(
                text("UPDATE clients SET client_name = 'x' WHERE client_id = :id"),
                {"id": f.CLIENT_ID},
            )
            raise Boom

    with pytest.raises(Boom):
        await write_then_fail()
    async with pg.transaction() as tx:
        assert await tx.clients.get(f.CLIENT_ID) is None


async def test_a_killed_idle_connection_is_replaced_without_failing(
    pg: SqlStorage, pg_url: str, now: datetime
) -> None:
    async with pg.transaction() as tx:
        pid = (await tx.connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    admin = create_engine(pg_url)  # not the pool under test, which holds only that backend
    try:
        async with admin.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(100):  # the backend exits shortly after the signal
                gone = (
                    await conn.execute(
                        text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                        {"pid": pid},
                    )
                ).scalar_one() == 0
                if gone:
                    break
                await asyncio.sleep(0.02)
    finally:
        await admin.dispose()
    # The pooled connection is dead: the pool's pre-ping finds out before anything runs on
    # it and opens a fresh one, so no request fails.
    async with pg.transaction() as tx:
        await tx.throttle.hit("k", now, now - now)
        assert (await tx.connection.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid
    async with pg.transaction() as tx:
        assert await tx.clients.list() == []
    await pg.ping()


async def test_a_connection_killed_mid_transaction_is_unavailable_then_replaced(
    pg: SqlStorage, pg_url: str, now: datetime
) -> None:
    admin = create_engine(pg_url)

    async def killed_while_working() -> None:
        async with pg.transaction() as tx:
            pid = (await tx.connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            async with admin.connect() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(100):
                await tx.throttle.hit("k", now, now - now)
                await asyncio.sleep(0.02)

    try:
        with pytest.raises(StorageUnavailable):
            await killed_while_working()
    finally:
        await admin.dispose()
    # Work that started is never retried; the next transaction gets a fresh connection.
    async with pg.transaction() as tx:
        assert await tx.clients.list() == []

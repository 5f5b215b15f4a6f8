"""PostgreSQL on asyncpg directly (storage/sql/_engine/asyncpg_executor.py): the transaction
begins at its first write or lock and is one, textual SQL runs inside it, a failure rolls
everything back, a dead connection is a 503 that the pool recovers from, and one found dead by
a transaction's first round trip is replaced without failing. The contract suite covers the
statements."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import make_url, select, text, update
from sqlalchemy.exc import OperationalError

from authgate.core.models import TokenHash
from authgate.storage.base import StorageUnavailable
from authgate.storage.sql import PostgresStorage, SqlTransaction, create_engine, open_storage
from authgate.storage.sql._engine import asyncpg_executor as direct_pg
from authgate.storage.sql._engine.asyncpg_executor import DirectAsyncpgExecutor, _rowcount
from authgate.storage.sql._engine.prepared import Prepared
from authgate.storage.sql.schema import clients as clients_table

from . import factories as f

pytestmark = pytest.mark.postgres


class Boom(Exception):
    pass


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[PostgresStorage]:
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


async def test_textual_sql_commits_with_the_transaction(pg: PostgresStorage) -> None:
    async with pg.transaction() as tx:
        await tx.clients.add(f.client())
        await tx.connection.execute(  # textual SQL: not prepared, compiled when it runs
            text("UPDATE clients SET client_name = :name WHERE client_id = :id"),
            {"name": "renamed", "id": f.CLIENT_ID},
        )
    async with pg.transaction() as tx:
        client = await tx.clients.get(f.CLIENT_ID)
    assert client is not None and client.client_name == "renamed"


async def test_an_exception_rolls_back_both_paths(pg: PostgresStorage) -> None:
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
    pg: PostgresStorage, pg_url: str, now: datetime
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
    # The pooled connection is dead: the pool (or the transaction's first round trip) finds
    # out before anything of the transaction runs on it and opens a fresh one, so no request
    # fails.
    async with pg.transaction() as tx:
        await tx.throttle.hit("k", now, now - now)
        assert (await tx.connection.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid
    async with pg.transaction() as tx:
        assert await tx.clients.list() == []
    await pg.ping()


async def test_a_connection_killed_mid_transaction_is_unavailable_then_replaced(
    pg: PostgresStorage, pg_url: str, now: datetime
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
    assert pg._pool is not None and pg._pool._in_use == 0  # every connection was given back


def _begun(tx: SqlTransaction) -> bool:
    executor = tx.connection
    assert isinstance(executor, DirectAsyncpgExecutor)
    return executor.begun


async def test_reads_alone_open_no_transaction(pg: PostgresStorage) -> None:
    """READ COMMITTED gives every statement a fresh snapshot, inside a transaction or not: a
    transaction that only reads needs no BEGIN and no COMMIT (two round trips fewer)."""
    async with pg.transaction() as tx:
        await tx.clients.add(f.client())
    async with pg.transaction() as tx:
        assert await tx.clients.get(f.CLIENT_ID) is not None
        assert await tx.users.get("nobody") is None
        assert not _begun(tx)
        in_transaction = await tx.connection.execute(  # textual SQL begins, to be safe
            text("SELECT now() = statement_timestamp()")
        )
        assert _begun(tx)
        assert in_transaction.scalar_one() is False  # now() is the transaction's start


async def test_the_first_write_begins_and_later_failure_undoes_it(
    pg: PostgresStorage, now: datetime
) -> None:
    async def read_write_fail() -> None:
        async with pg.transaction() as tx:
            assert await tx.clients.get(f.CLIENT_ID) is None
            assert not _begun(tx)
            await tx.clients.add(f.client())
            assert _begun(tx)
            await tx.throttle.hit("k", now, now - now)
            raise Boom

    with pytest.raises(Boom):
        await read_write_fail()
    async with pg.transaction() as tx:
        assert await tx.clients.get(f.CLIENT_ID) is None
        assert await tx.throttle.count("k", now, timedelta(minutes=1)) == 0
    assert pg._pool is not None and pg._pool._in_use == 0


async def test_a_locking_read_begins(pg: PostgresStorage) -> None:
    async with pg.transaction() as tx:
        assert await tx.refresh_tokens.lock(TokenHash("unknown")) is None  # SELECT … FOR UPDATE
        assert _begun(tx)


async def test_connections_read_committed_whatever_the_database_default(
    pg: PostgresStorage, pg_url: str
) -> None:
    name = make_url(pg_url).database
    admin = create_engine(pg_url)
    try:
        async with admin.begin() as conn:
            await conn.execute(
                text(f'ALTER DATABASE "{name}" SET default_transaction_isolation = serializable')
            )
        try:
            fresh = PostgresStorage(create_engine(pg_url))
            try:
                async with fresh.transaction() as tx:
                    level = await tx.connection.execute(text("SHOW transaction_isolation"))
                    assert level.scalar_one() == "read committed"
            finally:
                await fresh.close()
        finally:
            async with admin.begin() as conn:
                await conn.execute(
                    text(f'ALTER DATABASE "{name}" RESET default_transaction_isolation')
                )
    finally:
        await admin.dispose()


class _Lost(asyncpg.exceptions.ConnectionDoesNotExistError):
    pass


class _FakeConnection:
    """A connection whose round trips fail (and which then reports itself closed) as told."""

    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = failures
        self.closed = False
        self.sent: list[str] = []

    async def execute(self, sql: str, *values: Any) -> str:
        self.sent.append(sql)
        if self.failures:
            exc = self.failures.pop(0)
            self.closed = not isinstance(exc, asyncio.TimeoutError)
            raise exc
        return "UPDATE 1"

    fetch = execute

    def is_closed(self) -> bool:
        return self.closed

    def terminate(self) -> None:
        self.closed = True


class _FakePool:
    def __init__(self, *connections: _FakeConnection) -> None:
        self.connections = list(connections)
        self.released: list[tuple[_FakeConnection, bool]] = []

    async def acquire(self) -> _FakeConnection:
        return self.connections.pop(0)

    async def release(self, connection: _FakeConnection, *, discard: bool = False) -> None:
        self.released.append((connection, discard))


def _executor(pool: _FakePool) -> DirectAsyncpgExecutor:
    dialect = create_engine("postgresql://u@127.0.0.1/d").dialect
    return DirectAsyncpgExecutor(pool.connections.pop(0), {}, dialect, pool)  # type: ignore[arg-type]


async def test_a_connection_dead_at_the_first_round_trip_is_replaced() -> None:
    dead, fresh = _FakeConnection([_Lost("gone")]), _FakeConnection([])
    pool = _FakePool(dead, fresh)
    executor = _executor(pool)
    await executor.begin()
    assert executor.connection is fresh and executor.begun
    assert pool.released == [(dead, True)]
    assert fresh.sent == ["BEGIN"]


async def test_a_connection_lost_later_fails_the_transaction() -> None:
    conn = _FakeConnection([])
    pool = _FakePool(conn, _FakeConnection([]))
    executor = _executor(pool)
    await executor.begin()
    conn.failures.append(_Lost("gone"))
    with pytest.raises(OperationalError):
        await executor.execute(update(clients_table).values(client_name="x"))
    assert executor.broken and pool.released == []  # not retried: work may have started


async def test_a_timeout_at_the_first_round_trip_is_not_retried() -> None:
    hung = _FakeConnection([TimeoutError()])
    pool = _FakePool(hung, _FakeConnection([]))
    executor = _executor(pool)
    with pytest.raises(OperationalError):
        await executor.begin()
    assert executor.broken and executor.connection is hung


async def test_a_block_that_swallows_a_lost_connection_cannot_end_normally(
    pg: PostgresStorage, pg_url: str
) -> None:
    """Its writes are gone with the connection: leaving the block must not look like a commit."""
    admin = create_engine(pg_url)

    async def swallow() -> None:
        async with pg.transaction() as tx:
            await tx.clients.add(f.client())
            pid = (await tx.connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            async with admin.connect() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with contextlib.suppress(OperationalError):
                for _ in range(100):
                    await tx.clients.list()
                    await asyncio.sleep(0.02)

    try:
        with pytest.raises(StorageUnavailable):
            await swallow()
    finally:
        await admin.dispose()
    async with pg.transaction() as tx:
        assert await tx.clients.get(f.CLIENT_ID) is None
    assert pg._pool is not None and pg._pool._in_use == 0


async def test_a_failed_commit_is_unavailable_and_gives_the_connection_back(
    pg: PostgresStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def commit_fails() -> None:
        async with pg.transaction() as tx:
            await tx.clients.add(f.client())
            executor = tx.connection
            assert isinstance(executor, DirectAsyncpgExecutor)
            target = executor.connection._con
            real = asyncpg.connection.Connection.execute

            async def execute(self: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
                if self is target and sql == "COMMIT":
                    self.terminate()
                    raise asyncpg.exceptions.ConnectionDoesNotExistError("lost at commit")
                return await real(self, sql, *args, **kwargs)

            monkeypatch.setattr(asyncpg.connection.Connection, "execute", execute)

    with pytest.raises(StorageUnavailable):
        await commit_fails()
    assert pg._pool is not None and pg._pool._in_use == 0
    async with pg.transaction() as tx:
        assert await tx.clients.get(f.CLIENT_ID) is None


async def test_a_burst_beyond_the_pool_waits_a_bounded_time(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Callers that arrive together count as waiting once the pool is exhausted."""
    monkeypatch.setattr(direct_pg, "POOL_SIZE", 2)
    monkeypatch.setattr(direct_pg, "ACQUIRE_TIMEOUT", 0.2)
    store = PostgresStorage(create_engine(pg_url))
    assert store._pool is not None
    try:
        first = await asyncio.gather(*(store._pool.acquire() for _ in range(2)))

        async def third() -> None:
            async with store.transaction() as tx:
                await tx.clients.list()

        started = asyncio.get_running_loop().time()
        with pytest.raises(StorageUnavailable):
            await third()
        assert asyncio.get_running_loop().time() - started < 2
        for connection in first:
            await store._pool.release(connection)
        assert store._pool._in_use == 0
    finally:
        await asyncio.wait_for(store.close(), 5)  # a leaked connection would hang close()


def test_only_selects_that_neither_write_nor_lock_run_before_begin() -> None:
    from authgate.storage.sql import refresh, tokens
    from authgate.storage.sql.schema import clients

    dialect = create_engine("postgresql://u@127.0.0.1/d").dialect
    assert Prepared(select(clients), dialect, None).plain_read
    for locking in (refresh._LOCK,):
        assert not Prepared(locking, dialect, None).plain_read
    for write in (refresh._ROTATE, refresh._REVOKE_FAMILY, tokens._CONSUME_CODE):
        assert not Prepared(write, dialect, None).plain_read
    assert not Prepared(clients.insert(), dialect, ("client_id",)).plain_read

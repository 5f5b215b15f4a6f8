"""PostgreSQL storage (:class:`PostgresStorage`): transactions on asyncpg's own pool, the
statements prepared (``asyncpg_executor``), clients in memory while change notices are heard
(``client_notices``). SQLAlchemy's async engine stays for migrations and maintenance.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.storage.base import Storage
from authgate.storage.sql._engine.asyncpg_executor import AsyncpgPool, asyncpg_transaction
from authgate.storage.sql._engine.client_cache import NotifiedClientCache
from authgate.storage.sql._engine.client_notices import ClientNotices
from authgate.storage.sql._engine.prepared import Prepared
from authgate.storage.sql.engine import COMMAND_TIMEOUT, unavailable_as_storage_error
from authgate.storage.sql.transaction import SqlTransaction

__all__ = ["PostgresStorage"]


class PostgresStorage(Storage):
    """Transactions on PostgreSQL through asyncpg: on asyncpg's own pool with the statements
    prepared, beginning only at their first write or lock (``asyncpg_executor``, design note
    0008). SQLite uses ``sqlite_storage.SqliteStorage`` instead."""

    def __init__(self, engine: AsyncEngine, *, command_timeout: float | None = COMMAND_TIMEOUT):
        self._engine = engine
        self._prepared: dict[Any, Prepared | None] = {}
        self._pool = AsyncpgPool(engine, command_timeout=command_timeout)
        # Clients in memory while change notices are heard (housekeeping listens).
        self._notices = ClientNotices(self._pool.connect, self._pool.notify)
        self._clients = NotifiedClientCache()

    @property
    def engine(self) -> AsyncEngine:
        """The engine, for maintenance tasks (purging, migrations, tests)."""
        return self._engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTransaction]:
        """``BEGIN`` … ``COMMIT``, or ``ROLLBACK`` if the block raises.

        Connection failures and timeouts, whether on connect, inside the block or on commit,
        become ``StorageUnavailable`` (the request may be retried later).
        """
        dialect = self._engine.dialect
        async with (
            unavailable_as_storage_error(),
            asyncpg_transaction(self._pool, self._prepared, dialect, self._notices) as executor,
        ):
            yield SqlTransaction(executor, self._clients, executor.client_version)

    async def ping(self) -> None:
        """Raise ``StorageUnavailable`` unless the database answers a trivial query."""
        async with unavailable_as_storage_error():
            await self._pool.ping()

    async def housekeeping(self) -> None:
        """Listen for changes to clients, so they can be kept in memory (``client_notices``).
        Vacuuming and checkpoints are PostgreSQL's own."""
        await self._notices.run()

    async def close(self) -> None:
        """Close every pooled connection."""
        await self._pool.close()
        await self._engine.dispose()

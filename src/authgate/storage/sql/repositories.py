"""The SQL implementation of :class:`authgate.storage.base.Storage` (SQLite and PostgreSQL).

A :class:`SqlTransaction` is one database transaction on one connection; its repositories are
thin wrappers that run prebuilt SQLAlchemy Core statements on that connection. The repository
classes live in ``accounts``, ``tokens`` and ``instance`` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.storage.base import Storage, Transaction
from authgate.storage.sql.accounts import (
    SqlClientRepository,
    SqlGrantRepository,
    SqlUserRepository,
)
from authgate.storage.sql.client_cache import ClientCache, NotifiedClientCache
from authgate.storage.sql.client_notices import ClientNotices
from authgate.storage.sql.direct import Prepared
from authgate.storage.sql.direct_pg import AsyncpgPool, asyncpg_transaction
from authgate.storage.sql.engine import (
    COMMAND_TIMEOUT,
    create_engine,
    normalize_url,
    unavailable_as_storage_error,
)
from authgate.storage.sql.executor import Executor
from authgate.storage.sql.instance import (
    SqlKeyRepository,
    SqlSecretRepository,
    SqlThrottleRepository,
)
from authgate.storage.sql.maintenance import SqlMaintenanceRepository
from authgate.storage.sql.refresh import SqlRefreshTokenRepository
from authgate.storage.sql.resources import SqlResourceRepository
from authgate.storage.sql.tokens import (
    SqlAccessTokenRepository,
    SqlCodeRepository,
    SqlInteractionRepository,
    SqlSessionRepository,
)

__all__ = [
    "SqlStorage",
    "SqlTransaction",
    "open_storage",
    "SqlAccessTokenRepository",
    "SqlClientRepository",
    "SqlCodeRepository",
    "SqlGrantRepository",
    "SqlInteractionRepository",
    "SqlKeyRepository",
    "SqlSecretRepository",
    "SqlSessionRepository",
    "SqlThrottleRepository",
    "SqlUserRepository",
]


class SqlTransaction(Transaction):
    """The repositories of one open transaction, all sharing its connection."""

    __slots__ = ("_client_cache", "_conn", "_data_version")

    def __init__(
        self,
        conn: Executor,
        client_cache: ClientCache | None = None,
        data_version: Callable[[], int | None] | None = None,
    ) -> None:
        self._conn = conn
        self._client_cache = client_cache
        self._data_version = data_version

    @property
    def connection(self) -> Executor:
        """The underlying connection, for maintenance tasks outside the repository interfaces."""
        return self._conn

    @property
    def clients(self) -> SqlClientRepository:
        return SqlClientRepository(self._conn, self._client_cache, self._data_version)

    @property
    def users(self) -> SqlUserRepository:
        return SqlUserRepository(self._conn)

    @property
    def grants(self) -> SqlGrantRepository:
        return SqlGrantRepository(self._conn)

    @property
    def codes(self) -> SqlCodeRepository:
        return SqlCodeRepository(self._conn)

    @property
    def access_tokens(self) -> SqlAccessTokenRepository:
        return SqlAccessTokenRepository(self._conn)

    @property
    def maintenance(self) -> SqlMaintenanceRepository:
        return SqlMaintenanceRepository(self._conn)

    @property
    def resources(self) -> SqlResourceRepository:
        return SqlResourceRepository(self._conn)

    @property
    def refresh_tokens(self) -> SqlRefreshTokenRepository:
        return SqlRefreshTokenRepository(self._conn)

    @property
    def sessions(self) -> SqlSessionRepository:
        return SqlSessionRepository(self._conn)

    @property
    def interactions(self) -> SqlInteractionRepository:
        return SqlInteractionRepository(self._conn)

    @property
    def keys(self) -> SqlKeyRepository:
        return SqlKeyRepository(self._conn)

    @property
    def throttle(self) -> SqlThrottleRepository:
        return SqlThrottleRepository(self._conn)

    @property
    def secrets(self) -> SqlSecretRepository:
        return SqlSecretRepository(self._conn)


class SqlStorage(Storage):
    """Transactions on PostgreSQL. Through asyncpg (the default driver) they run on asyncpg's
    own pool with the statements prepared, beginning only at their first write or lock
    (``direct_pg``, design note 0008); through any other driver, on SQLAlchemy's async engine.
    SQLite uses ``sqlite.SqliteStorage`` instead (see ``executor``)."""

    def __init__(self, engine: AsyncEngine, *, command_timeout: float | None = COMMAND_TIMEOUT):
        self._engine = engine
        self._prepared: dict[Any, Prepared | None] = {}
        self._pool = (
            AsyncpgPool(engine, command_timeout=command_timeout)
            if engine.dialect.driver == "asyncpg"
            else None
        )
        # Clients in memory while change notices are heard (housekeeping listens).
        self._notices = (
            None if self._pool is None else ClientNotices(self._pool.connect, self._pool.notify)
        )
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
        if self._pool is not None:
            dialect = self._engine.dialect
            async with (
                unavailable_as_storage_error(),
                asyncpg_transaction(self._pool, self._prepared, dialect, self._notices) as executor,
            ):
                yield SqlTransaction(executor, self._clients, executor.client_version)
            return
        async with unavailable_as_storage_error(), self._engine.begin() as conn:
            yield SqlTransaction(conn)

    async def ping(self) -> None:
        """Raise ``StorageUnavailable`` unless the database answers a trivial query."""
        async with unavailable_as_storage_error():
            if self._pool is not None:
                await self._pool.ping()
                return
            async with self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

    async def housekeeping(self) -> None:
        """Listen for changes to clients, so they can be kept in memory (``client_notices``).
        Vacuuming and checkpoints are PostgreSQL's own."""
        if self._notices is not None:
            await self._notices.run()

    async def close(self) -> None:
        """Close every pooled connection."""
        if self._pool is not None:
            await self._pool.close()
        await self._engine.dispose()


async def open_storage(url: str, *, group_commit: bool = False) -> Storage:
    """Storage for the database at ``url`` (see ``engine.normalize_url`` for accepted forms).

    Connects lazily: an unreachable database shows up as ``StorageUnavailable`` on use (and
    in :meth:`SqlStorage.ping`), so a server can start and report itself not ready. The schema
    must be current (``migrate.upgrade``), except for an in-memory SQLite database, which
    exists only inside this storage and so is created here from ``schema.metadata``.

    ``group_commit`` (SQLite): let the transactions of a turn of the event loop share a
    ``COMMIT`` (``SqliteStorage.transaction``); for a server that is the file's only writing
    process (``build_context`` turns it on for one worker).
    """
    if make_url(normalize_url(url)).get_backend_name() == "sqlite":
        from authgate.storage.sql.sqlite import open_sqlite_storage

        return await open_sqlite_storage(url, group_commit=group_commit)
    return SqlStorage(create_engine(url))

"""Database URLs and engines: PostgreSQL through asyncpg (an async engine), SQLite through the
standard library's pysqlite (a synchronous engine: requests run on the event loop's thread,
design note 0005; migrations in a worker thread, :func:`run_on_connection`).

SQLite runs in WAL mode so readers never block the single writer, with a busy timeout so that
concurrent writers queue instead of failing at once. Outside group commit the sqlite3 driver's
default ("legacy") transaction control is kept: it begins a transaction at the first write, so
such a transaction never has to upgrade a read snapshot to a write lock, the one case where
SQLite fails with "database is locked" without waiting for ``busy_timeout``. A group-commit
batch begins with ``BEGIN IMMEDIATE`` instead, which takes the write lock from the batch's
first read, for the same reason (``_engine/README.md``). Every protocol invariant is a single
statement (see ``storage/base.py``), so neither weakens them.

PostgreSQL connections have bounded connect and command timeouts, so a database outage
surfaces as :class:`~authgate.storage.base.StorageUnavailable` within seconds instead of
hanging requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final, Literal, TypeVar

from sqlalchemy import Connection, Engine, event, make_url
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from authgate.storage.base import StorageUnavailable

__all__ = [
    "COMMAND_TIMEOUT",
    "CONNECT_TIMEOUT",
    "FALLBACK_CHECKPOINT_PAGES",
    "create_engine",
    "create_sqlite_engine",
    "driver_error",
    "is_memory_sqlite",
    "normalize_url",
    "postgres_connect_args",
    "run_on_connection",
    "unavailable_as_storage_error",
]

T = TypeVar("T")

CONNECT_TIMEOUT: Final = 5.0
"""Seconds to wait for a PostgreSQL connection before reporting the database unavailable."""

COMMAND_TIMEOUT: Final = 10.0
"""Seconds any one PostgreSQL statement may take; requests run short statements only."""

SQLITE_BUSY_TIMEOUT_MS: Final = 5000

_SQLITE_PRAGMAS: Final = (
    # busy_timeout first: switching to WAL briefly needs a lock other connections may hold.
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode=WAL",
    # NORMAL is durable across application crashes in WAL mode; only an OS crash may lose the
    # last commits, which is acceptable for tokens and codes that clients can request again.
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    # 64 MiB of pages (allocated as used) instead of SQLite's 2 MiB: the token hash indexes
    # are read and written at random places, and past a few tens of thousands of tokens they
    # no longer fit in 2 MiB (client_credentials fell ~20 % over three runs on one database
    # with 2 MiB, and held steady with 64; bench/README.md).
    "PRAGMA cache_size=-65536",
)

JOURNAL_SIZE_LIMIT: Final = 64 * 1024 * 1024
"""Bytes the write-ahead log file is cut back to when it starts over."""

FALLBACK_CHECKPOINT_PAGES: Final = 20_000
"""Log pages (4 KiB) after which a connection checkpoints by itself (~80 MB): the storage's
housekeeping checkpoints in a worker thread long before (``_engine/sqlite_storage``)."""

_DRIVERS: Final = {
    "sqlite": "sqlite+pysqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}

_UNAVAILABLE: Final = (OperationalError, InterfaceError, OSError, TimeoutError)
"""Errors meaning "the database cannot be reached or timed out" (TimeoutError covers
asyncio's, and OSError covers refused or reset connections that drivers raise unwrapped)."""


def normalize_url(url: str) -> str:
    """The SQLAlchemy URL for a configured database URL.

    ``sqlite://``, ``sqlite:///:memory:`` and ``sqlite:///path`` select pysqlite;
    ``postgresql://`` and ``postgres://`` select asyncpg. A URL that already names a driver
    (``scheme+driver://``) is kept as given (SQLite's engine is pysqlite's whatever it names;
    a PostgreSQL driver other than asyncpg is refused by :func:`create_engine`). Anything else
    is a configuration error.
    """
    scheme, separator, rest = url.partition("://")
    backend, plus, driver = scheme.partition("+")
    if not separator or backend.lower() not in _DRIVERS:
        raise ValueError(
            f"unsupported database URL scheme {scheme!r}: use sqlite:///path/to/file.db, "
            "sqlite:// (in memory) or postgresql://user@host/dbname"
        )
    if plus:
        if not driver:
            raise ValueError(f"database URL scheme {scheme!r} names an empty driver")
        if backend.lower() == "postgres":
            # SQLAlchemy only knows the dialect as "postgresql".
            return f"postgresql+{driver}://{rest}"
        return url
    return f"{_DRIVERS[backend.lower()]}://{rest}"


def is_memory_sqlite(url: str) -> bool:
    """Whether ``url`` names a private in-memory SQLite database (gone with its engine)."""
    parsed = make_url(normalize_url(url))
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def create_engine(url: str, *, command_timeout: float | None = COMMAND_TIMEOUT) -> AsyncEngine:
    """An async engine for a PostgreSQL ``url`` (see :func:`normalize_url`), on asyncpg.

    ``command_timeout`` bounds each statement; migrations pass ``None`` because schema changes
    on large tables may legitimately take longer. SQLite has no async engine here: it runs on
    pysqlite (:func:`create_sqlite_engine`, :func:`run_on_connection`).
    """
    async_url = make_url(normalize_url(url))
    backend = async_url.get_backend_name()
    if backend == "sqlite":
        raise ValueError("SQLite runs on a synchronous engine: use create_sqlite_engine")
    if backend != "postgresql":
        raise ValueError(f"unsupported database backend {backend!r}")
    if async_url.get_driver_name() != "asyncpg":
        # No other PostgreSQL driver is a dependency, and the storage runs on asyncpg's own.
        raise ValueError(
            f"unsupported PostgreSQL driver {async_url.get_driver_name()!r}: "
            "use postgresql://user@host/dbname (asyncpg)"
        )
    return create_async_engine(
        async_url,
        pool_size=10,
        max_overflow=10,
        pool_timeout=CONNECT_TIMEOUT * 2,
        # A connection dropped by a database restart is replaced instead of failing a request.
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=postgres_connect_args(command_timeout),
    )


def create_sqlite_engine(url: str) -> Engine:
    """A synchronous (pysqlite) engine for a SQLite ``url``, with the pragmas of every
    authgate connection (an in-memory database: one shared connection, which it lives in)."""
    sync_url = make_url(normalize_url(url)).set(drivername="sqlite+pysqlite")
    if is_memory_sqlite(url):
        engine = create_sync_engine(
            sync_url, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        engine = create_sync_engine(sync_url, pool_size=1, max_overflow=1)
    event.listen(engine, "connect", _set_sqlite_pragmas)
    event.listen(engine, "connect", _defer_checkpoints)
    return engine


async def run_on_connection(
    url: str, work: Callable[[Connection], T], *, command_timeout: float | None = COMMAND_TIMEOUT
) -> T:
    """``work(connection)`` on a synchronous SQLAlchemy connection to ``url``, committed if
    it returns (for migrations, the schema check and tools; requests use the storages).

    SQLite: on a pysqlite connection in a worker thread, so the event loop goes on. PostgreSQL:
    through the async engine's ``run_sync``. Failing to connect raises ``StorageUnavailable``;
    errors inside ``work`` are its own (it wraps what it wants reported as unavailable).
    """
    if make_url(normalize_url(url)).get_backend_name() == "sqlite":
        return await asyncio.to_thread(_run_on_sqlite, url, work)
    engine = create_engine(url, command_timeout=command_timeout)
    try:
        async with _AS_STORAGE_ERROR:
            conn = await engine.connect()
        try:
            result = await conn.run_sync(work)
            await conn.commit()
            return result
        finally:
            await conn.close()
    finally:
        await engine.dispose()


def _run_on_sqlite(url: str, work: Callable[[Connection], T]) -> T:
    engine = create_sqlite_engine(url)
    try:
        with _AS_STORAGE_ERROR:
            conn = engine.connect()
        with conn:  # a Connection is entered once it exists (unlike AsyncConnection)
            result = work(conn)
            conn.commit()
            return result
    finally:
        engine.dispose()


def postgres_connect_args(command_timeout: float | None) -> dict[str, Any]:
    """asyncpg's connect arguments: bounded connect and statement times, and ``READ
    COMMITTED`` whatever the server's default, which the storage relies on (every statement
    reads a fresh snapshot; see ``_engine/asyncpg_executor`` and ``refresh``)."""
    return {
        "timeout": CONNECT_TIMEOUT,
        "command_timeout": command_timeout,
        "server_settings": {
            "application_name": "authgate",
            "default_transaction_isolation": "read committed",
        },
    }


def _defer_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_CHECKPOINT_PAGES}")
    # When the log starts over, a file grown past this (by a fallback checkpoint's wait) is
    # cut back, so the disk space returns.
    dbapi_connection.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")


def _set_sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


class _AsStorageError:
    """``unavailable_as_storage_error``'s context manager: a class, not a generator, as every
    transaction enters it (the generator's machinery cost more than the check itself). Also a
    synchronous one, for work in a worker thread (``run_on_connection``)."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> Literal[False]:
        if isinstance(exc, _UNAVAILABLE):
            raise StorageUnavailable(f"database unavailable: {driver_error(exc)}") from exc
        return False

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> Literal[False]:
        return self.__exit__(exc_type, exc, traceback)


_AS_STORAGE_ERROR: Final = _AsStorageError()


def unavailable_as_storage_error() -> _AsStorageError:
    """Re-raise connection failures and timeouts inside the block as ``StorageUnavailable``,
    the one error callers handle as "retry later" (HTTP 503), keeping the driver's error as
    the cause for the logs."""
    return _AS_STORAGE_ERROR


def driver_error(exc: BaseException) -> BaseException:
    """The driver's own error, for messages and logs: SQLAlchemy's wrapper would add the
    statement's parameters (which may hold token hashes)."""
    return exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc

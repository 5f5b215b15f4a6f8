"""Database URLs and async engines for SQLite (aiosqlite) and PostgreSQL (asyncpg).

SQLite runs in WAL mode so readers never block the single writer, with a busy timeout so that
concurrent writers queue instead of failing at once. The sqlite3 driver's default ("legacy")
transaction control is kept on purpose: it begins a transaction at the first write, so a
transaction never has to upgrade a read snapshot to a write lock, the one case where SQLite
fails with "database is locked" without waiting for ``busy_timeout``. Every protocol invariant
is a single statement (see ``storage/base.py``), so that mode does not weaken them.

PostgreSQL connections have bounded connect and command timeouts, so a database outage
surfaces as :class:`~authgate.storage.base.StorageUnavailable` within seconds instead of
hanging requests.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Final

from sqlalchemy import event, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from authgate.storage.base import StorageUnavailable

__all__ = [
    "COMMAND_TIMEOUT",
    "CONNECT_TIMEOUT",
    "create_engine",
    "driver_error",
    "is_memory_sqlite",
    "normalize_url",
    "postgres_connect_args",
    "set_sqlite_pragmas",
    "unavailable_as_storage_error",
]

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

_DRIVERS: Final = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}

_UNAVAILABLE: Final = (OperationalError, InterfaceError, OSError, TimeoutError)
"""Errors meaning "the database cannot be reached or timed out" (TimeoutError covers
asyncio's, and OSError covers refused or reset connections that drivers raise unwrapped)."""


def normalize_url(url: str) -> str:
    """The SQLAlchemy async URL for a configured database URL.

    ``sqlite://``, ``sqlite:///:memory:`` and ``sqlite:///path`` select aiosqlite;
    ``postgresql://`` and ``postgres://`` select asyncpg. A URL that already names a driver
    (``scheme+driver://``) is kept as given. Anything else is a configuration error.
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
    """An async engine for ``url`` (see :func:`normalize_url`) with per-backend settings.

    ``command_timeout`` bounds each PostgreSQL statement; migrations pass ``None`` because
    schema changes on large tables may legitimately take longer.
    """
    async_url = make_url(normalize_url(url))
    backend = async_url.get_backend_name()
    if backend == "sqlite":
        engine = create_async_engine(async_url)
        event.listen(engine.sync_engine, "connect", set_sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if async_url.get_driver_name() != "asyncpg":
            # No other PostgreSQL driver is a dependency, and the storage runs on asyncpg's own.
            raise ValueError(
                f"unsupported PostgreSQL driver {async_url.get_driver_name()!r}: "
                "use postgresql://user@host/dbname (asyncpg)"
            )
        connect_args = postgres_connect_args(command_timeout)
        return create_async_engine(
            async_url,
            pool_size=10,
            max_overflow=10,
            pool_timeout=CONNECT_TIMEOUT * 2,
            # A connection dropped by a database restart is replaced instead of failing a request.
            pool_pre_ping=True,
            pool_recycle=1800,
            connect_args=connect_args,
        )
    raise ValueError(f"unsupported database backend {backend!r}")


def postgres_connect_args(command_timeout: float | None) -> dict[str, Any]:
    """asyncpg's connect arguments: bounded connect and statement times, and ``READ
    COMMITTED`` whatever the server's default, which the storage relies on (every statement
    reads a fresh snapshot; see ``direct_pg`` and ``refresh``)."""
    return {
        "timeout": CONNECT_TIMEOUT,
        "command_timeout": command_timeout,
        "server_settings": {
            "application_name": "authgate",
            "default_transaction_isolation": "read committed",
        },
    }


def set_sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """The pragmas every authgate SQLite connection runs with (a ``connect`` event listener)."""
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


class _AsStorageError:
    """``unavailable_as_storage_error``'s context manager: a class, not a generator, as every
    transaction enters it (the generator's machinery cost more than the check itself)."""

    __slots__ = ()

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if isinstance(exc, _UNAVAILABLE):
            raise StorageUnavailable(f"database unavailable: {driver_error(exc)}") from exc
        return False


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

"""PostgreSQL transactions on asyncpg directly, with the repositories' statements prepared once.

The counterpart of ``direct.py`` for PostgreSQL. SQLAlchemy's async layer runs every statement
through a greenlet hop, an execution context and its result machinery; under the shared
benchmark that cost the server several times what PostgreSQL itself did. Here SQLAlchemy still
provides the pool (with its pre-ping and recycling) and compiles each statement once for the
asyncpg dialect (``$n`` parameters with their casts, the same type conversions); the
transaction and the statements run on the pooled asyncpg connection: ``BEGIN``, one
``fetch``/``execute`` per statement (asyncpg keeps them prepared on the connection), ``COMMIT``.

What is not prepared (textual SQL) runs through the SQLAlchemy connection inside the same
transaction. Failures to reach the database become SQLAlchemy's ``OperationalError`` (so
``StorageUnavailable``, HTTP 503) and the connection is discarded; constraint violations
become ``IntegrityError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Dialect, Executable
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from authgate.storage.sql.direct import DirectResult, Prepared, bind
from authgate.storage.sql.executor import Result

__all__ = ["DirectAsyncpgExecutor", "asyncpg_transaction"]

_UNREACHABLE = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,  # includes "the connection is closed"
    asyncpg.exceptions.QueryCanceledError,  # the server's statement_timeout
    OSError,
    asyncio.TimeoutError,  # asyncpg's command_timeout
)


class _Disconnected(Exception):
    """The connection is unusable: the transaction context discards it."""


def _translate(exc: BaseException, sql: str) -> Exception:
    if isinstance(exc, asyncpg.exceptions.IntegrityConstraintViolationError):
        return IntegrityError(sql, None, exc)
    if isinstance(exc, _UNREACHABLE):
        return OperationalError(sql, None, exc)
    return DBAPIError(sql, None, exc)


def _rowcount(status: str) -> int:
    """The row count of a command status such as ``UPDATE 3`` or ``INSERT 0 1``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


class DirectAsyncpgExecutor:
    """An ``Executor`` over the asyncpg connection of a SQLAlchemy ``AsyncConnection``."""

    __slots__ = ("_conn", "_pg", "_prepared", "broken", "used_sqlalchemy")

    def __init__(
        self, conn: AsyncConnection, pg: Any, prepared: dict[Any, Prepared | None]
    ) -> None:
        self._conn = conn
        self._pg = pg
        self._prepared = prepared
        self.used_sqlalchemy = False
        self.broken = False

    @property
    def dialect(self) -> Dialect:
        return self._conn.dialect

    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Result:
        bound = bind(self._prepared, statement, parameters, self._conn.dialect)
        if bound is None:
            self.used_sqlalchemy = True
            return await self._conn.execute(statement, parameters)
        prepared, values = bound
        try:
            if prepared.returns_rows:
                rows = prepared.rows(await self._pg.fetch(prepared.sql, *values))
                return DirectResult(rows, len(rows) if prepared.dml else -1)
            return DirectResult([], _rowcount(await self._pg.execute(prepared.sql, *values)))
        except (asyncpg.PostgresError, *_UNREACHABLE) as exc:
            self.broken = self.broken or isinstance(exc, _UNREACHABLE)
            raise _translate(exc, prepared.sql) from exc

    async def exec_driver_sql(self, sql: str) -> None:
        """Run SQL text as it is (tests and maintenance)."""
        try:
            await self._pg.execute(sql)
        except (asyncpg.PostgresError, *_UNREACHABLE) as exc:
            self.broken = self.broken or isinstance(exc, _UNREACHABLE)
            raise _translate(exc, sql) from exc


@asynccontextmanager
async def asyncpg_transaction(
    engine: AsyncEngine, prepared: dict[Any, Prepared | None]
) -> AsyncIterator[DirectAsyncpgExecutor]:
    """``BEGIN`` … ``COMMIT`` (``ROLLBACK`` if the block raises) on a pooled connection.

    A connection that failed is invalidated, so the pool opens a new one next time.
    """
    async with engine.connect() as conn:
        fairy = await conn.get_raw_connection()
        pg = fairy.driver_connection
        if pg is None:  # pragma: no cover - a pooled connection always has one
            raise OperationalError("connect", None, ConnectionError("no connection"))
        executor = DirectAsyncpgExecutor(conn, pg, prepared)
        transaction = pg.transaction()
        try:
            await transaction.start()
            try:
                yield executor
                if executor.used_sqlalchemy and conn.in_transaction():
                    await conn.commit()  # SQLAlchemy's part ran in a savepoint: release it
            except BaseException:
                if not executor.broken:
                    if executor.used_sqlalchemy and conn.in_transaction():
                        await conn.rollback()
                    await transaction.rollback()
                raise
            await transaction.commit()
        except _UNREACHABLE as exc:
            await conn.invalidate(exc)
            raise OperationalError("transaction", None, exc) from exc
        except (OperationalError, DBAPIError):
            if executor.broken:
                await conn.invalidate()
            raise

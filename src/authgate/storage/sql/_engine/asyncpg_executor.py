"""PostgreSQL transactions on asyncpg directly: asyncpg's own pool, the repositories' statements
prepared once, and no round trip the transaction's meaning does not need (design note 0008).

Under the shared benchmark each round trip to PostgreSQL cost the server ~130 µs of its own CPU
(sending, waking up for the answer, resuming every coroutine of the request), more than the
statements themselves. A userinfo request used to make four: SQLAlchemy's pool pinged the
connection at checkout, then ``BEGIN``, the lookup and ``COMMIT``. Now:

- **No ping at checkout.** asyncpg's pool notices a connection the server closed (the socket's
  end of file) and opens a new one. A connection found dead by the transaction's *first*
  round trip is replaced and that round trip is sent again, once: with the next rule, the
  first round trip is always a plain read or ``BEGIN``, so nothing of the transaction had
  taken effect. A connection lost later fails the transaction (``StorageUnavailable``, 503);
  work that may have started is never retried.
- **``BEGIN`` only before the first statement that writes or locks.** Connections run at
  ``READ COMMITTED`` (pinned by the connection's settings), where every statement of a
  transaction reads a fresh snapshot anyway: a plain ``SELECT`` sent before ``BEGIN`` sees
  exactly what it would have seen after it. So reads that come first run on their own, and a
  transaction that only reads (userinfo, introspection) is a single round trip per statement,
  with no ``BEGIN`` or ``COMMIT``. Anything else (``INSERT``/``UPDATE``/``DELETE``, ``SELECT
  … FOR UPDATE``, textual SQL) opens the transaction first; ``COMMIT`` (or ``ROLLBACK``) ends
  it as before.

SQLAlchemy still compiles each statement once for the asyncpg dialect (``$n`` parameters, the
same type conversions) and keeps its engine for migrations and maintenance. A statement that is
not among the prepared ones is compiled when it runs. Failures to reach the database become
SQLAlchemy's ``OperationalError`` (so ``StorageUnavailable``, HTTP 503) and the connection is
closed; constraint violations become ``IntegrityError``.
"""

from __future__ import annotations

import asyncio
from collections import namedtuple
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any, Final

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Dialect, Executable
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Insert, UpdateBase
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import Select

from authgate.storage.sql._engine.client_notices import ClientNotices
from authgate.storage.sql._engine.executor import Result
from authgate.storage.sql._engine.prepared import DirectResult, Prepared, bind
from authgate.storage.sql.engine import CONNECT_TIMEOUT, postgres_connect_args

__all__ = ["AsyncpgPool", "DirectAsyncpgExecutor", "asyncpg_transaction"]

POOL_SIZE: Final = 20
"""Connections per process at most (each PostgreSQL backend costs the server memory)."""

ACQUIRE_TIMEOUT: Final = CONNECT_TIMEOUT * 2
"""Seconds a transaction waits for a connection when all of the pool's are in use."""

IDLE_LIFETIME: Final = 300.0
"""Seconds an unused connection stays open."""

_UNREACHABLE = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,  # includes "the connection is closed"
    # The protocol in a state it did not expect, e.g. a backend terminated while a statement
    # was being sent: the connection cannot be trusted any more.
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.QueryCanceledError,  # the server's statement_timeout
    # Too many connections, out of memory or disk; shutting down or starting up (class 53
    # and 57 errors): the database cannot serve now, whatever the request.
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.OperatorInterventionError,
    OSError,
    asyncio.TimeoutError,  # asyncpg's command_timeout
)


def _translate(exc: BaseException, sql: str, *, lost: bool = False) -> Exception:
    """SQLAlchemy's type for a driver error: ``OperationalError`` (so a 503) whenever the
    database cannot be reached or the connection was lost, whatever the error said."""
    if isinstance(exc, asyncpg.exceptions.IntegrityConstraintViolationError) and not lost:
        return IntegrityError(sql, None, exc)
    if lost or isinstance(exc, _UNREACHABLE):
        return OperationalError(sql, None, exc)
    return DBAPIError(sql, None, exc)


def _rowcount(status: str) -> int:
    """The row count of a command status such as ``UPDATE 3`` or ``INSERT 0 1``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


async def _keep_session(_connection: Any) -> None:
    """The pool's reset: authgate never changes a session's state (settings, ``LISTEN``,
    advisory locks), so asyncpg's default reset query would be a wasted round trip on every
    release. asyncpg still rolls back a transaction left open before calling this."""


class AsyncpgPool:
    """asyncpg's pool, opened on first use with the engine's URL and authgate's timeouts, so
    that a server can start while the database is down and report itself not ready."""

    def __init__(self, engine: AsyncEngine, *, command_timeout: float | None) -> None:
        _, options = engine.dialect.create_connect_args(engine.url)
        # SQLAlchemy's name for asyncpg's statement cache size, if the URL sets it.
        if "prepared_statement_cache_size" in options:
            options["statement_cache_size"] = options.pop("prepared_statement_cache_size")
        self._options: dict[str, Any] = {**options, **postgres_connect_args(command_timeout)}
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._in_use = 0

    async def _opened(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    min_size=0,
                    max_size=POOL_SIZE,
                    max_inactive_connection_lifetime=IDLE_LIFETIME,
                    reset=_keep_session,
                    **self._options,
                )
        return self._pool

    async def acquire(self) -> Any:
        """A connection. Waiting for one is bounded only when the pool is exhausted: asyncpg
        bounds a wait with a task of its own, a cost every transaction would pay (opening a
        connection has its own timeout). Connections in use are counted here because the
        pool's own counts walk every slot."""
        pool = self._pool or await self._opened()
        # The slot is counted before the wait, so a burst of callers sees the pool exhausted.
        waits = self._in_use >= POOL_SIZE
        self._in_use += 1
        try:
            if waits:
                return await pool.acquire(timeout=ACQUIRE_TIMEOUT)
            return await pool.acquire()
        except BaseException as exc:
            self._in_use -= 1
            if isinstance(exc, (asyncpg.PostgresError, *_UNREACHABLE)):
                raise _translate(exc, "connect") from exc
            raise

    async def release(self, connection: Any, *, discard: bool = False) -> None:
        """Give the connection back; ``discard`` closes it first (its state is unknown)."""
        self._in_use -= 1
        if discard:
            # A connection the server closed has already gone back to the pool by itself,
            # leaving a proxy that refuses every call.
            with suppress(asyncpg.exceptions.InterfaceError):
                connection.terminate()
        pool = self._pool
        if pool is not None:
            try:
                await pool.release(connection)
            except (asyncpg.PostgresError, *_UNREACHABLE):
                pass  # asyncpg has closed it; the pool opens a new one when needed

    async def connect(self) -> Any:
        """A connection of its own, outside the pool, with the same settings."""
        return await asyncpg.connect(**self._options)

    async def notify(self, channel: str, payload: str) -> None:
        """``pg_notify`` on a pooled connection (delivered at once: no transaction)."""
        await self._run_alone("SELECT pg_notify($1, $2)", channel, payload)

    async def ping(self) -> None:
        """Raise ``OperationalError`` unless the database answers a trivial query."""
        await self._run_alone("SELECT 1")

    async def _run_alone(self, sql: str, *args: Any) -> None:
        """One statement outside any transaction; a connection that failed it is closed."""
        connection = await self.acquire()
        done = False
        try:
            await connection.execute(sql, *args)
            done = True
        except (asyncpg.PostgresError, *_UNREACHABLE) as exc:
            raise _translate(exc, sql) from exc
        finally:
            await self.release(connection, discard=not done)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


class DirectAsyncpgExecutor:
    """An ``Executor`` on one pooled asyncpg connection, opening the transaction only when a
    statement needs one (module docstring)."""

    __slots__ = (
        "_dialect",
        "_first",
        "_notices",
        "_pool",
        "_prepared",
        "begun",
        "broken",
        "connection",
    )

    def __init__(
        self,
        connection: Any,
        prepared: dict[Any, Prepared | None],
        dialect: Dialect,
        pool: AsyncpgPool,
        notices: ClientNotices | None = None,
    ) -> None:
        self.connection = connection
        self._notices = notices
        self._prepared = prepared
        self._dialect = dialect
        self._pool = pool
        self._first = True  # no round trip made yet: a dead connection may be replaced
        self.begun = False
        self.broken = False

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    def client_version(self) -> int | None:
        """The client cache's version for a read now (``client_notices``)."""
        notices = self._notices
        return None if notices is None else notices.version(self.begun)

    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Result:
        bound = bind(self._prepared, statement, parameters, self._dialect)
        if bound is None:
            if not isinstance(statement, Select | UpdateBase):
                return await self._execute_text(statement, parameters)
            # Not among the prepared statements (or a parameter is missing): compiled now.
            keys = tuple(parameters) if isinstance(statement, Insert) and parameters else None
            prepared = Prepared(statement, self._dialect, keys)
            bound = prepared, prepared.parameters(parameters)
        prepared, values = bound
        if not prepared.plain_read:
            await self.begin()
        if prepared.returns_rows:
            rows = prepared.rows(await self._call("fetch", prepared.sql, values))
            return DirectResult(rows, len(rows) if prepared.dml else -1)
        return DirectResult([], _rowcount(await self._call("execute", prepared.sql, values)))

    async def begin(self) -> None:
        if not self.begun:
            await self._call("execute", "BEGIN", [])
            self.begun = True

    async def end(self, *, commit: bool) -> None:
        """``COMMIT`` or ``ROLLBACK`` the transaction, if it began. If that fails, the
        connection's state is unknown: it is marked broken (closed on release)."""
        if self.begun and self.broken:
            self.begun = False
            if commit:  # never leave a block normally with its writes silently undone
                raise OperationalError("COMMIT", None, ConnectionError("connection lost"))
            return
        if self.begun:
            self.begun = False
            try:
                await self._call("execute", "COMMIT" if commit else "ROLLBACK", [])
            except BaseException:
                self.broken = True
                raise

    async def _execute_text(
        self, statement: Executable, parameters: Mapping[str, Any] | None
    ) -> Result:
        """Textual SQL (tests and maintenance): compiled now, run inside the transaction."""
        if not isinstance(statement, TextClause):
            raise TypeError(f"cannot run {type(statement).__name__} on asyncpg directly")
        compiled = statement.compile(dialect=self._dialect)
        given = compiled.construct_params(dict(parameters or {}))
        values = [given[name] for name in compiled.positiontup or ()]
        await self.begin()
        records, status = await self._call("_text", compiled.string, values)
        if not records:
            return DirectResult([], _rowcount(status))
        row = namedtuple("Row", list(records[0].keys()), rename=True)  # type: ignore[misc]
        return DirectResult([row._make(record.values()) for record in records], len(records))

    async def _call(self, method: str, sql: str, values: list[Any]) -> Any:
        """One round trip; on the transaction's first, a connection found dead is replaced
        and the round trip sent again (nothing of the transaction had taken effect)."""
        while True:
            first, self._first = self._first, False
            try:
                if method == "_text":
                    return await _run_text(self.connection, sql, values)
                return await getattr(self.connection, method)(sql, *values)
            except (asyncpg.PostgresError, *_UNREACHABLE) as exc:
                if first and self._lost() and not isinstance(exc, asyncio.TimeoutError):
                    await self._reconnect()
                    continue
                lost = self._lost()
                self.broken = self.broken or lost or isinstance(exc, _UNREACHABLE)
                raise _translate(exc, sql, lost=lost) from exc

    def _lost(self) -> bool:
        try:
            closed: bool = self.connection.is_closed()
        except asyncpg.exceptions.InterfaceError:
            return True  # closed, and already handed back to the pool by asyncpg
        return closed

    async def _reconnect(self) -> None:
        dead = self.connection
        try:
            self.connection = await self._pool.acquire()
        except BaseException:
            self.broken = True
            raise
        await self._pool.release(dead, discard=True)


async def _run_text(connection: Any, sql: str, values: list[Any]) -> tuple[list[Any], str]:
    """Textual SQL: its rows and command status (two round trips; tests and maintenance)."""
    statement = await connection.prepare(sql)
    records = await statement.fetch(*values)
    return records, statement.get_statusmsg()


@asynccontextmanager
async def asyncpg_transaction(
    pool: AsyncpgPool,
    prepared: dict[Any, Prepared | None],
    dialect: Dialect,
    notices: ClientNotices | None = None,
) -> AsyncIterator[DirectAsyncpgExecutor]:
    """A transaction that begins at its first write or lock (module docstring) and commits
    when the block ends, or rolls back if it raises. A connection that failed, or whose
    transaction was interrupted by cancellation, is closed instead of returned: the server
    rolls back whatever it held."""
    executor = DirectAsyncpgExecutor(await pool.acquire(), prepared, dialect, pool, notices)
    reusable = False
    try:
        try:
            yield executor
        except Exception:
            with suppress(OperationalError, DBAPIError):  # the block's error is the one to see
                await executor.end(commit=False)
            reusable = not executor.broken
            raise
        await executor.end(commit=True)
        reusable = not executor.broken
    finally:
        await pool.release(executor.connection, discard=not reusable)

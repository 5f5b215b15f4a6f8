"""SQLite storage on the event loop's thread.

Transactions run one at a time per process (a ``BargingLock``) on a synchronous connection;
every repository statement completes without yielding to the loop. SQLite allows one writer at
a time anyway, so this loses no concurrency within a process and removes both the worker-thread
hand-offs of an async driver and lock waits between a process's own connections. Between
processes (``--workers N``), SQLite's ``busy_timeout`` still arbitrates; PostgreSQL is the
backend for many processes or nodes.

Checkpoints (copying the write-ahead log back into the database file, with an ``fsync``) run
in a worker thread on a second connection (:meth:`SqliteStorage.housekeeping`): done by the
committing connection, as SQLite does by default, they stall the event loop for milliseconds
every few hundred commits (measured: about four fifths of a checkpoint is waiting for the
disk). The loop's connection still checkpoints by itself if the log grows far beyond that, so
a stopped housekeeping task cannot let it grow without bound.

Spec of the behaviour: the same contract suite as PostgreSQL (``tests/storage``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import StaticPool

from authgate.storage.base import Storage, StorageUnavailable
from authgate.storage.sql._engine.barging_lock import BargingLock
from authgate.storage.sql._engine.client_cache import ClientCache
from authgate.storage.sql._engine.prepared import Prepared
from authgate.storage.sql._engine.sqlite_executor import (
    DirectSqliteExecutor,
    pysqlite_connection,
    wrapped_error,
)
from authgate.storage.sql.engine import (
    FALLBACK_CHECKPOINT_PAGES,
    create_sqlite_engine,
    driver_error,
    is_memory_sqlite,
    unavailable_as_storage_error,
)
from authgate.storage.sql.schema import metadata
from authgate.storage.sql.transaction import SqlTransaction

__all__ = [
    "CHECKPOINT_INTERVAL",
    "FALLBACK_CHECKPOINT_PAGES",
    "RESTART_PAGES",
    "SqliteStorage",
    "create_sqlite_engine",
    "open_sqlite_storage",
]

log = logging.getLogger("authgate.storage")

CHECKPOINT_INTERVAL = 0.25
"""Seconds between background checkpoints (one is a no-op when nothing was committed)."""

RESTART_PAGES = 4_000
"""Log pages (4 KiB) after which the background task also starts the log over (~16 MB)."""

BATCH_MAX = 8
"""Transactions in a batch at most: the one that fills it commits it at once. Under the
harness, longer batches held every answer of a turn back until the next, and the load
generator's code flows then came in bursts with the server idle between them (code flow:
batches of a whole turn -30 %, of 16 -2 %, of 8 +5 to +23 %, of 4 +5 %, against none)."""


class SqliteStorage(Storage):
    """``Storage`` over a synchronous SQLite engine, one transaction at a time."""

    def __init__(self, engine: Engine, *, group_commit: bool = False) -> None:
        self._engine = engine
        # Not asyncio.Lock: its queue, once formed, never drains under load (barging_lock).
        self._lock = BargingLock()
        # Transactions run one at a time, so one connection serves them all: no pool
        # checkout per transaction (measured: ~15 % of a client_credentials request).
        self._conn: Connection | None = None
        self._prepared: dict[Any, Prepared | None] = {}
        # Not for an in-memory database: its one connection is shared with everything that
        # uses the engine, so writes made elsewhere would not change ``data_version``.
        shared = isinstance(engine.pool, StaticPool)
        self._clients = None if shared else ClientCache()
        # Set by the checkpoint thread when the log should start over; the next transaction
        # (which holds the lock anyway) runs that RESTART before it begins (housekeeping).
        self._restart_due: sqlite3.Connection | None = None
        self._restarted_at = -1  # the log's size at the last RESTART: no commit since
        # Clear while a transaction's RESTART runs on the checkpoint connection.
        self._no_restart_running = asyncio.Event()
        self._no_restart_running.set()
        # Not on a shared in-memory connection either: its open batch would be everyone's.
        self._group_commit = group_commit and not shared
        # The transactions of the open batch (group commit) waiting for its COMMIT.
        self._batch: list[asyncio.Future[None]] | None = None
        self._turn_busy = False  # a transaction already ran in this turn of the loop

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self._engine.connect()
            if self._clients is not None:
                self._clients.reset()
        return self._conn

    @property
    def engine(self) -> Engine:
        """The engine, for maintenance tasks (purging, tests)."""
        return self._engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTransaction]:
        """``BEGIN`` … ``COMMIT``, or ``ROLLBACK`` if the block raises; failures to reach the
        database file become ``StorageUnavailable``.

        With group commit, the first transaction of a turn of the event loop commits at once;
        the ones after it in the same turn are savepoints of one batch, committed once, when
        ``BATCH_MAX`` have joined or at the start of the next turn. The block's caller goes
        on only once that ``COMMIT`` is done, so nothing is answered before it is in the
        database. A block that raises rolls back only its own savepoint. A ``COMMIT`` that
        fails fails every transaction of the batch. Each ``COMMIT`` writes every page it
        changed to the log: a batch writes the pages its transactions share (the tables'
        and time indexes' last pages) once, not once per transaction.
        """
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[None] | None = None
        async with self._lock, unavailable_as_storage_error():
            if self._restart_due is not None and self._batch is None:
                await self._restart_log()
            conn = self._connection()
            if not self._joins_batch(loop):
                try:
                    with conn.begin():
                        yield self._repositories(conn)
                except OperationalError:
                    # A broken connection is replaced on the next transaction.
                    conn.invalidate()
                    raise
                finally:
                    if self._clients is not None:
                        self._clients.end_transaction()
            else:
                driver = pysqlite_connection(conn)
                members = self._open_savepoint(loop, driver)
                try:
                    yield self._repositories(conn)
                except BaseException as exc:
                    if isinstance(exc, OperationalError) or not _rolled_back(driver):
                        self._abort_batch(exc)
                    raise
                committed = self._release_savepoint(loop, driver, members)
        if committed is not None:
            async with unavailable_as_storage_error():
                await committed

    def _repositories(self, conn: Connection) -> SqlTransaction:
        """The transaction's repositories, on the prepared-statement executor over ``conn``."""
        executor = DirectSqliteExecutor(conn, self._prepared)
        return SqlTransaction(executor, self._clients, executor.data_version)

    def _open_savepoint(
        self, loop: asyncio.AbstractEventLoop, driver: sqlite3.Connection
    ) -> list[asyncio.Future[None]]:
        """This transaction's savepoint in the open batch (opened here if there is none)."""
        members = self._batch
        if members is None:
            # IMMEDIATE: the batch holds the write lock from its first read, so a write after
            # reads never has to upgrade a snapshot another process moved on from.
            _run(driver, "BEGIN IMMEDIATE")
            members = self._batch = []
            loop.call_soon(self._end_batch)
        try:
            _run(driver, "SAVEPOINT authgate_tx")
        except DBAPIError as exc:
            self._abort_batch(exc)
            raise
        return members

    def _release_savepoint(
        self,
        loop: asyncio.AbstractEventLoop,
        driver: sqlite3.Connection,
        members: list[asyncio.Future[None]],
    ) -> asyncio.Future[None]:
        """Keep this transaction's work in the batch; the future is done at its COMMIT."""
        try:
            _run(driver, "RELEASE authgate_tx")
        except DBAPIError as exc:
            self._abort_batch(exc)
            raise
        if self._batch is not members:  # pragma: no cover - defensive
            raise StorageUnavailable("the batch ended while a transaction ran in it")
        committed: asyncio.Future[None] = loop.create_future()
        members.append(committed)
        if len(members) >= BATCH_MAX:
            self._commit_batch()
        return committed

    def _joins_batch(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether this transaction goes into a batch: the first of a turn of the loop commits
        at once, as without group commit (a lone request waits for nothing); the ones after it
        in the same turn share a batch. So batches form only when requests arrive together,
        which is when sharing one ``COMMIT`` pays for the turn they wait."""
        if not self._group_commit:
            return False
        first = not self._turn_busy
        if first:
            self._turn_busy = True
            loop.call_soon(self._end_turn)
        return self._batch is not None or not first

    def _end_turn(self) -> None:
        self._turn_busy = False

    def _end_batch(self) -> None:
        """The loop's callback that commits the open batch, a turn after it began."""
        if self._batch is None:
            return  # already ended (aborted, or committed by ``close``)
        if not self._lock.acquire_nowait():
            # Something holds the lock across an await (a RESTART does, but never while a
            # batch is open; no transaction block does): retry.
            asyncio.get_running_loop().call_later(0.001, self._end_batch)
            return
        try:
            self._commit_batch()
        finally:
            self._lock.release()

    def _commit_batch(self) -> None:
        members, self._batch = self._batch or [], None
        conn = self._conn
        try:
            if conn is None or conn.closed or conn.invalidated:
                raise StorageUnavailable("the database connection was closed")
            if conn.in_transaction():
                conn.commit()  # SQLAlchemy began too (a statement ran through it)
            else:
                pysqlite_connection(conn).commit()
        except Exception as exc:
            log.warning(
                "a batch of %d transactions was not committed: %s", len(members), driver_error(exc)
            )
            _fail(members, exc)
            self._discard_connection()
            return
        for member in members:
            if not member.done():
                member.set_result(None)
        if self._clients is not None:
            self._clients.end_transaction()

    def _abort_batch(self, exc: BaseException) -> None:
        """Roll the whole open batch back: its connection may be broken, or its last
        savepoint could not be undone; the transactions already in it fail."""
        members, self._batch = self._batch or [], None
        _fail(members, exc)
        self._discard_connection()

    def _discard_connection(self) -> None:
        conn = self._conn
        if conn is not None and not conn.closed and not conn.invalidated:
            with contextlib.suppress(Exception):
                pysqlite_connection(conn).rollback()
            with contextlib.suppress(Exception):
                conn.invalidate()  # replaced on the next transaction
            self._conn = None
        if self._clients is not None:
            self._clients.reset()  # it may hold what the batch read and never committed

    async def ping(self) -> None:
        async with self.transaction() as tx:
            await tx.connection.execute(text("SELECT 1"))

    async def housekeeping(self) -> None:
        """Checkpoint the write-ahead log every ``CHECKPOINT_INTERVAL`` seconds in a worker
        thread, on a connection of its own.

        ``PASSIVE`` first: it never waits for, nor blocks, the writer. Under a steady stream of
        commits it never catches the log's end, though, and SQLite starts a log over only
        after a checkpoint that did; so once the log holds ``RESTART_PAGES``, a ``RESTART``
        checkpoint copies the pages added since the ``PASSIVE`` one, while this process's
        transactions wait on the (asynchronous) lock instead of the loop waiting in a commit.

        The thread hands that ``RESTART`` to the next transaction that finds no batch open,
        which runs it (in a worker thread, holding the lock) before it begins, as soon as the
        ``PASSIVE`` one returns: handing the thread's result back to a busy loop took ~170 ms
        (measured), and the ``RESTART`` had to copy every page committed meanwhile while all
        transactions waited. No ``PASSIVE`` pass starts while that ``RESTART`` runs. If
        another process (``--workers N``) is reading or writing, the ``RESTART`` gives up at
        once and is tried again later; when it does run, that process's writers wait for it.
        """
        url = self._engine.url
        if is_memory_sqlite(str(url)) or not url.database:
            return
        uri = str(url.query.get("uri", "")).lower() in ("true", "1")
        try:
            connection = await asyncio.to_thread(_checkpoint_connection, url.database, uri)
        except sqlite3.Error as exc:
            log.warning("no background checkpoints (the commits checkpoint instead): %s", exc)
            return
        try:
            while True:
                await asyncio.sleep(CHECKPOINT_INTERVAL)
                if not self._no_restart_running.is_set():
                    continue  # a transaction's RESTART is using the connection
                try:
                    # A hand-over nobody ran yet is taken back: the thread is about to use
                    # the connection, and hands it over again if the log is still long.
                    self._restart_due = None
                    await _in_thread(self._passive_checkpoint, connection)
                    if self._restart_due is not None and self._batch is None:
                        # No transaction came by since (an idle process): restart here.
                        async with self._lock:
                            if self._restart_due is not None and self._batch is None:
                                await self._restart_log()
                except sqlite3.Error as exc:
                    # The loop's connection falls back to checkpointing by itself.
                    log.warning("background checkpoint failed: %s", exc)
        finally:
            # ``_in_thread`` waited for this task's checkpoint; a transaction's RESTART may
            # still be running on the connection.
            self._restart_due = None
            await self._no_restart_running.wait()
            await asyncio.shield(asyncio.to_thread(connection.close))

    def _passive_checkpoint(self, connection: sqlite3.Connection) -> int:
        """In the worker thread: a ``PASSIVE`` checkpoint; if the log is long, hand a
        ``RESTART`` to the next transaction (the thread is done with ``connection``)."""
        log_pages = _checkpoint(connection, "PASSIVE")
        if log_pages >= RESTART_PAGES and log_pages != self._restarted_at:
            self._restart_due = connection
        return log_pages

    async def _restart_log(self) -> None:
        """Holding the lock, with no batch open: the handed-over ``RESTART`` checkpoint, in a
        worker thread. (On the loop's thread it froze the loop through its ``fsync``s: on a
        database of a million tokens the code flow fell ~20 % with the server idle.)"""
        connection, self._restart_due = self._restart_due, None
        if connection is None or not self._no_restart_running.is_set():
            return
        self._no_restart_running.clear()
        try:
            self._restarted_at = await _in_thread(_checkpoint, connection, "RESTART")
        except sqlite3.Error as exc:
            log.warning("background checkpoint failed: %s", exc)
        finally:
            self._no_restart_running.set()

    async def close(self) -> None:
        if self._batch is not None:
            async with self._lock:  # not in the middle of a transaction's block
                if self._batch is not None:
                    self._commit_batch()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._engine.dispose()


async def _in_thread(function: Callable[..., int], *args: Any) -> int:
    """Run ``function`` in a worker thread; if the caller is cancelled meanwhile, wait for it
    to finish all the same (still holding any lock the caller holds), then re-raise: the
    connection it uses must not be closed, nor the lock released, under its feet."""
    future = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await future
        raise


def _run(driver: sqlite3.Connection, sql: str) -> None:
    """A transaction-control statement, its errors typed as the executor types them."""
    try:
        driver.execute(sql)
    except sqlite3.Error as exc:
        raise wrapped_error(sql, exc) from exc


def _rolled_back(driver: sqlite3.Connection) -> bool:
    """Undo the current transaction's savepoint; False if that failed."""
    try:
        driver.execute("ROLLBACK TO authgate_tx")
        driver.execute("RELEASE authgate_tx")
    except sqlite3.Error:
        return False
    return True


def _fail(members: list[asyncio.Future[None]], exc: BaseException) -> None:
    """Fail every transaction of a batch that was rolled back."""
    detail = driver_error(exc)
    error = StorageUnavailable(f"database unavailable: the batch was rolled back ({detail})")
    for member in members:
        if not member.done():
            member.set_exception(error)


def _checkpoint_connection(database: str, uri: bool) -> sqlite3.Connection:
    # Used by one worker thread at a time (the housekeeping task awaits each checkpoint).
    connection = sqlite3.connect(database, check_same_thread=False, isolation_level=None, uri=uri)
    # No waiting: a RESTART that would wait for another process's reader or writer gives up
    # at once (and is retried later) instead of holding up that process's commits.
    connection.execute("PRAGMA busy_timeout=0")
    return connection


def _checkpoint(connection: sqlite3.Connection, mode: str) -> int:
    """Run a checkpoint; return the size of the log in pages (-1: not in WAL mode)."""
    row = connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    return -1 if row is None else int(row[1])


async def open_sqlite_storage(url: str, *, group_commit: bool = False) -> SqliteStorage:
    """Storage for a SQLite URL; an in-memory database gets its schema here."""
    engine = create_sqlite_engine(url)
    if is_memory_sqlite(url):
        metadata.create_all(engine)
    return SqliteStorage(engine, group_commit=group_commit)

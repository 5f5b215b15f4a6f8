"""SQLite specifics: the direct executor (prepared statements give what SQLAlchemy gives, the
rest falls back to SQLAlchemy, driver errors keep SQLAlchemy's types so 503s and duplicates are
handled as before; the contract suite covers every repository statement through it) and
checkpoints in the background."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, bindparam, insert, select, text
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import IntegrityError, NoResultFound, StatementError

from authgate.core.models import TokenHash
from authgate.storage.base import DuplicateError, StorageUnavailable
from authgate.storage.sql._engine import sqlite_storage as sqlite_module
from authgate.storage.sql._engine.prepared import (
    MAX_PREPARED,
    DirectResult,
    _bind_processor,
    _result_processor,
)
from authgate.storage.sql._engine.sqlite_executor import DirectSqliteExecutor
from authgate.storage.sql._engine.sqlite_storage import (
    FALLBACK_CHECKPOINT_PAGES,
    SqliteStorage,
    open_sqlite_storage,
)
from authgate.storage.sql.rows import code_values, refresh_token_values
from authgate.storage.sql.schema import (
    JsonObject,
    StrTuple,
    UtcDateTime,
    clients,
    codes,
    metadata,
    refresh_tokens,
    token_families,
)
from authgate.storage.sql.tokens import _CONSUME_CODE, _GET_CODE

from . import factories as f


@pytest.fixture
async def sqlite(
    sqlite_template: Path, tmp_path: Path, now: datetime
) -> AsyncIterator[SqliteStorage]:
    path = tmp_path / "authgate.db"
    shutil.copyfile(sqlite_template, path)
    storage = await open_sqlite_storage(f"sqlite:///{path}")
    await f.seed(storage, now)  # type: ignore[arg-type]
    yield storage
    await storage.close()


_SAMPLES: dict[type, list[Any]] = {
    UtcDateTime: [None, datetime(2026, 11, 21, 20, 1, 2, 345678, tzinfo=UTC)],
    StrTuple: [None, (), ("openid", "profile", "é")],
    JsonObject: [None, {}, {"a": [1, "x"], "b": None}],
}
_STORED: dict[type, list[Any]] = {
    UtcDateTime: [None, 1795294001.56913, 1795294001],
    StrTuple: [None, "[]", '["openid","profile"]'],
    JsonObject: [None, "{}", '{"a":[1,"x"]}'],
}


@pytest.mark.parametrize("dialect", [sqlite_dialect.dialect(), asyncpg_dialect()])
def test_direct_conversions_equal_sqlalchemys(dialect: Any) -> None:
    """Our own column types convert directly (one call, no SQLAlchemy wrapper) to exactly
    what SQLAlchemy's processors give, parameters and results, on both dialects."""
    types = {type(c.type) for t in metadata.tables.values() for c in t.columns}
    assert {UtcDateTime, StrTuple, JsonObject} <= types
    for column_type in (UtcDateTime(), StrTuple(), JsonObject()):
        direct_bind = _bind_processor(column_type, dialect)
        assert direct_bind is type(column_type).direct_bind
        sa_bind = column_type.dialect_impl(dialect).bind_processor(dialect)
        for value in _SAMPLES[type(column_type)]:
            expected = sa_bind(value) if sa_bind else value
            assert direct_bind(value) == expected
            assert type(direct_bind(value)) is type(expected)
        direct_result = _result_processor(column_type, dialect)
        assert direct_result is type(column_type).direct_result
        # The result type's OID on PostgreSQL: double precision (701), text (25).
        oid = (
            (701 if isinstance(column_type, UtcDateTime) else 25)
            if dialect.name != "sqlite"
            else None
        )
        sa_result = column_type.dialect_impl(dialect).result_processor(dialect, oid)
        for stored in _STORED[type(column_type)]:
            expected = sa_result(stored) if sa_result else stored
            assert direct_result(stored) == expected
            assert type(direct_result(stored)) is type(expected)
    with pytest.raises(ValueError, match="naive"):
        _bind_processor(UtcDateTime(), dialect)(datetime(2026, 1, 1))  # noqa: DTZ001


class _SqlAlchemyExecutor:
    """SQLAlchemy's own execution on the same connection: the reference."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        return self._conn.execute(statement, parameters)


def _executors(storage: SqliteStorage) -> tuple[DirectSqliteExecutor, _SqlAlchemyExecutor]:
    conn = storage._connection()
    return DirectSqliteExecutor(conn, {}), _SqlAlchemyExecutor(conn)


async def test_prepared_rows_equal_sqlalchemys(sqlite: SqliteStorage, now: datetime) -> None:
    direct, reference = _executors(sqlite)
    code = f.code(now)
    await direct.execute(insert(codes), code_values(code))
    params = {"hash": code.code_hash, "now": now}
    result = await direct.execute(_GET_CODE, params)
    assert isinstance(result, DirectResult)  # prepared, not the fallback
    fetched = result.first()
    expected = (await reference.execute(_GET_CODE, params)).first()
    assert tuple(fetched) == tuple(expected)
    assert fetched.auth_time == code.auth_time  # converted back to an aware datetime
    assert fetched.scopes == code.scopes  # JSON array back to a tuple
    consumed = await direct.execute(_CONSUME_CODE, params)
    assert consumed.rowcount == 1
    assert consumed.first().consumed_at == now
    again = await direct.execute(_CONSUME_CODE, params)
    assert (again.rowcount, again.first()) == (0, None)


async def test_inserts_are_prepared_per_set_of_columns(
    sqlite: SqliteStorage, now: datetime
) -> None:
    direct, _ = _executors(sqlite)
    token = f.refresh_token(now, family_id="family-9")
    values = refresh_token_values(token)
    family = {"family_id": token.family_id, "grant_id": f.GRANT_ID, "client_id": f.CLIENT_ID}
    family |= {"user_id": f.USER_ID, "expires_at": now + timedelta(days=1)}
    await direct.execute(insert(token_families), family)
    await direct.execute(insert(refresh_tokens), values)
    without_resource = {k: v for k, v in values.items() if k != "resource"}
    without_resource["token_hash"] = "another"
    await direct.execute(insert(refresh_tokens), without_resource)
    count = select(refresh_tokens.c.token_hash).order_by(refresh_tokens.c.token_hash)
    assert [r.token_hash for r in await direct.execute(count)] == ["another", token.token_hash]


async def test_scalars_and_their_errors(sqlite: SqliteStorage) -> None:
    direct, _ = _executors(sqlite)
    by_id = select(clients.c.client_id).where(clients.c.client_id == bindparam("id"))
    assert (await direct.execute(by_id, {"id": f.CLIENT_ID})).scalar_one() == f.CLIENT_ID
    assert (await direct.execute(by_id, {"id": "nobody"})).scalar_one_or_none() is None
    with pytest.raises(NoResultFound):
        (await direct.execute(by_id, {"id": "nobody"})).scalar_one()


async def test_what_is_not_prepared_runs_through_sqlalchemy(sqlite: SqliteStorage) -> None:
    direct, _ = _executors(sqlite)
    assert (await direct.execute(text("SELECT 41 + 1"))).scalar_one() == 42
    expanding = select(clients.c.client_id).where(
        clients.c.client_id.in_(bindparam("ids", expanding=True))
    )
    rows = await direct.execute(expanding, {"ids": [f.CLIENT_ID, "other"]})
    assert not isinstance(rows, DirectResult)
    assert [r.client_id for r in rows] == [f.CLIENT_ID]


async def test_a_missing_parameter_is_sqlalchemys_error(sqlite: SqliteStorage) -> None:
    direct, _ = _executors(sqlite)
    by_id = select(clients).where(clients.c.client_id == bindparam("id"))
    with pytest.raises(StatementError, match="id"):
        await direct.execute(by_id, {})


async def test_the_cache_is_bounded(sqlite: SqliteStorage) -> None:
    cache: dict[object, object] = {}
    direct = DirectSqliteExecutor(sqlite._connection(), cache)  # type: ignore[arg-type]
    for n in range(MAX_PREPARED + 5):
        statement = select(clients.c.client_id).where(clients.c.client_id == bindparam(f"p{n}"))
        assert (await direct.execute(statement, {f"p{n}": f.CLIENT_ID})).first() is not None
    assert len(cache) == MAX_PREPARED


async def test_constraint_violations_raise_sqlalchemys_integrity_error(
    sqlite: SqliteStorage, now: datetime
) -> None:
    direct, _ = _executors(sqlite)
    orphan = dict(code_values(f.code(now)))
    orphan["client_id"] = "no-such-client"  # a foreign key to clients
    with pytest.raises(IntegrityError):
        await direct.execute(insert(codes), orphan)


async def test_driver_failures_become_storage_unavailable(
    sqlite: SqliteStorage, now: datetime
) -> None:
    async with sqlite.transaction() as tx:
        await tx.connection.execute(text("DROP TABLE access_tokens"))
    with pytest.raises(StorageUnavailable):
        async with sqlite.transaction() as tx:
            await tx.access_tokens.get(f.access_token(now).token_hash)
    # The connection was replaced: the next transaction works.
    async with sqlite.transaction() as tx:
        assert await tx.clients.get(f.CLIENT_ID) is not None


async def test_a_duplicate_is_reported_without_breaking_the_transaction(
    sqlite: SqliteStorage,
) -> None:
    async with sqlite.transaction() as tx:
        with pytest.raises(DuplicateError):
            await tx.clients.add(f.client())
        assert await tx.clients.get(f.CLIENT_ID) is not None


async def test_housekeeping_checkpoints_the_log_off_the_loop(
    sqlite: SqliteStorage, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Commits leave pages in the write-ahead log (the loop's connection no longer copies
    them back every 1,000 pages); the housekeeping task does, from a worker thread."""
    monkeypatch.setattr(sqlite_module, "CHECKPOINT_INTERVAL", 0.01)
    database = tmp_path / "authgate.db"
    async with sqlite.transaction() as tx:
        for n in range(300):
            name = "x" * 2000
            await tx.clients.add(f.client(f"c-{n}", client_name=name, secret_hash=f"{n:064x}"))
    before = database.stat().st_size
    task = asyncio.create_task(sqlite.housekeeping())
    for _ in range(200):
        await asyncio.sleep(0.01)
        if database.stat().st_size > before:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert database.stat().st_size > before + 300 * 2000
    driver = sqlite._connection().connection.driver_connection
    assert driver.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == FALLBACK_CHECKPOINT_PAGES


async def test_housekeeping_starts_a_long_log_over(
    sqlite: SqliteStorage,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    checkpoint_modes: list[str],
) -> None:
    """Past RESTART_PAGES the task also runs a RESTART checkpoint (holding the storage's lock),
    so the next commit writes at the start of the log instead of growing it."""
    monkeypatch.setattr(sqlite_module, "CHECKPOINT_INTERVAL", 0.01)
    monkeypatch.setattr(sqlite_module, "RESTART_PAGES", 50)
    modes = checkpoint_modes

    def log_pages() -> int:
        probe = sqlite3.connect(tmp_path / "authgate.db")
        try:
            return int(probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
        finally:
            probe.close()

    async with sqlite.transaction() as tx:
        for n in range(300):
            name = "x" * 2000
            await tx.clients.add(f.client(f"c-{n}", client_name=name, secret_hash=f"{n:064x}"))
    assert log_pages() > 150
    task = asyncio.create_task(sqlite.housekeeping())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with sqlite.transaction() as tx:
        await tx.clients.add(f.client("after", secret_hash="f" * 64))
    assert log_pages() < 20
    # One RESTART, right after the PASSIVE pass that found the long log; then PASSIVE only.
    assert modes[:2] == ["PASSIVE", "RESTART"]
    assert set(modes[2:]) == {"PASSIVE"}


async def test_the_checkpoint_thread_hands_the_restart_to_the_next_transaction(
    sqlite: SqliteStorage, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The thread that found a long log does not wait for the (busy) loop to resume the
    housekeeping task: the next transaction runs the RESTART (in a worker thread, holding the
    lock) before it begins; so that transaction's commit already starts the log over."""
    monkeypatch.setattr(sqlite_module, "RESTART_PAGES", 50)
    calls: list[tuple[str, bool, bool]] = []
    checkpoint = sqlite_module._checkpoint

    def recording(connection: sqlite3.Connection, mode: str) -> int:
        on_loop = threading.current_thread() is threading.main_thread()
        calls.append((mode, on_loop, sqlite._lock.locked()))
        return checkpoint(connection, mode)

    monkeypatch.setattr(sqlite_module, "_checkpoint", recording)
    async with sqlite.transaction() as tx:
        for n in range(100):
            name = "x" * 2000
            await tx.clients.add(f.client(f"c-{n}", client_name=name, secret_hash=f"{n:064x}"))
    database = str(tmp_path / "authgate.db")
    connection = sqlite_module._checkpoint_connection(database, uri=False)
    try:
        pages = await asyncio.to_thread(sqlite._passive_checkpoint, connection)
        assert pages > 50
        assert calls == [("PASSIVE", False, False)]
        async with sqlite.transaction() as tx:
            await tx.clients.add(f.client("after", secret_hash="f" * 64))
        assert calls[1:] == [("RESTART", False, True)]
        # That commit wrote at the start of the log.
        assert int(connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]) < 20
        # Handed over once: a transaction without a new long log runs no checkpoint.
        async with sqlite.transaction() as tx:
            assert await tx.clients.get("after") is not None
        assert len(calls) == 2
    finally:
        connection.close()


async def test_a_failing_restart_does_not_fail_the_transaction_that_runs_it(
    sqlite: SqliteStorage, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A handed-over RESTART that fails (here: on a closed connection) is logged, and the
    transaction that ran it goes on; the next PASSIVE pass hands over another."""
    broken = sqlite_module._checkpoint_connection(str(tmp_path / "authgate.db"), uri=False)
    broken.close()
    sqlite._restart_due = broken
    async with sqlite.transaction() as tx:
        await tx.clients.add(f.client("after", secret_hash="f" * 64))
    assert sqlite._restart_due is None
    assert "background checkpoint failed" in caplog.text


async def test_cancelling_housekeeping_waits_for_a_running_checkpoint(
    sqlite: SqliteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shutdown cancels the task while a checkpoint may run in its thread: the connection is
    closed only after it returned (closing it under a running statement can crash CPython's
    sqlite3 module), and a RESTART keeps the storage lock until it is done."""
    monkeypatch.setattr(sqlite_module, "CHECKPOINT_INTERVAL", 0.01)
    monkeypatch.setattr(sqlite_module, "RESTART_PAGES", 0)
    running = threading.Event()
    finished = threading.Event()
    checkpoint = sqlite_module._checkpoint

    def slow(connection: sqlite3.Connection, mode: str) -> int:
        running.set()
        time.sleep(0.2)
        pages = checkpoint(connection, mode)
        finished.set()
        return pages

    monkeypatch.setattr(sqlite_module, "_checkpoint", slow)
    task = asyncio.create_task(sqlite.housekeeping())
    await asyncio.to_thread(running.wait, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished.is_set()
    # A RESTART handed over by the last pass is dropped with the connection it would use.
    assert sqlite._restart_due is None
    async with sqlite.transaction() as tx:  # the lock was released after all
        assert await tx.clients.get(f.CLIENT_ID) is not None


async def test_a_refresh_token_without_its_family_does_not_rotate(
    sqlite: SqliteStorage, now: datetime
) -> None:
    """Revocations by client, user or grant reach refresh tokens through their family."""
    async with sqlite.transaction() as tx:
        await tx.refresh_tokens.add(f.refresh_token(now, "orphan", family_id="no-family"))
    async with sqlite.transaction() as tx:
        assert await tx.refresh_tokens.lock(TokenHash("orphan")) is None

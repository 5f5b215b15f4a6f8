"""SQLite group commit (``SqliteStorage.transaction``): the first transaction of a turn of the
event loop commits at once, the ones after it in that turn are savepoints of one batch,
committed once (when full, or at the start of the next turn); each caller goes on only after
its COMMIT; a block that raises undoes only its own savepoint; a batch that cannot be
committed fails every transaction in it."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from authgate.bootstrap import build_context
from authgate.storage.base import StorageUnavailable
from authgate.storage.sql._engine import sqlite_storage as sqlite_module
from authgate.storage.sql._engine.sqlite_storage import SqliteStorage, open_sqlite_storage
from tests.conftest import make_settings

from . import factories as f


class Abort(Exception):
    pass


@pytest.fixture
def path(sqlite_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "authgate.db"
    shutil.copyfile(sqlite_template, target)
    return target


@pytest.fixture
async def sqlite(path: Path) -> AsyncIterator[SqliteStorage]:
    storage = await open_sqlite_storage(f"sqlite:///{path}", group_commit=True)
    yield storage
    await storage.close()


def _committed_clients(path: Path) -> set[str]:
    """What another connection (another process) sees."""
    other = sqlite3.connect(path)
    try:
        return {row[0] for row in other.execute("SELECT client_id FROM clients")}
    finally:
        other.close()


async def _register(storage: SqliteStorage, client_id: str, fail: bool = False) -> None:
    async with storage.transaction() as tx:
        await tx.clients.add(f.client(client_id))
        if fail:
            raise Abort(client_id)


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch committed."""
    sizes: list[int] = []
    commit = SqliteStorage._commit_batch

    def counting(self: SqliteStorage) -> None:
        sizes.append(len(self._batch or ()))
        commit(self)

    monkeypatch.setattr(SqliteStorage, "_commit_batch", counting)
    return sizes


async def test_the_rest_of_a_turn_shares_one_commit(
    sqlite: SqliteStorage, path: Path, batches: list[int]
) -> None:
    await asyncio.gather(*(_register(sqlite, f"c-{n}") for n in range(5)))
    assert batches == [4]  # the first committed alone
    assert _committed_clients(path) == {f"c-{n}" for n in range(5)}


async def test_a_lone_transaction_commits_at_once(
    sqlite: SqliteStorage, path: Path, batches: list[int]
) -> None:
    """Nothing else ran in its turn: it waits for no batch."""
    for n in range(3):
        await _register(sqlite, f"c-{n}")
        await asyncio.sleep(0)
    assert batches == []
    assert _committed_clients(path) == {"c-0", "c-1", "c-2"}


async def test_a_full_batch_commits_at_once(
    sqlite: SqliteStorage, path: Path, batches: list[int]
) -> None:
    count = 1 + sqlite_module.BATCH_MAX + 2
    await asyncio.gather(*(_register(sqlite, f"c-{n}") for n in range(count)))
    assert batches == [sqlite_module.BATCH_MAX, 2]
    assert len(_committed_clients(path)) == count


async def test_the_caller_goes_on_only_after_the_commit(sqlite: SqliteStorage, path: Path) -> None:
    seen_after: list[set[str]] = []

    async def register_and_look() -> None:
        await _register(sqlite, "batched")
        seen_after.append(_committed_clients(path))

    first = asyncio.create_task(_register(sqlite, "first"))
    second = asyncio.create_task(register_and_look())
    await asyncio.sleep(0)  # both blocks ran: the second's savepoint is not committed yet
    assert first.done()
    assert _committed_clients(path) == {"first"}
    await second
    assert seen_after == [{"first", "batched"}]


async def test_a_block_that_raises_undoes_only_its_own_savepoint(
    sqlite: SqliteStorage, path: Path
) -> None:
    results = await asyncio.gather(
        _register(sqlite, "first"),
        _register(sqlite, "a"),
        _register(sqlite, "b", fail=True),
        _register(sqlite, "c"),
        return_exceptions=True,
    )
    assert results[0] is None and results[1] is None and results[3] is None
    assert isinstance(results[2], Abort)
    assert _committed_clients(path) == {"first", "a", "c"}


async def test_a_commit_that_fails_fails_every_transaction_of_the_batch(
    sqlite: SqliteStorage, path: Path, now: datetime
) -> None:
    """Deferred foreign keys fail at COMMIT: every transaction of the batch gets the 503
    error, none of them is in the database, and the next batch works."""

    async def orphan_token() -> None:
        async with sqlite.transaction() as tx:
            await tx.connection.execute(text("PRAGMA defer_foreign_keys=ON"))
            await tx.access_tokens.add(f.access_token(now, client_id="nobody", grant_id=None))

    results = await asyncio.gather(
        _register(sqlite, "first"),
        _register(sqlite, "a"),
        orphan_token(),
        _register(sqlite, "c"),
        return_exceptions=True,
    )
    assert results[0] is None
    assert all(isinstance(result, StorageUnavailable) for result in results[1:])
    assert _committed_clients(path) == {"first"}
    await _register(sqlite, "after")
    assert _committed_clients(path) == {"first", "after"}


async def test_a_database_failure_in_a_block_fails_the_batch_it_joined(
    sqlite: SqliteStorage, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The connection may be broken: the whole batch is rolled back and it is replaced. The
    errors carry the driver's message, never the statement's parameters."""

    async def broken() -> None:
        async with sqlite.transaction() as tx:
            await tx.connection.execute(
                text("SELECT * FROM no_such_table WHERE token_hash = :h"), {"h": "secret-hash"}
            )

    results = await asyncio.gather(
        _register(sqlite, "first"), _register(sqlite, "a"), broken(), return_exceptions=True
    )
    assert results[0] is None
    assert all(isinstance(result, StorageUnavailable) for result in results[1:])
    assert "no such table" in str(results[1])
    assert not any("secret-hash" in str(result) for result in results)
    assert "secret-hash" not in caplog.text
    assert _committed_clients(path) == {"first"}
    await _register(sqlite, "after")
    assert _committed_clients(path) == {"first", "after"}


async def test_closing_commits_the_open_batch(sqlite: SqliteStorage, path: Path) -> None:
    first = asyncio.create_task(_register(sqlite, "first"))
    last = asyncio.create_task(_register(sqlite, "last"))
    await asyncio.sleep(0)  # both blocks ran; the batch's commit is still to come
    assert _committed_clients(path) == {"first"}
    await sqlite.close()
    await asyncio.gather(first, last)
    assert _committed_clients(path) == {"first", "last"}


async def test_a_restart_handed_over_during_a_batch_waits_for_its_commit(
    sqlite: SqliteStorage, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not inside the batch (the checkpoint would wait for this very writer): the next
    transaction that finds no batch open runs it, before it begins."""
    calls: list[tuple[str, int]] = []
    checkpoint = sqlite_module._checkpoint

    def recording(connection: sqlite3.Connection, mode: str) -> int:
        calls.append((mode, len(_committed_clients(path))))
        return checkpoint(connection, mode)

    monkeypatch.setattr(sqlite_module, "_checkpoint", recording)
    connection = sqlite_module._checkpoint_connection(str(path), uri=False)
    try:

        async def register_then_hand_over() -> None:
            async with sqlite.transaction() as tx:
                await tx.clients.add(f.client("a"))
                sqlite._restart_due = connection

        await asyncio.gather(
            _register(sqlite, "first"), register_then_hand_over(), _register(sqlite, "b")
        )
        assert calls == []  # "b" joined the open batch: no RESTART inside it
        await _register(sqlite, "after")
        assert calls == [("RESTART", 3)]
        assert sqlite._restart_due is None
        assert _committed_clients(path) == {"first", "a", "b", "after"}
    finally:
        connection.close()


async def test_without_group_commit_each_transaction_commits_alone(path: Path) -> None:
    """For several processes on one file (``--workers``)."""
    storage = await open_sqlite_storage(f"sqlite:///{path}", group_commit=False)
    try:
        tasks = [asyncio.create_task(_register(storage, f"c-{n}")) for n in range(3)]
        await asyncio.sleep(0)  # each ran and committed in this one turn
        assert all(task.done() for task in tasks)
        assert _committed_clients(path) == {"c-0", "c-1", "c-2"}
        assert storage._batch is None
    finally:
        await storage.close()


async def test_a_failed_batch_leaves_nothing_in_the_client_cache(
    sqlite: SqliteStorage, path: Path, now: datetime
) -> None:
    """A client read inside a batch that is then rolled back is not served from memory."""

    async def orphan_token() -> None:
        async with sqlite.transaction() as tx:
            await tx.connection.execute(text("PRAGMA defer_foreign_keys=ON"))
            await tx.access_tokens.add(f.access_token(now, client_id="nobody", grant_id=None))

    seen: list[object] = []

    async def read() -> None:
        async with sqlite.transaction() as tx:
            seen.append(await tx.clients.get("phantom"))

    await asyncio.gather(
        _register(sqlite, "first"),
        _register(sqlite, "phantom"),
        read(),  # in the same batch: sees the registration, not yet committed
        orphan_token(),
        return_exceptions=True,
    )
    assert seen and seen[0] is not None
    assert "phantom" not in _committed_clients(path)
    async with sqlite.transaction() as tx:
        assert await tx.clients.get("phantom") is None


async def test_a_cancelled_caller_does_not_cancel_its_batch(
    sqlite: SqliteStorage, path: Path
) -> None:
    first = asyncio.create_task(_register(sqlite, "first"))
    gone = asyncio.create_task(_register(sqlite, "gone"))
    kept = asyncio.create_task(_register(sqlite, "kept"))
    await asyncio.sleep(0)  # all three blocks ran; two wait for the batch's COMMIT
    gone.cancel()
    await first
    await kept
    with pytest.raises(asyncio.CancelledError):
        await gone
    # Its work was done and committed with the batch; only its wait was cancelled.
    assert _committed_clients(path) == {"first", "gone", "kept"}


async def test_housekeeping_takes_back_a_restart_nobody_ran_before_its_next_pass(
    sqlite: SqliteStorage, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hand-over left behind (its batch committed when full, then no transaction came)
    must not be run by a transaction while the thread's next pass uses the connection."""
    monkeypatch.setattr(sqlite_module, "CHECKPOINT_INTERVAL", 0.01)
    due_during_pass: list[bool] = []
    checkpoint = sqlite_module._checkpoint

    def recording(connection: sqlite3.Connection, mode: str) -> int:
        if mode == "PASSIVE":
            due_during_pass.append(sqlite._restart_due is not None)
        return checkpoint(connection, mode)

    monkeypatch.setattr(sqlite_module, "_checkpoint", recording)
    stale = sqlite_module._checkpoint_connection(str(path), uri=False)
    sqlite._restart_due = stale
    task = asyncio.create_task(sqlite.housekeeping())
    try:
        for _ in range(200):
            await asyncio.sleep(0.01)
            if due_during_pass:
                break
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        stale.close()
    assert due_during_pass[0] is False


@pytest.mark.parametrize(("workers", "grouped"), [(1, True), (2, False)])
async def test_the_server_groups_commits_only_as_the_one_process(
    tmp_path: Path, workers: int, grouped: bool
) -> None:
    ctx = await build_context(make_settings(tmp_path, workers=workers))
    try:
        assert isinstance(ctx.storage, SqliteStorage)
        assert ctx.storage._group_commit is grouped
    finally:
        await ctx.storage.close()


async def test_housekeeping_waits_while_a_transaction_restarts_the_log(
    sqlite: SqliteStorage, monkeypatch: pytest.MonkeyPatch, checkpoint_modes: list[str]
) -> None:
    """The RESTART runs in a worker thread on the checkpoint connection: no PASSIVE pass
    may use that connection at the same time."""
    monkeypatch.setattr(sqlite_module, "CHECKPOINT_INTERVAL", 0.01)
    modes = checkpoint_modes
    sqlite._no_restart_running.clear()  # as while a transaction's RESTART runs
    task = asyncio.create_task(sqlite.housekeeping())
    try:
        await asyncio.sleep(0.1)
        assert modes == []
        sqlite._no_restart_running.set()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if modes:
                break
        assert modes[:1] == ["PASSIVE"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

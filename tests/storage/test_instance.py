"""Signing keys, the login throttle and instance secrets."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest

from authgate.storage.base import DuplicateError
from authgate.storage.sql import SqlStorage, open_storage

from . import factories as f

WINDOW = timedelta(minutes=15)


async def test_keys_are_listed_oldest_first(storage: SqlStorage, now: datetime) -> None:
    newest = f.signing_key(now, "k-new", created_at=now + timedelta(days=2), active=False)
    oldest = f.signing_key(now, "k-old", alg="EdDSA")
    middle = f.signing_key(now, "k-mid", alg="RS256", created_at=now + timedelta(days=1))
    async with storage.transaction() as tx:
        assert await tx.keys.list() == []
        for key in (newest, oldest, middle):
            await tx.keys.add(key)
    async with storage.transaction() as tx:
        assert await tx.keys.list() == [oldest, middle, newest]


async def test_duplicate_kid_is_rejected(storage: SqlStorage, now: datetime) -> None:
    async with storage.transaction() as tx:
        await tx.keys.add(f.signing_key(now))
        with pytest.raises(DuplicateError):
            await tx.keys.add(f.signing_key(now, alg="RS256"))


async def _hit(storage: SqlStorage, key: str, now: datetime) -> int:
    async with storage.transaction() as tx:
        return await tx.throttle.hit(key, now, WINDOW)


async def _count(storage: SqlStorage, key: str, now: datetime) -> int:
    async with storage.transaction() as tx:
        return await tx.throttle.count(key, now, WINDOW)


async def test_throttle_counts_failures_in_the_window(storage: SqlStorage, now: datetime) -> None:
    assert await _count(storage, "ip:1", now) == 0
    assert [await _hit(storage, "ip:1", now + timedelta(minutes=i)) for i in range(3)] == [1, 2, 3]
    assert await _count(storage, "ip:1", now + timedelta(minutes=14)) == 3
    assert await _count(storage, "ip:2", now) == 0


async def test_throttle_window_restarts_after_it_passes(storage: SqlStorage, now: datetime) -> None:
    """The window is fixed from the first failure; later hits do not extend it."""
    await _hit(storage, "user:alice", now)
    await _hit(storage, "user:alice", now + timedelta(minutes=10))

    assert await _count(storage, "user:alice", now + WINDOW) == 0
    assert await _hit(storage, "user:alice", now + WINDOW) == 1
    assert await _hit(storage, "user:alice", now + WINDOW + timedelta(minutes=1)) == 2
    assert await _count(storage, "user:alice", now + WINDOW + timedelta(minutes=2)) == 2
    # The new window started at the restart, not at the original first failure.
    assert await _count(storage, "user:alice", now + 2 * WINDOW - timedelta(seconds=1)) == 2
    assert await _count(storage, "user:alice", now + 2 * WINDOW) == 0


async def test_throttle_clear_resets_the_key(storage: SqlStorage, now: datetime) -> None:
    await _hit(storage, "k", now)
    await _hit(storage, "other", now)
    async with storage.transaction() as tx:
        await tx.throttle.clear("k")
        await tx.throttle.clear("never-hit")
    assert await _count(storage, "k", now) == 0
    assert await _hit(storage, "k", now) == 1
    assert await _count(storage, "other", now) == 1


async def test_concurrent_hits_are_all_counted(storage: SqlStorage, now: datetime) -> None:
    counts = await asyncio.gather(*(_hit(storage, "ip:9", now) for _ in range(10)))

    assert sorted(counts) == list(range(1, 11))
    assert await _count(storage, "ip:9", now) == 10


async def test_secret_is_created_once(storage: SqlStorage) -> None:
    async with storage.transaction() as tx:
        created = await tx.secrets.get_or_create("token_hash_key", lambda: b"\x00\xffsecret")

    def must_not_be_called() -> bytes:
        raise AssertionError("the secret exists: no new value is needed")

    async with storage.transaction() as tx:
        again = await tx.secrets.get_or_create("token_hash_key", must_not_be_called)
        other = await tx.secrets.get_or_create("csrf", lambda: b"other")
    assert created == again == b"\x00\xffsecret"
    assert type(again) is bytes
    assert other == b"other"


async def test_concurrent_creations_agree_on_one_secret(
    storage: SqlStorage, backend: str, db_url: str
) -> None:
    """Node B looks while node A's new secret is not yet committed, so B makes a candidate of
    its own; B's insert then waits for A and must return A's value, not its candidate."""
    if backend == "sqlite":
        # One process runs its SQLite transactions one at a time on its event loop, so the
        # other node is another thread with its own loop and its own storage. Several
        # processes on one file run without group commit (a batch would hold the write
        # lock from its start, so B could not look before A commits).
        node_a = await open_storage(db_url, group_commit=False)
        try:
            await _sqlite_second_node(node_a, db_url)
        finally:
            await node_a.close()
        return
    b_made_candidate = asyncio.Event()

    def candidate_b() -> bytes:
        b_made_candidate.set()
        return b"node-b"

    async def node_b() -> bytes:
        async with storage.transaction() as tx:
            return await tx.secrets.get_or_create("shared", candidate_b)

    async with storage.transaction() as tx:
        value_a = await tx.secrets.get_or_create("shared", lambda: b"node-a")
        task_b = asyncio.create_task(node_b())
        await asyncio.wait_for(b_made_candidate.wait(), timeout=5)
    value_b = await asyncio.wait_for(task_b, timeout=5)

    assert value_a == value_b == b"node-a"
    async with storage.transaction() as tx:
        assert await tx.secrets.get_or_create("shared", lambda: b"late") == b"node-a"


async def _sqlite_second_node(storage: Any, db_url: str) -> None:
    made = threading.Event()
    result: dict[str, bytes] = {}

    def candidate_b() -> bytes:
        made.set()
        return b"node-b"

    def node_b() -> None:
        async def run() -> None:
            other = await open_storage(db_url, group_commit=False)
            try:
                async with other.transaction() as tx:
                    result["b"] = await tx.secrets.get_or_create("shared", candidate_b)
            finally:
                await other.close()

        asyncio.run(run())

    thread = threading.Thread(target=node_b)
    async with storage.transaction() as tx:
        value_a = await tx.secrets.get_or_create("shared", lambda: b"node-a")
        thread.start()
        for _ in range(500):
            if made.is_set():
                break
            await asyncio.sleep(0.01)
        assert made.is_set(), "node B never looked"
    await asyncio.to_thread(thread.join, 10)
    assert value_a == result["b"] == b"node-a"

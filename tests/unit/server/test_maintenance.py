"""The background purger: purges every interval and survives a database outage."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from authgate.server.maintenance import purge_expired, run_purger
from authgate.storage.base import PURGEABLE, StorageUnavailable


class FakeMaintenance:
    def __init__(self, rows: int) -> None:
        self.rows = {kind: rows for kind in PURGEABLE}

    async def purge_expired(self, kind: str, now: Any, limit: int) -> int:
        n = min(limit, self.rows[kind])
        self.rows[kind] -= n
        return n


class FakeStorage:
    def __init__(self, rows: int, fail: int = 0) -> None:
        self.maintenance = FakeMaintenance(rows)
        self.fail = fail
        self.transactions = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        self.transactions += 1
        if self.fail:
            self.fail -= 1
            raise StorageUnavailable("down")
        yield self


class Ctx:
    def __init__(self, storage: FakeStorage) -> None:
        self.storage = storage
        self.clock = type("C", (), {"now": staticmethod(lambda: 0)})()


async def test_purge_runs_batches_until_a_short_one() -> None:
    storage = FakeStorage(rows=25)
    counts = await purge_expired(Ctx(storage), batch=10)  # type: ignore[arg-type]
    assert counts == dict.fromkeys(PURGEABLE, 25)
    assert storage.transactions == 3 * len(PURGEABLE)


async def test_purger_skips_a_turn_when_the_database_is_down() -> None:
    storage = FakeStorage(rows=5, fail=1)
    turns = 0

    async def sleep(_: float) -> None:
        nonlocal turns
        turns += 1
        if turns > 2:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await run_purger(Ctx(storage), 60, sleep=sleep)  # type: ignore[arg-type]
    assert all(v == 0 for v in storage.maintenance.rows.values())

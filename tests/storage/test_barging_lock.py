"""The SQLite storage lock: mutual exclusion, a free lock taken at once even while woken
waiters have yet to run (so a queue formed behind a suspended holder drains), woken waiters
keeping their turn, and cancellation never losing a wake-up."""

from __future__ import annotations

import asyncio

import pytest

from authgate.storage.sql._engine.barging_lock import BargingLock


async def test_holders_never_overlap() -> None:
    lock = BargingLock()
    inside = 0
    most = 0

    async def worker(n: int) -> None:
        nonlocal inside, most
        for _ in range(20):
            async with lock:
                inside += 1
                most = max(most, inside)
                if n % 2:
                    await asyncio.sleep(0)  # some holders suspend, as a checkpoint does
                inside -= 1

    await asyncio.gather(*(worker(n) for n in range(10)))
    assert most == 1
    assert not lock.locked()


async def test_a_free_lock_is_taken_at_once_while_a_woken_waiter_has_not_run() -> None:
    """asyncio.Lock makes the newcomer queue here, and under load its queue never drains."""
    lock = BargingLock()
    order: list[str] = []

    async def waiter() -> None:
        async with lock:
            order.append("waiter")

    await lock.__aenter__()
    queued = asyncio.create_task(waiter())
    await asyncio.sleep(0)  # the waiter is queued
    await lock.__aexit__(None, None, None)  # wakes the waiter, which has not run yet
    async with lock:  # a newcomer in the same step gets in without waiting
        order.append("newcomer")
    await queued
    assert order == ["newcomer", "waiter"]


async def test_a_queue_drains_once_the_suspended_holder_releases() -> None:
    lock = BargingLock()
    release = asyncio.Event()
    holding = asyncio.Event()
    done: list[int] = []

    async def holder() -> None:
        async with lock:
            holding.set()
            await release.wait()

    async def short(n: int) -> None:
        async with lock:
            done.append(n)

    held = asyncio.create_task(holder())
    await holding.wait()
    queued = [asyncio.create_task(short(n)) for n in range(5)]
    await asyncio.sleep(0)
    release.set()
    await asyncio.wait_for(asyncio.gather(held, *queued), timeout=5)
    assert done == [0, 1, 2, 3, 4]  # in arrival order among themselves
    assert not lock._waiters


async def _queue(lock: BargingLock, names: str, order: list[str]) -> list[asyncio.Task[None]]:
    """One waiter per letter of ``names``, queued in that order; each notes its name once in."""

    async def waiter(name: str) -> None:
        async with lock:
            order.append(name)

    tasks = []
    for name in names:
        tasks.append(asyncio.create_task(waiter(name)))
        await asyncio.sleep(0)
    return tasks


async def test_a_woken_waiter_beaten_to_the_lock_keeps_its_turn() -> None:
    lock = BargingLock()
    order: list[str] = []
    await lock.__aenter__()
    tasks = await _queue(lock, "ab", order)
    await lock.__aexit__(None, None, None)  # wakes "a"
    await lock.__aenter__()  # a newcomer takes the lock first, in the same step
    await asyncio.sleep(0)  # "a" runs, finds it taken, waits again
    await lock.__aexit__(None, None, None)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert order == ["a", "b"]


async def test_two_woken_waiters_beaten_to_the_lock_keep_their_order() -> None:
    lock = BargingLock()
    order: list[str] = []
    await lock.__aenter__()
    tasks = await _queue(lock, "abc", order)
    await lock.__aexit__(None, None, None)  # wakes "a"
    await lock.__aenter__()
    await lock.__aexit__(None, None, None)  # "a" has not run yet: wakes "b"
    await lock.__aenter__()
    await asyncio.sleep(0)  # "a" and "b" run, find it taken, wait again
    await lock.__aexit__(None, None, None)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert order == ["a", "b", "c"]


async def test_a_cancelled_woken_waiter_passes_its_turn_on() -> None:
    lock = BargingLock()
    order: list[str] = []
    await lock.__aenter__()
    a, b = await _queue(lock, "ab", order)
    await lock.__aexit__(None, None, None)  # wakes "a" only
    a.cancel()  # before it runs
    with pytest.raises(asyncio.CancelledError):
        await a
    await asyncio.wait_for(b, timeout=5)
    assert order == ["b"]
    assert not lock.locked()


async def test_a_cancelled_queued_waiter_leaves_the_queue() -> None:
    lock = BargingLock()
    release = asyncio.Event()
    holding = asyncio.Event()

    async def holder() -> None:
        async with lock:
            holding.set()
            await release.wait()

    async def waiter() -> None:
        async with lock:
            pass

    held = asyncio.create_task(holder())
    await holding.wait()
    queued = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    queued.cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert not lock._waiters
    release.set()
    await held
    assert not lock.locked()

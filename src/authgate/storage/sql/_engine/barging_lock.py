"""The lock that gives SQLite's one connection to one transaction at a time.

``asyncio.Lock`` is first come, first served: once a holder has been suspended with waiters
queued, a free lock is not taken by a newcomer while any woken waiter has yet to run, and each
handover waits for the next turn of the event loop. Under a steady load the queue then never
drains: one RESTART checkpoint (which holds the lock for a few milliseconds) was enough for
every later request to queue behind the lock, one transaction per loop turn, with a future,
a wake-up and an extra task step each; the transactions themselves never suspend. Measured
on one core under the harness: client_credentials went from ~3,500 to ~4,400 requests/s with
this lock (bench/README.md).

Here a free lock is taken at once (barging), so the transactions that never suspend run
straight through, and the queue, formed only while a holder is suspended, drains at the first
free moment. A woken waiter that finds the lock taken again waits again in the same place in
the queue. Mutual exclusion is unchanged. A waiter could in principle lose again and again to
newcomers that suspend while holding the lock; here the only holder that suspends is a
transaction running a handed-over RESTART checkpoint (a few milliseconds, about once a
second at most), so every wait is bounded.
``acquire_nowait`` and ``release`` serve callbacks, which cannot wait (group commit).
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType

__all__ = ["BargingLock"]


class BargingLock:
    """An asyncio mutual-exclusion lock (``async with lock:``) that favours throughput over
    strict arrival order."""

    __slots__ = ("_locked", "_waiters")

    def __init__(self) -> None:
        self._locked = False
        self._waiters: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        return self._locked

    def acquire_nowait(self) -> bool:
        """Take the lock if it is free, without waiting (for callbacks, which cannot)."""
        if self._locked:
            return False
        self._locked = True
        return True

    def release(self) -> None:
        """Release a lock taken with ``acquire_nowait``."""
        self._locked = False
        self._wake_one()

    async def __aenter__(self) -> None:
        if not self._locked:
            self._locked = True
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        try:
            while True:
                try:
                    await waiter
                except BaseException:
                    if waiter.done() and not waiter.cancelled():
                        self._wake_one()  # woken, then cancelled: pass the turn on
                    raise
                if not self._locked:
                    break
                # Woken, then beaten to it by a newcomer: wait again, keeping its place.
                fresh: asyncio.Future[None] = loop.create_future()
                self._waiters[self._waiters.index(waiter)] = fresh
                waiter = fresh
        finally:
            self._waiters.remove(waiter)  # only ever removed here
        self._locked = True

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def _wake_one(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
                return

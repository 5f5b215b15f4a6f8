"""PostgreSQL: counting notices of changes to registered clients, so that each server process
may keep clients in memory (``client_cache``) and never serve one that changed.

Migration 0010 makes every committed change to the clients table send a notice on the
``authgate_clients`` channel. :meth:`ClientNotices.run` (the storage's housekeeping) holds a
connection of its own that ``LISTEN``\\ s there and counts the notices; the count is the cache's
version, so a notice empties the cache and any read made before it cannot be stored.

Caching is on only while that connection is known to work: not before ``LISTEN`` took effect,
not after the connection closed, and not while its periodic ping goes unanswered. A change
committed while nobody listened is therefore never missed: the cache starts empty under a new
count each time listening (re)starts. If the listening connection is cut silently while the
pooled ones still work, a changed client can be served from memory until the next ping fails:
at most ``PING_INTERVAL`` + the command timeout.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

__all__ = ["CHANNEL", "ClientNotices", "PING_INTERVAL", "RETRY_INTERVAL"]

CHANNEL: Final = "authgate_clients"

PING_INTERVAL: Final = 5.0
"""Seconds between pings of the listening connection."""

RETRY_INTERVAL: Final = 5.0
"""Seconds before listening again after the connection failed."""

log = logging.getLogger(__name__)


class ClientNotices:
    """The count of client change notices received, and whether it can be trusted now."""

    __slots__ = ("_connect", "_count", "_listening")

    def __init__(self, connect: Any) -> None:
        self._connect = connect  # () -> an asyncpg connection of its own (not pooled)
        self._count = 0
        self._listening = False

    def version(self, in_transaction: bool) -> int | None:
        """The cache version for a client read, or None when the cache must not be used: not
        listening, or a read inside a transaction (it may see the transaction's own writes)."""
        if in_transaction or not self._listening:
            return None
        return self._count

    def _notified(self, *_notice: Any) -> None:
        self._count += 1

    async def run(self) -> None:
        """Listen until cancelled, connecting again after a failure."""
        while True:
            try:
                await self._listen()
            except Exception as exc:
                log.warning(
                    "not listening for client changes (clients are read each time): %s", exc
                )
            finally:
                self._listening = False
                self._count += 1
            await asyncio.sleep(RETRY_INTERVAL)

    async def _listen(self) -> None:
        connection = await self._connect()
        try:
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(CHANNEL, self._notified)
            # Whatever changed before LISTEN took effect was never announced: start afresh.
            self._count += 1
            self._listening = True
            while not lost.is_set():
                try:
                    await asyncio.wait_for(lost.wait(), PING_INTERVAL)
                except TimeoutError:
                    await connection.fetchval("SELECT 1")
            raise ConnectionResetError("the listening connection closed")
        finally:
            self._listening = False
            connection.terminate()

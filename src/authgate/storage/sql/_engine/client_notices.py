"""PostgreSQL: counting notices of changes to registered clients, so that each server process
may keep clients in memory (``client_cache``) and never serve one that changed.

Migration 0010 makes every committed change to the clients table send a notice on the
``authgate_clients`` channel (the trigger fires even in replication sessions). The storage's
housekeeping runs :meth:`ClientNotices.run`, which holds a connection of its own that
``LISTEN``\\ s there and counts the notices; the count is the cache's version, so a notice
empties the cache and a read made before it cannot be stored under the new count.

Caching is on only while the count can be trusted, checked end to end every
``PING_INTERVAL``: the trigger is enabled, and a heartbeat notice sent through the pool (as
the changes are) arrives on the listening connection within ``PING_TIMEOUT``. A pooler that
does not forward notices (PgBouncer in transaction mode), a disabled trigger or a silently cut
connection therefore turn the cache off within ``PING_INTERVAL + PING_TIMEOUT``; it starts
again, empty under a new count, once listening works again. As a last resort no cached client
is older than ``MAX_AGE``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

__all__ = ["CHANNEL", "MAX_AGE", "PING_INTERVAL", "PING_TIMEOUT", "RETRY_INTERVAL", "ClientNotices"]

CHANNEL: Final = "authgate_clients"

PING_INTERVAL: Final = 5.0
"""Seconds between end-to-end checks of the listening connection."""

PING_TIMEOUT: Final = 5.0
"""Seconds a heartbeat notice may take to arrive."""

RETRY_INTERVAL: Final = 5.0
"""Seconds before listening again after a failure."""

MAX_AGE: Final = 60.0
"""Seconds after which the cache starts over even without a notice."""

log = logging.getLogger(__name__)

_TRIGGER_ENABLED = (
    "SELECT tgenabled IN ('O', 'A') FROM pg_trigger "
    "WHERE tgrelid = 'clients'::regclass AND tgname = 'clients_changed'"
)


class ClientNotices:
    """The count of client change notices received, and whether it can be trusted now."""

    __slots__ = (
        "_beat",
        "_connect",
        "_count",
        "_expected",
        "_heard",
        "_listening",
        "_nonce",
        "_notify",
        "_started",
    )

    def __init__(
        self,
        connect: Callable[[], Awaitable[Any]],
        notify: Callable[[str, str], Awaitable[None]],
    ) -> None:
        self._connect = connect  # a connection of its own (not pooled)
        self._notify = notify  # pg_notify(channel, payload) through the pool
        self._count = 0
        self._started = 0.0  # when the current count began (MAX_AGE)
        self._listening = False
        self._nonce = secrets.token_hex(8)  # this process's heartbeats, not another's
        self._beat = 0
        self._expected = ""
        self._heard = asyncio.Event()

    def version(self, in_transaction: bool) -> int | None:
        """The cache version for a client read, or None when the cache must not be used: not
        listening, or a read inside a transaction (it may see the transaction's own writes)."""
        if in_transaction or not self._listening:
            return None
        now = time.monotonic()
        if now - self._started >= MAX_AGE:
            self._restart_count(now)
        return self._count

    def _restart_count(self, now: float) -> None:
        self._count += 1
        self._started = now

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload.startswith("heartbeat:"):
            if payload == self._expected:
                self._heard.set()
            return
        self._count += 1

    async def run(self) -> None:
        """Listen until cancelled, listening again after any failure."""
        while True:
            try:
                await self._listen()
            except Exception as exc:
                log.warning("client changes not heard, clients are read each time: %s", exc)
            finally:
                self._listening = False
                self._restart_count(time.monotonic())
            await asyncio.sleep(RETRY_INTERVAL)

    async def _listen(self) -> None:
        connection = await self._connect()
        try:
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(CHANNEL, self._notified)
            await self._check(connection)
            # Whatever changed before LISTEN took effect was never announced: start afresh.
            self._restart_count(time.monotonic())
            self._listening = True
            while True:
                try:
                    await asyncio.wait_for(lost.wait(), PING_INTERVAL)
                except TimeoutError:
                    await self._check(connection)
                    continue
                raise ConnectionResetError("the listening connection closed")
        finally:
            self._listening = False
            connection.terminate()

    async def _check(self, connection: Any) -> None:
        """Raise unless the trigger is enabled and a heartbeat sent through the pool arrives."""
        if not await connection.fetchval(_TRIGGER_ENABLED):
            raise RuntimeError("the clients_changed trigger is missing or disabled")
        self._beat += 1
        self._expected = f"heartbeat:{self._nonce}:{self._beat}"
        self._heard.clear()
        await self._notify(CHANNEL, self._expected)
        try:
            await asyncio.wait_for(self._heard.wait(), PING_TIMEOUT)
        except TimeoutError:
            raise TimeoutError("a heartbeat notice did not arrive") from None

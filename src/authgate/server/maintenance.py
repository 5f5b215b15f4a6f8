"""Purging expired codes, tokens, sessions, interactions and throttle rows.

Runs as a background task of every server process (each batch is its own short transaction,
so requests are never blocked for long; several processes purging at once only share the work)
and on demand with ``authgate tokens purge``.

Spec: RFC 9700 §4.14.2 (expired refresh tokens); storage growth is bounded by the lifetimes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from authgate.server.context import ServerContext
from authgate.storage.base import PURGEABLE, StorageUnavailable

__all__ = ["purge_expired", "run_purger"]

log = logging.getLogger("authgate.maintenance")


async def purge_expired(
    ctx: ServerContext, *, batch: int = 1000, max_batches: int = 10_000
) -> dict[str, int]:
    """Delete everything whose lifetime has ended; return the count per kind."""
    counts: dict[str, int] = {}
    for kind in PURGEABLE:
        total = 0
        for _ in range(max_batches):
            async with ctx.storage.transaction() as tx:
                deleted = await tx.maintenance.purge_expired(kind, ctx.clock.now(), batch)
            total += deleted
            if deleted < batch:
                break
            await asyncio.sleep(0)  # let requests in between batches
        counts[kind] = total
    return counts


async def run_purger(
    ctx: ServerContext,
    interval_seconds: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Purge every ``interval_seconds`` until cancelled; a database outage only skips a turn."""
    while True:
        await sleep(interval_seconds)
        try:
            counts = await purge_expired(ctx)
        except StorageUnavailable:
            log.warning("purge skipped: database unavailable")
            continue
        if any(counts.values()):
            log.info("purged %s", " ".join(f"{k}={v}" for k, v in counts.items() if v))

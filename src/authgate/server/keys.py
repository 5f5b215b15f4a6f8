"""Signing keys at run time: loading, rotating, and keeping every process up to date.

Each process reloads the key set from the database every ``KEY_RELOAD_SECONDS``, so a key
rotated by another node or by ``authgate keys rotate`` is published (and later used) everywhere
within that bound. A new key is announced ``key_announcement_period`` before it signs, which
must be longer than that bound and than relying parties' JWKS caching.

Spec: OIDC Core §10.1.1 (rotation of asymmetric signing keys); RFC 7517 §5.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from authgate.config import Settings
from authgate.core.models import SigningKeyRecord
from authgate.crypto.keys import SUPPORTED_ALGS, KeyEncryptor, KeySet, generate_key
from authgate.crypto.rotation import key_lifecycle
from authgate.server.context import ServerContext
from authgate.storage.base import Storage, StorageUnavailable, Transaction

__all__ = [
    "KEY_RELOAD_SECONDS",
    "ensure_keys",
    "load_keys",
    "rotate_keys",
    "run_key_maintenance",
    "token_retention",
]

KEY_RELOAD_SECONDS = 30
_SKEW = timedelta(minutes=5)
log = logging.getLogger("authgate.keys")


async def token_retention(settings: Settings, tx: Transaction) -> timedelta:
    """How long a retired key stays published: the longest lifetime of anything it signed
    (ID tokens, access tokens, resources' JWT access tokens), plus clock skew."""
    resource_ttls = [r.access_token_ttl for r in await tx.resources.list()]
    longest = max([settings.id_token_ttl, settings.access_token_ttl, *resource_ttls])
    return timedelta(seconds=longest) + _SKEW


async def load_keys(
    settings: Settings,
    storage: Storage,
    encryptor: KeyEncryptor,
    now: datetime,
    loaded_before: KeySet | None = None,
) -> KeySet:
    async with storage.transaction() as tx:
        records = await tx.keys.list()
        retention = await token_retention(settings, tx)
    return KeySet.from_records(records, encryptor, now, retention, loaded_before)


async def ensure_keys(
    settings: Settings, storage: Storage, encryptor: KeyEncryptor, now: datetime
) -> KeySet:
    """Load the keys, generating one per supported algorithm that has none (first start)."""
    async with storage.transaction() as tx:
        have = {r.alg for r in await tx.keys.list() if r.active}
        for alg in SUPPORTED_ALGS:
            if alg not in have:
                record = generate_key(alg, now, encryptor)
                await tx.keys.add(record)
                log.info("generated %s signing key %s", alg, record.kid)
    return await load_keys(settings, storage, encryptor, now)


async def rotate_keys(
    storage: Storage,
    encryptor: KeyEncryptor,
    algs: tuple[str, ...],
    now: datetime,
    announce: timedelta,
) -> list[SigningKeyRecord]:
    """Add a new key per algorithm that signs from ``now + announce``; the current key keeps
    signing until then, then stays published as retired until its tokens have expired."""
    # RSA key generation takes tens of milliseconds: not on the event loop.
    records = [
        await asyncio.to_thread(generate_key, alg, now, encryptor, now + announce) for alg in algs
    ]
    async with storage.transaction() as tx:
        for record in records:
            await tx.keys.add(record)
    for record in records:
        log.info(
            "rotating %s: key %s signs from %s",
            record.alg,
            record.kid,
            record.signs_from.isoformat(),
        )
    return records


async def _due_for_rotation(ctx: ServerContext, now: datetime) -> tuple[str, ...]:
    interval = ctx.settings.key_rotation_interval
    if not interval:
        return ()
    async with ctx.storage.transaction() as tx:
        records = await tx.keys.list()
    lifecycle = key_lifecycle(records, now, timedelta(0))
    pending = {r.alg for r in records if r.active and lifecycle.states.get(r.kid) == "next"}
    return tuple(
        alg
        for alg, key in lifecycle.signing.items()
        if alg not in pending and now - key.signs_from >= timedelta(seconds=interval)
    )


async def run_key_maintenance(
    ctx: ServerContext,
    encryptor: KeyEncryptor,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Every KEY_RELOAD_SECONDS: rotate keys that are due (automatic rotation) and reload the
    key set into ``ctx``. A database outage only skips a turn."""
    while True:
        await sleep(KEY_RELOAD_SECONDS)
        try:
            now = ctx.clock.now()
            due = await _due_for_rotation(ctx, now)
            if due:
                announce = timedelta(seconds=ctx.settings.key_announcement_period)
                await rotate_keys(ctx.storage, encryptor, due, now, announce)
            ctx.keys = await load_keys(ctx.settings, ctx.storage, encryptor, now, ctx.keys)
        except StorageUnavailable:
            log.warning("key reload skipped: database unavailable")
        except Exception:
            # Keep serving with the keys we have and try again next turn: a process that
            # stopped reloading would drift from the others without anyone noticing.
            log.exception("key reload failed")

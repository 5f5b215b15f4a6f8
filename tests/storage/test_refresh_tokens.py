"""Refresh tokens: atomic rotation, reuse detection, expiry, client binding, family revocation.

Spec: RFC 6749 §6, §10.4; RFC 9700 §4.14.2.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from authgate.core.models import TokenHash
from authgate.storage.base import DuplicateError, Locked, Reused, Rotated

from . import factories as f
from .factories import CLIENT_ID, Seed

H = TokenHash("r3fr")


async def rotate(storage: Any, now: datetime, client_id: str = CLIENT_ID) -> Any:
    async with storage.transaction() as tx:
        return await lock_and_rotate(tx, H, client_id, now)


async def lock_and_rotate(tx: Any, token_hash: TokenHash, client_id: str, now: datetime) -> Any:
    """What the token endpoint does: lock, then rotate the locked token (``rotate`` without
    ``locked`` was folded into this protocol step)."""
    locked = await tx.refresh_tokens.lock(token_hash)
    if locked is None:
        return None
    return await tx.refresh_tokens.rotate(token_hash, client_id, now, locked=locked.token)


async def test_round_trip_and_duplicate(storage: Any, seeded: Seed, now: datetime) -> None:
    token = f.refresh_token(now)
    async with storage.transaction() as tx:
        await tx.refresh_tokens.add(token)
        with pytest.raises(DuplicateError):
            await tx.refresh_tokens.add(f.refresh_token(now))
    async with storage.transaction() as tx:
        assert await tx.refresh_tokens.get(H) == token
        assert await tx.refresh_tokens.get(TokenHash("nope")) is None


async def test_rfc9700_rotation_then_reuse(storage: Any, seeded: Seed, now: datetime) -> None:
    async with storage.transaction() as tx:
        await tx.refresh_tokens.add(f.refresh_token(now))
    first = await rotate(storage, now)
    assert isinstance(first, Rotated) and first.token.rotated_at == now
    again = await rotate(storage, now + timedelta(seconds=1))
    assert isinstance(again, Reused) and again.token.rotated_at == now


async def test_rfc9700_concurrent_rotations_have_one_winner(
    storage: Any, seeded: Seed, now: datetime
) -> None:
    async with storage.transaction() as tx:
        await tx.refresh_tokens.add(f.refresh_token(now))
    results = await asyncio.gather(*(rotate(storage, now) for _ in range(20)))
    assert sum(isinstance(r, Rotated) for r in results) == 1
    assert sum(isinstance(r, Reused) for r in results) == 19


@pytest.mark.parametrize(
    "fields",
    [
        {"expires_at": "now"},
        {"family_expires_at": "now"},
        {"revoked_at": "now"},
    ],
)
async def test_inactive_tokens_do_not_rotate(
    storage: Any, seeded: Seed, now: datetime, fields: dict[str, str]
) -> None:
    values = {k: now for k in fields}
    async with storage.transaction() as tx:
        await tx.refresh_tokens.add(f.refresh_token(now - timedelta(hours=1), **values))
    assert await rotate(storage, now) is None


async def test_another_clients_token_is_unknown(storage: Any, seeded: Seed, now: datetime) -> None:
    async with storage.transaction() as tx:
        await tx.clients.add(f.client("client-2"))
        await tx.refresh_tokens.add(f.refresh_token(now))
    assert await rotate(storage, now, "client-2") is None
    assert isinstance(await rotate(storage, now), Rotated)
    assert await rotate(storage, now, "client-2") is None  # no reuse signal for others


async def test_revoke_family_and_grant_cascade(storage: Any, seeded: Seed, now: datetime) -> None:
    later = now + timedelta(minutes=1)
    async with storage.transaction() as tx:
        await tx.refresh_tokens.add(f.refresh_token(now, "a"))
        await tx.refresh_tokens.add(f.refresh_token(now, "b", family_id="family-2"))
    async with storage.transaction() as tx:
        assert await tx.refresh_tokens.revoke_family("family-1", later) == 1
        assert await tx.refresh_tokens.revoke_family("family-1", later) == 0
        await tx.grants.revoke(seeded.grant.id, later)
    async with storage.transaction() as tx:
        a = await tx.refresh_tokens.get(TokenHash("a"))
        b = await tx.refresh_tokens.get(TokenHash("b"))
    assert a is not None and a.revoked_at == later
    assert b is not None and b.revoked_at == later


async def test_password_change_and_client_delete_reach_refresh_tokens(
    storage: Any, seeded: Seed, now: datetime
) -> None:
    async with storage.transaction() as tx:
        await tx.refresh_tokens.add(f.refresh_token(now))
    async with storage.transaction() as tx:
        await tx.access_tokens.revoke_for_user(seeded.user.id, now)
        token = await tx.refresh_tokens.get(H)
    assert token is not None and token.revoked_at == now
    async with storage.transaction() as tx:
        assert await tx.clients.delete(CLIENT_ID)
        assert await tx.refresh_tokens.get(H) is None


# The "rotate" case (rotate() locking the family itself) went with that variant: the token
# endpoint always locks first, which the remaining case covers.
@pytest.mark.parametrize("locked_first", [True], ids=["lock-then-rotate"])
async def test_revocation_waits_for_a_rotation_in_progress(
    storage: Any, seeded: Seed, now: datetime, locked_first: bool
) -> None:
    """The successor a concurrent rotation inserts is revoked too (RFC 9700 §4.14.2), whether
    the rotation locked the family itself or the token endpoint's ``lock`` read did."""
    async with storage.transaction() as tx:
        await tx.refresh_tokens.start_family(
            "family-1",
            grant_id=seeded.grant.id,
            client_id=CLIENT_ID,
            user_id=seeded.user.id,
            expires_at=now + timedelta(days=30),
        )
        await tx.refresh_tokens.add(f.refresh_token(now))
    rotating = asyncio.Event()

    async def rotation() -> None:
        async with storage.transaction() as tx:
            locked = await tx.refresh_tokens.lock(H) if locked_first else None
            assert locked is not None or not locked_first
            token = locked.token if locked is not None else None
            rotated = await tx.refresh_tokens.rotate(H, CLIENT_ID, now, locked=token)
            assert isinstance(rotated, Rotated)
            await tx.refresh_tokens.add(f.refresh_token(now, "successor"))
            rotating.set()
            await asyncio.sleep(0.3)  # still uncommitted while the revocation starts

    async def revocation() -> None:
        await rotating.wait()
        async with storage.transaction() as tx:
            await tx.refresh_tokens.revoke_family("family-1", now)

    await asyncio.gather(rotation(), revocation())
    async with storage.transaction() as tx:
        successor = await tx.refresh_tokens.get(TokenHash("successor"))
        assert successor is not None and successor.revoked_at == now
        # A revoked family rotates no more.
        assert await lock_and_rotate(tx, TokenHash("successor"), CLIENT_ID, now) is None
        assert await tx.refresh_tokens.lock(TokenHash("successor")) is None


async def test_lock_reads_the_token_of_a_live_family(
    storage: Any, seeded: Seed, now: datetime
) -> None:
    async with storage.transaction() as tx:
        await tx.refresh_tokens.add(f.refresh_token(now))
        await tx.refresh_tokens.add(f.refresh_token(now, "orphan", family_id="no-family"))
    async with storage.transaction() as tx:
        locked = await tx.refresh_tokens.lock(H)
        assert locked == Locked(f.refresh_token(now), seeded.grant.id, 0)
        assert await tx.refresh_tokens.lock(TokenHash("unknown")) is None
        assert await tx.refresh_tokens.lock(TokenHash("orphan")) is None  # no family row
        rotated = await tx.refresh_tokens.rotate(H, CLIENT_ID, now, locked=locked.token)
        # The rotated token is the locked one with rotated_at set: what the row now holds.
        assert isinstance(rotated, Rotated)
        assert rotated.token == await tx.refresh_tokens.get(H)
        assert rotated.token.rotated_at == now
        again = await tx.refresh_tokens.rotate(H, CLIENT_ID, now, locked=locked.token)
        assert isinstance(again, Reused)
        assert again.token.rotated_at == now
        with pytest.raises(ValueError, match="another token"):
            await tx.refresh_tokens.rotate(TokenHash("orphan"), CLIENT_ID, now, locked=locked.token)

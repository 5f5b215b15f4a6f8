"""Purging rows whose lifetime has ended: only those, in bounded batches."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from authgate.core.models import TokenHash
from authgate.storage.base import PURGEABLE

from . import factories as f
from .factories import Seed


async def test_purge_deletes_only_ended_rows_in_batches(
    storage: Any, seeded: Seed, now: datetime
) -> None:
    past = now - timedelta(days=2)
    gone = now - timedelta(seconds=1)
    # A family is kept a day past its end: sealed access tokens check it (design note 0009).
    family_gone = now - timedelta(days=1, minutes=5, seconds=1)
    live = now + timedelta(hours=1)
    async with storage.transaction() as tx:
        # Refresh tokens end with their family (family_expires_at is the family's expires_at).
        await f.start_family(tx, "old-family", family_gone)
        await f.start_family(tx, "recent-family", gone)
        for i in range(3):
            await tx.codes.add(f.code(past, f"old-code-{i}", expires_at=now - timedelta(days=2)))
            await tx.access_tokens.add(f.access_token(past, f"old-at-{i}", expires_at=gone))
            # Kept five minutes past expiry (another node's clock may be behind).
            await tx.access_tokens.revoke_sealed(TokenHash(f"old-sealed-{i}"), past)
            await tx.refresh_tokens.add(
                f.refresh_token(
                    past,
                    f"old-rt-{i}",
                    family_id="old-family",
                    expires_at=family_gone,
                    family_expires_at=family_gone,
                )
            )
            await tx.sessions.add(f.session(past, f"old-s-{i}", expires_at=gone))
            await tx.interactions.add(f.interaction(past, f"old-i-{i}", expires_at=gone))
        await tx.codes.add(f.code(now, "new-code", expires_at=live))
        # A used code just past its expiry is kept a day (late replays still detected), and a
        # rotated refresh token whose family lives on is kept too.
        await tx.codes.add(f.code(past, "recent-code", expires_at=gone))
        await tx.refresh_tokens.add(f.refresh_token(past, "idle-rt", expires_at=gone))
        await tx.access_tokens.add(f.access_token(now, "new-at", expires_at=live))
        await tx.access_tokens.revoke_sealed(TokenHash("new-sealed"), live)
        await tx.refresh_tokens.add(f.refresh_token(now, "new-rt"))
        await tx.sessions.add(f.session(now, "new-s"))
        await tx.interactions.add(f.interaction(now, "new-i", expires_at=live))
        await tx.throttle.hit("old", past, timedelta(minutes=15))
        await tx.throttle.hit("new", now, timedelta(minutes=15))

    async with storage.transaction() as tx:
        assert await tx.maintenance.purge_expired("codes", now, 2) == 2
        assert await tx.maintenance.purge_expired("codes", now, 2) == 1
        assert await tx.maintenance.purge_expired("codes", now, 2) == 0
        for kind in (
            "access_tokens",
            "revoked_access_tokens",
            "refresh_tokens",
            "sessions",
            "interactions",
        ):
            assert await tx.maintenance.purge_expired(kind, now, 100) == 3, kind
        assert await tx.maintenance.purge_expired("throttle", now, 100) == 1
        assert await tx.maintenance.purge_expired("token_families", now, 100) == 1

    async with storage.transaction() as tx:
        assert await tx.access_tokens.get(TokenHash("new-at")) is not None
        assert await tx.access_tokens.get(TokenHash("old-at-0")) is None
        # The live token's revocation stays (not new again), the expired ones' went; the
        # family that ended a second ago stays too.
        assert not await tx.access_tokens.revoke_sealed(TokenHash("new-sealed"), live)
        assert await tx.access_tokens.revoke_sealed(TokenHash("old-sealed-0"), live)
        await f.start_family(tx, "recent-family", gone)  # still there: nothing inserted
        assert await tx.maintenance.purge_expired("token_families", now, 100) == 0
        assert await tx.maintenance.purge_expired("token_families", now + timedelta(days=1), 9) == 0
        later = now + timedelta(days=1, minutes=5)
        assert await tx.maintenance.purge_expired("token_families", later, 100) == 1
        assert await tx.refresh_tokens.get(TokenHash("new-rt")) is not None
        assert await tx.sessions.get_with_user(TokenHash("new-s"), now) is not None
        assert await tx.interactions.get("new-i", now) is not None
        assert await tx.throttle.count("new", now, timedelta(minutes=15)) == 1
        for kind in PURGEABLE:
            assert await tx.maintenance.purge_expired(kind, now, 100) == 0


async def test_refresh_tokens_go_with_their_family_in_batches_and_the_family_after_them(
    storage: Any, seeded: Seed, now: datetime
) -> None:
    """Refresh tokens are found through their family's expiry; a family whose tokens are not
    all purged yet stays, so no token is left without the row that finds it."""
    gone = now - timedelta(days=1, minutes=5, seconds=1)
    async with storage.transaction() as tx:
        await f.start_family(tx, "ended", gone)
        for i in range(5):
            await tx.refresh_tokens.add(
                f.refresh_token(gone, f"rt-{i}", family_id="ended", family_expires_at=gone)
            )
        await tx.refresh_tokens.add(f.refresh_token(now, "alive"))  # family-1 lives on
    async with storage.transaction() as tx:
        assert await tx.maintenance.purge_expired("token_families", now, 100) == 0
        assert await tx.maintenance.purge_expired("refresh_tokens", now, 2) == 2
        assert await tx.maintenance.purge_expired("refresh_tokens", now, 2) == 2
        assert await tx.maintenance.purge_expired("token_families", now, 100) == 0
        assert await tx.maintenance.purge_expired("refresh_tokens", now, 2) == 1
        assert await tx.maintenance.purge_expired("refresh_tokens", now, 2) == 0
        assert await tx.maintenance.purge_expired("token_families", now, 100) == 1
    async with storage.transaction() as tx:
        assert await tx.refresh_tokens.get(TokenHash("alive")) is not None
        assert await tx.refresh_tokens.get(TokenHash("rt-0")) is None

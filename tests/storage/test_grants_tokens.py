"""Grants (RFC 6749 §1.3) and access tokens (RFC 6749 §1.4): cascading revocation."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import pytest

from authgate.core.models import TokenHash
from authgate.storage.base import Consumed, DuplicateError
from authgate.storage.sql import SqlStorage

from . import factories as f
from .factories import Seed


async def test_find_returns_the_active_grant(storage: SqlStorage, seeded: Seed) -> None:
    async with storage.transaction() as tx:
        assert await tx.grants.find(f.USER_ID, f.CLIENT_ID) == seeded.grant
        assert await tx.grants.find(f.USER_ID, "other") is None
        assert await tx.grants.find("nobody", f.CLIENT_ID) is None


async def test_save_replaces_a_grant_by_id(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    widened = dataclasses.replace(
        seeded.grant, scopes=("openid", "profile", "email"), updated_at=now + timedelta(days=1)
    )
    async with storage.transaction() as tx:
        await tx.grants.save(widened)
    async with storage.transaction() as tx:
        assert await tx.grants.find(f.USER_ID, f.CLIENT_ID) == widened


async def test_revoke_cascades_to_the_grants_tokens(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    later = now + timedelta(minutes=5)
    async with storage.transaction() as tx:
        await tx.users.add(f.user("user-2", "bob"))
        await tx.grants.save(f.grant(now, "grant-2", user_id="user-2"))
        await tx.access_tokens.add(f.access_token(now, "t1"))
        await tx.access_tokens.add(f.access_token(now, "t2", family_id="family-2"))
        await tx.access_tokens.add(f.access_token(now, "t3", revoked_at=now))
        await tx.access_tokens.add(f.access_token(now, "t4", grant_id="grant-2", user_id="user-2"))

    async with storage.transaction() as tx:
        await tx.grants.revoke(f.GRANT_ID, later)

    async with storage.transaction() as tx:
        assert await tx.grants.find(f.USER_ID, f.CLIENT_ID) is None
        revoked = {h: await tx.access_tokens.get(TokenHash(h)) for h in ("t1", "t2", "t3", "t4")}
        assert await tx.grants.find("user-2", f.CLIENT_ID) is not None
    assert {h: t.revoked_at for h, t in revoked.items() if t} == {
        "t1": later,
        "t2": later,
        "t3": now,  # already revoked: keeps its time
        "t4": None,  # another grant
    }


async def test_a_new_grant_after_revocation_is_found(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    async with storage.transaction() as tx:
        await tx.grants.revoke(f.GRANT_ID, now)
        fresh = f.grant(now, "grant-new", scopes=("openid",))
        await tx.grants.save(fresh)
        assert await tx.grants.find(f.USER_ID, f.CLIENT_ID) == fresh


async def test_revoking_twice_keeps_the_first_time(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    token = f.access_token(now)
    async with storage.transaction() as tx:
        await tx.access_tokens.add(token)
        await tx.grants.revoke(f.GRANT_ID, now)
        await tx.grants.revoke(f.GRANT_ID, now + timedelta(hours=1))
        await tx.grants.revoke("unknown-grant", now)
        stored = await tx.access_tokens.get(token.token_hash)
    assert stored is not None
    assert stored.revoked_at == now


async def test_access_token_round_trips(storage: SqlStorage, seeded: Seed, now: datetime) -> None:
    user_token = f.access_token(now, "user-token")
    client_token = f.access_token(
        now, "cc-token", user_id=None, grant_id=None, family_id=None, scopes=()
    )
    async with storage.transaction() as tx:
        await tx.access_tokens.add(user_token)
        await tx.access_tokens.add(client_token)
    async with storage.transaction() as tx:
        assert await tx.access_tokens.get(user_token.token_hash) == user_token
        assert await tx.access_tokens.get(client_token.token_hash) == client_token
        assert await tx.access_tokens.get(TokenHash("unknown")) is None


async def test_expired_and_revoked_tokens_are_still_returned(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    """``get`` is a lookup; whether the token is active is the caller's decision."""
    token = f.access_token(now, "old", expires_at=now - timedelta(seconds=1), revoked_at=now)
    async with storage.transaction() as tx:
        await tx.access_tokens.add(token)
        stored = await tx.access_tokens.get(token.token_hash)
    assert stored == token
    assert stored is not None
    assert not stored.is_active(now)


async def test_duplicate_token_hash_is_rejected(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    async with storage.transaction() as tx:
        await tx.access_tokens.add(f.access_token(now))
        with pytest.raises(DuplicateError):
            await tx.access_tokens.add(f.access_token(now, family_id="family-2"))


async def test_revoke_family_counts_newly_revoked_tokens(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    later = now + timedelta(minutes=1)
    async with storage.transaction() as tx:
        await tx.access_tokens.add(f.access_token(now, "a"))
        await tx.access_tokens.add(f.access_token(now, "b"))
        await tx.access_tokens.add(f.access_token(now, "c", revoked_at=now))
        await tx.access_tokens.add(f.access_token(now, "d", family_id="family-2"))

    async with storage.transaction() as tx:
        assert await tx.refresh_tokens.revoke_family("family-1", later) == 2
    async with storage.transaction() as tx:
        assert await tx.refresh_tokens.revoke_family("family-1", later) == 0
        assert await tx.refresh_tokens.revoke_family("unknown", later) == 0
        tokens = {h: await tx.access_tokens.get(TokenHash(h)) for h in "abcd"}

    assert {h: t.revoked_at for h, t in tokens.items() if t} == {
        "a": later,
        "b": later,
        "c": now,
        "d": None,
    }


async def test_revoke_for_user_revokes_live_tokens_of_that_user(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    later = now + timedelta(minutes=1)
    async with storage.transaction() as tx:
        await tx.access_tokens.add(f.access_token(now, "u1"))
        await tx.access_tokens.add(f.access_token(now, "u2", revoked_at=now))
        machine_token = f.access_token(now, "cc", user_id=None, grant_id=None, family_id=None)
        await tx.access_tokens.add(machine_token)
    async with storage.transaction() as tx:
        assert await tx.access_tokens.revoke_for_user(seeded.user.id, later) == 1
        token = await tx.access_tokens.get(TokenHash("u1"))
        machine = await tx.access_tokens.get(TokenHash("cc"))
    assert token is not None and token.revoked_at == later
    assert machine is not None and machine.revoked_at is None


async def test_revoke_one_access_token(storage: SqlStorage, seeded: Seed, now: datetime) -> None:
    async with storage.transaction() as tx:
        await tx.access_tokens.add(f.access_token(now, "one"))
        await tx.access_tokens.add(f.access_token(now, "two"))
    async with storage.transaction() as tx:
        assert await tx.access_tokens.revoke(TokenHash("one"), now) is True
        assert await tx.access_tokens.revoke(TokenHash("one"), now) is False
        assert await tx.access_tokens.revoke(TokenHash("nope"), now) is False
        one = await tx.access_tokens.get(TokenHash("one"))
        two = await tx.access_tokens.get(TokenHash("two"))
    assert one is not None and one.revoked_at == now
    assert two is not None and two.revoked_at is None


async def _live_grants(tx: Any, now: datetime, tag: str) -> tuple[str | None, str | None]:
    """The live grant of the seeded user and client as the token endpoint reads it: with a
    fresh code it consumes, and with a fresh refresh token it locks."""
    await tx.codes.add(f.code(now, f"code-{tag}"))
    consumed = await tx.codes.consume(TokenHash(f"code-{tag}"), now)
    assert isinstance(consumed, Consumed)
    # A family of its own: revoking the grant revokes the families it issued.
    await f.start_family(tx, f"family-{tag}", now + timedelta(days=30))
    await tx.refresh_tokens.add(f.refresh_token(now, f"refresh-{tag}", family_id=f"family-{tag}"))
    locked = await tx.refresh_tokens.lock(TokenHash(f"refresh-{tag}"))
    assert locked is not None
    return consumed.live_grant_id, locked.live_grant_id


async def test_live_grant_agrees_with_find_rfc6749_10_4(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    """Consuming a code and locking a refresh token read, in the same statement, the id
    ``grants.find`` would return, and None once the user is disabled or the grant revoked."""
    async with storage.transaction() as tx:
        assert await _live_grants(tx, now, "seeded") == (f.GRANT_ID, f.GRANT_ID)
        assert await tx.users.set_disabled(f.USER_ID, True, now)
        assert await _live_grants(tx, now, "disabled") == (None, None)
        assert await tx.users.set_disabled(f.USER_ID, False, now)
        assert await _live_grants(tx, now, "enabled") == (f.GRANT_ID, f.GRANT_ID)
        await tx.grants.revoke(f.GRANT_ID, now)
        assert await _live_grants(tx, now, "revoked") == (None, None)
        older = f.grant(now, "grant-old", updated_at=now - timedelta(days=1))
        newer = f.grant(now, "grant-new", updated_at=now + timedelta(seconds=1))
        # Newer still, but another client's, and another user's: neither is this one's.
        other = f.grant(now, "grant-other", client_id="client-2", updated_at=now + timedelta(1))
        bobs = f.grant(now, "grant-bob", user_id="user-2", updated_at=now + timedelta(1))
        await tx.clients.add(f.client("client-2"))
        await tx.users.add(f.user("user-2", username="bob", created_at=now, updated_at=now))
        for grant in (older, newer, other, bobs):
            await tx.grants.save(grant)
        assert await _live_grants(tx, now, "newest") == ("grant-new", "grant-new")
        assert (await tx.grants.find(f.USER_ID, f.CLIENT_ID)) == newer


async def _standing(storage: SqlStorage, **names: str | None) -> Any:
    ids: dict[str, str | None] = {
        "client_id": f.CLIENT_ID,
        "grant_id": f.GRANT_ID,
        "user_id": f.USER_ID,
        "family_id": "family-1",
    }
    ids.update(names)
    async with storage.transaction() as tx:
        standing, _ = await tx.access_tokens.standing(TokenHash("sealed-1"), **ids)
        return standing


async def test_standing_reads_what_a_sealed_token_depends_on(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    """One statement for the client, grant, user, family and the token's own revocation; a
    token that names no grant, user or family finds none (design note 0009)."""
    fresh = await _standing(storage)
    assert fresh.client_found and fresh.client_created_at == now
    assert fresh.grant_found and fresh.grant_revoked_at is None
    assert fresh.user_found and not fresh.user_disabled
    assert fresh.user_token_epoch == 0
    assert fresh.family_revoked_at is None and not fresh.revoked_one_by_one
    assert fresh.allows(issued_at=now, grant_id=f.GRANT_ID, user_id=f.USER_ID, user_epoch=0)
    machine = await _standing(storage, grant_id=None, user_id=None, family_id=None)
    assert machine.client_found and not machine.grant_found and not machine.user_found
    assert not (await _standing(storage, client_id="gone")).client_found
    assert not (await _standing(storage, grant_id="gone")).grant_found
    assert not (await _standing(storage, user_id="gone")).user_found


async def test_standing_sees_every_revocation(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    later = now + timedelta(minutes=1)
    async with storage.transaction() as tx:
        await f.start_family(tx, "family-1", now + timedelta(days=30))
        assert await tx.access_tokens.revoke_sealed(TokenHash("sealed-1"), later)
        assert not await tx.access_tokens.revoke_sealed(TokenHash("sealed-1"), later)
        await tx.refresh_tokens.revoke_family("family-1", later)
        await tx.access_tokens.revoke_for_user(f.USER_ID, later)
        await tx.users.set_disabled(f.USER_ID, True, later)
        await tx.grants.revoke(f.GRANT_ID, later)
    standing = await _standing(storage)
    assert standing.revoked_one_by_one
    assert standing.family_revoked_at == later
    assert standing.user_token_epoch == 1
    assert standing.user_disabled
    assert standing.grant_revoked_at == later
    assert (await _standing(storage, family_id=None)).family_revoked_at is None
    async with storage.transaction() as tx:
        assert await tx.clients.delete(f.CLIENT_ID)
    assert not (await _standing(storage)).client_found


async def test_each_user_revocation_moves_the_token_epoch_on_whatever_the_clock(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    """A counter, not a time: a revocation run from a host whose clock is behind still revokes
    every token issued before it, and never revives one."""
    async with storage.transaction() as tx:
        await tx.access_tokens.revoke_for_user(f.USER_ID, now + timedelta(minutes=10))
        await tx.access_tokens.revoke_for_user(f.USER_ID, now)
    assert (await _standing(storage)).user_token_epoch == 2
    async with storage.transaction() as tx:
        # What the issuing statements read, and the next access token carries.
        await tx.codes.add(f.code(now))
        consumed = await tx.codes.consume(f.code(now).code_hash, now)
    assert isinstance(consumed, Consumed) and consumed.user_epoch == 2


async def test_saving_a_grant_never_undoes_its_revocation(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    """A consent widened from a copy read before the grant was revoked (two requests at once)
    leaves it revoked: its tokens, sealed ones included, stay dead."""
    stale = seeded.grant
    async with storage.transaction() as tx:
        await tx.grants.revoke(stale.id, now)
        await tx.grants.save(dataclasses.replace(stale, scopes=("openid", "email")))
    assert (await _standing(storage)).grant_revoked_at == now
    async with storage.transaction() as tx:
        assert await tx.grants.find(f.USER_ID, f.CLIENT_ID) is None


async def test_standing_with_user_reads_the_user_in_the_same_statement(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    async with storage.transaction() as tx:
        standing, user = await tx.access_tokens.standing(
            TokenHash("sealed-1"),
            client_id=f.CLIENT_ID,
            grant_id=f.GRANT_ID,
            user_id=f.USER_ID,
            family_id=None,
            with_user=True,
        )
        assert user == seeded.user
        assert (standing, None) == await tx.access_tokens.standing(
            TokenHash("sealed-1"),
            client_id=f.CLIENT_ID,
            grant_id=f.GRANT_ID,
            user_id=f.USER_ID,
            family_id=None,
        )
        gone, nobody = await tx.access_tokens.standing(
            TokenHash("sealed-1"),
            client_id=f.CLIENT_ID,
            grant_id=None,
            user_id="x",
            family_id=None,
            with_user=True,
        )
        assert nobody is None and not gone.user_found
        _, no_client = await tx.access_tokens.standing(
            TokenHash("sealed-1"),
            client_id="x",
            grant_id=None,
            user_id=f.USER_ID,
            family_id=None,
            with_user=True,
        )
        assert no_client is None

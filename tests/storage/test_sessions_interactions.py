"""Browser sessions and pending interactions: expiry and single completion."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from authgate.core.models import TokenHash
from authgate.storage.base import DuplicateError, SignedIn
from authgate.storage.sql import SqlStorage

from . import factories as f
from .factories import Seed


async def _session(tx: Any, id_hash: TokenHash, now: datetime) -> Any:
    """The session alone, through the read the server makes (``sessions.get`` folded into it)."""
    found = await tx.sessions.get_with_user(id_hash, now)
    return None if found is None else found[0]


async def test_session_round_trips_until_it_expires(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    session = f.session(now, expires_at=now + timedelta(hours=1))
    async with storage.transaction() as tx:
        await tx.sessions.add(session)
    async with storage.transaction() as tx:
        assert await _session(tx, session.id_hash, now) == session
        assert await _session(tx, session.id_hash, now + timedelta(minutes=59)) == session
        assert await _session(tx, session.id_hash, now + timedelta(hours=1)) is None
        assert await _session(tx, TokenHash("unknown"), now) is None


async def test_session_with_its_user_in_one_lookup(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    """The joined read gives what the two separate reads give, with the same expiry."""
    session = f.session(
        now,
        auth_time=now - timedelta(minutes=2),
        created_at=now - timedelta(minutes=1),  # not the user's created_at
        expires_at=now + timedelta(hours=1),
    )
    async with storage.transaction() as tx:
        await tx.sessions.add(session)
    async with storage.transaction() as tx:
        user = await tx.users.get(session.user_id)
        assert user is not None
        assert await tx.sessions.get_with_user(session.id_hash, now) == (session, user)
        later = now + timedelta(hours=1)
        assert await tx.sessions.get_with_user(session.id_hash, later) is None
        assert await tx.sessions.get_with_user(TokenHash("unknown"), now) is None


async def test_signed_in_reads_session_user_and_newest_grant(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    """The authorization endpoint's one read: session, user and the grant ``grants.find``
    would return for the client (None for a client without one)."""
    session = f.session(
        now,
        auth_time=now - timedelta(minutes=2),
        created_at=now - timedelta(minutes=1),  # not the user's or the grant's created_at
        expires_at=now + timedelta(hours=1),
    )
    async with storage.transaction() as tx:
        await tx.sessions.add(session)
        await tx.clients.add(f.client("client-2"))
    async with storage.transaction() as tx:
        found = await tx.sessions.get_signed_in(session.id_hash, now, f.CLIENT_ID)
        assert found == SignedIn(session, seeded.user, seeded.grant)
        assert found == SignedIn(session, seeded.user, await tx.grants.find(f.USER_ID, f.CLIENT_ID))
        assert await tx.sessions.get_signed_in(session.id_hash, now, "client-2") == SignedIn(
            session, seeded.user, None
        )
        later = now + timedelta(hours=1)
        assert await tx.sessions.get_signed_in(session.id_hash, later, f.CLIENT_ID) is None
        assert await tx.sessions.get_signed_in(TokenHash("unknown"), now, f.CLIENT_ID) is None
        newer = f.grant(now, "grant-new", updated_at=now + timedelta(seconds=1))
        await tx.grants.save(newer)
        # Another user's newer grant to the same client is not this user's.
        await tx.users.add(f.user("user-2", username="bob", created_at=now, updated_at=now))
        await tx.grants.save(
            f.grant(now, "grant-bob", user_id="user-2", updated_at=now + timedelta(1))
        )
        found = await tx.sessions.get_signed_in(session.id_hash, now, f.CLIENT_ID)
        assert found is not None and found.grant == newer
        await tx.grants.revoke("grant-new", now)
        found = await tx.sessions.get_signed_in(session.id_hash, now, f.CLIENT_ID)
        assert found is not None and found.grant == seeded.grant
        await tx.grants.revoke(f.GRANT_ID, now)
        found = await tx.sessions.get_signed_in(session.id_hash, now, f.CLIENT_ID)
        assert found == SignedIn(session, seeded.user, None)


async def test_deleted_session_is_gone(storage: SqlStorage, seeded: Seed, now: datetime) -> None:
    session = f.session(now)
    async with storage.transaction() as tx:
        await tx.sessions.add(session)
        await tx.sessions.add(f.session(now, "other"))
    async with storage.transaction() as tx:
        await tx.sessions.delete(session.id_hash)
        await tx.sessions.delete(TokenHash("unknown"))
    async with storage.transaction() as tx:
        assert await _session(tx, session.id_hash, now) is None
        assert await _session(tx, TokenHash("other"), now) is not None


async def test_duplicate_session_is_rejected(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    async with storage.transaction() as tx:
        await tx.sessions.add(f.session(now))
        with pytest.raises(DuplicateError):
            await tx.sessions.add(f.session(now))


async def test_interaction_round_trips_until_it_expires(storage: SqlStorage, now: datetime) -> None:
    interaction = f.interaction(now)
    async with storage.transaction() as tx:
        await tx.interactions.add(interaction)
    async with storage.transaction() as tx:
        assert await tx.interactions.get(interaction.id, now) == interaction
        assert await tx.interactions.get(interaction.id, interaction.expires_at) is None
        assert await tx.interactions.get("unknown", now) is None


async def test_interaction_delete_is_true_only_once(storage: SqlStorage, now: datetime) -> None:
    async with storage.transaction() as tx:
        await tx.interactions.add(f.interaction(now))
    async with storage.transaction() as tx:
        assert await tx.interactions.delete("ia-1") is True
    async with storage.transaction() as tx:
        assert await tx.interactions.delete("ia-1") is False
        assert await tx.interactions.get("ia-1", now) is None


async def test_one_of_concurrent_interaction_completions_wins(
    storage: SqlStorage, now: datetime
) -> None:
    async with storage.transaction() as tx:
        await tx.interactions.add(f.interaction(now))

    async def complete() -> bool:
        async with storage.transaction() as tx:
            return await tx.interactions.delete("ia-1")

    results = await asyncio.gather(*(complete() for _ in range(10)))

    assert sorted(results) == [False] * 9 + [True]


async def test_duplicate_interaction_is_rejected(storage: SqlStorage, now: datetime) -> None:
    async with storage.transaction() as tx:
        await tx.interactions.add(f.interaction(now))
        with pytest.raises(DuplicateError):
            await tx.interactions.add(f.interaction(now))


async def test_delete_for_user_ends_only_that_users_sessions(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    async with storage.transaction() as tx:
        await tx.sessions.add(f.session(now, "mine-1"))
        await tx.sessions.add(f.session(now, "mine-2"))
    async with storage.transaction() as tx:
        assert await tx.sessions.delete_for_user(seeded.user.id) == 2
        assert await tx.sessions.delete_for_user(seeded.user.id) == 0
        assert await tx.sessions.delete_for_user("someone-else") == 0
    async with storage.transaction() as tx:
        assert await _session(tx, TokenHash("mine-1"), now) is None

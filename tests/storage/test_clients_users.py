"""Clients (RFC 7591 §2) and user accounts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from authgate.core.models import AuthMethod, Client
from authgate.storage.base import DuplicateError
from authgate.storage.sql import SqlStorage

from . import factories as f
from .factories import Seed


async def test_client_round_trips_every_field(storage: SqlStorage, now: datetime) -> None:
    client = f.client(created_at=now, jwks_uri="https://rp.example/jwks")
    async with storage.transaction() as tx:
        await tx.clients.add(client)
    async with storage.transaction() as tx:
        assert await tx.clients.get(client.client_id) == client


async def test_public_client_with_defaults_round_trips(storage: SqlStorage) -> None:
    client = Client(
        client_id="spa",
        redirect_uris=("http://127.0.0.1/cb",),
        token_endpoint_auth_method=AuthMethod.NONE,
    )
    async with storage.transaction() as tx:
        await tx.clients.add(client)
        stored = await tx.clients.get("spa")
    assert stored == client
    assert stored is not None
    assert stored.is_public
    assert stored.scope is None
    assert stored.metadata == {}


async def test_unknown_client_is_none(storage: SqlStorage) -> None:
    async with storage.transaction() as tx:
        assert await tx.clients.get("nobody") is None


async def test_duplicate_client_id_is_rejected(storage: SqlStorage) -> None:
    async with storage.transaction() as tx:
        await tx.clients.add(f.client())
    async with storage.transaction() as tx:
        with pytest.raises(DuplicateError):
            await tx.clients.add(f.client(client_name="other"))


async def test_clients_are_listed_by_client_id(storage: SqlStorage) -> None:
    async with storage.transaction() as tx:
        for client_id in ("b", "c", "a"):
            await tx.clients.add(f.client(client_id))
        assert [c.client_id for c in await tx.clients.list()] == ["a", "b", "c"]


async def test_deleting_a_client_deletes_what_was_issued_to_it(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    async with storage.transaction() as tx:
        await tx.clients.add(f.client("other"))
        await tx.grants.save(f.grant(now, "grant-2", client_id="other"))
        await tx.codes.add(f.code(now, "code-1"))
        await tx.access_tokens.add(f.access_token(now, "token-1"))
        await tx.access_tokens.add(f.access_token(now, "token-cc", user_id=None, grant_id=None))
        await tx.access_tokens.add(
            f.access_token(now, "token-2", client_id="other", grant_id="grant-2")
        )

    async with storage.transaction() as tx:
        assert await tx.clients.delete(f.CLIENT_ID) is True

    async with storage.transaction() as tx:
        assert await tx.clients.get(f.CLIENT_ID) is None
        assert await tx.grants.find(f.USER_ID, f.CLIENT_ID) is None
        assert await tx.codes.consume(f.code(now, "code-1").code_hash, now) is None
        assert await tx.access_tokens.get(f.access_token(now, "token-1").token_hash) is None
        assert await tx.access_tokens.get(f.access_token(now, "token-cc").token_hash) is None
        # The other client keeps everything.
        assert await tx.clients.get("other") is not None
        assert await tx.grants.find(f.USER_ID, "other") is not None
        assert await tx.access_tokens.get(f.access_token(now, "token-2").token_hash) is not None
        # Users are not the client's to delete.
        assert await tx.users.get(f.USER_ID) is not None


async def test_deleting_an_unknown_client_is_false(storage: SqlStorage) -> None:
    async with storage.transaction() as tx:
        assert await tx.clients.delete("nobody") is False


async def test_user_round_trips_by_id_and_username(storage: SqlStorage, now: datetime) -> None:
    user = f.user(created_at=now, updated_at=now, disabled=True, email_verified=False)
    async with storage.transaction() as tx:
        await tx.users.add(user)
    async with storage.transaction() as tx:
        assert await tx.users.get(user.id) == user
        assert await tx.users.get_by_username("alice") == user
        assert await tx.users.get("nobody") is None
        assert await tx.users.get_by_username("bob") is None


async def test_user_with_only_required_fields_round_trips(storage: SqlStorage) -> None:
    user = f.user(email=None, email_verified=False, name=None, given_name=None, family_name=None)
    async with storage.transaction() as tx:
        await tx.users.add(user)
        assert await tx.users.get(user.id) == user


@pytest.mark.parametrize(
    ("user_id", "username"), [("user-2", "alice"), ("user-1", "bob")], ids=["username", "id"]
)
async def test_duplicate_user_is_rejected(storage: SqlStorage, user_id: str, username: str) -> None:
    async with storage.transaction() as tx:
        await tx.users.add(f.user())
    async with storage.transaction() as tx:
        with pytest.raises(DuplicateError):
            await tx.users.add(f.user(user_id, username))


async def test_users_are_listed_by_username(storage: SqlStorage) -> None:
    async with storage.transaction() as tx:
        await tx.users.add(f.user("u1", "carol"))
        await tx.users.add(f.user("u2", "alice"))
        await tx.users.add(f.user("u3", "bob"))
        assert [u.username for u in await tx.users.list()] == ["alice", "bob", "carol"]


async def test_set_password_and_disabled(storage: SqlStorage, now: datetime) -> None:
    later = now + timedelta(hours=1)
    async with storage.transaction() as tx:
        await tx.users.add(f.user(created_at=now, updated_at=now))
    async with storage.transaction() as tx:
        assert await tx.users.set_password(f.USER_ID, "$argon2id$new", later) is True
        assert await tx.users.set_disabled(f.USER_ID, True, later) is True
    async with storage.transaction() as tx:
        user = await tx.users.get(f.USER_ID)
    assert user is not None
    assert (user.password_hash, user.disabled, user.updated_at) == ("$argon2id$new", True, later)
    assert user.created_at == now

    async with storage.transaction() as tx:
        assert await tx.users.set_disabled(f.USER_ID, False, later) is True
        enabled = await tx.users.get(f.USER_ID)
    assert enabled is not None
    assert enabled.disabled is False


async def test_updating_an_unknown_user_is_false(storage: SqlStorage, now: datetime) -> None:
    async with storage.transaction() as tx:
        assert await tx.users.set_password("nobody", "x", now) is False
        assert await tx.users.set_disabled("nobody", True, now) is False

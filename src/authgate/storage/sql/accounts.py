"""SQL repositories for registered clients, user accounts and grants (consents)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update

from authgate.core.models import Client, Grant, User
from authgate.storage.base import ClientRepository, GrantRepository, UserRepository
from authgate.storage.sql._engine.client_cache import ClientCache
from authgate.storage.sql._engine.executor import Executor
from authgate.storage.sql.dialect import insert_new, upsert_statement
from authgate.storage.sql.live_grant import newest_grant_id
from authgate.storage.sql.revocation import revoking
from authgate.storage.sql.rows import (
    client_from_row,
    client_values,
    grant_from_row,
    grant_values,
    user_from_row,
    user_values,
)
from authgate.storage.sql.schema import (
    UtcDateTime,
    access_tokens,
    clients,
    codes,
    grants,
    refresh_tokens,
    token_families,
    users,
)

__all__ = ["SqlClientRepository", "SqlGrantRepository", "SqlUserRepository"]

_GET_CLIENT = select(clients).where(clients.c.client_id == bindparam("client_id"))
_LIST_CLIENTS = select(clients).order_by(clients.c.client_id)
# Dependent rows first: codes and tokens refer to grants, and all three to the client.
_DELETE_CLIENT = (
    delete(access_tokens).where(access_tokens.c.client_id == bindparam("client_id")),
    # Refresh tokens are found through their families (refresh_tokens indexes only family_id).
    delete(refresh_tokens).where(
        refresh_tokens.c.family_id.in_(
            select(token_families.c.family_id).where(
                token_families.c.client_id == bindparam("client_id")
            )
        )
    ),
    *(
        delete(table).where(table.c.client_id == bindparam("client_id"))
        for table in (token_families, codes, grants, clients)
    ),
)

_NOW = bindparam("now", type_=UtcDateTime)

_GET_USER = select(users).where(users.c.id == bindparam("user_id"))
_GET_USER_BY_NAME = select(users).where(users.c.username == bindparam("username"))
_LIST_USERS = select(users).order_by(users.c.username)
# Parameters of UPDATE statements may not share a column's name (SQLAlchemy reserves those).
_SET_PASSWORD = (
    update(users)
    .where(users.c.id == bindparam("user_id"))
    .values(password_hash=bindparam("new_hash"), updated_at=_NOW)
)
_SET_DISABLED = (
    update(users)
    .where(users.c.id == bindparam("user_id"))
    .values(disabled=bindparam("new_disabled"), updated_at=_NOW)
)

# The grant the authorization and token endpoints take as the user's consent (live_grant).
_FIND_GRANT = select(grants).where(
    grants.c.id == newest_grant_id(bindparam("user_id"), bindparam("client_id")).scalar_subquery()
)
_REVOKE_GRANT = revoking(grants, grants.c.id == bindparam("grant"), _NOW)
_REVOKE_GRANT_TOKENS = (
    # Families first: their lock serialises with a rotation in progress (storage/sql/refresh).
    *(
        revoking(table, table.c.grant_id == bindparam("grant"), _NOW)
        for table in (token_families, access_tokens)
    ),
    revoking(
        refresh_tokens,
        refresh_tokens.c.family_id.in_(
            select(token_families.c.family_id).where(
                token_families.c.grant_id == bindparam("grant")
            )
        ),
        _NOW,
    ),
)


class SqlClientRepository(ClientRepository):
    """Registered clients (RFC 7591 §2 metadata, RFC 6749 §2)."""

    __slots__ = ("_cache", "_conn", "_data_version")

    def __init__(
        self,
        conn: Executor,
        cache: ClientCache | None = None,
        data_version: Callable[[], int | None] | None = None,
    ) -> None:
        self._conn = conn
        # Clients kept between transactions while ``data_version`` is unchanged (SQLite's
        # counter of other connections' commits, or PostgreSQL's count of change notices);
        # a ``data_version`` of None means "not now" (client_cache).
        self._cache = cache if data_version is not None else None
        self._data_version = data_version

    async def get(self, client_id: str) -> Client | None:
        cache, version = self._cache, None
        if cache is not None and self._data_version is not None:
            version = self._data_version()
            if version is not None:
                cached = cache.get(client_id, version)
                if cached is not None:
                    return cached
        row = (await self._conn.execute(_GET_CLIENT, {"client_id": client_id})).first()
        if row is None:
            return None
        client = client_from_row(row)
        if cache is not None and version is not None:
            cache.put(client, version)
        return client

    async def add(self, client: Client) -> None:
        """Register a client; ``DuplicateError`` if the client_id is taken."""
        if self._cache is not None:
            self._cache.written()
        await insert_new(self._conn, clients, client_values(client))

    async def list(self) -> list[Client]:
        """All clients, ordered by client_id."""
        return [client_from_row(row) for row in await self._conn.execute(_LIST_CLIENTS)]

    async def delete(self, client_id: str) -> bool:
        """Delete the client with its codes, tokens and grants, so nothing issued to a deleted
        client remains usable (or blocks the delete through a foreign key)."""
        if self._cache is not None:
            self._cache.written()
        params = {"client_id": client_id}
        for statement in _DELETE_CLIENT[:-1]:
            await self._conn.execute(statement, params)
        result = await self._conn.execute(_DELETE_CLIENT[-1], params)
        return result.rowcount > 0


class SqlUserRepository(UserRepository):
    """End-user accounts. Usernames arrive lower-cased, so equality is case-insensitive."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def get(self, user_id: str) -> User | None:
        row = (await self._conn.execute(_GET_USER, {"user_id": user_id})).first()
        return None if row is None else user_from_row(row)

    async def get_by_username(self, username: str) -> User | None:
        row = (await self._conn.execute(_GET_USER_BY_NAME, {"username": username})).first()
        return None if row is None else user_from_row(row)

    async def add(self, user: User) -> None:
        """Create an account; ``DuplicateError`` if the id or username is taken."""
        await insert_new(self._conn, users, user_values(user))

    async def list(self) -> list[User]:
        """All users, ordered by username."""
        return [user_from_row(row) for row in await self._conn.execute(_LIST_USERS)]

    async def set_password(self, user_id: str, password_hash: str, now: datetime) -> bool:
        params = {"user_id": user_id, "new_hash": password_hash, "now": now}
        return (await self._conn.execute(_SET_PASSWORD, params)).rowcount > 0

    async def set_disabled(self, user_id: str, disabled: bool, now: datetime) -> bool:
        params = {"user_id": user_id, "new_disabled": disabled, "now": now}
        return (await self._conn.execute(_SET_DISABLED, params)).rowcount > 0


class SqlGrantRepository(GrantRepository):
    """Consents of users to clients (RFC 6749 §1.3); tokens refer to the grant they came from."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def find(self, user_id: str, client_id: str) -> Grant | None:
        params = {"user_id": user_id, "client_id": client_id}
        row = (await self._conn.execute(_FIND_GRANT, params)).first()
        return None if row is None else grant_from_row(row)

    async def save(self, grant: Grant) -> None:
        """Insert, or update in place by id (codes and tokens keep pointing at it). A revoked
        grant stays revoked: a consent saved from a copy read before a revocation must not
        undo it (sealed access tokens check the grant's row at each use; design note 0009)."""
        statement = upsert_statement(self._conn, grants, keep=("revoked_at",))
        await self._conn.execute(statement, grant_values(grant))

    async def revoke(self, grant_id: str, now: datetime) -> None:
        """Revoke the grant and every access and refresh token issued under it (RFC 7009 §2.1:
        revoking a grant invalidates the tokens based on it). Already revoked rows keep their
        time."""
        params = {"grant": grant_id, "now": now}
        await self._conn.execute(_REVOKE_GRANT, params)
        for statement in _REVOKE_GRANT_TOKENS:
            await self._conn.execute(statement, params)

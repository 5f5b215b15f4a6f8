"""Refresh tokens: stored by hash, rotated atomically on every use.

Spec: RFC 6749 §6, §10.4; RFC 9700 §4.14.2 (rotation and reuse detection); OAuth 2.1 §4.3.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import bindparam, select, update

from authgate.core.models import AuthorizationCode, RefreshToken, TokenHash
from authgate.storage.base import Locked, RefreshTokenRepository, Reused, Rotated
from authgate.storage.sql._engine.executor import Executor
from authgate.storage.sql.dialect import insert_if_absent, insert_new
from authgate.storage.sql.live_grant import live_grant_id, user_token_epoch
from authgate.storage.sql.revocation import revoking
from authgate.storage.sql.rows import refresh_token_from_row, refresh_token_values
from authgate.storage.sql.schema import UtcDateTime, access_tokens, refresh_tokens, token_families

__all__ = ["SqlRefreshTokenRepository"]

_NOW = bindparam("now", type_=UtcDateTime)
_T = refresh_tokens.c

_F = token_families.c
_GET = select(refresh_tokens).where(_T.token_hash == bindparam("hash"))
# The token, its family's state and its user's live grant, the family row locked: the read
# the token endpoint starts with, so rotation need not lock again nor the grant be read apart.
_LOCK = (
    select(
        refresh_tokens,
        _F.revoked_at.label("family_revoked_at"),
        live_grant_id(_T.user_id, _T.client_id).scalar_subquery().label("live_grant_id"),
        user_token_epoch(_T.user_id).scalar_subquery().label("user_epoch"),
    )
    .join(token_families, _T.family_id == _F.family_id)
    .where(_T.token_hash == bindparam("hash"))
    .with_for_update(of=token_families)
)
_REVOKE_FAMILY_ROW = revoking(token_families, _F.family_id == bindparam("family"), _NOW)
_ROTATE = (
    update(refresh_tokens)
    .where(
        _T.token_hash == bindparam("hash"),
        _T.client_id == bindparam("client"),
        _T.rotated_at.is_(None),
        _T.revoked_at.is_(None),
        _T.expires_at > _NOW,
        _T.family_expires_at > _NOW,
    )
    .values(rotated_at=_NOW)
)
_REVOKE_FAMILY = revoking(refresh_tokens, _T.family_id == bindparam("family"), _NOW)
_REVOKE_FAMILY_ACCESS_TOKENS = revoking(
    access_tokens, access_tokens.c.family_id == bindparam("family"), _NOW
)


class SqlRefreshTokenRepository(RefreshTokenRepository):
    """Refresh tokens of one transaction."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def start_family(
        self,
        family_id: str,
        *,
        grant_id: str,
        client_id: str,
        user_id: str,
        expires_at: datetime,
    ) -> None:
        await insert_if_absent(
            self._conn,
            token_families,
            {
                "family_id": family_id,
                "grant_id": grant_id,
                "client_id": client_id,
                "user_id": user_id,
                "revoked_at": None,
                "expires_at": expires_at,
            },
        )

    async def add(self, token: RefreshToken) -> None:
        await insert_new(self._conn, refresh_tokens, refresh_token_values(token))

    async def get(self, token_hash: TokenHash) -> RefreshToken | None:
        row = (await self._conn.execute(_GET, {"hash": token_hash})).first()
        return None if row is None else refresh_token_from_row(row)

    async def lock(self, token_hash: TokenHash) -> Locked | None:
        """The token, its family row locked until the transaction ends (PostgreSQL; SQLite
        serialises writers anyway), with its user's live grant read by the same statement;
        None if unknown or if its family is revoked or gone."""
        row = (await self._conn.execute(_LOCK, {"hash": token_hash})).first()
        if row is None or row.family_revoked_at is not None:
            return None
        return Locked(refresh_token_from_row(row), row.live_grant_id, row.user_epoch)

    async def rotate(
        self, token_hash: TokenHash, client_id: str, now: datetime, *, locked: RefreshToken
    ) -> Rotated | Reused | None:
        """One conditional ``UPDATE``: the database serialises concurrent updates of the row
        and each re-checks ``rotated_at IS NULL``, so exactly one caller rotates. ``locked``:
        the token :meth:`lock` read in this transaction, its family row locked since: the
        ``UPDATE`` returns nothing, as the rotated token is that one with ``rotated_at`` set
        (only rotation and revocation ever change a stored token, and both are checked by the
        ``UPDATE``). A loser reads the row to tell reuse (this client's token, rotated before)
        from a token that is another client's, revoked or expired."""
        if locked.token_hash != token_hash:
            raise ValueError("locked is another token")
        params = {"hash": token_hash, "client": client_id, "now": now}
        if (await self._conn.execute(_ROTATE, params)).rowcount == 1:
            return Rotated(replace(locked, rotated_at=now))
        found = await self.get(token_hash)
        if found is not None and found.client_id == client_id and found.rotated_at is not None:
            return Reused(found)
        return None

    async def revoke_family(self, family_id: str, now: datetime) -> int:
        params = {"family": family_id, "now": now}
        # The family row first: this waits for a rotation in progress, and the statements below
        # then run on a fresh snapshot that includes its successor and the access tokens it
        # issued (READ COMMITTED).
        await self._conn.execute(_REVOKE_FAMILY_ROW, params)
        refresh = (await self._conn.execute(_REVOKE_FAMILY, params)).rowcount
        access = (await self._conn.execute(_REVOKE_FAMILY_ACCESS_TOKENS, params)).rowcount
        return access + refresh

    async def revoke_code_family(self, code: AuthorizationCode, now: datetime) -> int:
        # The family may have no row yet (no refresh token was issued): one is made, ended
        # (kept past its end as long as an access token can live: purge), so that the sealed
        # access tokens of the family, which check it at each use, find it revoked.
        await self.start_family(
            code.family_id,
            grant_id=code.grant_id,
            client_id=code.client_id,
            user_id=code.user_id,
            expires_at=now,
        )
        return await self.revoke_family(code.family_id, now)

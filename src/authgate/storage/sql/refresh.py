"""Refresh tokens: stored by hash, rotated atomically on every use.

Spec: RFC 6749 §6, §10.4; RFC 9700 §4.14.2 (rotation and reuse detection); OAuth 2.1 §4.3.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update

from authgate.core.models import RefreshToken, TokenHash
from authgate.storage.base import RefreshTokenRepository, Reused, Rotated
from authgate.storage.sql.dialect import insert_new
from authgate.storage.sql.executor import Executor
from authgate.storage.sql.rows import refresh_token_from_row, refresh_token_values
from authgate.storage.sql.schema import UtcDateTime, refresh_tokens

__all__ = ["SqlRefreshTokenRepository"]

_NOW = bindparam("now", type_=UtcDateTime)
_T = refresh_tokens.c

_GET = select(refresh_tokens).where(_T.token_hash == bindparam("hash"))
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
    .returning(*refresh_tokens.c)
)
_REVOKE_FAMILY = (
    update(refresh_tokens)
    .where(_T.family_id == bindparam("family"), _T.revoked_at.is_(None))
    .values(revoked_at=_NOW)
)


class SqlRefreshTokenRepository(RefreshTokenRepository):
    """Refresh tokens of one transaction."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add(self, token: RefreshToken) -> None:
        await insert_new(self._conn, refresh_tokens, refresh_token_values(token))

    async def get(self, token_hash: TokenHash) -> RefreshToken | None:
        row = (await self._conn.execute(_GET, {"hash": token_hash})).first()
        return None if row is None else refresh_token_from_row(row)

    async def rotate(
        self, token_hash: TokenHash, client_id: str, now: datetime
    ) -> Rotated | Reused | None:
        """One conditional ``UPDATE … RETURNING``: the database serialises concurrent updates
        of the row and each re-checks ``rotated_at IS NULL``, so exactly one caller rotates. A
        loser reads the row to tell reuse (this client's token, rotated before) from a token
        that is unknown, another client's, revoked or expired."""
        params = {"hash": token_hash, "client": client_id, "now": now}
        row = (await self._conn.execute(_ROTATE, params)).first()
        if row is not None:
            return Rotated(refresh_token_from_row(row))
        found = await self.get(token_hash)
        if found is not None and found.client_id == client_id and found.rotated_at is not None:
            return Reused(found)
        return None

    async def revoke_family(self, family_id: str, now: datetime) -> int:
        params = {"family": family_id, "now": now}
        return (await self._conn.execute(_REVOKE_FAMILY, params)).rowcount

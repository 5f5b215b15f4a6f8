"""Deleting rows whose lifetime has ended, in small batches.

Every row with a lifetime has an indexed ``expires_at``; one batch is one
``DELETE … WHERE pk IN (SELECT pk … WHERE expires_at < :now LIMIT :n)``, which both SQLite and
PostgreSQL run from the index. Refresh tokens are the exception: they live until their
family ends, and are found through the family's indexed expiry (the same instant), which
spares every rotation an index entry (migration 0009). A family goes only once none of its
refresh tokens remain, so no refresh token is ever left without the row that purges it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Delete, Table, bindparam, delete, exists, select

from authgate.core.models import MAX_ACCESS_TOKEN_TTL
from authgate.storage.base import PURGEABLE, MaintenanceRepository
from authgate.storage.sql._engine.executor import Executor
from authgate.storage.sql.schema import (
    UtcDateTime,
    access_tokens,
    codes,
    interactions,
    login_throttle,
    refresh_tokens,
    revoked_access_tokens,
    sessions,
    token_families,
)

__all__ = ["SqlMaintenanceRepository"]

_BEFORE = bindparam("before", type_=UtcDateTime)
# How far apart the clocks of a deployment's nodes may be, where purging early would revive
# a revoked sealed access token (design note 0009).
CLOCK_SKEW = timedelta(minutes=5)
_FAMILY = token_families.c

# (table, the expiry column, how long past it a row is kept)
_KINDS: dict[str, tuple[Table, str, timedelta]] = {
    # Used codes stay a day past their expiry, so a late replay still revokes what they issued
    # (RFC 6749 §4.1.2).
    "codes": (codes, "expires_at", timedelta(days=1)),
    "access_tokens": (access_tokens, "expires_at", timedelta(0)),
    # Revocations of single sealed access tokens, once the token has expired anyway (and
    # a margin for another node's clock: a purge too early would revive the token).
    "revoked_access_tokens": (revoked_access_tokens, "expires_at", CLOCK_SKEW),
    "sessions": (sessions, "expires_at", timedelta(0)),
    "interactions": (interactions, "expires_at", timedelta(0)),
    # Sign-in failure windows and used client-assertion jti values.
    "throttle": (login_throttle, "expires_at", timedelta(0)),
}


def _purge_statement(table: Table, column: str) -> Delete:
    pk = next(iter(table.primary_key.columns))
    doomed = (
        select(pk)
        .where(table.c[column] < bindparam("before", type_=UtcDateTime))
        .limit(bindparam("limit"))
        .scalar_subquery()
    )
    return delete(table).where(pk.in_(doomed))


_PURGE = {kind: (_purge_statement(t, c), margin) for kind, (t, c, margin) in _KINDS.items()}

# Rotated refresh tokens stay until their family ends: a stolen token presented late is still
# recognised as reuse (RFC 9700 §4.14.2). Their ``family_expires_at`` is their family's
# ``expires_at``.
_PURGE["refresh_tokens"] = (
    delete(refresh_tokens).where(
        refresh_tokens.c.token_hash.in_(
            select(refresh_tokens.c.token_hash)
            .join(token_families, _FAMILY.family_id == refresh_tokens.c.family_id)
            .where(_FAMILY.expires_at < _BEFORE)
            .limit(bindparam("limit"))
            .scalar_subquery()
        )
    ),
    timedelta(0),
)
_PURGE["token_families"] = (
    delete(token_families).where(
        _FAMILY.family_id.in_(
            select(_FAMILY.family_id)
            .where(
                _FAMILY.expires_at < _BEFORE,
                ~exists().where(refresh_tokens.c.family_id == _FAMILY.family_id),
            )
            .limit(bindparam("limit"))
            .scalar_subquery()
        )
    ),
    # Sealed access tokens (no rows) check their family at each use, and one issued just
    # before the family ended lives up to the longest access token lifetime past it: a
    # revoked family must stay revoked until then (design note 0009).
    timedelta(seconds=MAX_ACCESS_TOKEN_TTL) + CLOCK_SKEW,
)


if _PURGE.keys() != set(PURGEABLE):  # pragma: no cover - a kind added on one side only
    raise RuntimeError("storage.base.PURGEABLE and the purge statements name other kinds")


class SqlMaintenanceRepository(MaintenanceRepository):
    __slots__ = ("_conn",)

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def purge_expired(self, kind: str, now: datetime, limit: int) -> int:
        """One batch of ``kind`` (in the order ``PURGEABLE`` gives, which the caller follows)."""
        statement, margin = _PURGE[kind]
        result = await self._conn.execute(statement, {"before": now - margin, "limit": limit})
        return result.rowcount

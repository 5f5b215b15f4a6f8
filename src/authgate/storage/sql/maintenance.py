"""Deleting rows whose lifetime has ended, in small batches.

Every row with a lifetime has an indexed ``expires_at``; one batch is one
``DELETE … WHERE pk IN (SELECT pk … WHERE expires_at < :now LIMIT :n)``, which both SQLite and
PostgreSQL run from the index.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Delete, Table, bindparam, delete, select

from authgate.storage.base import MaintenanceRepository
from authgate.storage.sql.executor import Executor
from authgate.storage.sql.schema import (
    UtcDateTime,
    access_tokens,
    codes,
    interactions,
    login_throttle,
    refresh_tokens,
    sessions,
    token_families,
)

__all__ = ["SqlMaintenanceRepository"]

# (table, the expiry column, how long past it a row is kept)
_KINDS: dict[str, tuple[Table, str, timedelta]] = {
    # Used codes stay a day past their expiry, so a late replay still revokes what they issued
    # (RFC 6749 §4.1.2).
    "codes": (codes, "expires_at", timedelta(days=1)),
    "access_tokens": (access_tokens, "expires_at", timedelta(0)),
    # Rotated refresh tokens stay until their family ends: a stolen token presented late is
    # still recognised as reuse (RFC 9700 §4.14.2).
    "refresh_tokens": (refresh_tokens, "family_expires_at", timedelta(0)),
    "token_families": (token_families, "expires_at", timedelta(0)),
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


class SqlMaintenanceRepository(MaintenanceRepository):
    __slots__ = ("_conn",)

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def purge_expired(self, kind: str, now: datetime, limit: int) -> int:
        statement, margin = _PURGE[kind]
        result = await self._conn.execute(statement, {"before": now - margin, "limit": limit})
        return result.rowcount

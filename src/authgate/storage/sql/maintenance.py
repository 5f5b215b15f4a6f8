"""Deleting rows whose lifetime has ended, in small batches.

Every row with a lifetime has an indexed ``expires_at``; one batch is one
``DELETE … WHERE pk IN (SELECT pk … WHERE expires_at < :now LIMIT :n)``, which both SQLite and
PostgreSQL run from the index.
"""

from __future__ import annotations

from datetime import datetime

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
)

__all__ = ["SqlMaintenanceRepository"]

_TABLES: dict[str, Table] = {
    "codes": codes,
    "access_tokens": access_tokens,
    # A rotated refresh token is kept until its own idle expiry, which never exceeds its
    # family's: reuse within that time is still detected.
    "refresh_tokens": refresh_tokens,
    "sessions": sessions,
    "interactions": interactions,
    # Sign-in failure windows and used client-assertion jti values.
    "throttle": login_throttle,
}


def _purge_statement(table: Table) -> Delete:
    pk = next(iter(table.primary_key.columns))
    doomed = (
        select(pk)
        .where(table.c.expires_at < bindparam("now", type_=UtcDateTime))
        .limit(bindparam("limit"))
        .scalar_subquery()
    )
    return delete(table).where(pk.in_(doomed))


_PURGE = {kind: _purge_statement(table) for kind, table in _TABLES.items()}


class SqlMaintenanceRepository(MaintenanceRepository):
    __slots__ = ("_conn",)

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def purge_expired(self, kind: str, now: datetime, limit: int) -> int:
        result = await self._conn.execute(_PURGE[kind], {"now": now, "limit": limit})
        return result.rowcount

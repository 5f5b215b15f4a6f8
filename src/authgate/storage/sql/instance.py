"""SQL repositories for state of the server instance itself: signing keys, the login-failure
throttle and instance secrets. Shared by every node using the same database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, case, select
from sqlalchemy.sql.dml import ReturningInsert

from authgate.core.models import SigningKeyRecord
from authgate.storage.base import KeyRepository, SecretRepository, ThrottleRepository
from authgate.storage.sql._engine.executor import Executor
from authgate.storage.sql.dialect import dialect_insert, insert_if_absent, insert_new
from authgate.storage.sql.rows import key_from_row, key_values
from authgate.storage.sql.schema import UtcDateTime, instance_secrets, login_throttle, signing_keys

__all__ = ["SqlKeyRepository", "SqlSecretRepository", "SqlThrottleRepository"]

_LIST_KEYS = select(signing_keys).order_by(signing_keys.c.created_at, signing_keys.c.kid)

_THROTTLE_COUNT = select(login_throttle.c.count).where(
    login_throttle.c.key == bindparam("key"),
    login_throttle.c.window_start > bindparam("cutoff", type_=UtcDateTime),
)
_DELETE_THROTTLE = login_throttle.delete().where(login_throttle.c.key == bindparam("key"))


@cache
def _throttle_hit_statement(dialect: str) -> ReturningInsert[int]:
    statement = dialect_insert(dialect, login_throttle)
    row = login_throttle.c
    restart = row.window_start <= bindparam("cutoff", type_=UtcDateTime)
    return (
        statement.values(
            key=bindparam("key"),
            count=1,
            window_start=bindparam("now", type_=UtcDateTime),
            expires_at=bindparam("expires_at", type_=UtcDateTime),
        )
        .on_conflict_do_update(
            index_elements=[row.key],
            # Every SET expression reads the row as it was before this update.
            set_={
                "count": case((restart, 1), else_=row.count + 1),
                "window_start": case(
                    (restart, statement.excluded.window_start), else_=row.window_start
                ),
                "expires_at": case((restart, statement.excluded.expires_at), else_=row.expires_at),
            },
        )
        .returning(row.count)
    )


_GET_SECRET = select(instance_secrets.c.value).where(instance_secrets.c.name == bindparam("name"))


class SqlKeyRepository(KeyRepository):
    """Signing keys (private JWKs, possibly encrypted at rest) for ID tokens and JWTs."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def list(self) -> list[SigningKeyRecord]:
        """All keys, oldest first (ties broken by kid so every node sees the same order)."""
        return [key_from_row(row) for row in await self._conn.execute(_LIST_KEYS)]

    async def add(self, key: SigningKeyRecord) -> None:
        """Store a new key; ``DuplicateError`` if the kid exists."""
        await insert_new(self._conn, signing_keys, key_values(key))


class SqlThrottleRepository(ThrottleRepository):
    """Failure counters in fixed windows, to slow down password guessing (RFC 6819 §4.4.3.3,
    §5.1.4.2.3). One row per key; the window starts at the first failure."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def hit(self, key: str, now: datetime, window: timedelta) -> int:
        """Count one failure with a single upsert, so concurrent failures are all counted.

        A window that started ``window`` ago or earlier restarts at 1 from ``now``. The row
        expires with its window, so purging can drop it.
        """
        params = {"key": key, "now": now, "cutoff": now - window, "expires_at": now + window}
        statement = _throttle_hit_statement(self._conn.dialect.name)
        count: int = (await self._conn.execute(statement, params)).scalar_one()
        return count

    async def count(self, key: str, now: datetime, window: timedelta) -> int:
        """Failures in the current window; 0 once it has passed (the same boundary as ``hit``)."""
        params = {"key": key, "cutoff": now - window}
        count: int | None = (await self._conn.execute(_THROTTLE_COUNT, params)).scalar_one_or_none()
        return 0 if count is None else count

    async def clear(self, key: str) -> None:
        await self._conn.execute(_DELETE_THROTTLE, {"key": key})


class SqlSecretRepository(SecretRepository):
    """Named random secrets of the instance (e.g. the key for hashing tokens), created once and
    shared by every node."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def get_or_create(self, name: str, factory: Callable[[], bytes]) -> bytes:
        """Read the secret; if absent, insert ``factory()`` unless another node got there
        first (``ON CONFLICT DO NOTHING``), then read the stored value. Every caller therefore
        returns the single value that won, never its own losing candidate."""
        params = {"name": name}
        value = (await self._conn.execute(_GET_SECRET, params)).scalar_one_or_none()
        if value is not None:
            return bytes(value)
        await insert_if_absent(self._conn, instance_secrets, {"name": name, "value": factory()})
        stored = (await self._conn.execute(_GET_SECRET, params)).scalar_one()
        return bytes(stored)

"""One SQL transaction's repositories (:class:`SqlTransaction`), all sharing its connection.

Both storages (``_engine.sqlite_storage.SqliteStorage`` and
``_engine.postgres_storage.PostgresStorage``) hand one to each transaction's block. The
repositories are thin wrappers that run prebuilt SQLAlchemy Core statements on that connection;
they live in ``accounts``, ``tokens``, ``refresh``, ``instance``, ``maintenance`` and
``resources``.
"""

from __future__ import annotations

from collections.abc import Callable

from authgate.storage.base import Transaction
from authgate.storage.sql._engine.client_cache import ClientCache
from authgate.storage.sql._engine.executor import Executor
from authgate.storage.sql.accounts import (
    SqlClientRepository,
    SqlGrantRepository,
    SqlUserRepository,
)
from authgate.storage.sql.instance import (
    SqlKeyRepository,
    SqlSecretRepository,
    SqlThrottleRepository,
)
from authgate.storage.sql.maintenance import SqlMaintenanceRepository
from authgate.storage.sql.refresh import SqlRefreshTokenRepository
from authgate.storage.sql.resources import SqlResourceRepository
from authgate.storage.sql.tokens import (
    SqlAccessTokenRepository,
    SqlCodeRepository,
    SqlInteractionRepository,
    SqlSessionRepository,
)

__all__ = ["SqlTransaction"]


class SqlTransaction(Transaction):
    """The repositories of one open transaction, all sharing its connection."""

    __slots__ = ("_client_cache", "_conn", "_data_version")

    def __init__(
        self,
        conn: Executor,
        client_cache: ClientCache | None = None,
        data_version: Callable[[], int | None] | None = None,
    ) -> None:
        self._conn = conn
        self._client_cache = client_cache
        self._data_version = data_version

    @property
    def connection(self) -> Executor:
        """The underlying connection, for maintenance tasks outside the repository interfaces."""
        return self._conn

    @property
    def clients(self) -> SqlClientRepository:
        return SqlClientRepository(self._conn, self._client_cache, self._data_version)

    @property
    def users(self) -> SqlUserRepository:
        return SqlUserRepository(self._conn)

    @property
    def grants(self) -> SqlGrantRepository:
        return SqlGrantRepository(self._conn)

    @property
    def codes(self) -> SqlCodeRepository:
        return SqlCodeRepository(self._conn)

    @property
    def access_tokens(self) -> SqlAccessTokenRepository:
        return SqlAccessTokenRepository(self._conn)

    @property
    def maintenance(self) -> SqlMaintenanceRepository:
        return SqlMaintenanceRepository(self._conn)

    @property
    def resources(self) -> SqlResourceRepository:
        return SqlResourceRepository(self._conn)

    @property
    def refresh_tokens(self) -> SqlRefreshTokenRepository:
        return SqlRefreshTokenRepository(self._conn)

    @property
    def sessions(self) -> SqlSessionRepository:
        return SqlSessionRepository(self._conn)

    @property
    def interactions(self) -> SqlInteractionRepository:
        return SqlInteractionRepository(self._conn)

    @property
    def keys(self) -> SqlKeyRepository:
        return SqlKeyRepository(self._conn)

    @property
    def throttle(self) -> SqlThrottleRepository:
        return SqlThrottleRepository(self._conn)

    @property
    def secrets(self) -> SqlSecretRepository:
        return SqlSecretRepository(self._conn)

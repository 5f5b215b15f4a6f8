"""The one thing repositories need from a connection: ``await execute(statement, params)``.

Three implementations: ``direct.DirectSqliteExecutor`` (SQLite, synchronously on the event
loop's own thread: an embedded statement takes microseconds, while an async driver's thread
hand-offs cost more than the statement; design note 0005), ``direct_pg.DirectAsyncpgExecutor``
(PostgreSQL on asyncpg), both running prepared statements on the driver (design note 0007),
and SQLAlchemy's own ``AsyncConnection``, for a PostgreSQL driver other than asyncpg.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from sqlalchemy import Dialect, Executable

__all__ = ["Executor", "Result"]


class Result(Protocol):
    """The subset of SQLAlchemy's ``CursorResult`` the repositories use. Rows are read by
    attribute (``row.client_id``) or position."""

    @property
    def rowcount(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...

    def first(self) -> Any | None: ...

    def scalar_one(self) -> Any: ...

    def scalar_one_or_none(self) -> Any | None: ...


class Executor(Protocol):
    """The subset of ``AsyncConnection`` the repositories use."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Result: ...

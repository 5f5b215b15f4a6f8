"""The one thing repositories need from a connection: ``await execute(statement, params)``.

Two implementations, both running prepared statements on the driver (design note 0007):
``sqlite_executor.DirectSqliteExecutor`` (SQLite, synchronously on the event loop's own thread:
an embedded statement takes microseconds, while an async driver's thread hand-offs cost more
than the statement; design note 0005) and ``asyncpg_executor.DirectAsyncpgExecutor``
(PostgreSQL on asyncpg, design note 0008). The rules for both are in README.md beside this.
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

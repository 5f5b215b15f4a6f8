"""The one thing repositories need from a connection: ``await execute(statement, params)``.

PostgreSQL runs on SQLAlchemy's ``AsyncConnection`` (asyncpg). SQLite runs on a plain
synchronous connection on the event loop's own thread (``SyncExecutor``): an embedded SQLite
statement takes microseconds, while the async driver hands every statement to a worker thread
and back, and those GIL hand-offs cost more than the statement itself (profiled: several times
the whole request's CPU). Design note: docs/design/0005-sqlite-on-the-loop.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from sqlalchemy import Connection, Dialect, Executable

__all__ = ["Executor", "Result", "SyncExecutor"]


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


class SyncExecutor:
    """A synchronous ``Connection`` presented as an ``Executor``: ``execute`` runs at once and
    never yields to the event loop, so a transaction made only of statements cannot interleave
    with another one of the same process."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @property
    def dialect(self) -> Dialect:
        return self._conn.dialect

    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Result:
        return self._conn.execute(statement, parameters)

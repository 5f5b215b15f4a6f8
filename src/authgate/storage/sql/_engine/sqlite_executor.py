"""The SQLite ``Executor``: prepared statements (``prepared``) on pysqlite's cursor, on the event
loop's own thread (design notes 0005 and 0007), and everything else through SQLAlchemy's
connection in the same transaction. Driver errors are re-raised as SQLAlchemy's exception
types, so callers handle both paths alike.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import Connection, Dialect, Executable
from sqlalchemy.exc import DatabaseError as SaDatabaseError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import InterfaceError as SaInterfaceError
from sqlalchemy.exc import OperationalError as SaOperationalError

from authgate.storage.sql._engine.executor import Result
from authgate.storage.sql._engine.prepared import DirectResult, Prepared, bind

__all__ = ["DirectSqliteExecutor", "pysqlite_connection", "wrapped_error"]


def pysqlite_connection(conn: Connection) -> sqlite3.Connection:
    """The pysqlite connection under SQLAlchemy's ``conn`` (the engine is always pysqlite's:
    ``sqlite_storage.create_sqlite_engine``)."""
    driver = conn.connection.driver_connection
    if not isinstance(driver, sqlite3.Connection):  # pragma: no cover - configuration
        raise TypeError("SQLite storage needs a pysqlite connection")
    return driver


class DirectSqliteExecutor:
    """An ``Executor`` over a pysqlite ``Connection`` (SQLAlchemy's, in its transaction) that
    runs prepared statements on the driver's cursor and everything else through SQLAlchemy."""

    __slots__ = ("_conn", "_cursor", "_prepared")

    def __init__(self, conn: Connection, prepared: dict[Any, Prepared | None]) -> None:
        self._conn = conn
        self._prepared = prepared
        self._cursor = pysqlite_connection(conn).cursor()

    @property
    def dialect(self) -> Dialect:
        return self._conn.dialect

    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Result:
        bound = bind(self._prepared, statement, parameters, self._conn.dialect)
        if bound is None:
            return self._conn.execute(statement, parameters)
        prepared, values = bound
        cursor = self._cursor
        try:
            cursor.execute(prepared.sql, values)
            if prepared.returns_rows:
                rows = prepared.rows(cursor.fetchall())
                # DML … RETURNING: one row per changed row; SELECT: -1, as SQLAlchemy reports.
                return DirectResult(rows, len(rows) if prepared.dml else -1)
            return DirectResult([], cursor.rowcount)
        except sqlite3.Error as exc:
            raise wrapped_error(prepared.sql, exc) from exc

    def data_version(self) -> int:
        """``PRAGMA data_version``: changes whenever another connection has committed
        (https://sqlite.org/pragma.html#pragma_data_version); see ``client_cache``."""
        try:
            row = self._cursor.execute(_DATA_VERSION).fetchone()
        except sqlite3.Error as exc:
            raise wrapped_error(_DATA_VERSION, exc) from exc
        return int(row[0])


_DATA_VERSION: Final = "PRAGMA data_version"


def wrapped_error(sql: str, exc: sqlite3.Error) -> DBAPIError:
    """SQLAlchemy's exception type for a driver error, so callers handle both paths alike.
    No parameters in the error: they may hold hashes or other stored values."""
    if isinstance(exc, sqlite3.IntegrityError):
        return IntegrityError(sql, None, exc)
    if isinstance(exc, sqlite3.OperationalError):
        return SaOperationalError(sql, None, exc)
    if isinstance(exc, sqlite3.InterfaceError):
        return SaInterfaceError(sql, None, exc)
    if isinstance(exc, sqlite3.DatabaseError):
        return SaDatabaseError(sql, None, exc)
    return DBAPIError(sql, None, exc)

"""The few statements that differ between SQLite and PostgreSQL: ``INSERT … ON CONFLICT``.

Both databases accept the same ``ON CONFLICT`` syntax, but SQLAlchemy builds it from each
dialect's own ``insert``; statements are built once per (dialect, table) and reused.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from authgate.storage.base import DuplicateError
from authgate.storage.sql._engine.executor import Executor

__all__ = ["DialectInsert", "dialect_insert", "insert_if_absent", "insert_new", "upsert_statement"]

DialectInsert = postgresql.Insert | sqlite.Insert


def dialect_insert(dialect: str, table: Table) -> DialectInsert:
    """An ``INSERT`` that supports ``ON CONFLICT`` on the named database dialect."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


@cache
def _insert_new_statement(dialect: str, table: Table) -> DialectInsert:
    return dialect_insert(dialect, table).on_conflict_do_nothing()


@cache
def _upsert_statement(dialect: str, table: Table, keep: tuple[str, ...]) -> DialectInsert:
    statement = dialect_insert(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={
            column.name: statement.excluded[column.name]
            for column in table.columns
            if not column.primary_key and column.name not in keep
        },
    )


async def insert_new(conn: Executor, table: Table, values: dict[str, Any]) -> None:
    """Insert one row; raise ``DuplicateError`` if it collides with a primary or unique key.

    ``ON CONFLICT DO NOTHING`` and the row count detect the collision instead of catching
    ``IntegrityError``: a failed statement aborts the whole PostgreSQL transaction, whereas
    this leaves it usable, so callers behave the same on both databases. Foreign-key
    violations are programming errors and still raise ``IntegrityError``.
    """
    if not await insert_if_absent(conn, table, values):
        raise DuplicateError(f"{table.name}: a row with the same key already exists")


async def insert_if_absent(conn: Executor, table: Table, values: dict[str, Any]) -> bool:
    """Insert one row unless its primary or unique key exists; True if it was inserted."""
    result = await conn.execute(_insert_new_statement(conn.dialect.name, table), values)
    return result.rowcount == 1


def upsert_statement(conn: Executor, table: Table, keep: tuple[str, ...] = ()) -> DialectInsert:
    """``INSERT`` that replaces every non-key column of an existing row with the same key,
    but those named in ``keep``, which an existing row keeps.

    An in-place update rather than delete-and-insert, so rows referring to it stay valid.
    """
    return _upsert_statement(conn.dialect.name, table, keep)

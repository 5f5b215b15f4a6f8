"""Schema migrations (Alembic) run from async code, and the schema state check done at startup.

No ``alembic.ini`` is needed: the Alembic ``Config`` is built here, pointing at the
``migrations`` directory shipped inside the package. Alembic's command API is synchronous; it
runs on a connection opened by ``engine.run_on_connection`` (SQLite: pysqlite in a worker
thread; PostgreSQL: the asyncpg engine's ``run_sync``), so :func:`upgrade` works inside a
running event loop (the server) as well as under ``asyncio.run`` (the CLI).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from functools import cache
from typing import Final, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from authgate.storage.base import StorageUnavailable
from authgate.storage.sql.engine import (
    is_memory_sqlite,
    run_on_connection,
    unavailable_as_storage_error,
)

__all__ = ["HEAD_REVISION", "SCRIPT_LOCATION", "SchemaState", "classify", "schema_state", "upgrade"]

SchemaState = Literal["current", "uninitialized", "outdated", "newer"]

SCRIPT_LOCATION: Final = "authgate.storage.sql:migrations"

_MIGRATION_LOCK_KEY: Final = 0x61757468676174  # "authgat": one PostgreSQL advisory lock id


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def _head() -> str:
    head = _script().get_current_head()
    if head is None:
        raise RuntimeError(f"no migration found in {SCRIPT_LOCATION}")
    return head


HEAD_REVISION: Final[str] = _head()
"""The newest migration revision this code knows, i.e. the schema it expects."""


async def upgrade(url: str) -> None:
    """Migrate the database at ``url`` to :data:`HEAD_REVISION` (a no-op when current).

    The whole migration is one transaction holding a database-wide lock, so nodes that start
    together migrate one after the other (the later ones find nothing left to do) and a failed
    migration leaves the schema as it was. Raises ``StorageUnavailable`` if the database cannot
    be reached.

    A no-op for an in-memory SQLite URL: such a database would vanish with the migration's
    connection, and ``open_storage`` creates the current schema in its own.
    """
    if is_memory_sqlite(url):
        return
    for attempt in range(_SQLITE_LOCK_RETRIES):
        try:
            await _upgrade_once(url)
            return
        except StorageUnavailable as exc:
            # Switching a new SQLite file to WAL can fail with "database is locked" at once,
            # without waiting for busy_timeout, while another node holds the migration lock.
            if "locked" not in str(exc) or attempt == _SQLITE_LOCK_RETRIES - 1:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))


_SQLITE_LOCK_RETRIES: Final = 8


async def _upgrade_once(url: str) -> None:
    await run_on_connection(url, _upgrade_locked, command_timeout=None)


def _upgrade_locked(conn: Connection) -> None:
    """Take the migration lock, migrate to the head and check what SQLite cannot enforce
    during the migration; the caller commits."""
    # Only reaching the database and its lock means "unavailable"; an error in a migration
    # script is a bug to report as it is.
    with unavailable_as_storage_error():
        _begin_locked(conn)
    _upgrade_to_head(conn)
    if conn.dialect.name == "sqlite":
        _check_foreign_keys(conn)


def _begin_locked(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        return
    # SQLite's procedure for schema changes (https://www.sqlite.org/lang_altertable.html):
    # foreign keys off (only possible outside a transaction; batch mode copies and drops
    # tables), then an explicit transaction, since the sqlite3 driver would otherwise commit
    # each DDL statement on its own; IMMEDIATE takes the write lock before reading the version.
    conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _check_foreign_keys(conn: Connection) -> None:
    violations = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if violations:
        raise RuntimeError(f"migration left rows violating foreign keys: {violations[:5]}")


def _upgrade_to_head(connection: Connection) -> None:
    config = _config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def schema_state(url: str) -> SchemaState:
    """Compare the database's migration revision with this code's (see :func:`classify`).

    Raises ``StorageUnavailable`` if the database cannot be reached. An in-memory SQLite URL
    is always ``current``: ``open_storage`` creates the current schema in it.
    """
    if is_memory_sqlite(url):
        return "current"
    current = await run_on_connection(url, _current_heads)
    script = _script()
    known = {revision.revision for revision in script.walk_revisions()}
    return classify(current, known=known, heads=script.get_heads())


def _current_heads(connection: Connection) -> tuple[str, ...]:
    with unavailable_as_storage_error():
        heads: tuple[str, ...] = MigrationContext.configure(connection).get_current_heads()
    return heads


def classify(
    current: Collection[str], *, known: Collection[str], heads: Collection[str]
) -> SchemaState:
    """The schema state from the database's revisions and the migration scripts.

    ``uninitialized``: never migrated; ``current``: at the head; ``outdated``: at an older
    known revision (run ``upgrade``); ``newer``: at a revision this code does not know, i.e.
    migrated by a newer release (running this one against it could corrupt data).
    """
    if not current:
        return "uninitialized"
    if not set(current) <= set(known):
        return "newer"
    if set(current) == set(heads):
        return "current"
    return "outdated"

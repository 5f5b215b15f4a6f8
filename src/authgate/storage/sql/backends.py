"""Which storage a database URL opens (:func:`open_storage`), and the type of either
(:data:`SqlStorage`): :class:`~authgate.storage.sql._engine.sqlite_storage.SqliteStorage`
or :class:`~authgate.storage.sql._engine.postgres_storage.PostgresStorage`.
"""

from __future__ import annotations

from typing import TypeAlias

from sqlalchemy import make_url

from authgate.storage.sql._engine.postgres_storage import PostgresStorage
from authgate.storage.sql._engine.sqlite_storage import SqliteStorage, open_sqlite_storage
from authgate.storage.sql.engine import create_engine, normalize_url

__all__ = ["PostgresStorage", "SqlStorage", "SqliteStorage", "open_storage"]

SqlStorage: TypeAlias = PostgresStorage | SqliteStorage
"""Either SQL storage: both hand a :class:`~authgate.storage.sql.transaction.SqlTransaction`
to each transaction's block and run the same contract suite (``tests/storage``)."""


async def open_storage(url: str, *, group_commit: bool = False) -> SqlStorage:
    """Storage for the database at ``url`` (see ``engine.normalize_url`` for accepted forms).

    Connects lazily: an unreachable database shows up as ``StorageUnavailable`` on use (and
    in the storage's ``ping``), so a server can start and report itself not ready. The schema
    must be current (``migrate.upgrade``), except for an in-memory SQLite database, which
    exists only inside this storage and so is created here from ``schema.metadata``.

    ``group_commit`` (SQLite): let the transactions of a turn of the event loop share a
    ``COMMIT`` (``SqliteStorage.transaction``); for a server that is the file's only writing
    process (``build_context`` turns it on for one worker).
    """
    if make_url(normalize_url(url)).get_backend_name() == "sqlite":
        return await open_sqlite_storage(url, group_commit=group_commit)
    return PostgresStorage(create_engine(url))

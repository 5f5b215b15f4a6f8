"""SQL storage (SQLAlchemy Core): SQLite through pysqlite on the event loop's thread, PostgreSQL
through asyncpg.

``open_storage(url)`` gives a :class:`~authgate.storage.base.Storage`; ``upgrade(url)`` and
``schema_state(url)`` manage the schema with the Alembic migrations shipped in ``migrations/``.
This ``__all__`` is the package's one door for the rest of authgate (``bootstrap``, the CLI,
the benchmarks); ``_engine/`` is its private execution machinery (``_engine/README.md``).
"""

from authgate.storage.sql.backends import PostgresStorage, SqliteStorage, SqlStorage, open_storage
from authgate.storage.sql.engine import create_engine, normalize_url, run_on_connection
from authgate.storage.sql.migrate import HEAD_REVISION, SchemaState, schema_state, upgrade
from authgate.storage.sql.transaction import SqlTransaction

__all__ = [
    "open_storage",
    "SqlStorage",
    "PostgresStorage",
    "SqliteStorage",
    "SqlTransaction",
    "upgrade",
    "schema_state",
    "SchemaState",
    "HEAD_REVISION",
    "create_engine",
    "normalize_url",
    "run_on_connection",
]

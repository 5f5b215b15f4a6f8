"""SQL storage (SQLAlchemy Core, async): SQLite through aiosqlite, PostgreSQL through asyncpg.

``open_storage(url)`` gives a :class:`~authgate.storage.base.Storage`; ``upgrade(url)`` and
``schema_state(url)`` manage the schema with the Alembic migrations shipped in ``migrations/``.
"""

from authgate.storage.sql.engine import create_engine, normalize_url
from authgate.storage.sql.migrate import HEAD_REVISION, SchemaState, schema_state, upgrade
from authgate.storage.sql.repositories import SqlStorage, SqlTransaction, open_storage

__all__ = [
    "open_storage",
    "SqlStorage",
    "SqlTransaction",
    "upgrade",
    "schema_state",
    "SchemaState",
    "HEAD_REVISION",
    "create_engine",
    "normalize_url",
]

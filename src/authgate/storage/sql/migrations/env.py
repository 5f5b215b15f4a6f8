"""Alembic environment for authgate's schema (SQLite on pysqlite, PostgreSQL on asyncpg).

:func:`authgate.storage.sql.migrate.upgrade` hands over an open connection in
``config.attributes["connection"]`` (it already runs inside an event loop, and holds the
migration lock on that connection). Without one, as with the ``alembic`` command line, a
connection is opened (``engine.run_on_connection``) from ``config.attributes["url"]`` or the
``sqlalchemy.url`` option.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from authgate.storage.sql.engine import normalize_url, run_on_connection
from authgate.storage.sql.schema import metadata

config = context.config


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: set config.attributes['url'] or sqlalchemy.url")
    return normalize_url(str(url))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most constraints; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_offline(url: str) -> None:
    """Emit the SQL script instead of running it (``alembic upgrade --sql``)."""
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline(_url())
elif (connection := config.attributes.get("connection")) is not None:
    _run(connection)
else:
    asyncio.run(run_on_connection(_url(), _run, command_timeout=None))

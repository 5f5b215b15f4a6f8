"""Alembic migrations of the SQL schema: one history for SQLite and PostgreSQL.

Run them with :func:`authgate.storage.sql.migrate.upgrade` (or ``authgate db upgrade``);
``env.py`` is loaded by Alembic, not imported.
"""

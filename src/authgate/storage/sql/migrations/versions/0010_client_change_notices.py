"""PostgreSQL: every change to the clients table sends a notice on the ``authgate_clients``
channel when it commits, so that each server process can keep clients in memory and forget
them as soon as any process (or an administrator's SQL) changes one (design note 0008).

A statement-level trigger: one notice per statement, whatever it changed (notices of one
transaction with the same payload are folded into one by PostgreSQL). Enabled ALWAYS, so it
fires in replication sessions too (``session_replication_role = replica``); the servers stop
caching clients while it is disabled. SQLite needs none: its
processes see other processes' commits through ``PRAGMA data_version``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION authgate_clients_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('authgate_clients', '');
    RETURN NULL;
END
$$
"""

_TRIGGER = """
CREATE TRIGGER clients_changed
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON clients
FOR EACH STATEMENT EXECUTE FUNCTION authgate_clients_changed()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_FUNCTION)
    op.execute(_TRIGGER)
    op.execute("ALTER TABLE clients ENABLE ALWAYS TRIGGER clients_changed")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS clients_changed ON clients")
    op.execute("DROP FUNCTION IF EXISTS authgate_clients_changed()")

"""Partial indexes on access_tokens' grant and family: rows without them (the
client_credentials grant) no longer cost an index entry each. The user index goes: every token
of a user carries the grant it was issued under, and grants are indexed by user, so revoking a
user's tokens goes through their grants.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("family_id", "grant_id")


def upgrade() -> None:
    op.drop_index("ix_access_tokens_user_id", table_name="access_tokens")
    for column in _COLUMNS:
        name = f"ix_access_tokens_{column}"
        condition = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name="access_tokens")
        op.create_index(
            name,
            "access_tokens",
            [column],
            sqlite_where=condition,
            postgresql_where=condition,
        )


def downgrade() -> None:
    op.create_index("ix_access_tokens_user_id", "access_tokens", ["user_id"])
    for column in _COLUMNS:
        name = f"ix_access_tokens_{column}"
        op.drop_index(name, table_name="access_tokens")
        op.create_index(name, "access_tokens", [column])

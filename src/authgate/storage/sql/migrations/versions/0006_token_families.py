"""Token families: one row per authorization, locked by rotation and by revocation so the two
serialise on PostgreSQL (READ COMMITTED) as they already do on SQLite.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "token_families",
        sa.Column("family_id", sa.String(), primary_key=True),
        sa.Column("grant_id", sa.String(), sa.ForeignKey("grants.id"), nullable=False),
        sa.Column("client_id", sa.String(), sa.ForeignKey("clients.client_id"), nullable=False),
        sa.Column("user_id", sa.String(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("revoked_at", sa.Double(), nullable=True),
        sa.Column("expires_at", sa.Double(), nullable=False),
    )
    for column in ("grant_id", "client_id", "user_id", "expires_at"):
        op.create_index(f"ix_token_families_{column}", "token_families", [column])
    op.create_index("ix_refresh_tokens_family_expires_at", "refresh_tokens", ["family_expires_at"])
    # Families of refresh tokens issued before this revision.
    op.execute(
        "INSERT INTO token_families (family_id, grant_id, client_id, user_id, revoked_at, "
        "expires_at) SELECT family_id, MIN(grant_id), MIN(client_id), MIN(user_id), "
        "MAX(revoked_at), MAX(family_expires_at) FROM refresh_tokens GROUP BY family_id"
    )


def downgrade() -> None:
    op.drop_index("ix_refresh_tokens_family_expires_at", table_name="refresh_tokens")
    op.drop_table("token_families")

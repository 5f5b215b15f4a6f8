"""Two index entries less per refresh: refresh_tokens loses its family_expires_at index
(expired refresh tokens are purged through their family, whose expiry is indexed and equal),
and access_tokens' client index keeps only the tokens without a grant (client_credentials):
a user's token is found through its grant, and grants are indexed by client.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_refresh_tokens_family_expires_at", table_name="refresh_tokens")
    op.drop_index("ix_access_tokens_client_id", table_name="access_tokens")
    condition = sa.text("grant_id IS NULL")
    op.create_index(
        "ix_access_tokens_client_id",
        "access_tokens",
        ["client_id"],
        sqlite_where=condition,
        postgresql_where=condition,
    )


def downgrade() -> None:
    op.drop_index("ix_access_tokens_client_id", table_name="access_tokens")
    op.create_index("ix_access_tokens_client_id", "access_tokens", ["client_id"])
    op.create_index("ix_refresh_tokens_family_expires_at", "refresh_tokens", ["family_expires_at"])

"""One index entry less per refresh: refresh_tokens loses its family_expires_at index.
A refresh token lives until its family ends, and its family_expires_at is its family's
expires_at, which is indexed; expired refresh tokens are purged through their family, and a
family only once none of its refresh tokens remain.

Refresh tokens whose family row is already gone could only be found through the dropped
index, so they are deleted first. Earlier versions could leave some behind (the two purges
ran separately, each reading the clock); they were unusable anyway, since rotation needs
the family row.

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

_ORPHANS = sa.text(
    "DELETE FROM refresh_tokens WHERE NOT EXISTS "
    "(SELECT 1 FROM token_families f WHERE f.family_id = refresh_tokens.family_id)"
)


def upgrade() -> None:
    op.execute(_ORPHANS)
    op.drop_index("ix_refresh_tokens_family_expires_at", table_name="refresh_tokens")


def downgrade() -> None:
    op.create_index("ix_refresh_tokens_family_expires_at", "refresh_tokens", ["family_expires_at"])

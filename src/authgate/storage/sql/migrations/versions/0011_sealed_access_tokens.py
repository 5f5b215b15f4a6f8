"""Sealed access tokens (design note 0009): what revokes an access token that has no row.

- ``revoked_access_tokens``: the hash of each sealed token revoked on its own (RFC 7009),
  kept until the token would have expired.
- ``users.token_epoch``: a password change or disabling revokes every token the user had by
  moving it on; a sealed token carries the epoch it was issued in, and is revoked once its
  user's has moved (exact whatever the nodes' clocks say, unlike a time).

Family, grant and client revocations need nothing new: sealed tokens check the
``token_families``, ``grants`` and ``clients`` rows at each use.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revoked_access_tokens",
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_revoked_access_tokens"),
    )
    op.create_index("ix_revoked_access_tokens_expires_at", "revoked_access_tokens", ["expires_at"])
    op.add_column(
        "users",
        sa.Column("token_epoch", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_epoch")
    op.drop_index("ix_revoked_access_tokens_expires_at", table_name="revoked_access_tokens")
    op.drop_table("revoked_access_tokens")

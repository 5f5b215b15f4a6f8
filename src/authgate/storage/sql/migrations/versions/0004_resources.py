"""Protected resources (RFC 8707) and the audience of access tokens.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("identifier", sa.String(), primary_key=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("token_format", sa.String(), nullable=False),
        sa.Column("access_token_ttl", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=True),
    )
    op.add_column("codes", sa.Column("resource", sa.Text(), nullable=True))
    op.add_column("access_tokens", sa.Column("audience", sa.Text(), nullable=True))
    op.add_column("refresh_tokens", sa.Column("resource", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_column("resource")
    with op.batch_alter_table("access_tokens") as batch:
        batch.drop_column("audience")
    with op.batch_alter_table("codes") as batch:
        batch.drop_column("resource")
    op.drop_table("resources")

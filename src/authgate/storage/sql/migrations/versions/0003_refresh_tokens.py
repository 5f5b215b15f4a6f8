"""Refresh tokens: rotated on every use, revoked by family on reuse.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

Written out with plain column types (epoch seconds as DOUBLE, JSON as TEXT), like 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, *, nullable: bool = False) -> sa.Column[float]:
    return sa.Column(name, sa.Double(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(), primary_key=True),
        sa.Column("family_id", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), sa.ForeignKey("clients.client_id"), nullable=False),
        sa.Column("user_id", sa.String(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("grant_id", sa.String(), sa.ForeignKey("grants.id"), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        _time("auth_time"),
        _time("issued_at"),
        _time("expires_at"),
        _time("family_expires_at"),
        _time("rotated_at", nullable=True),
        _time("revoked_at", nullable=True),
    )
    for column in ("family_id", "grant_id", "client_id", "user_id", "expires_at"):
        op.create_index(f"ix_refresh_tokens_{column}", "refresh_tokens", [column])


def downgrade() -> None:
    op.drop_table("refresh_tokens")

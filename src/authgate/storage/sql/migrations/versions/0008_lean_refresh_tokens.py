"""refresh_tokens keeps only the indexes rotation and purging need (family_id,
family_expires_at) and no foreign keys: its token_families row holds the client, user and grant
references and the indexes to find families by them, and revocations by client, user or grant
go through it. Each rotation inserts a row, so every index and foreign key dropped here is a
page write or a lookup less per refresh.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DROPPED_INDEXES = ("grant_id", "client_id", "user_id", "expires_at")
_FOREIGN_KEYS = (
    ("client_id", "clients", "client_id"),
    ("user_id", "users", "id"),
    ("grant_id", "grants", "id"),
)


def upgrade() -> None:
    for column in _DROPPED_INDEXES:
        op.drop_index(f"ix_refresh_tokens_{column}", table_name="refresh_tokens")
    # SQLite cannot drop a constraint: batch mode copies the table into a new one without it.
    with op.batch_alter_table("refresh_tokens") as batch:
        for column, parent, _ in _FOREIGN_KEYS:
            batch.drop_constraint(f"fk_refresh_tokens_{column}_{parent}", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("refresh_tokens") as batch:
        for column, parent, key in _FOREIGN_KEYS:
            batch.create_foreign_key(
                f"fk_refresh_tokens_{column}_{parent}", parent, [column], [key]
            )
    for column in _DROPPED_INDEXES:
        op.create_index(f"ix_refresh_tokens_{column}", "refresh_tokens", [column])

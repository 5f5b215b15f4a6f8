"""Initial schema: clients, users, grants, codes, tokens, sessions, interactions, keys,
login throttle and instance secrets.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written out with plain column types (epoch seconds as DOUBLE, JSON as TEXT) rather than
importing ``schema.py``, so that this revision keeps creating the same tables however the
current schema evolves. ``tests/storage`` checks it against ``schema.metadata``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, *, nullable: bool = False) -> sa.Column[float]:
    """A timestamp column: epoch seconds (see ``schema.UtcDateTime``)."""
    return sa.Column(name, sa.Double(), nullable=nullable)


def _pk(table: str, column: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(column, name=f"pk_{table}")


def _fk(table: str, column: str, target: str, target_column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.{target_column}"], name=f"fk_{table}_{column}_{target}"
    )


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("redirect_uris", sa.Text(), nullable=False),
        sa.Column("token_endpoint_auth_method", sa.String(), nullable=False),
        sa.Column("grant_types", sa.Text(), nullable=False),
        sa.Column("response_types", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.String(), nullable=True),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("client_name", sa.Text(), nullable=True),
        sa.Column("application_type", sa.String(), nullable=False),
        sa.Column("id_token_signed_response_alg", sa.String(), nullable=True),
        sa.Column("post_logout_redirect_uris", sa.Text(), nullable=False),
        sa.Column("jwks", sa.Text(), nullable=True),
        sa.Column("jwks_uri", sa.Text(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=False),
        _time("created_at", nullable=True),
        _pk("clients", "client_id"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("username", sa.String(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("given_name", sa.Text(), nullable=True),
        sa.Column("family_name", sa.Text(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        _time("created_at", nullable=True),
        _time("updated_at", nullable=True),
        _pk("users", "id"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "grants",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        _time("revoked_at", nullable=True),
        _pk("grants", "id"),
        _fk("grants", "user_id", "users", "id"),
        _fk("grants", "client_id", "clients", "client_id"),
    )
    op.create_index("ix_grants_user_id_client_id", "grants", ["user_id", "client_id"])
    op.create_index("ix_grants_client_id", "grants", ["client_id"])
    op.create_table(
        "codes",
        sa.Column("code_hash", sa.String(), nullable=False),
        sa.Column("family_id", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("grant_id", sa.String(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("redirect_uri_provided", sa.Boolean(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.String(), nullable=False),
        sa.Column("nonce", sa.Text(), nullable=True),
        _time("auth_time"),
        _time("issued_at"),
        _time("expires_at"),
        _time("consumed_at", nullable=True),
        _pk("codes", "code_hash"),
        _fk("codes", "client_id", "clients", "client_id"),
        _fk("codes", "user_id", "users", "id"),
        _fk("codes", "grant_id", "grants", "id"),
    )
    op.create_index("ix_codes_expires_at", "codes", ["expires_at"])
    op.create_table(
        "access_tokens",
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=True),
        sa.Column("grant_id", sa.String(), nullable=True),
        sa.Column("family_id", sa.String(), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        _time("issued_at"),
        _time("expires_at"),
        _time("revoked_at", nullable=True),
        _pk("access_tokens", "token_hash"),
        _fk("access_tokens", "client_id", "clients", "client_id"),
        _fk("access_tokens", "user_id", "users", "id"),
        _fk("access_tokens", "grant_id", "grants", "id"),
    )
    op.create_index("ix_access_tokens_family_id", "access_tokens", ["family_id"])
    op.create_index("ix_access_tokens_grant_id", "access_tokens", ["grant_id"])
    op.create_index("ix_access_tokens_client_id", "access_tokens", ["client_id"])
    op.create_index("ix_access_tokens_expires_at", "access_tokens", ["expires_at"])
    op.create_table(
        "sessions",
        sa.Column("id_hash", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        _time("auth_time"),
        _time("created_at"),
        _time("expires_at"),
        _pk("sessions", "id_hash"),
        _fk("sessions", "user_id", "users", "id"),
    )
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"])
    op.create_table(
        "interactions",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("browser_hash", sa.String(), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        _time("created_at"),
        _time("expires_at"),
        _pk("interactions", "id"),
    )
    op.create_index("ix_interactions_expires_at", "interactions", ["expires_at"])
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(), nullable=False),
        sa.Column("alg", sa.String(), nullable=False),
        sa.Column("private_jwk", sa.Text(), nullable=False),
        _time("created_at"),
        sa.Column("active", sa.Boolean(), nullable=False),
        _pk("signing_keys", "kid"),
    )
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        _time("window_start"),
        _time("expires_at"),
        _pk("login_throttle", "key"),
    )
    op.create_index("ix_login_throttle_expires_at", "login_throttle", ["expires_at"])
    op.create_table(
        "instance_secrets",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        _pk("instance_secrets", "name"),
    )


def downgrade() -> None:
    for table in (
        "instance_secrets",
        "login_throttle",
        "signing_keys",
        "interactions",
        "sessions",
        "access_tokens",
        "codes",
        "grants",
        "users",
        "clients",
    ):
        # Indexes go with their table on both databases.
        op.drop_table(table)

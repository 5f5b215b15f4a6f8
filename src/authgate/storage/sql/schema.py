"""The SQL schema, shared by SQLite and PostgreSQL (SQLAlchemy Core tables, no ORM).

Portable column types keep one schema and one migration history for both databases:

* timestamps are epoch seconds in a double (:class:`UtcDateTime`), read back as aware UTC
  ``datetime`` values, so comparisons such as ``expires_at > :now`` are plain number comparisons
  with no time-zone handling left to either database;
* tuples of strings and JSON objects are JSON text (:class:`StrTuple`, :class:`JsonObject`).

Only hashes of codes, tokens, session ids and client secrets are stored (RFC 9700 §4.14). Every
row with a lifetime has an indexed ``expires_at`` so that expired rows can be purged cheaply.

Constraint names follow :data:`NAMING_CONVENTION` so that later migrations (SQLite batch mode
included) can refer to them by name. ``migrations/versions/0001_initial.py`` must create exactly
these tables; ``tests/storage`` compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    Column,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "NAMING_CONVENTION",
    "metadata",
    "clients",
    "users",
    "grants",
    "codes",
    "access_tokens",
    "revoked_access_tokens",
    "sessions",
    "interactions",
    "signing_keys",
    "login_throttle",
    "instance_secrets",
    "JsonObject",
    "StrTuple",
    "UtcDateTime",
]


def epoch_seconds(value: datetime | None) -> float | None:
    """An aware datetime as epoch seconds (``UtcDateTime``'s stored form)."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: storage needs timezone-aware values")
    return value.timestamp()


def utc_datetime(value: Any | None) -> datetime | None:
    """Stored epoch seconds (a float, or an int) as an aware UTC datetime."""
    if value is None:
        return None
    return datetime.fromtimestamp(float(value), tz=UTC)


def _json_array(value: tuple[str, ...] | None) -> str | None:
    return None if value is None else orjson.dumps(list(value)).decode()


def _str_tuple(value: Any | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(orjson.loads(value))


def _json_text(value: dict[str, Any] | None) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _json_object(value: Any | None) -> dict[str, Any] | None:
    if value is None:
        return None
    loaded: dict[str, Any] = orjson.loads(value)
    return loaded


class UtcDateTime(TypeDecorator[datetime]):
    """An aware ``datetime`` stored as epoch seconds (DOUBLE PRECISION / REAL).

    A double holds microsecond precision for present-day epochs, and both databases compare it
    natively, so expiry checks need no dialect-specific date functions. Naive datetimes are
    rejected: models always carry aware datetimes (design convention 4) and silently assuming
    local time would shift every expiry.
    """

    impl = Double
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> float | None:
        return epoch_seconds(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        return utc_datetime(value)

    # The same conversions without the dialect, for the prepared statements (``_engine``): each
    # returns the impl's own Python type (float, str), which no driver converts further.
    direct_bind = staticmethod(epoch_seconds)
    direct_result = staticmethod(utc_datetime)


class StrTuple(TypeDecorator[tuple[str, ...]]):
    """A tuple of strings stored as a JSON array (scopes, redirect URIs, grant types...)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: tuple[str, ...] | None, dialect: Dialect) -> str | None:
        return _json_array(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> tuple[str, ...] | None:
        return _str_tuple(value)

    direct_bind = staticmethod(_json_array)
    direct_result = staticmethod(_str_tuple)


class JsonObject(TypeDecorator[dict[str, Any]]):
    """A JSON object stored as text (client JWKS and metadata, pending authorization requests).

    Text rather than the JSON/JSONB types keeps SQLite and PostgreSQL identical; these values
    are only ever read whole, never queried into.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> str | None:
        return _json_text(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> dict[str, Any] | None:
        return _json_object(value)

    direct_bind = staticmethod(_json_text)
    direct_result = staticmethod(_json_object)


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

clients = Table(
    "clients",
    metadata,
    Column("client_id", String, primary_key=True),
    Column("redirect_uris", StrTuple, nullable=False),
    Column("token_endpoint_auth_method", String, nullable=False),
    Column("grant_types", StrTuple, nullable=False),
    Column("response_types", StrTuple, nullable=False),
    Column("secret_hash", String),
    Column("scope", StrTuple),
    Column("client_name", Text),
    Column("application_type", String, nullable=False),
    Column("id_token_signed_response_alg", String),
    Column("post_logout_redirect_uris", StrTuple, nullable=False),
    Column("jwks", JsonObject),
    Column("jwks_uri", Text),
    Column("metadata", JsonObject, nullable=False),
    Column("created_at", UtcDateTime),
)

users = Table(
    "users",
    metadata,
    Column("id", String, primary_key=True),
    Column("username", String, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("email", Text),
    Column("email_verified", Boolean, nullable=False),
    Column("name", Text),
    Column("given_name", Text),
    Column("family_name", Text),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", UtcDateTime),
    Column("updated_at", UtcDateTime),
    # Moved on by a password change or disabling: a sealed access token carries the epoch
    # it was issued in and is revoked once this has moved; sealed tokens have no rows to
    # mark (migration 0011, design note 0009).
    Column("token_epoch", Integer, nullable=False, server_default=text("0")),
    UniqueConstraint("username"),
)

grants = Table(
    "grants",
    metadata,
    Column("id", String, primary_key=True),
    Column("user_id", String, ForeignKey("users.id"), nullable=False),
    Column("client_id", String, ForeignKey("clients.client_id"), nullable=False),
    Column("scopes", StrTuple, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Index("ix_grants_user_id_client_id", "user_id", "client_id"),
    # Deleting a client deletes its grants; without this PostgreSQL would scan the table.
    Index("ix_grants_client_id", "client_id"),
)

codes = Table(
    "codes",
    metadata,
    Column("code_hash", String, primary_key=True),
    Column("family_id", String, nullable=False),
    Column("client_id", String, ForeignKey("clients.client_id"), nullable=False),
    Column("user_id", String, ForeignKey("users.id"), nullable=False),
    Column("grant_id", String, ForeignKey("grants.id"), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("redirect_uri_provided", Boolean, nullable=False),
    Column("scopes", StrTuple, nullable=False),
    Column("code_challenge", String, nullable=False),
    Column("nonce", Text),
    Column("auth_time", UtcDateTime, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("consumed_at", UtcDateTime),
    Column("resource", Text),
    Index("ix_codes_expires_at", "expires_at"),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("token_hash", String, primary_key=True),
    Column("client_id", String, ForeignKey("clients.client_id"), nullable=False),
    Column("user_id", String, ForeignKey("users.id")),
    Column("grant_id", String, ForeignKey("grants.id")),
    Column("family_id", String),
    Column("scopes", StrTuple, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("audience", Text),
    # Partial: client_credentials tokens have no grant or family, and an index entry costs
    # every insert a page write (migration 0007). ``x = :value`` implies ``x IS NOT NULL``,
    # so both databases still use these for the revocation statements. No user index: a
    # user's tokens are found through the user's grants (storage/sql/tokens.py).
    *(
        Index(
            f"ix_access_tokens_{column}",
            column,
            sqlite_where=text(f"{column} IS NOT NULL"),
            postgresql_where=text(f"{column} IS NOT NULL"),
        )
        for column in ("family_id", "grant_id")
    ),
    # Deleting a client deletes its tokens, and the foreign key's check when the client row
    # goes looks them up by client_id too: without this both would scan the table.
    Index("ix_access_tokens_client_id", "client_id"),
    Index("ix_access_tokens_expires_at", "expires_at"),
)

revoked_access_tokens = Table(
    "revoked_access_tokens",
    metadata,
    # Sealed access tokens revoked one by one (RFC 7009), by hash, until they would have
    # expired: every use of a sealed token looks here (migration 0011).
    Column("token_hash", String, primary_key=True),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_revoked_access_tokens_expires_at", "expires_at"),
)

token_families = Table(
    "token_families",
    metadata,
    # One row per authorization (code exchange): rotation locks it and checks it is not
    # revoked; revocation marks it first, so the two serialise (see storage/sql/refresh.py).
    Column("family_id", String, primary_key=True),
    Column("grant_id", String, ForeignKey("grants.id"), nullable=False),
    Column("client_id", String, ForeignKey("clients.client_id"), nullable=False),
    Column("user_id", String, ForeignKey("users.id"), nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_token_families_grant_id", "grant_id"),
    Index("ix_token_families_client_id", "client_id"),
    Index("ix_token_families_user_id", "user_id"),
    Index("ix_token_families_expires_at", "expires_at"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    # Every refresh token belongs to a token_families row, which holds the foreign keys to the
    # client, user and grant and the indexes to find a family by them. This table is the
    # busiest to write (a row per rotation, kept until the family ends), so it keeps only
    # what rotation and purging need: every index and foreign key costs each insert a
    # lookup or a page write (migrations 0008 and 0009).
    Column("token_hash", String, primary_key=True),
    Column("family_id", String, nullable=False),
    Column("client_id", String, nullable=False),
    Column("user_id", String, nullable=False),
    Column("grant_id", String, nullable=False),
    Column("scopes", StrTuple, nullable=False),
    Column("auth_time", UtcDateTime, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("family_expires_at", UtcDateTime, nullable=False),
    Column("rotated_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    Column("resource", Text),
    # Expired refresh tokens are purged through their family's indexed expiry (migration 0009).
    Index("ix_refresh_tokens_family_id", "family_id"),
)

resources = Table(
    "resources",
    metadata,
    Column("identifier", String, primary_key=True),
    Column("scopes", StrTuple, nullable=False),
    Column("token_format", String, nullable=False),
    Column("access_token_ttl", Integer, nullable=False),
    Column("name", Text),
    Column("created_at", UtcDateTime),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String, primary_key=True),
    Column("user_id", String, ForeignKey("users.id"), nullable=False),
    Column("auth_time", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_sessions_expires_at", "expires_at"),
    Index("ix_sessions_user_id", "user_id"),
)

interactions = Table(
    "interactions",
    metadata,
    Column("id", String, primary_key=True),
    Column("browser_hash", String, nullable=False),
    Column("request", JsonObject, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_interactions_expires_at", "expires_at"),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String, primary_key=True),
    Column("alg", String, nullable=False),
    Column("private_jwk", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("not_before", UtcDateTime),
)

login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("window_start", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_login_throttle_expires_at", "expires_at"),
)

instance_secrets = Table(
    "instance_secrets",
    metadata,
    Column("name", String, primary_key=True),
    Column("value", LargeBinary, nullable=False),
)

"""Column types and table conventions of ``schema.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from authgate.storage.sql.schema import JsonObject, StrTuple, UtcDateTime, metadata

DIALECT = sqlite.dialect()

LIFETIME_TABLES = {
    "codes",
    "access_tokens",
    "revoked_access_tokens",
    "refresh_tokens",
    "token_families",
    "sessions",
    "interactions",
    "login_throttle",
}


def test_timestamps_are_epoch_seconds_and_come_back_in_utc() -> None:
    column = UtcDateTime()
    paris = timezone(timedelta(hours=1))
    moment = datetime(2025, 1, 1, 13, 0, 0, 123456, tzinfo=paris)

    stored = column.process_bind_param(moment, DIALECT)
    loaded = column.process_result_value(stored, DIALECT)

    assert stored == moment.timestamp()
    assert loaded == moment
    assert loaded is not None
    assert loaded.tzinfo is UTC
    assert column.process_bind_param(None, DIALECT) is None
    assert column.process_result_value(None, DIALECT) is None


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        UtcDateTime().process_bind_param(datetime(2025, 1, 1), DIALECT)  # noqa: DTZ001


def test_json_columns_round_trip() -> None:
    tuples, objects = StrTuple(), JsonObject()
    scopes = ("openid", "profile", "ünïcode")
    document = {"keys": [{"kty": "EC"}], "n": 1, "none": None}

    assert (
        tuples.process_result_value(tuples.process_bind_param(scopes, DIALECT), DIALECT) == scopes
    )
    assert objects.process_result_value(objects.process_bind_param(document, DIALECT), DIALECT) == (
        document
    )
    assert tuples.process_bind_param(None, DIALECT) is None
    assert objects.process_result_value(None, DIALECT) is None


def test_rows_with_a_lifetime_have_an_indexed_expiry() -> None:
    """Purging expired rows must not scan whole tables. Refresh tokens are purged when their
    family ends, through the family's indexed expiry and their own indexed family_id
    (storage/sql/maintenance.py)."""
    with_expiry = {t.name for t in metadata.sorted_tables if "expires_at" in t.c}
    indexed = {
        index.table.name
        for table in metadata.sorted_tables
        for index in table.indexes
        if [c.name for c in index.columns] == ["expires_at"]
    }
    assert indexed == LIFETIME_TABLES - {"refresh_tokens"}
    assert with_expiry == LIFETIME_TABLES
    family_index = [[c.name for c in i.columns] for i in metadata.tables["refresh_tokens"].indexes]
    assert ["family_id"] in family_index


def test_lookup_columns_are_unique_or_indexed() -> None:
    tables = metadata.tables
    assert [c.name for c in tables["codes"].primary_key] == ["code_hash"]
    assert [c.name for c in tables["access_tokens"].primary_key] == ["token_hash"]
    assert [c.name for c in tables["sessions"].primary_key] == ["id_hash"]
    assert [c.name for c in tables["clients"].primary_key] == ["client_id"]
    assert {"uq_users_username"} <= {c.name for c in tables["users"].constraints}
    indexed = {
        (table.name, tuple(c.name for c in index.columns))
        for table in metadata.sorted_tables
        for index in table.indexes
    }
    assert {
        ("access_tokens", ("family_id",)),
        ("access_tokens", ("grant_id",)),
        ("grants", ("user_id", "client_id")),
    } <= indexed

"""Alembic migrations: one history for both databases, matching ``schema.py`` exactly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, inspect, text

from authgate.storage.base import StorageUnavailable
from authgate.storage.sql import HEAD_REVISION, schema_state, upgrade
from authgate.storage.sql.engine import run_on_connection
from authgate.storage.sql.migrate import SCRIPT_LOCATION, classify
from authgate.storage.sql.schema import metadata


async def _run_sync(url: str, fn: Any) -> Any:
    return await run_on_connection(url, fn)


def _schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_empty_database_is_uninitialized(empty_url: str) -> None:
    assert await schema_state(empty_url) == "uninitialized"


async def test_upgrade_creates_exactly_the_schema_of_schema_py(empty_url: str) -> None:
    await upgrade(empty_url)

    assert await schema_state(empty_url) == "current"
    assert await _run_sync(empty_url, _schema_differences) == []


async def test_upgrade_is_idempotent(empty_url: str) -> None:
    await upgrade(empty_url)
    await upgrade(empty_url)
    assert await schema_state(empty_url) == "current"


async def test_concurrent_upgrades_do_not_collide(empty_url: str) -> None:
    """Nodes starting together each try to migrate."""
    await asyncio.gather(upgrade(empty_url), upgrade(empty_url))
    assert await schema_state(empty_url) == "current"


async def test_unknown_revision_means_newer(empty_url: str) -> None:
    await upgrade(empty_url)

    def stamp_unknown(connection: Connection) -> None:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfacecafe'"))

    await _run_sync(empty_url, stamp_unknown)

    assert await schema_state(empty_url) == "newer"


async def test_downgrade_to_base_removes_every_table(empty_url: str) -> None:
    await upgrade(empty_url)

    def downgrade(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", SCRIPT_LOCATION)
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    await _run_sync(empty_url, downgrade)

    assert await _run_sync(empty_url, _table_names) <= {"alembic_version"}
    assert await schema_state(empty_url) == "uninitialized"


def test_upgrade_from_synchronous_code(tmp_path: Path) -> None:
    """The CLI calls ``asyncio.run(upgrade(url))`` with no event loop running."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    asyncio.run(upgrade(url))
    assert asyncio.run(schema_state(url)) == "current"


async def test_memory_database_needs_no_migration() -> None:
    await upgrade("sqlite://")
    assert await schema_state("sqlite:///:memory:") == "current"


async def test_unreachable_postgresql_is_unavailable() -> None:
    url = "postgresql://postgres@127.0.0.1:1/authgate"
    with pytest.raises(StorageUnavailable):
        await schema_state(url)
    with pytest.raises(StorageUnavailable):
        await upgrade(url)


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ((), "uninitialized"),
        (("0002",), "current"),
        (("0001",), "outdated"),
        (("9999",), "newer"),
        (("0001", "9999"), "newer"),
    ],
)
def test_classify(current: tuple[str, ...], expected: str) -> None:
    assert classify(current, known={"0001", "0002"}, heads=("0002",)) == expected


def test_head_revision_is_the_single_head_of_the_shipped_scripts() -> None:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]


def test_migration_files_are_inside_the_package() -> None:
    """Shipped as package data, so an installed wheel can migrate without a source tree."""
    migrations = files("authgate.storage.sql") / "migrations"
    for name in ("env.py", "script.py.mako", "versions/0001_initial.py"):
        assert (migrations / name).is_file(), name


async def test_schema_comparison_notices_a_missing_index(empty_url: str) -> None:
    """Guards the test above against comparing nothing."""
    await upgrade(empty_url)

    def drop_index(connection: Connection) -> None:
        connection.execute(text("DROP INDEX ix_codes_expires_at"))

    await _run_sync(empty_url, drop_index)

    differences = await _run_sync(empty_url, _schema_differences)
    assert [(d[0], d[1].name) for d in differences] == [("add_index", "ix_codes_expires_at")]


@pytest.mark.parametrize("column", ["family_id", "grant_id"])
async def test_revocations_use_the_partial_token_indexes(empty_url: str, column: str) -> None:
    """Migration 0007 made these indexes partial (``IS NOT NULL``); revoking by the column
    (storage/sql/tokens.py, accounts.py) must still be an index lookup, not a table scan."""
    await upgrade(empty_url)
    revoke = "UPDATE access_tokens SET revoked_at = 1 WHERE " + column  # noqa: S608 - test data
    revoke += " = 'x' AND revoked_at IS NULL"

    def plan(connection: Connection) -> str:
        if connection.dialect.name == "postgresql":
            # An empty table is cheapest to scan: ask what the planner does when it is not.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = connection.exec_driver_sql("EXPLAIN " + revoke)
        else:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + revoke)
        return " ".join(str(row) for row in rows)

    assert f"ix_access_tokens_{column}" in await _run_sync(empty_url, plan)


@pytest.mark.parametrize(
    ("kind", "indexes"),
    [
        ("refresh_tokens", ("ix_token_families_expires_at", "ix_refresh_tokens_family_id")),
        ("token_families", ("ix_token_families_expires_at", "ix_refresh_tokens_family_id")),
    ],
)
async def test_the_purges_of_refresh_tokens_and_families_are_index_lookups(
    empty_url: str, kind: str, indexes: tuple[str, ...]
) -> None:
    """Migration 0009 dropped refresh_tokens' expiry index: refresh tokens are purged through
    their family's expiry, and a family only once it has no refresh token left. Both
    statements (as the repository runs them) must use the indexes, never scan a table."""
    from authgate.storage.sql import maintenance

    await upgrade(empty_url)

    def plan(connection: Connection) -> str:
        values = {"before": datetime(2026, 1, 1, tzinfo=UTC), "limit": 10}
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")

        def explain(*args: Any) -> tuple[str, Any]:
            sql, parameters = args[2], args[3]
            return ("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + sql, parameters

        event.listen(connection, "before_cursor_execute", explain, retval=True)
        try:
            rows = connection.execute(maintenance._PURGE[kind][0], values).fetchall()
        finally:
            event.remove(connection, "before_cursor_execute", explain)
        return " ".join(str(row) for row in rows)

    explained = await _run_sync(empty_url, plan)
    if "Delete on" in explained:
        # PostgreSQL plans empty tables as it likes (any index will do when scans are off);
        # with statistics it picks these indexes. What must never appear is a table scan.
        assert "Seq Scan" not in explained
    else:
        for index in indexes:
            assert index in explained
        assert "SCAN " not in explained.replace("SCAN CONSTANT ROW", "")


async def test_0009_deletes_refresh_tokens_whose_family_is_gone(empty_url: str) -> None:
    """Only the dropped index could find them; rotation refuses them anyway."""
    await _run_sync(empty_url, _upgrade_to("0008"))

    def insert(connection: Connection) -> None:
        for row in _ROWS_0007:
            connection.exec_driver_sql(row)
        connection.exec_driver_sql(
            "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, grant_id, "
            "scopes, auth_time, issued_at, expires_at, family_expires_at) "
            "VALUES ('orphan', 'gone', 'c', 'u', 'g', '[]', 1, 2, 3, 9)"
        )

    await _run_sync(empty_url, insert)
    await upgrade(empty_url)

    def left(connection: Connection) -> list[Any]:
        rows = connection.exec_driver_sql("SELECT token_hash FROM refresh_tokens ORDER BY 1")
        return [row[0] for row in rows]

    assert await _run_sync(empty_url, left) == ["h"]


def _upgrade_to(revision: str) -> Any:
    def run(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", SCRIPT_LOCATION)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    return run


# A client, user, grant, family and one refresh token, as the schema of 0007 and 0008 hold them.
_ROWS_0007 = [
    "INSERT INTO clients (client_id, redirect_uris, token_endpoint_auth_method, grant_types, "
    "response_types, application_type, post_logout_redirect_uris, metadata) VALUES "
    "('c', '[]', 'none', '[]', '[]', 'web', '[]', '{}')",
    "INSERT INTO users (id, username, password_hash, email_verified, disabled) "
    "VALUES ('u', 'u', 'x', false, false)",
    "INSERT INTO grants (id, user_id, client_id, scopes, created_at, updated_at) "
    "VALUES ('g', 'u', 'c', '[]', 1, 1)",
    "INSERT INTO token_families (family_id, grant_id, client_id, user_id, expires_at) "
    "VALUES ('f', 'g', 'c', 'u', 9)",
    "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, grant_id, scopes, "
    "auth_time, issued_at, expires_at, family_expires_at) "
    "VALUES ('h', 'f', 'c', 'u', 'g', '[]', 1, 2, 3, 9)",
]


async def test_0008_keeps_refresh_tokens_and_drops_their_foreign_keys(empty_url: str) -> None:
    """SQLite rebuilds the table to drop constraints: the rows must come across unchanged."""
    await _run_sync(empty_url, _upgrade_to("0007"))

    def insert(connection: Connection) -> None:
        for row in _ROWS_0007:
            connection.exec_driver_sql(row)

    await _run_sync(empty_url, insert)
    await upgrade(empty_url)

    def check(connection: Connection) -> tuple[Any, list[Any]]:
        row = connection.exec_driver_sql(
            "SELECT token_hash, family_id, expires_at FROM refresh_tokens"
        )
        return list(row), inspect(connection).get_foreign_keys("refresh_tokens")

    found, foreign_keys = await _run_sync(empty_url, check)
    assert [tuple(r) for r in found] == [("h", "f", 3.0)]
    assert foreign_keys == []

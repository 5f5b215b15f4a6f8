"""Database URLs and per-backend engine settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection

from authgate.storage.sql import create_engine, normalize_url, open_storage, schema_state, upgrade
from authgate.storage.sql.engine import is_memory_sqlite, run_on_connection


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite://", "sqlite+pysqlite://"),
        ("sqlite:///:memory:", "sqlite+pysqlite:///:memory:"),
        ("sqlite:///./authgate.db", "sqlite+pysqlite:///./authgate.db"),
        (
            "sqlite:////var/lib/authgate/db.sqlite",
            "sqlite+pysqlite:////var/lib/authgate/db.sqlite",
        ),
        ("postgresql://u:p%40ss@db:5432/auth", "postgresql+asyncpg://u:p%40ss@db:5432/auth"),
        ("postgres://u@db/auth?ssl=require", "postgresql+asyncpg://u@db/auth?ssl=require"),
        ("postgres+asyncpg://u@db/auth", "postgresql+asyncpg://u@db/auth"),
        ("postgresql+asyncpg://u@db/auth", "postgresql+asyncpg://u@db/auth"),
        ("postgresql+psycopg://u@db/auth", "postgresql+psycopg://u@db/auth"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_normalize_url_selects_the_driver(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url", ["mysql://u@db/auth", "authgate.db", "", "http://db", "sqlite+://x", "://x"]
)
def test_normalize_url_rejects_other_schemes(url: str) -> None:
    with pytest.raises(ValueError, match="database URL"):
        normalize_url(url)


@pytest.mark.parametrize(
    ("url", "memory"),
    [
        ("sqlite://", True),
        ("sqlite:///:memory:", True),
        ("sqlite+aiosqlite://", True),
        ("sqlite:///authgate.db", False),
        ("postgresql://u@db/auth", False),
    ],
)
def test_is_memory_sqlite(url: str, memory: bool) -> None:
    assert is_memory_sqlite(url) is memory


async def test_sqlite_connections_get_the_pragmas(tmp_path: Path) -> None:
    def pragmas(conn: Connection) -> dict[str, object]:
        return {
            pragma: conn.exec_driver_sql(f"PRAGMA {pragma}").scalar_one()
            for pragma in (
                "journal_mode",
                "synchronous",
                "foreign_keys",
                "busy_timeout",
                "cache_size",
            )
        }

    values = await run_on_connection(f"sqlite:///{tmp_path / 'pragmas.db'}", pragmas)
    # synchronous: 1 is NORMAL.
    assert values == {
        "journal_mode": "wal",
        "synchronous": 1,
        "foreign_keys": 1,
        "busy_timeout": 5000,
        "cache_size": -65536,  # KiB: 64 MiB
    }


async def test_a_url_naming_aiosqlite_runs_on_pysqlite(tmp_path: Path) -> None:
    """aiosqlite is no longer a dependency; URLs written for it keep working."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old-style.db'}"
    await upgrade(url)
    assert await schema_state(url) == "current"
    store = await open_storage(url)
    try:
        await store.ping()
    finally:
        await store.close()


def test_sqlite_has_no_async_engine() -> None:
    with pytest.raises(ValueError, match="create_sqlite_engine"):
        create_engine("sqlite:///authgate.db")


def test_postgresql_engine_uses_a_bounded_pool() -> None:
    engine = create_engine("postgresql://postgres@127.0.0.1/authgate")
    assert engine.dialect.driver == "asyncpg"
    assert engine.pool.size() == 10
    assert engine.pool.timeout() == 10


async def test_invalid_url_is_rejected_by_create_engine() -> None:
    with pytest.raises(ValueError, match="unsupported database URL scheme 'mysql'"):
        create_engine("mysql://u@db/auth")


@pytest.mark.parametrize("url", ["postgresql+psycopg://u@db/auth", "postgres+pg8000://u@db/auth"])
def test_another_postgresql_driver_is_a_configuration_error(url: str) -> None:
    """authgate runs on asyncpg only: another driver named in the URL is refused in one
    sentence, before anything tries to import it."""
    with pytest.raises(
        ValueError, match=r"^unsupported PostgreSQL driver '\w+': use postgresql://"
    ):
        create_engine(url)


def test_another_postgresql_driver_is_one_line_from_the_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from authgate.cli.main import main

    monkeypatch.setenv("AUTHGATE_ISSUER", "https://auth.example.com")
    monkeypatch.setenv("AUTHGATE_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:1/auth")
    assert main(["db", "status"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "authgate: unsupported PostgreSQL driver 'psycopg': "
        "use postgresql://user@host/dbname (asyncpg)\n"
    )

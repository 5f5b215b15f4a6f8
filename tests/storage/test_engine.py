"""Database URLs and per-backend engine settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from authgate.storage.sql import create_engine, normalize_url
from authgate.storage.sql.engine import is_memory_sqlite


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite://", "sqlite+aiosqlite://"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("sqlite:///./authgate.db", "sqlite+aiosqlite:///./authgate.db"),
        (
            "sqlite:////var/lib/authgate/db.sqlite",
            "sqlite+aiosqlite:////var/lib/authgate/db.sqlite",
        ),
        ("postgresql://u:p%40ss@db:5432/auth", "postgresql+asyncpg://u:p%40ss@db:5432/auth"),
        ("postgres://u@db/auth?ssl=require", "postgresql+asyncpg://u@db/auth?ssl=require"),
        ("postgres+asyncpg://u@db/auth", "postgresql+asyncpg://u@db/auth"),
        ("postgresql+asyncpg://u@db/auth", "postgresql+asyncpg://u@db/auth"),
        ("postgresql+psycopg://u@db/auth", "postgresql+psycopg://u@db/auth"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_normalize_url_selects_the_async_driver(url: str, expected: str) -> None:
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
    engine = create_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        async with engine.connect() as conn:
            values = {
                pragma: (await conn.exec_driver_sql(f"PRAGMA {pragma}")).scalar_one()
                for pragma in (
                    "journal_mode",
                    "synchronous",
                    "foreign_keys",
                    "busy_timeout",
                    "cache_size",
                )
            }
    finally:
        await engine.dispose()
    # synchronous: 1 is NORMAL.
    assert values == {
        "journal_mode": "wal",
        "synchronous": 1,
        "foreign_keys": 1,
        "busy_timeout": 5000,
        "cache_size": -65536,  # KiB: 64 MiB
    }


def test_postgresql_engine_uses_a_bounded_pool() -> None:
    engine = create_engine("postgresql://postgres@127.0.0.1/authgate")
    assert engine.dialect.driver == "asyncpg"
    assert engine.pool.size() == 10
    assert engine.pool.timeout() == 10


async def test_invalid_url_is_rejected_by_create_engine() -> None:
    with pytest.raises(ValueError, match="unsupported database URL scheme 'mysql'"):
        create_engine("mysql://u@db/auth")

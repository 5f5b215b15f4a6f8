"""Backends for the storage contract suite.

``storage`` is parametrized over SQLite (a fresh migrated file per test) and PostgreSQL (one
uniquely named database per test session, migrated once and emptied before each test, dropped
at the end). PostgreSQL tests are skipped when the server is unreachable, except under
``CI=true`` where that is a failure: CI must never pass by silently skipping them.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from authgate.storage.sql import SqlStorage, open_storage, upgrade
from authgate.storage.sql.schema import metadata
from tests.support.postgres import create_database, drop_database

from .factories import Seed, seed

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A migrated database shared by the session's PostgreSQL tests."""
    url = asyncio.run(create_database(pg_admin_url))
    try:
        asyncio.run(upgrade(url))
        yield url
    finally:
        asyncio.run(drop_database(pg_admin_url, url))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (cheaper than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "authgate.db"
    asyncio.run(upgrade(f"sqlite:///{path}"))
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a migrated database for this test (PostgreSQL: emptied by ``storage``)."""
    if backend == "postgresql":
        url: str = request.getfixturevalue("pg_url")
        return url
    template: Path = request.getfixturevalue("sqlite_template")
    path = tmp_path / "authgate.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
async def storage(backend: str, db_url: str) -> AsyncIterator[SqlStorage]:
    store = await open_storage(db_url)
    if backend == "postgresql":
        # Empty the shared database. DELETE, not TRUNCATE: ten times faster on tiny tables.
        async with store.engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(table.delete())
    yield store
    await store.close()


@pytest.fixture
def empty_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new database that has never been migrated."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    # A synchronous fixture: the session fixture it may set up runs its own event loop.
    admin_url: str = request.getfixturevalue("pg_admin_url")
    url = asyncio.run(create_database(admin_url))
    try:
        yield url
    finally:
        asyncio.run(drop_database(admin_url, url))


@pytest.fixture
def now() -> datetime:
    """A fixed instant with microseconds, to check that timestamps round-trip exactly."""
    return datetime(2025, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


@pytest.fixture
async def seeded(storage: SqlStorage, now: datetime) -> Seed:
    """A client, a user and a grant between them, which codes and tokens refer to."""
    return await seed(storage, now)


@pytest.fixture
def checkpoint_modes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The mode of every checkpoint SQLite storage runs (``PASSIVE``, ``RESTART``), in order."""
    from authgate.storage.sql._engine import sqlite_storage as sqlite_module

    modes: list[str] = []
    checkpoint = sqlite_module._checkpoint

    def recording(connection: Any, mode: str) -> int:
        modes.append(mode)
        return checkpoint(connection, mode)

    monkeypatch.setattr(sqlite_module, "_checkpoint", recording)
    return modes
